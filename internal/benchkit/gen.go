package benchkit

import (
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"time"

	"github.com/audittrail/audittrail"
)

// Item is one record as a platform POSTs it (SPEC §6), ~200–300 bytes of
// JSON.
type Item struct {
	ObjectType string                `json:"object_type"`
	ObjectID   string                `json:"object_id"`
	ObjectName string                `json:"object_name"`
	ActionType string                `json:"action_type"`
	Element    string                `json:"element"`
	OldValue   string                `json:"old_value"`
	NewValue   string                `json:"new_value"`
	Date       string                `json:"date,omitempty"`
	Originator audittrail.Originator `json:"originator"`
	Automatic  bool                  `json:"automatic,omitempty"`
}

// Record returns the record the store would keep for it, dated date, of
// the account and the source (the publisher key's name), before the store
// sets ID, Seq and ReceivedAt.
func (it Item) Record(account, source string, date time.Time) *audittrail.Record {
	return &audittrail.Record{
		AccountID: account, ObjectType: it.ObjectType, ObjectID: it.ObjectID, ObjectName: it.ObjectName,
		ActionType: it.ActionType, Element: it.Element, OldValue: it.OldValue, NewValue: it.NewValue,
		Date: audittrail.TruncateTime(date), Originator: it.Originator, Automatic: it.Automatic,
		ChangeID: audittrail.NewID("chg_"), Source: source,
	}
}

// Body returns the JSON body of POST .../records with items.
func Body(items []Item) []byte {
	b, err := json.Marshal(map[string]any{"records": items})
	if err != nil {
		panic(err)
	}
	return b
}

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

// Gen makes realistic records: 8 object types of the built-in catalog
// (users most often), edits more often than adds and deletes, ~50
// originators, a few automatic changes. The same seed makes the same
// records. A Gen is not safe for concurrent use.
type Gen struct {
	r          *mrand.Rand
	originator []audittrail.Originator
	weights    int
}

// NewGen returns a generator seeded with seed.
func NewGen(seed uint64) *Gen {
	g := &Gen{r: mrand.New(mrand.NewPCG(seed, 42))}
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

func (g *Gen) kind() *objectKind {
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
func (g *Gen) value(element string) string {
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

// Item returns a new record as a platform sends it, dated date (no date
// when zero: the server's clock then dates it).
func (g *Gen) Item(date time.Time) Item {
	r := g.r
	k := g.kind()
	it := Item{
		ObjectType: k.key,
		ObjectID:   fmt.Sprint(3_184_300_000 + r.IntN(50_000)),
		ObjectName: k.name(r),
		Element:    k.elements[r.IntN(len(k.elements))],
		Originator: g.originator[r.IntN(len(g.originator))],
	}
	switch n := r.IntN(100); {
	case n < 60:
		it.ActionType = audittrail.ActionEdit
		it.OldValue, it.NewValue = g.value(it.Element), g.value(it.Element)
	case n < 85:
		it.ActionType = audittrail.ActionAdd
		it.NewValue = g.value(it.Element)
	default:
		it.ActionType = audittrail.ActionDelete
		it.OldValue = g.value(it.Element)
	}
	if r.IntN(20) == 0 {
		it.Automatic = true
		it.Originator = audittrail.Originator{ID: "system", Name: "Platform automation", AuthType: "system"}
	}
	if !date.IsZero() {
		it.Date = audittrail.FormatTime(date)
	}
	return it
}
