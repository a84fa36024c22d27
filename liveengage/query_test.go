package liveengage_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

// TestQuery_Golden checks the documentation's request bodies against their
// answers, byte for byte.
func TestQuery_Golden(t *testing.T) {
	fx := MustOpenFixture(t, Seed())
	for _, tt := range []struct {
		name, body, total string
	}{
		// Every field, in the order of the documentation's request.
		{"query_all_fields.json", `{"query" : "` + AllFields + `"}`, "7"},
		// The documentation's example: lpa:true, some of the fields.
		{"query_lpa.json", `{"query" : "{auditData (lpa:true) { accountId objectType element oldValue newValue originatorIsLpa changeDate}}"}`, "8"},
		// The documentation's multi-line form.
		{"query_multiline.json", "{\"query\" : \"{auditData  \\n   {accountId \\n  objectType \\n  objectName \\n  actionType \\n  changeDate \\n  originator}}\"}", "7"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := fx.Do(t, "POST", QueryPath(AccountID), fx.Admin, "application/json", []byte(tt.body))
			if r.Status != 200 {
				t.Fatalf("got status %d, want 200: %s", r.Status, r.Body)
			}
			if got := r.Header.Get("X-Total-Count"); got != tt.total {
				t.Errorf("X-Total-Count: got %q, want %q", got, tt.total)
			}
			if got := r.Header.Get("Content-Type"); got != "application/json; charset=utf-8" {
				t.Errorf("Content-Type: got %q", got)
			}
			Golden(t, tt.name, Indent(t, r.Body))
		})
	}
}

// TestQuery_Fields checks the mapping of each field on one record, and
// that the answer holds the selected fields only, in the order asked.
func TestQuery_Fields(t *testing.T) {
	fx := MustOpenFixture(t, Seed())

	t.Run("OK", func(t *testing.T) {
		items, _ := fx.MustQuery(t, `{auditData(fromDate: "2026-06-02", toDate: "2026-06-02") {
			originatorIsLpa originatorAuthType originatorUserAgent originatorUserId originatorLoginName originator
			changeDate newValue oldValue element actionType objectName objectType accountId}}`, nil)
		if len(items) != 1 {
			t.Fatalf("got %d items, want 1", len(items))
		}
		want := map[string]any{
			"accountId": AccountID, "objectType": "Users", "objectName": "Jane Doe", "actionType": "Edit",
			"element": "Member of", "oldValue": "Sales", "newValue": "Sales, Support",
			"changeDate": "2026-06-02 05:30:15.4", // 09:30:15.456Z in US/Eastern (EDT), tenths
			"originator": "Olivia Admin", "originatorLoginName": "olivia", "originatorUserId": "o-1",
			"originatorUserAgent": "Mozilla/5.0", "originatorAuthType": "SSO", "originatorIsLpa": false,
		}
		for k, v := range want {
			if items[0][k] != v {
				t.Errorf("%s: got %#v, want %#v", k, items[0][k], v)
			}
		}
		if len(items[0]) != len(want) {
			t.Errorf("got fields %v, want %v", keys(items[0]), keys(want))
		}
	})

	t.Run("SingleField", func(t *testing.T) {
		r := fx.Query(t, `{auditData(first: 2) {changeDate}}`, nil)
		want := `{"data":{"auditData":[{"changeDate":"2026-06-08 23:00:00.0"},{"changeDate":"2026-06-08 11:45:30.1"}]}}` + "\n"
		if string(r.Body) != want {
			t.Errorf("got %s, want %s", r.Body, want)
		}
	})

	t.Run("Order", func(t *testing.T) {
		r := fx.Query(t, `{auditData(first: 1) {newValue element actionType}}`, nil)
		want := `{"data":{"auditData":[{"newValue":"Active","element":"Status","actionType":"Edit"}]}}` + "\n"
		if string(r.Body) != want {
			t.Errorf("got %s, want %s", r.Body, want)
		}
	})

	t.Run("ActionLabels", func(t *testing.T) {
		items, _ := fx.MustQuery(t, `{auditData(automaticUpdates: true, first: 100) {actionType objectType}}`, nil)
		got := strs(items, "actionType")
		for _, label := range []string{"Add new", "Edit", "Delete"} {
			if !slices.Contains(got, label) {
				t.Errorf("got action types %v, want %q among them", got, label)
			}
		}
		if types := strs(items, "objectType"); !slices.Contains(types, "Agent Groups") || !slices.Contains(types, "Post Conversation Survey") {
			t.Errorf("got object types %v, want the catalog's labels", types)
		}
	})

	t.Run("AliasesFragmentsDirectives", func(t *testing.T) {
		r := fx.Query(t, `query Q($withName: Boolean!) {
			kind: __typename
			rows: auditData(first: 1) { ...dates when: changeDate ... on AuditData { who: originator } objectName @include(if: $withName) element @skip(if: true) __typename }
		}
		fragment dates on AuditData { changeDate }`, map[string]any{"withName": false})
		want := `{"data":{"kind":"Query","rows":[{"changeDate":"2026-06-08 23:00:00.0","when":"2026-06-08 23:00:00.0","who":"Olivia Admin","__typename":"AuditData"}]}}` + "\n"
		if r.Status != 200 || string(r.Body) != want {
			t.Errorf("got %d %s, want %s", r.Status, r.Body, want)
		}
	})

	t.Run("OperationName", func(t *testing.T) {
		body := `{"query": "query A {auditData(first: 1) {element}} query B {auditData(first: 1, orderDirection: ASC) {element}}", "operationName": "B"}`
		r := fx.Do(t, "POST", QueryPath(AccountID), fx.Admin, "application/json", []byte(body))
		want := `{"data":{"auditData":[{"element":"Login name"}]}}` + "\n"
		if string(r.Body) != want {
			t.Errorf("got %s, want %s", r.Body, want)
		}
	})

	t.Run("ApplicationGraphQL", func(t *testing.T) {
		r := fx.Do(t, "POST", QueryPath(AccountID), fx.Admin, "application/graphql", []byte(`{auditData(first: 1) {element}}`))
		want := `{"data":{"auditData":[{"element":"Status"}]}}` + "\n"
		if string(r.Body) != want {
			t.Errorf("got %s, want %s", r.Body, want)
		}
	})
}

