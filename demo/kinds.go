package demo

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// kind is how objects of one built-in type are made, changed and deleted in
// the demo's history.
type kind struct {
	key      string
	weight   int // share of the staff's changes
	add, del int // chance in 1,000 that a change adds or deletes an object
	min, max int // no deletes at min live objects, no adds at max
	initial  int // objects when the audit trail was enabled
	create   func(w *world, at time.Time) map[string]any
	// edits change one element each; the last always applies.
	edits     []edit
	editable  func(f map[string]any) bool // nil: every object
	deletable func(f map[string]any) bool // nil: every object
}

type edit struct {
	weight int
	apply  func(w *world, f map[string]any) bool
}

// kinds lists the eight built-in types, in the order their initial objects
// are made (an agent needs groups and skills to be put in).
var kinds = []*kind{workingHours, lobs, skills, agentGroups, permissions, users, surveys, campaigns}

var kindByKey = func() map[string]*kind {
	m := map[string]*kind{}
	for _, k := range kinds {
		m[k.key] = k
	}
	return m
}()

var timeZones = []string{"America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
	"America/Sao_Paulo", "Europe/London", "Europe/Berlin", "Asia/Manila", "Asia/Singapore"}

// Users: the agents and managers of the platform.

var firstNames = []string{"Aaliyah", "Aaron", "Adriana", "Ahmed", "Aisha", "Alejandro", "Amara", "Andre", "Anika", "Ben",
	"Bianca", "Carlos", "Chloe", "Chen", "Darius", "Deepa", "Diego", "Elena", "Emeka", "Emily", "Ethan", "Fatima",
	"Gabriel", "Grace", "Hiro", "Imani", "Isabel", "Jamal", "Jasmine", "Javier", "Jenna", "Kai", "Keisha", "Kenji",
	"Laura", "Leon", "Liam", "Lucia", "Malik", "Maria", "Mateo", "Maya", "Mei", "Mohammed", "Nadia", "Noah", "Olivia",
	"Omar", "Paolo", "Rachel", "Rafael", "Ravi", "Rosa", "Ryan", "Samira", "Sean", "Sienna", "Tariq", "Tessa", "Tomás",
	"Valentina", "Victor", "Wei", "Yara", "Zoe"}

var lastNames = []string{"Abbott", "Adeyemi", "Alvarez", "Anderson", "Bailey", "Banerjee", "Becker", "Brooks", "Campbell",
	"Castillo", "Chowdhury", "Cohen", "Diaz", "Dubois", "Evans", "Fernandes", "Fischer", "Foster", "Garcia", "Gupta",
	"Hayes", "Hernandez", "Hughes", "Ivanova", "Jackson", "Johansson", "Kaur", "Kim", "Kowalski", "Lopez", "Martin",
	"Mendoza", "Murphy", "Nakamura", "Nguyen", "Novak", "O'Brien", "Okonkwo", "Patel", "Pereira", "Petrov", "Quinn",
	"Ramirez", "Reyes", "Richardson", "Rossi", "Santos", "Schneider", "Shah", "Silva", "Singh", "Sullivan", "Tanaka",
	"Thompson", "Torres", "Turner", "Vargas", "Walker", "Wang", "Williams", "Wright", "Yamamoto", "Zhang"}

