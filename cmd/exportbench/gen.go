package main

import (
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
)

// The vocabulary and the mix of records are those of cmd/atbench (copied:
// both are package main): 8 object types of the built-in catalog (users most
// often), edits more often than adds and deletes, ~50 originators, a few
// automatic changes.

// objectKind is an object type of the built-in catalog, how often it
// changes, and the labels of its (non-sensitive) elements.
type objectKind struct {
	key      string
	weight   int
	elements []string
	name     func(r *mrand.Rand) string
}

var (
	firstNames = []string{"Ada", "Bob", "Chloé", "Dmitri", "Emma", "Farid", "Grace", "Hugo", "Inès", "Jonas", "Kenji", "Léa", "Marco", "Nadia", "Oscar", "Priya", "Quentin", "Rosa", "Sven", "Tariq"}
	lastNames  = []string{"Martin", "Smith", "Dubois", "Ivanova", "García", "Okafor", "Nakamura", "Rossi", "Müller", "Haddad", "Johansson", "Silva", "Kowalski", "Nguyen", "Bernard"}
	groups     = []string{"Sales EMEA", "Sales NA", "Support Tier 1", "Support Tier 2", "Billing", "Retention", "VIP Care", "Onboarding", "Collections", "Night Shift"}
	skillNames = []string{"Billing", "Sales", "Tech Support", "Retention", "Spanish", "French", "German", "VIP", "Claims", "Escalations", "Chat Only", "Messaging"}
	profiles   = []string{"Administrator", "Agent Manager", "Campaign Manager", "Agent"}
	zones      = []string{"Europe/Paris", "America/New_York", "Asia/Tokyo", "UTC", "Europe/London", "America/Los_Angeles"}
	statuses   = []string{"Active", "Inactive", "Running", "Completed", "Draft"}
	phrases    = []string{"Handles inbound chats for premium customers", "Escalation path for unresolved billing cases",
		"Weekend coverage, reduced staffing", "Routing for the spring campaign", "Default for new agents", "Temporary, review in Q3"}
)

var kinds = []objectKind{
	{"users", 30, []string{"Login name", "Name", "Nickname", "Email", "Profile", "Member of", "Manager of", "Skills", "Max no. of live chats", "Employee ID", "Enabled"}, personName},
	{"skills", 15, []string{"Name", "Description", "Max wait time", "Transfer to skills", "Working hours", "LoBs", "Can transfer"}, pick(skillNames)},
	{"agent_groups", 12, []string{"Name", "Description", "Parent group", "Enabled"}, pick(groups)},
	{"permissions", 8, []string{"Name", "Description", "Role", "Permissions"}, pick(profiles)},
	{"lobs", 5, []string{"Name", "Description"}, func(r *mrand.Rand) string { return "LoB " + groups[r.IntN(len(groups))] }},
	{"post_conversation_survey", 10, []string{"Name", "Description", "Status", "Skills", "Questions", "Survey timeout"}, func(r *mrand.Rand) string { return "CSAT " + skillNames[r.IntN(len(skillNames))] }},
	{"campaign_scheduling", 10, []string{"Name", "Start date", "End date", "Time zone", "Schedule", "Status"}, func(r *mrand.Rand) string {
		return fmt.Sprintf("Campaign %s %d", []string{"Spring", "Summer", "Autumn", "Winter"}[r.IntN(4)], 2025+r.IntN(2))
	}},
	{"working_hours", 10, []string{"Name", "Description", "Time zone", "Default", "Shifts"}, func(r *mrand.Rand) string { return "Hours " + zones[r.IntN(len(zones))] }},
}

func pick(ss []string) func(r *mrand.Rand) string {
	return func(r *mrand.Rand) string { return ss[r.IntN(len(ss))] }
}

func personName(r *mrand.Rand) string {
	return firstNames[r.IntN(len(firstNames))] + " " + lastNames[r.IntN(len(lastNames))]
}

// gen makes realistic records: 8 object types (users most often), edits
// more often than adds and deletes, ~50 originators, a few automatic.
type gen struct {
	r          *mrand.Rand
	originator []audittrail.Originator
	weights    int
}