// TestQuery_Arguments checks each argument, alone and combined, against
// the seeded history.
func TestQuery_Arguments(t *testing.T) {
	fx := MustOpenFixture(t, Seed())
	for _, tt := range []struct {
		name  string
		args  string
		vars  map[string]any
		total int
		want  []string // element of each item, in order
	}{
		{"Defaults", ``, nil, 7, []string{"Status", "Description", "Nickname", "Enabled", "Max wait time", "Member of", "Login name"}},
		{"LPA", `(lpa: true)`, nil, 8, nil},
		{"AutomaticUpdates", `(automaticUpdates: true, first: 3)`, nil, 8, []string{"Status", "Description", "Nickname"}},
		{"Both", `(lpa: true, automaticUpdates: true, orderDirection: ASC, first: 4)`, nil, 9,
			[]string{"Login name", "Member of", "Max wait time", "Permissions"}},
		{"ASC", `(orderDirection: ASC, first: 3)`, nil, 7, []string{"Login name", "Member of", "Max wait time"}},
		{"ASCString", `(orderDirection: "asc", orderBy: "changeTimestamp", first: 2)`, nil, 7, []string{"Login name", "Member of"}},
		{"ASCList", `(orderDirection: [ASC], orderBy: [changeTimestamp], first: 2)`, nil, 7, []string{"Login name", "Member of"}},
		{"FirstOffset", `(first: 2, offset: 3)`, nil, 7, []string{"Enabled", "Max wait time"}},
		{"OffsetASC", `(first: 2, offset: 3, orderDirection: ASC)`, nil, 7, []string{"Enabled", "Nickname"}},
		{"OffsetPastEnd", `(offset: 100)`, nil, 7, []string{}},
		{"FirstZero", `(first: 0)`, nil, 7, []string{}},
		{"ComponentTypes", `(componentTypes: [ACUserObject])`, nil, 4, []string{"Nickname", "Enabled", "Member of", "Login name"}},
		{"ComponentTypesMany", `(componentTypes: ["ACSkillObject", "ACProfileObject"], lpa: true)`, nil, 2, []string{"Permissions", "Max wait time"}},
		{"ComponentTypesOne", `(componentTypes: ACProfileObject)`, nil, 0, []string{}},
		{"ComponentTypeOfDeployment", `(componentTypes: [ACLobObject, ACPostConversationSurveyObject])`, nil, 2, []string{"Status", "Description"}},
		{"UsersByID", `(users: ["o-2"])`, nil, 2, []string{"Enabled", "Max wait time"}},
		{"UsersByName", `(users: "Bob Manager")`, nil, 2, []string{"Enabled", "Max wait time"}},
		{"UsersMany", `(users: ["o-2", "@mallory"], orderDirection: ASC)`, nil, 3, []string{"Max wait time", "Enabled", "Description"}},
		{"UsersLPA", `(users: ["lpa-7"])`, nil, 0, []string{}},
		{"UsersLPAIncluded", `(users: ["lpa-7"], lpa: true)`, nil, 1, []string{"Permissions"}},
		{"UsersManyLPA", `(users: ["lpa-7", "o-2"], lpa: true)`, nil, 3, []string{"Enabled", "Permissions", "Max wait time"}},
		{"UsersAndTypes", `(users: ["o-1"], componentTypes: [ACUserObject], first: 2, offset: 1)`, nil, 3, []string{"Member of", "Login name"}},
		{"FromTo", `(fromDate: "2026-06-03", toDate: "2026-06-06")`, nil, 2, []string{"Enabled", "Max wait time"}},
		// 2026-06-03T23:59:59.999Z is still June 3rd in New York, but June
		// 4th in Tokyo.
		{"ToDateInclusive", `(toDate: "2026-06-03")`, nil, 3, []string{"Max wait time", "Member of", "Login name"}},
		{"ToDateTimezone", `(toDate: "2026-06-03", timezone: "Asia/Tokyo")`, nil, 2, []string{"Member of", "Login name"}},
		{"FromDateTimezone", `(fromDate: "2026-06-04", timezone: "Asia/Tokyo", orderDirection: ASC, first: 1)`, nil, 5, []string{"Max wait time"}},
		{"FixedOffset", `(fromDate: "2026-06-04", timezone: "GMT+09:00", orderDirection: ASC, first: 1)`, nil, 5, []string{"Max wait time"}},
		{"Retention", `(fromDate: "2024-01-01", lpa: true, automaticUpdates: true, orderDirection: ASC, first: 1)`, nil, 9, []string{"Login name"}},
		{"BeforeRetention", `(toDate: "2025-05-01")`, nil, 0, []string{}},
		{"Language", `(language: "fr-FR", first: 1)`, nil, 7, []string{"Status"}},
		{"Variables", `($from: String, $to: String, $users: [String], $n: Int, $dir: String, $lpa: Boolean)`, map[string]any{
			"from": "2026-06-02", "to": "2026-06-08", "users": []string{"o-1", "lpa-7"}, "n": 2, "dir": "ASC", "lpa": true,
		}, 4, []string{"Member of", "Permissions"}},
		{"VariablesUnset", `($n: Int, $dir: String)`, map[string]any{}, 7, nil},
		{"VariablesNumbers", `($users: [ID])`, map[string]any{"users": []any{7, "o-2"}}, 2, []string{"Enabled", "Max wait time"}},
		{"Null", `(first: null, lpa: null, timezone: null)`, nil, 7, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var query string
			if strings.HasPrefix(tt.args, "($") {
				query = "query " + tt.args + " {auditData" + variableArgs(tt.args) + " {element changeDate}}"
			} else {
				query = "{auditData" + tt.args + " {element changeDate}}"
			}
			items, total := fx.MustQuery(t, query, tt.vars)
			if total != tt.total {
				t.Errorf("X-Total-Count: got %d, want %d", total, tt.total)
			}
			if tt.want != nil {
				if got := strs(items, "element"); !slices.Equal(got, tt.want) {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			} else if want := min(tt.total, 50); len(items) != want {
				t.Errorf("got %d items, want %d", len(items), want)
			}
		})
	}
}

