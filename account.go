package audittrail

import (
	"regexp"
	"time"
	_ "time/tzdata" // accounts name IANA zones; the binary must know them on any machine
)

// Account is one customer account of the platform. Records are kept and
// shown per account; nothing crosses from one account to another.
type Account struct {
	ID                  string     `json:"id"`
	Name                string     `json:"name"`
	Timezone            string     `json:"timezone"`
	AuditTrailEnabled   bool       `json:"audit_trail_enabled"`
	AuditTrailEnabledAt *time.Time `json:"audit_trail_enabled_at"`
	CreatedAt           time.Time  `json:"created_at"`
}

// AccountUpdate holds the fields a PATCH may change; nil means unchanged.
type AccountUpdate struct {
	Name              *string `json:"name"`
	Timezone          *string `json:"timezone"`
	AuditTrailEnabled *bool   `json:"audit_trail_enabled"`
}

var accountIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,62}$`)

// ValidateAccountID checks an account id against the contract's pattern.
func ValidateAccountID(id string) error {
	if !accountIDPattern.MatchString(id) {
		return Errorf(EVALIDATION, "account id %q must be 2 to 63 characters of a-z, 0-9 and '-', starting with a letter or digit", id)
	}
	return nil
}

// ValidateTimezone checks that tz names an IANA time zone.
func ValidateTimezone(tz string) error {
	if tz == "" || tz == "Local" {
		return Errorf(EVALIDATION, "timezone must be an IANA time zone name such as Europe/Paris or UTC")
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return Errorf(EVALIDATION, "timezone %q is not an IANA time zone name such as Europe/Paris or UTC", tz)
	}
	return nil
}

// CheckAppend applies the enablement rules (SPEC §4) to records about to be
// appended to acct: nothing while the trail is disabled, nothing dated
// before the moment it was last enabled. Stores call it inside the
// transaction that appends, with the account as that transaction reads it.
func CheckAppend(acct *Account, entries []Entry) error {
	if !acct.AuditTrailEnabled || acct.AuditTrailEnabledAt == nil {
		return Errorf(EAUDITTRAILDISABLED, "the audit trail of account %s is not enabled; an administrator enables it in the account settings", acct.ID)
	}
	var details []ErrorDetail
	for i, e := range entries {
		for _, r := range e.Records {
			if r.Date.Before(*acct.AuditTrailEnabledAt) {
				details = append(details, beforeEnabled(i, acct))
				break
			}
		}
	}
	return ValidationError(details)
}

func beforeEnabled(i int, acct *Account) ErrorDetail {
	return ErrorDetail{Index: i, Field: "date", Code: EBEFOREENABLED,
		Message: "date is before the audit trail was enabled (" + FormatTime(*acct.AuditTrailEnabledAt) + "); changes are not recorded retroactively"}
}

// Roles of a profile.
const (
	RoleAdministrator   = "administrator"
	RoleAgentManager    = "agent_manager"
	RoleCampaignManager = "campaign_manager"
	RoleAgent           = "agent"
)

// Roles lists the valid roles.
var Roles = []string{RoleAdministrator, RoleAgentManager, RoleCampaignManager, RoleAgent}

// PermissionViewAuditTrail lets a user read and export the audit trail. Only
// a profile whose role is administrator may hold it.
const PermissionViewAuditTrail = "audit_trail.view"

// Profile is a named role with permissions, assigned to users.
type Profile struct {
	ID          string    `json:"id"`
	AccountID   string    `json:"-"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Role        string    `json:"role"`
	Permissions []string  `json:"permissions"`
	BuiltIn     bool      `json:"built_in"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// HasPermission reports whether the profile holds perm.
func (p *Profile) HasPermission(perm string) bool {
	for _, q := range p.Permissions {
		if q == perm {
			return true
		}
	}
	return false
}

// AdministratorProfileName is the name of the built-in profile that holds
// every right and cannot be changed or deleted.
const AdministratorProfileName = "Administrator"

// BuiltinProfiles returns the profiles every account starts with. The first
// is the Administrator profile, which cannot be changed or deleted.
func BuiltinProfiles(accountID string, now time.Time) []*Profile {
	mk := func(name, role, desc string, perms ...string) *Profile {
		if perms == nil {
			perms = []string{}
		}
		return &Profile{ID: NewID("prf_"), AccountID: accountID, Name: name, Role: role, Description: desc,
			Permissions: perms, BuiltIn: true, CreatedAt: now, UpdatedAt: now}
	}
	return []*Profile{
		mk(AdministratorProfileName, RoleAdministrator, "Full control of the account, including the audit trail.", PermissionViewAuditTrail),
		mk("Agent Manager", RoleAgentManager, "Manages agents and their groups."),
		mk("Campaign Manager", RoleCampaignManager, "Manages campaigns and their schedules."),
		mk("Agent", RoleAgent, "Handles conversations."),
	}
}

// User is a person of an account who signs in to the service.
type User struct {
	ID           string    `json:"id"`
	AccountID    string    `json:"-"`
	LoginName    string    `json:"login_name"`
	Name         string    `json:"name"`
	Email        string    `json:"email"`
	ProfileID    string    `json:"profile_id"`
	Enabled      bool      `json:"enabled"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// PublisherKey lets a platform write the records of one account. The secret
