package audittrail

import "strings"

// Object types under which the service records changes made through it
// (SPEC §4): users and profiles use the platform's own types; publisher
// keys and account settings have types of their own in the catalog.
const (
	TypeUsers           = "users"
	TypeProfiles        = "permissions"
	TypePublisherKeys   = "publisher_keys"
	TypeAccountSettings = "account_settings"
	TypeDestinations    = "destinations"
	TypeAuditTrail      = "audit_trail"
)

// IsServiceType reports whether records of the object type are written
// only by the service itself (SPEC §4): a publisher may not send them, so
// that nothing a platform sends can pass for the service's own record.
func IsServiceType(key string) bool {
	switch strings.ToLower(strings.TrimSpace(key)) {
	case TypePublisherKeys, TypeAccountSettings, TypeDestinations, TypeAuditTrail:
		return true
	}
	return false
}

// AuthTypeService is the auth_type of the originator of the records the
// service writes about changes made through it; no platform may send it.
const AuthTypeService = "audittrail"

// Permission is a permission a profile may hold.
type Permission struct {
	Key   string `json:"key"`
	Label string `json:"label"`
	// AdminOnly permissions may only be held by administrator-role profiles.
	AdminOnly bool `json:"admin_only"`
}

// Permissions lists the permissions that exist.
var Permissions = []Permission{
	{Key: PermissionViewAuditTrail, Label: "View audit trail", AdminOnly: true},
}

// FindPermission returns the permission with the given key.
func FindPermission(key string) (Permission, bool) {
	for _, p := range Permissions {
		if p.Key == key {
			return p, true
		}
	}
	return Permission{}, false
}

// RoleLabel returns the label people see for a role.
func RoleLabel(role string) string {
	switch role {
	case RoleAdministrator:
		return "Administrator"
	case RoleAgentManager:
		return "Agent Manager"
	case RoleCampaignManager:
		return "Campaign Manager"
	case RoleAgent:
		return "Agent"
	}
	return role
}

// The snapshots below are what the service diffs to record its own
// changes: each element as a person reads it. A password is represented by
// its hash, which the diff engine redacts (the element is sensitive), so
// that a change of password shows as ******** → ******** and nothing of it
// is written.

// UserSnapshot returns the recorded elements of a user whose profile is
// named profileName.
func UserSnapshot(u *User, profileName string) map[string]any {
	return map[string]any{
		"login_name": u.LoginName, "name": u.Name, "email": u.Email,
		"profile": profileName, "enabled": u.Enabled, "password": u.PasswordHash,
	}
}

// ProfileSnapshot returns the recorded elements of a profile.
func ProfileSnapshot(p *Profile) map[string]any {
	perms := make([]any, 0, len(p.Permissions))
	for _, k := range p.Permissions {
		if perm, ok := FindPermission(k); ok {
			perms = append(perms, perm.Label)
		} else {
			perms = append(perms, k)
		}
	}
	return map[string]any{"name": p.Name, "description": p.Description, "role": RoleLabel(p.Role), "permissions": perms}
}

// PublisherKeySnapshot returns the recorded elements of a publisher key
// (never its secret).
func PublisherKeySnapshot(k *PublisherKey) map[string]any {
	status := "Active"
	if k.RevokedAt != nil {
		status = "Revoked"
	}
	return map[string]any{"name": k.Name, "prefix": k.Prefix, "status": status}
}

// AccountSnapshot returns the recorded settings of an account.
func AccountSnapshot(a *Account) map[string]any {
	return map[string]any{"name": a.Name, "timezone": a.Timezone, "audit_trail_enabled": a.AuditTrailEnabled}
}

// ValidateProfile checks a profile's fields: a name, a known role, known
// permissions, and the rule that only an administrator-role profile may
// hold an admin-only permission such as audit_trail.view.
func ValidateProfile(p *Profile) error {
	switch {
	case len([]rune(p.Name)) == 0 || len([]rune(p.Name)) > 128:
		return Errorf(EVALIDATION, "name is required, at most 128 characters")
	case len([]rune(p.Description)) > 1024:
		return Errorf(EVALUETOOLONG, "description is longer than 1024 characters")
	}
	roleOK := false
	for _, r := range Roles {
		roleOK = roleOK || r == p.Role
	}
	if !roleOK {
		return Errorf(EVALIDATION, "role must be one of administrator, agent_manager, campaign_manager, agent")
	}
	for _, k := range p.Permissions {
		perm, ok := FindPermission(k)
		if !ok {
			return Errorf(EVALIDATION, "unknown permission %q; known: %s", k, PermissionViewAuditTrail)
		}
		if perm.AdminOnly && p.Role != RoleAdministrator {
			return Errorf(EPERMISSIONNOTALLOWED, "permission %s (%s) may only be held by a profile whose role is administrator", perm.Key, perm.Label)
		}
	}
	return nil
}
