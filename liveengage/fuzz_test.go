package liveengage

import (
	"encoding/json"
	"testing"
)

// FuzzPrepare feeds request bodies to the reading, parsing and checking
// of a GraphQL call: whatever the body, it must answer a call or errors,
// never panic.
func FuzzPrepare(f *testing.F) {
	for _, s := range []string{
		`{auditData {changeDate}}`,
		`{auditData(lpa: true, first: 10, offset: 5, orderDirection: ASC, users: ["o-1", 7], componentTypes: [ACUserObject]) {accountId originatorIsLpa}}`,
		`query Q($d: String = "ASC", $n: Int) {a: auditData(orderDirection: $d, first: $n) {...F ... on AuditData {element @skip(if: true)}}} fragment F on AuditData {changeDate}`,
		`{auditData(first: null, orderBy: [[x]]) {__typename}}`,
		`{__schema {types {name}}}`,
		`mutation {auditData {changeDate}}`,
		`{auditData(fromDate: """block""") {changeDate}`,
	} {
		f.Add(s, `{"d": "DESC", "n": 3}`)
	}
	f.Fuzz(func(t *testing.T, query, variables string) {
		body, _ := json.Marshal(map[string]any{"query": query, "variables": json.RawMessage(nil)})
		var req graphQLRequest
		if err := json.Unmarshal(body, &req); err != nil {
			t.Skip()
		}
		if json.Valid([]byte(variables)) {
			req.Variables = json.RawMessage(variables)
		}
		c, errs := prepare(&req)
		if (c == nil) == (errs == nil) {
			t.Fatalf("prepare(%q, %q): got call %v and errors %v, want exactly one", query, variables, c, errs)
		}
		if c != nil && c.audit != nil && (c.first < 0 || c.first > MaxFirst || c.offset < 0) {
			t.Fatalf("prepare(%q): first %d, offset %d out of bounds", query, c.first, c.offset)
		}
	})
}