// variableArgs turns "($from: String, $n: Int)" into "(fromDate: $from,
// first: $n)".
func variableArgs(decl string) string {
	names := map[string]string{"from": "fromDate", "to": "toDate", "users": "users", "n": "first", "dir": "orderDirection", "lpa": "lpa"}
	var args []string
	for _, d := range strings.Split(strings.Trim(decl, "()"), ",") {
		v, _, _ := strings.Cut(strings.TrimSpace(d), ":")
		args = append(args, names[strings.TrimPrefix(v, "$")]+": "+v)
	}
	return "(" + strings.Join(args, ", ") + ")"
}

// TestQuery_Timezone checks changeDate in the default and a requested zone.
func TestQuery_Timezone(t *testing.T) {
	fx := MustOpenFixture(t, Seed())
	for _, tt := range []struct{ zone, want string }{
		{"", "2026-06-03 19:59:59.9"}, // US/Eastern, EDT
		{`, timezone: "US/Eastern"`, "2026-06-03 19:59:59.9"},
		{`, timezone: "Europe/London"`, "2026-06-04 00:59:59.9"},
		{`, timezone: "UTC"`, "2026-06-03 23:59:59.9"},
		{`, timezone: "Asia/Kolkata"`, "2026-06-04 05:29:59.9"},
		{`, timezone: "GMT-03:00"`, "2026-06-03 20:59:59.9"},
	} {
		items, _ := fx.MustQuery(t, `{auditData(componentTypes: [ACSkillObject]`+tt.zone+`) {changeDate}}`, nil)
		if len(items) != 1 || items[0]["changeDate"] != tt.want {
			t.Errorf("timezone%s: got %v, want %s", tt.zone, items, tt.want)
		}
	}
}