var users = &kind{key: "users", weight: 38, add: 60, del: 35, min: 20, max: 260, initial: 48,
	create: func(w *world, at time.Time) map[string]any {
		name := w.unique("users", func() string { return pick(w.rng, firstNames) + " " + pick(w.rng, lastNames) })
		first := strings.Fields(name)[0]
		w.employee += 1 + w.rng.IntN(7)
		f := map[string]any{
			"login_name": loginOf(name), "name": name, "nickname": first, "email": email(name),
			"password": w.password(), "profile": "Agent", "member_of": pick(w.rng, w.names("agent_groups", nil)),
			"skills": w.some(w.names("skills", nil), 1+w.rng.IntN(3)), "max_chats": pick(w.rng, []int{3, 4, 4, 5, 6}),
			"employee_id": fmt.Sprintf("E%05d", w.employee), "enabled": true,
		}
		switch r := w.rng.IntN(100); {
		case r < 7:
			f["profile"] = "Agent Manager"
			f["manager_of"] = w.some(w.names("agent_groups", nil), 1+w.rng.IntN(2))
		case r < 18:
			if p := w.names("permissions", hasRole("Agent")); len(p) > 0 {
				f["profile"] = pick(w.rng, p)
			}
		}
		return f
	},
	edits: []edit{
		{18, func(w *world, f map[string]any) bool { return listAdd(w, f, "skills", w.names("skills", nil), 6) }},
		{9, func(w *world, f map[string]any) bool { return listRemove(w, f, "skills", 1) }},
		{8, func(w *world, f map[string]any) bool {
			return setOther(w, f, "member_of", w.names("agent_groups", nil))
		}},
		{9, func(w *world, f map[string]any) bool {
			f["password"] = w.password()
			return true
		}},
		{6, func(w *world, f map[string]any) bool { return toggle(f, "enabled") }},
		{3, func(w *world, f map[string]any) bool {
			return setOther(w, f, "profile", w.names("permissions", hasRole("Agent", "Agent Manager")))
		}},
		{3, func(w *world, f map[string]any) bool {
			first, last, _ := strings.Cut(f["name"].(string), " ")
			return setOther(w, f, "nickname", []string{first, first + " " + last[:1] + ".", "Agent " + first})
		}},
		{2, func(w *world, f map[string]any) bool {
			login := f["login_name"].(string)
			return setOther(w, f, "email", []string{login + "@democontactcenter.example", login + "@support.democontactcenter.example"})
		}},
		{2, func(w *world, f map[string]any) bool {
			if f["profile"] != "Agent Manager" {
				return false
			}
			return listAdd(w, f, "manager_of", w.names("agent_groups", nil), 4)
		}},
		{1, func(w *world, f map[string]any) bool {
			first, _, _ := strings.Cut(f["name"].(string), " ")
			f["name"] = w.unique("users", func() string { return first + " " + pick(w.rng, lastNames) })
			return true
		}},
		{1, func(w *world, f map[string]any) bool {
			w.employee += 1 + w.rng.IntN(7)
			f["employee_id"] = fmt.Sprintf("E%05d", w.employee)
			return true
		}},
		{12, func(w *world, f map[string]any) bool { return setOther(w, f, "max_chats", []int{2, 3, 4, 5, 6, 8, 10}) }},
	},
}

// Skills: the queues conversations are routed to.

var skillTopics = []string{"Billing", "Technical Support", "Sales", "Retention", "Onboarding", "Claims", "Returns",
	"Shipping", "Account Security", "Premium Support", "Collections", "Upgrades", "Cancellations", "Fraud",
	"Loyalty", "Payments", "Device Support", "Internet", "Mobile", "TV & Streaming", "Order Status", "Refunds"}

var skillVariants = []string{"", "", " - EMEA", " - APAC", " - North America", " - Spanish", " - French",
	" - German", " - VIP", " - Tier 2", " - Messaging", " - After Hours"}

var skillDescriptions = []string{"Routes %s conversations to trained agents.", "Customers asking about %s.",
	"%s: chat and messaging queue.", "Escalations and follow-ups for %s.", "%s. Agents need the product certification.",
	"Temporary routing for %s during peak season."}

var routingModes = []string{"Round robin", "Least busy agent", "Longest idle agent", "Load balanced"}

var specialOccasions = []string{"US Federal Holidays", "Black Friday Week", "Christmas Eve Early Close",
	"Year-End Shutdown", "Company Offsite", "Inventory Day"}

