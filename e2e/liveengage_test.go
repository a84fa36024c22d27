package e2e

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestLiveEngage drives the LiveEngage-compatible API (SPEC §10) of the
// real binary as a brand's existing script would: a user token as the
// bearer, the GraphQL query, then the CSV export of the same filters.
func TestLiveEngage(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "le-e2e", true)
	queryPath := "/api/account/" + a.ID + "/configuration/metadata/audit"

	probe := srv.Do(t, "POST", queryPath, a.AdminToken, map[string]string{"query": "{auditData {changeDate}}"})
	if probe.Status == 404 && strings.Contains(string(probe.Body), "no such resource") {
		t.Skip("the LiveEngage-compatible routes are not mounted")
	}

	// The service's own records (the trail being enabled) are of other
	// types than those the test asks for.
	date := time.Now().UTC().Add(time.Minute).Truncate(time.Second) // after the trail was enabled
	srv.MustRecords(t, a,
		rec("element", "skills", "object_type", "users", "date", ts(date), "new_value", "Sales, Support",
			"originator", map[string]any{"id": "o-1", "name": "Olivia Admin", "login_name": "olivia", "employee_id": "=E1", "profiles": []string{"Administrator"}}),
		rec("element", "max_wait_time", "object_type", "skills", "object_name", "Billing", "date", ts(date.Add(time.Second)),
			"originator", map[string]any{"id": "lpa-1", "name": "LP Support", "is_lpa": true}),
		rec("element", "name", "object_type", "agent_groups", "object_name", "Night", "action_type", "add", "old_value", "", "date", ts(date.Add(2*time.Second)),
			"automatic", true, "originator", map[string]any{"name": "System"}),
	)

	t.Run("Query", func(t *testing.T) {
		r := srv.Must(t, 200, "POST", queryPath, a.AdminToken, map[string]string{
			"query": `{auditData(timezone: "UTC", componentTypes: [ACUserObject, ACSkillObject]) {objectType actionType element newValue changeDate originator originatorUserId originatorIsLpa}}`,
		})
		if got := r.Header.Get("X-Total-Count"); got != "1" {
			t.Errorf("X-Total-Count: got %q, want 1 (LPA and automatic changes left out)", got)
		}
		var v struct {
			Data struct {
				AuditData []map[string]any `json:"auditData"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &v); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"objectType": "Users", "actionType": "Edit", "element": "Skills", "newValue": "Sales, Support",
			"changeDate": date.Format("2006-01-02 15:04:05") + ".0", "originator": "Olivia Admin", "originatorUserId": "o-1", "originatorIsLpa": false}
		if len(v.Data.AuditData) != 1 {
			t.Fatalf("got %s, want one item", r.Body)
		}
		for k, w := range want {
			if got := v.Data.AuditData[0][k]; got != w {
				t.Errorf("%s: got %#v, want %#v", k, got, w)
			}
		}
		if len(v.Data.AuditData[0]) != len(want) {
			t.Errorf("got %s, want only the selected fields", r.Body)
		}

		r = srv.Must(t, 200, "POST", queryPath, a.AdminToken, map[string]string{"query": `{auditData(lpa: true, automaticUpdates: true, componentTypes: [ACUserObject, ACSkillObject, ACAgentGroupObject]) {element}}`})
		if got := r.Header.Get("X-Total-Count"); got != "3" {
			t.Errorf("X-Total-Count with lpa and automaticUpdates: got %q, want 3: %s", got, r.Body)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		r := srv.Must(t, 400, "POST", queryPath, a.AdminToken, map[string]string{"query": `{auditData {nope}}`})
		if !strings.Contains(string(r.Body), `"errors"`) {
			t.Errorf("got %s, want GraphQL errors", r.Body)
		}
		srv.Must(t, 401, "POST", queryPath, "", map[string]string{"query": `{auditData {element}}`})
		srv.Must(t, 403, "POST", queryPath, a.Key, map[string]string{"query": `{auditData {element}}`})
		srv.Must(t, 400, "POST", "/api/account/NOT_VALID/configuration/metadata/audit", a.AdminToken, map[string]string{"query": `{auditData {element}}`})
		b := srv.MustAccount(t, "le-e2e-other", false)
		srv.Must(t, 404, "POST", queryPath, b.AdminToken, map[string]string{"query": `{auditData {element}}`})
	})

	t.Run("Export", func(t *testing.T) {
		r := srv.Must(t, 200, "GET", queryPath+"/export?timezone=UTC&lpa=true&componentTypes=ACUserObject,ACSkillObject", a.AdminToken, nil)
		rd := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.Body, []byte("\ufeff"))))
		rd.FieldsPerRecord = -1
		rows, err := rd.ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 9 || rows[0][0] != "Search Criteria" || rows[3][0] != "Total Items" || rows[4][0] != "2" || rows[5][0] != "Results" {
			t.Fatalf("got %q, want the three blocks with 2 results", rows)
		}
		if got := strings.Join(rows[2][3:], "|"); got != "ACUserObject,ACSkillObject|All|false|true" {
			t.Errorf("criteria: got %q", rows[2])
		}
		if got := rows[8]; got[0] != "Users" || got[9] != "'=E1" || got[10] != "[Administrator]" {
			t.Errorf("row: got %q", got)
		}
	})
}