// TestQuery_Errors checks that malformed documents, unknown fields and
// bad arguments answer 400 with GraphQL's error shape.
func TestQuery_Errors(t *testing.T) {
	fx := MustOpenFixture(t, Seed())
	for _, tt := range []struct {
		name, body, want string
		line             int // of the first error's location; 0 for none
	}{
		{"UnknownField", `{"query": "{auditData {changeDate foo}}"}`, `Cannot query field "foo" on type "AuditData"`, 1},
		{"UnknownRootField", `{"query": "{users {id}}"}`, `Cannot query field "users" on type "Query"`, 1},
		{"NoSelection", `{"query": "{auditData}"}`, `must have a selection of subfields`, 1},
		{"SubselectionOfScalar", `{"query": "{auditData {changeDate {x}}}"}`, `Cannot query field "x" on type "String"`, 1},
		{"Malformed", `{"query": "{auditData {changeDate}"}`, `Expected Name, found <EOF>`, 1},
		{"MalformedArgs", `{"query": "{auditData(first: ) {changeDate}}"}`, `Unexpected )`, 1},
		{"Empty", `{"query": ""}`, `has no query`, 0},
		{"NotJSON", `{"query": "{auditData {changeDate}}"`, `not a JSON object`, 0},
		{"QueryNotString", `{"query": 5}`, `not a JSON object`, 0},
		{"UnknownArgument", `{"query": "{auditData(last: 5) {changeDate}}"}`, `Unknown argument "last" on field "Query.auditData"`, 1},
		{"BadDate", `{"query": "{auditData(fromDate: \"2026-13-01\") {changeDate}}"}`, `fromDate "2026-13-01" is not a date in the format yyyy-MM-dd`, 1},
		{"DateTime", `{"query": "{auditData(toDate: \"2026-06-01T00:00:00Z\") {changeDate}}"}`, `not a date in the format yyyy-MM-dd`, 1},
		{"ToBeforeFrom", `{"query": "{auditData(fromDate: \"2026-06-05\", toDate: \"2026-06-01\") {changeDate}}"}`, `toDate 2026-06-01 is before fromDate 2026-06-05`, 1},
		{"BadDirection", `{"query": "{auditData(orderDirection: UP) {changeDate}}"}`, `orderDirection "UP" must be ASC or DESC`, 1},
		{"BadOrderBy", `{"query": "{auditData(orderBy: objectName) {changeDate}}"}`, `orderBy "objectName" is not supported`, 1},
		{"UnknownComponentType", `{"query": "{auditData(componentTypes: [ACLoginObject]) {changeDate}}"}`, `"ACLoginObject" is not a component type; known: ACUserObject, ACSkillObject`, 1},
		{"BadTimezone", `{"query": "{auditData(timezone: \"Mars/Olympus\") {changeDate}}"}`, `timezone "Mars/Olympus" is not a time zone`, 1},
		{"FirstTooLarge", `{"query": "{auditData(first: 1001) {changeDate}}"}`, `1001 must be a whole number from 0 to 1000`, 1},
		{"NegativeOffset", `{"query": "{auditData(offset: -1) {changeDate}}"}`, `-1 must be a whole number from 0`, 1},
		{"FirstNotInt", `{"query": "{auditData(first: \"ten\") {changeDate}}"}`, `Int cannot represent non-integer value`, 1},
		{"LPANotBool", `{"query": "{auditData(lpa: 1) {changeDate}}"}`, `Boolean cannot represent a non boolean value`, 1},
		{"Mutation", `{"query": "mutation {auditData {changeDate}}"}`, `Schema does not support operation type "mutation"`, 1},
		{"Introspection", `{"query": "{__schema {types {name}}}"}`, `Introspection (__schema) is not supported`, 1},
		{"TwoAuditData", `{"query": "{a: auditData {changeDate} b: auditData {element}}"}`, `Ask for auditData once per request`, 1},
		{"UnknownOperation", `{"query": "query A {auditData {changeDate}}", "operationName": "B"}`, `Unknown operation named "B"`, 0},
		{"TwoOperations", `{"query": "query A {auditData {changeDate}} query B {auditData {element}}"}`, `name the one to run in operationName`, 0},
		{"UndefinedVariable", `{"query": "{auditData(first: $n) {changeDate}}"}`, `Variable "$n" is not defined`, 1},
		{"VariableType", `{"query": "query ($n: Int) {auditData(first: $n) {changeDate}}", "variables": {"n": "many"}}`, `cannot use string as Int`, 0},
		{"VariableValue", `{"query": "query ($d: String) {auditData(orderDirection: $d) {changeDate}}", "variables": {"d": "sideways"}}`, `orderDirection "sideways" must be ASC or DESC`, 1},
		{"VariablesNotObject", `{"query": "{auditData {changeDate}}", "variables": [1]}`, `variables must be a JSON object`, 0},
		{"TooManyTokens", `{"query": "{auditData {` + strings.Repeat("changeDate ", 30000) + `}}"}`, `exceeded token limit`, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := fx.Do(t, "POST", QueryPath(AccountID), fx.Admin, "application/json", []byte(tt.body))
			if r.Status != 400 {
				t.Fatalf("got status %d, want 400: %s", r.Status, r.Body)
			}
			var v struct {
				Errors []struct {
					Message   string           `json:"message"`
					Locations []map[string]int `json:"locations"`
				} `json:"errors"`
				Data *json.RawMessage `json:"data"`
			}
			if err := json.Unmarshal(r.Body, &v); err != nil {
				t.Fatalf("%v: %s", err, r.Body)
			}
			if len(v.Errors) == 0 || !strings.Contains(v.Errors[0].Message, tt.want) {
				t.Fatalf("got %s, want an error containing %q", r.Body, tt.want)
			}
			if !strings.Contains(string(r.Body), `"data":null`) {
				t.Errorf("got %s, want data null", r.Body)
			}
			if tt.line > 0 && (len(v.Errors[0].Locations) == 0 || v.Errors[0].Locations[0]["line"] != tt.line) {
				t.Errorf("got locations %v, want line %d", v.Errors[0].Locations, tt.line)
			}
			if r.Header.Get("X-Total-Count") != "" {
				t.Errorf("got X-Total-Count %q on an error", r.Header.Get("X-Total-Count"))
			}
		})
	}
}