var skills = &kind{key: "skills", weight: 16, add: 30, del: 15, min: 8, max: 70, initial: 14,
	create: func(w *world, at time.Time) map[string]any {
		name := w.unique("skills", func() string { return pick(w.rng, skillTopics) + pick(w.rng, skillVariants) })
		f := map[string]any{
			"name": name, "description": fmt.Sprintf(pick(w.rng, skillDescriptions), name),
			"max_wait_time":      pick(w.rng, []int{30, 60, 60, 90, 120, 180, 300}),
			"transfer_to_skills": w.some(w.names("skills", nil), w.rng.IntN(3)),
			"working_hours":      pick(w.rng, w.names("working_hours", nil)),
			"lobs":               w.some(w.names("lobs", nil), 1),
			"can_transfer":       w.rng.IntN(100) < 80,
			"skill_routing":      map[string]any{"mode": pick(w.rng, routingModes), "priority": 1 + w.rng.IntN(5)},
		}
		if w.rng.IntN(2) == 0 {
			f["special_occasions"] = pick(w.rng, specialOccasions)
		}
		return f
	},
	edits: []edit{
		{10, func(w *world, f map[string]any) bool {
			return setOther(w, f, "max_wait_time", []int{30, 45, 60, 90, 120, 180, 240, 300})
		}},
		{8, func(w *world, f map[string]any) bool {
			return listAdd(w, f, "transfer_to_skills", others(w.names("skills", nil), f["name"]), 5)
		}},
		{5, func(w *world, f map[string]any) bool { return listRemove(w, f, "transfer_to_skills", 0) }},
		{6, func(w *world, f map[string]any) bool {
			return setOther(w, f, "working_hours", w.names("working_hours", nil))
		}},
		{5, func(w *world, f map[string]any) bool { return listAdd(w, f, "lobs", w.names("lobs", nil), 3) }},
		{3, func(w *world, f map[string]any) bool { return listRemove(w, f, "lobs", 1) }},
		{4, func(w *world, f map[string]any) bool { return toggle(f, "can_transfer") }},
		{5, func(w *world, f map[string]any) bool {
			return setOther(w, f["skill_routing"].(map[string]any), "mode", routingModes)
		}},
		{4, func(w *world, f map[string]any) bool {
			return setOther(w, f["skill_routing"].(map[string]any), "priority", []int{1, 2, 3, 4, 5})
		}},
		{3, func(w *world, f map[string]any) bool {
			return setOther(w, f, "special_occasions", append([]string{""}, specialOccasions...))
		}},
		{2, func(w *world, f map[string]any) bool {
			topic, _, _ := strings.Cut(f["name"].(string), " - ")
			f["name"] = w.unique("skills", func() string { return topic + pick(w.rng, skillVariants) })
			return true
		}},
		{8, func(w *world, f map[string]any) bool { return describe(w, f, skillDescriptions) }},
	},
}

// Agent groups: the teams agents belong to, in a tree under Main Group.

const mainGroup = "Main Group"

var groupTeams = []string{"Billing", "Tech Support", "Sales", "Retention", "Onboarding", "Claims", "Collections",
	"Escalations", "VIP Care", "Social Care", "Night Shift", "Weekend Shift", "Spanish Queue", "Messaging", "Digital Sales"}

var groupSites = []string{" Team", " Tier 1", " Tier 2", " - Boston", " - Austin", " - Manila", " - Lisbon", " - Remote"}

var groupDescriptions = []string{"%s agents and their team lead.", "Agents of %s.", "%s, reporting to the contact center manager.",
	"%s (outsourced, managed by the vendor).", "%s: staffed 7 days a week."}