// is shown once, in Key, when created; the store keeps only its hash.
type PublisherKey struct {
	ID        string     `json:"id"`
	AccountID string     `json:"-"`
	Name      string     `json:"name"`
	Prefix    string     `json:"prefix"`
	Key       string     `json:"key,omitempty"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// Token is a user's API or session token; the store keeps only its hash.
type Token struct {
	Hash      []byte
	AccountID string
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Kinds of principal.
const (
	PrincipalOperator  = "operator"
	PrincipalUser      = "user"
	PrincipalPublisher = "publisher"
	// PrincipalLocal is a command run on the service's own machine with
	// its storage open (audittrail account create, export): whoever can
	// run it can read and write the database anyway.
	PrincipalLocal = "local"
)

// Principal is who a request acts as: the operator, a user of an account
// (with the profile read at the time of the request, so permission changes
// apply to the very next request), or a publisher key of an account.
type Principal struct {
	Kind      string
	AccountID string
	User      *User
	Profile   *Profile
	Key       *PublisherKey

	// IP and UserAgent say where the request came from, for the access
	// log (SPEC §11); the front end that authenticated it sets them.
	IP        string
	UserAgent string
}

// IsAdministrator reports whether the principal is a user whose profile has
// the administrator role.
func (p *Principal) IsAdministrator() bool {
	return p.Kind == PrincipalUser && p.Profile != nil && p.Profile.Role == RoleAdministrator
}

// Can reports whether the principal is a user holding perm.
func (p *Principal) Can(perm string) bool {
	return p.Kind == PrincipalUser && p.Profile != nil && p.Profile.HasPermission(perm)
}

// Originator returns the principal as the originator of changes it makes
// through the service.
func (p *Principal) Originator() Originator {
	switch {
	case p.User != nil:
		o := Originator{ID: p.User.ID, Name: p.User.Name, LoginName: p.User.LoginName, AuthType: AuthTypeService}
		if p.Profile != nil {
			o.Profiles = []string{p.Profile.Name}
		}
		return o
	case p.Key != nil:
		return Originator{ID: p.Key.ID, Name: p.Key.Name, AuthType: "publisher_key"}
	case p.Kind == PrincipalLocal:
		return Originator{ID: "cli", Name: "Command line", AuthType: "cli"}
	}
	return Originator{ID: "operator", Name: "Operator", AuthType: "operator"}
}

// NewAccount returns a new account, its audit trail disabled, and its
// first administrator to be completed by the caller (login, name, password,
// profile).
func NewAccount(id, name, timezone string, now time.Time) (*Account, *User) {
	now = TruncateTime(now)
	acct := &Account{ID: id, Name: name, Timezone: timezone, CreatedAt: now}
	admin := &User{ID: NewID("usr_"), AccountID: id, Enabled: true, CreatedAt: now, UpdatedAt: now}
	return acct, admin
}

// NewPublisherKey returns a new key of the account and its secret, which
// the caller shows once and stores only as a hash.
func NewPublisherKey(accountID, name string, now time.Time) (*PublisherKey, string) {
	secret := NewSecret("atk_")
	return &PublisherKey{ID: NewID("key_"), AccountID: accountID, Name: name, Prefix: secret[:12], CreatedAt: TruncateTime(now)}, secret
}