// TestQuery_Paging walks a long history, with records that the default
// leaves out and records that share a date, page by page in both
// directions, across the chunks of an ascending walk, and compares with the
// history sorted here.
func TestQuery_Paging(t *testing.T) {
	const n = 1234
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	people := []audittrail.Originator{{ID: "o-1", Name: "Olivia"}, {ID: "o-2", Name: "Bob"}, {ID: "lpa-1", Name: "LP", IsLPA: true}, {ID: "o-3", Name: "Carol"}}
	types := []string{"users", "skills", "permissions", "agent_groups"}
	var recs []*audittrail.Record
	date := base
	for i := range n {
		if i%50 != 1 { // every 50th record shares the date of the one before
			date = date.Add(7*time.Minute + 123*time.Millisecond)
		}
		recs = append(recs, &audittrail.Record{ObjectType: types[i%len(types)], ObjectID: fmt.Sprint(i), ObjectName: "Object",
			ActionType: "edit", Element: fmt.Sprintf("e%04d", i), Date: date, Originator: people[i%len(people)],
			Automatic: i%7 == 0, ChangeID: audittrail.NewID("chg_"), Source: "platform"})
	}
	fx := MustOpenFixture(t, recs)

	// reference returns the elements that the filters keep, oldest first.
	reference := func(keep func(i int, r *audittrail.Record) bool) []string {
		var out []string
		for i, r := range recs { // appended in date order, so in seq order
			if keep(i, r) {
				out = append(out, r.Element)
			}
		}
		return out
	}
	defaults := func(i int, r *audittrail.Record) bool { return !r.Automatic && !r.Originator.IsLPA }
	for _, tt := range []struct {
		name string
		args string
		keep func(int, *audittrail.Record) bool
	}{
		{"Defaults", ``, defaults},
		{"All", `lpa: true, automaticUpdates: true`, func(int, *audittrail.Record) bool { return true }},
		{"OneUser", `users: ["o-2"], automaticUpdates: true`, func(i int, r *audittrail.Record) bool { return r.Originator.ID == "o-2" }},
		{"TypesAndUsers", `users: ["Olivia", "lpa-1"], lpa: true, componentTypes: [ACUserObject, ACProfileObject]`, func(i int, r *audittrail.Record) bool {
			return !r.Automatic && (r.Originator.ID == "o-1" || r.Originator.ID == "lpa-1") && (r.ObjectType == "users" || r.ObjectType == "permissions")
		}},
	} {
		want := reference(tt.keep)
		for _, dir := range []string{"ASC", "DESC"} {
			want := slices.Clone(want)
			if dir == "DESC" {
				slices.Reverse(want)
			}
			for _, first := range []int{1000, 333, 50} {
				t.Run(fmt.Sprintf("%s/%s/%d", tt.name, dir, first), func(t *testing.T) {
					var got []string
					for offset := 0; offset < len(want)+first; offset += first {
						items, total := fx.MustQuery(t, fmt.Sprintf(`{auditData(%s first: %d, offset: %d, orderDirection: %s) {element}}`,
							tt.args+sep(tt.args), first, offset, dir), nil)
						if total != len(want) {
							t.Fatalf("offset %d: X-Total-Count: got %d, want %d", offset, total, len(want))
						}
						if wantLen := max(0, min(first, len(want)-offset)); len(items) != wantLen {
							t.Fatalf("offset %d: got %d items, want %d", offset, len(items), wantLen)
						}
						got = append(got, strs(items, "element")...)
					}
					if !slices.Equal(got, want) {
						t.Errorf("got %d elements %s, want %d %s", len(got), clipList(got), len(want), clipList(want))
					}
				})
			}
		}
	}

	t.Run("OffsetInsideChunk", func(t *testing.T) {
		want := reference(func(int, *audittrail.Record) bool { return true })
		for _, offset := range []int{0, 1, 499, 500, 501, 733, 1000, 1233, 1234} {
			items, _ := fx.MustQuery(t, fmt.Sprintf(`{auditData(lpa: true, automaticUpdates: true, first: 3, offset: %d, orderDirection: ASC) {element}}`, offset), nil)
			if got, w := strs(items, "element"), want[min(offset, n):min(offset+3, n)]; !slices.Equal(got, w) {
				t.Errorf("offset %d: got %v, want %v", offset, got, w)
			}
		}
	})
}

func sep(args string) string {
	if args == "" {
		return ""
	}
	return ","
}

func clipList(ss []string) string {
	if len(ss) > 6 {
		return fmt.Sprint(ss[:3], "…", ss[len(ss)-3:])
	}
	return fmt.Sprint(ss)
}