var agentGroups = &kind{key: "agent_groups", weight: 7, add: 25, del: 15, min: 4, max: 30, initial: 8,
	create: func(w *world, at time.Time) map[string]any {
		if len(w.live["agent_groups"]) == 0 {
			return map[string]any{"name": mainGroup, "description": "Every agent of the account.", "enabled": true}
		}
		name := w.unique("agent_groups", func() string { return pick(w.rng, groupTeams) + pick(w.rng, groupSites) })
		parent := mainGroup
		if w.rng.IntN(100) < 30 {
			parent = pick(w.rng, w.names("agent_groups", nil))
		}
		return map[string]any{"name": name, "description": fmt.Sprintf(pick(w.rng, groupDescriptions), name),
			"parent_group": parent, "enabled": true}
	},
	edits: []edit{
		{5, func(w *world, f map[string]any) bool {
			return f["name"] != mainGroup && setOther(w, f, "parent_group", others(w.names("agent_groups", nil), f["name"]))
		}},
		{3, func(w *world, f map[string]any) bool { return f["name"] != mainGroup && toggle(f, "enabled") }},
		{2, func(w *world, f map[string]any) bool {
			if f["name"] == mainGroup {
				return false
			}
			f["name"] = w.unique("agent_groups", func() string { return pick(w.rng, groupTeams) + pick(w.rng, groupSites) })
			return true
		}},
		{6, func(w *world, f map[string]any) bool { return describe(w, f, groupDescriptions) }},
	},
	deletable: func(f map[string]any) bool { return f["name"] != mainGroup },
}

// Permissions: the platform's profiles. The four built-in ones come first
// and are never renamed or deleted; Administrator is never changed.

var builtinRoles = [][2]string{{"Administrator", "Administrator"}, {"Agent Manager", "Agent Manager"},
	{"Campaign Manager", "Campaign Manager"}, {"Agent", "Agent"}}

var customProfiles = []string{"Tier 2 Agent", "Team Lead", "Quality Analyst", "Workforce Planner", "Supervisor - EMEA",
	"Supervisor - North America", "Trainer", "Read-only Auditor", "Bot Designer", "Escalations Specialist",
	"Night Shift Lead", "Content Editor", "Senior Agent", "Billing Specialist", "Compliance Officer", "Vendor Agent",
	"Social Media Agent", "Chat Specialist", "Sales Agent", "Retention Specialist", "Floor Supervisor", "Bilingual Agent",
	"Team Lead - Manila", "Team Lead - Austin", "Onboarding Agent", "Care Expert", "Seasonal Agent", "Technical Expert",
	"Fraud Analyst", "Tier 3 Agent"}

var permissionNames = []string{"Access Agent Workspace", "Transfer to agent", "Transfer to skill", "Send files to consumers",
	"View consumer information", "Use predefined content", "Edit predefined content", "View agents' conversations",
	"Take over conversations", "Join conversations silently", "Manage agent groups", "Manage users", "Manage skills",
	"Edit working hours", "Manage campaigns", "View reports", "Export reports", "Manage surveys", "Manage LoBs",
	"Edit automatic messages", "Close conversations", "View agent status", "Change agent status"}

var profileDescriptions = []string{"%s profile.", "Permissions of the %s role.", "%s: reviewed by Compliance every quarter.",
	"%s (do not assign to vendor staff).", "Profile for %s, as agreed with HR."}

func hasRole(roles ...string) func(f map[string]any) bool {
	return func(f map[string]any) bool { return slices.Contains(roles, f["role"].(string)) }
}

func isBuiltinProfile(f map[string]any) bool {
	return slices.ContainsFunc(builtinRoles, func(r [2]string) bool { return r[0] == f["name"] })
}