func newGen(seed uint64) *gen {
	g := &gen{r: mrand.New(mrand.NewPCG(seed, 42))}
	for i := range 50 {
		first, last := firstNames[i%len(firstNames)], lastNames[(i*7)%len(lastNames)]
		o := audittrail.Originator{ID: fmt.Sprint(3_184_220_001 + i), Name: first + " " + last}
		if i%2 == 0 {
			o.LoginName = strings.ToLower(first[:1]+last) + "@acme.example"
		}
		if i%5 == 0 {
			o.EmployeeID = fmt.Sprintf("E%05d", 10_000+i)
			o.Profiles = []string{profiles[i%2]}
		}
		g.originator = append(g.originator, o)
	}
	for _, k := range kinds {
		g.weights += k.weight
	}
	return g
}

func (g *gen) kind() *objectKind {
	n := g.r.IntN(g.weights)
	for i := range kinds {
		if n < kinds[i].weight {
			return &kinds[i]
		}
		n -= kinds[i].weight
	}
	return &kinds[0]
}

// value returns a display value fit for the element.
func (g *gen) value(element string) string {
	r := g.r
	switch element {
	case "Member of", "Manager of", "Parent group":
		return groups[r.IntN(len(groups))]
	case "Skills", "Transfer to skills", "LoBs":
		a, b := skillNames[r.IntN(len(skillNames))], skillNames[r.IntN(len(skillNames))]
		if a > b {
			a, b = b, a
		}
		if a == b {
			return a
		}
		return a + ", " + b
	case "Profile", "Role":
		return profiles[r.IntN(len(profiles))]
	case "Enabled", "Can transfer", "Default":
		return []string{"true", "false"}[r.IntN(2)]
	case "Max no. of live chats", "Max wait time", "Survey timeout", "Questions":
		return fmt.Sprint(1 + r.IntN(300))
	case "Name", "Nickname":
		return personName(r)
	case "Login name", "Email":
		return fmt.Sprintf("agent%04d@acme.example", r.IntN(10_000))
	case "Employee ID":
		return fmt.Sprintf("E%05d", r.IntN(100_000))
	case "Start date", "End date":
		return fmt.Sprintf("2026-%02d-%02d", 1+r.IntN(12), 1+r.IntN(28))
	case "Time zone":
		return zones[r.IntN(len(zones))]
	case "Status":
		return statuses[r.IntN(len(statuses))]
	case "Schedule", "Shifts", "Working hours":
		return fmt.Sprintf("Mon-Fri %02d:00-%02d:00", 6+r.IntN(4), 16+r.IntN(6))
	}
	return phrases[r.IntN(len(phrases))]
}

// record returns a new record dated date, as a platform sends it (the
// store sets ID, Seq and ReceivedAt).
func (g *gen) record(date time.Time) *audittrail.Record {
	r := g.r
	k := g.kind()
	rec := &audittrail.Record{
		AccountID:  accountID,
		ObjectType: k.key,
		ObjectID:   fmt.Sprint(3_184_300_000 + r.IntN(50_000)),
		ObjectName: k.name(r),
		Element:    k.elements[r.IntN(len(k.elements))],
		Originator: g.originator[r.IntN(len(g.originator))],
		Date:       audittrail.TruncateTime(date),
		ChangeID:   audittrail.NewID("chg_"),
		Source:     "bench-platform",
	}
	switch n := r.IntN(100); {
	case n < 60:
		rec.ActionType = audittrail.ActionEdit
		rec.OldValue, rec.NewValue = g.value(rec.Element), g.value(rec.Element)
	case n < 85:
		rec.ActionType = audittrail.ActionAdd
		rec.NewValue = g.value(rec.Element)
	default:
		rec.ActionType = audittrail.ActionDelete
		rec.OldValue = g.value(rec.Element)
	}
	if r.IntN(20) == 0 {
		rec.Automatic = true
		rec.Originator = audittrail.Originator{ID: "system", Name: "Platform automation", AuthType: "system"}
	}
	return rec
}