var permissions = &kind{key: "permissions", weight: 5, add: 20, del: 10, min: 5, max: 20, initial: 7,
	create: func(w *world, at time.Time) map[string]any {
		if n := len(w.live["permissions"]); n < len(builtinRoles) {
			name, role := builtinRoles[n][0], builtinRoles[n][1]
			perms := permissionNames
			if role != "Administrator" {
				perms = w.some(permissionNames, 5+w.rng.IntN(6))
			}
			return map[string]any{"name": name, "description": "Built-in " + name + " profile.", "role": role,
				"permissions": slices.Clone(perms)}
		}
		name := w.unique("permissions", func() string { return pick(w.rng, customProfiles) })
		role := pick(w.rng, []string{"Agent", "Agent", "Agent", "Agent Manager", "Agent Manager", "Campaign Manager"})
		return map[string]any{"name": name, "description": fmt.Sprintf(pick(w.rng, profileDescriptions), name),
			"role": role, "permissions": w.some(permissionNames, 4+w.rng.IntN(5))}
	},
	edits: []edit{
		{10, func(w *world, f map[string]any) bool { return listAdd(w, f, "permissions", permissionNames, 20) }},
		{6, func(w *world, f map[string]any) bool { return listRemove(w, f, "permissions", 2) }},
		{1, func(w *world, f map[string]any) bool {
			if isBuiltinProfile(f) {
				return false
			}
			f["name"] = w.unique("permissions", func() string { return pick(w.rng, customProfiles) })
			return true
		}},
		{4, func(w *world, f map[string]any) bool { return describe(w, f, profileDescriptions) }},
	},
	editable:  func(f map[string]any) bool { return f["name"] != "Administrator" },
	deletable: func(f map[string]any) bool { return !isBuiltinProfile(f) },
}

// LoBs: the lines of business conversations belong to.

var lobNames = []string{"Consumer", "Small Business", "Enterprise", "Mobile", "Broadband", "TV & Streaming", "Home Security",
	"Insurance", "Travel Rewards", "Credit Cards", "Mortgages", "Retail Banking", "Wealth Management", "Smart Home",
	"Business Fiber", "Prepaid", "Roaming", "Device Protection", "Gaming", "Public Sector"}

var lobDescriptions = []string{"%s line of business.", "%s customers and prospects.", "%s: revenue reported to Finance monthly.",
	"%s (merged into the regional P&L).", "All conversations about %s products."}

var lobs = &kind{key: "lobs", weight: 4, add: 30, del: 15, min: 3, max: 20, initial: 5,
	create: func(w *world, at time.Time) map[string]any {
		name := w.unique("lobs", func() string { return pick(w.rng, lobNames) })
		return map[string]any{"name": name, "description": fmt.Sprintf(pick(w.rng, lobDescriptions), name)}
	},
	edits: []edit{
		{1, func(w *world, f map[string]any) bool {
			name, _, _ := strings.Cut(f["name"].(string), " - ")
			name, _, _ = strings.Cut(name, " (")
			f["name"] = w.unique("lobs", func() string { return name + pick(w.rng, []string{" (Legacy)", " - US", " - International"}) })
			return true
		}},
		{12, func(w *world, f map[string]any) bool { return describe(w, f, lobDescriptions) }},
	},
}

// Post-conversation surveys.

var surveyThemes = []string{"CSAT", "NPS", "First Contact Resolution", "Agent Rating", "Billing Experience",
	"Tech Support Feedback", "Sales Follow-up", "Onboarding Check-in", "Cancellation Exit", "Claims Experience"}

var surveyChannels = []string{"Messaging", "Web Chat", "Mobile App", "WhatsApp", "SMS", "Apple Messages"}

var surveyQuestions = []string{"How satisfied were you with this conversation?",
	"How likely are you to recommend us to a friend or colleague?", "Was your issue resolved today?",
	"How would you rate the agent's knowledge?", "How easy was it to get the help you needed?",
	"Did the agent understand your question?", "How long did you wait before an agent replied?",
	"Is there anything else you would like to tell us?", "Would you use messaging with us again?",
	"How would you rate the speed of the response?"}

var surveyDescriptions = []string{"%s, sent when the conversation closes.", "%s (results go to the Quality team).",
	"%s: pilot with the Tier 2 teams.", "%s, shown to every consumer once a month at most."}

var surveys = &kind{key: "post_conversation_survey", weight: 8, add: 30, del: 20, min: 2, max: 25, initial: 4,
	create: func(w *world, at time.Time) map[string]any {
		name := w.unique("post_conversation_survey", func() string {
			return pick(w.rng, surveyThemes) + " - " + pick(w.rng, surveyChannels)
		})
		return map[string]any{"name": name, "description": fmt.Sprintf(pick(w.rng, surveyDescriptions), name),
			"status": pick(w.rng, []string{"Active", "Active", "Inactive"}), "skills": w.some(w.names("skills", nil), 1+w.rng.IntN(3)),
			"questions": w.some(surveyQuestions, 2+w.rng.IntN(3)), "timeout": pick(w.rng, []int{5, 10, 15, 30, 60})}
	},
	edits: []edit{
		{6, func(w *world, f map[string]any) bool { return setOther(w, f, "status", []string{"Active", "Inactive"}) }},
		{5, func(w *world, f map[string]any) bool { return listAdd(w, f, "skills", w.names("skills", nil), 6) }},
		{3, func(w *world, f map[string]any) bool { return listRemove(w, f, "skills", 1) }},
		{4, func(w *world, f map[string]any) bool { return listAdd(w, f, "questions", surveyQuestions, 6) }},
		{3, func(w *world, f map[string]any) bool { return listRemove(w, f, "questions", 1) }},
		{3, func(w *world, f map[string]any) bool { return describe(w, f, surveyDescriptions) }},
		{4, func(w *world, f map[string]any) bool {
			return setOther(w, f, "timeout", []int{5, 10, 15, 20, 30, 45, 60})
		}},
	},
}

// Campaign scheduling: campaigns run from a start date to an end date, on a
// weekly schedule. The platform starts and completes them (see nightly).

// campaignSeasons are the themes of campaigns that start in each month;
// campaignThemes those that may start in any.
var campaignSeasons = map[time.Month][]string{
	time.January: {"New Year Offers", "Holiday Returns"}, time.February: {"Valentine's Day", "Tax Season"},
	time.March: {"Tax Season", "Spring Upgrade"}, time.April: {"Spring Upgrade", "Easter Sale"},
	time.May: {"Memorial Day Sale", "Graduation Offers"}, time.June: {"Summer Roaming", "Father's Day"},
	time.July: {"Summer Roaming", "Summer Sale"}, time.August: {"Back to School"},
	time.September: {"Back to School", "Labor Day Sale"}, time.October: {"Halloween Offers", "Holiday Pre-orders"},
	time.November: {"Black Friday", "Cyber Monday"}, time.December: {"Holiday Returns", "Year-End Deals"},
}

var campaignThemes = []string{"Fiber Launch", "Loyalty Rewards", "Device Trade-in", "Win-back", "Premium Trial",
	"Renewal Reminder", "Price Change Notice", "5G Rollout", "Streaming Bundle", "Welcome Series", "Referral Bonus"}

var campaignRegions = []string{"", "", " - East", " - West", " - Central", " - Canada", " - Online"}

var campaigns = &kind{key: "campaign_scheduling", weight: 12, add: 55, del: 40, min: 2, max: 40, initial: 6,
	create: func(w *world, at time.Time) map[string]any {
		start := at.AddDate(0, 0, 3+w.rng.IntN(28))
		end := start.AddDate(0, 0, 7+w.rng.IntN(54))
		name := w.unique("campaign_scheduling", func() string {
			if w.rng.IntN(2) == 0 {
				return pick(w.rng, campaignSeasons[start.Month()]) + " " + start.Format("2006") + pick(w.rng, campaignRegions)
			}
			return pick(w.rng, campaignThemes) + " " + start.Format("Jan 2006") + pick(w.rng, campaignRegions)
		})
		return map[string]any{"name": name, "start_date": start.Format(time.DateOnly), "end_date": end.Format(time.DateOnly),
			"time_zone": pick(w.rng, timeZones[:5]), "schedule": w.schedule(), "status": "Scheduled"}
	},
	edits: []edit{
		{8, func(w *world, f map[string]any) bool { return shiftTime(w, f, "schedule") }},
		{3, func(w *world, f map[string]any) bool { return toggleDay(w, f, "schedule") }},
		{3, func(w *world, f map[string]any) bool {
			if f["status"] != "Running" && f["status"] != "Paused" {
				return false
			}
			return setOther(w, f, "status", []string{"Running", "Paused"})
		}},
		{1, func(w *world, f map[string]any) bool { return setOther(w, f, "time_zone", timeZones[:5]) }},
		{4, func(w *world, f map[string]any) bool {
			end, _ := time.Parse(time.DateOnly, f["end_date"].(string))
			f["end_date"] = end.AddDate(0, 0, pick(w.rng, []int{7, 14, 21, -7})).Format(time.DateOnly)
			if f["end_date"].(string) < f["start_date"].(string) {
				f["end_date"] = end.AddDate(0, 0, 7).Format(time.DateOnly)
			}
			return true
		}},
	},
	deletable: func(f map[string]any) bool { return f["status"] == "Completed" || f["status"] == "Scheduled" },
}

// Working hours: weekly shifts and the special occasions they close for.

var workingHoursNames = []string{"Standard", "Extended", "Holiday", "Summer", "Winter", "Peak Season", "Night", "Weekend", "Reduced"}
var workingHoursKinds = []string{" Business Hours", " Support Hours", " Sales Hours"}
var workingHoursRegions = []string{"", "", " - EMEA", " - APAC", " - LATAM"}

var holidays = []string{"New Year's Day", "Martin Luther King Jr. Day", "Presidents' Day", "Memorial Day", "Juneteenth",
	"Independence Day", "Labor Day", "Thanksgiving", "Day after Thanksgiving", "Christmas Eve", "Christmas Day",
	"New Year's Eve", "Boxing Day", "Good Friday", "Easter Monday"}

var workingHoursDescriptions = []string{"%s for the contact center.", "%s. Skills without their own hours use these.",
	"%s, agreed with the workforce planning team.", "%s (review before the holiday season)."}

var workingHours = &kind{key: "working_hours", weight: 10, add: 15, del: 10, min: 3, max: 15, initial: 5,
	create: func(w *world, at time.Time) map[string]any {
		first := len(w.live["working_hours"]) == 0
		name := "Standard Business Hours"
		if !first {
			name = w.unique("working_hours", func() string {
				return pick(w.rng, workingHoursNames) + pick(w.rng, workingHoursKinds) + pick(w.rng, workingHoursRegions)
			})
		}
		tz := pick(w.rng, timeZones)
		if first {
			tz = Timezone
		}
		return map[string]any{"name": name, "description": fmt.Sprintf(pick(w.rng, workingHoursDescriptions), name),
			"time_zone": tz, "is_default": first, "shifts": w.schedule(), "special_occasions": w.some(holidays, w.rng.IntN(5))}
	},
	edits: []edit{
		{8, func(w *world, f map[string]any) bool { return shiftTime(w, f, "shifts") }},
		{3, func(w *world, f map[string]any) bool { return toggleDay(w, f, "shifts") }},
		{4, func(w *world, f map[string]any) bool { return listAdd(w, f, "special_occasions", holidays, 12) }},
		{2, func(w *world, f map[string]any) bool { return listRemove(w, f, "special_occasions", 0) }},
		{1, func(w *world, f map[string]any) bool {
			return f["is_default"] == false && setOther(w, f, "time_zone", timeZones)
		}},
		{3, func(w *world, f map[string]any) bool { return describe(w, f, workingHoursDescriptions) }},
	},
	deletable: func(f map[string]any) bool { return f["is_default"] == false },
}

// others returns pool without name.
func others(pool []string, name any) []string {
	return slices.DeleteFunc(slices.Clone(pool), func(s string) bool { return s == name })
}
