package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestGraphQLSelectionBound checks issue 14 item 3: the LiveEngage query
// selects at most 32 fields per auditData item, aliases included; more is
// a 400 in GraphQL's error shape, read before any record is.
func TestGraphQLSelectionBound(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "aliases", true)
	srv.MustRecords(t, a, rec("new_value", strings.Repeat("v", 60<<10)))
	path := "/api/account/" + a.ID + "/configuration/metadata/audit"
	query := func(n int) string {
		var b strings.Builder
		b.WriteString("{auditData {")
		for i := range n {
			fmt.Fprintf(&b, " a%d: newValue", i)
		}
		b.WriteString("}}")
		return b.String()
	}
	t.Run("ErrAliases", func(t *testing.T) {
		for _, n := range []int{33, 400} {
			r := srv.Do(t, "POST", path, a.AdminToken, map[string]string{"query": query(n)})
			var body struct {
				Errors []struct{ Message string } `json:"errors"`
				Data   any                        `json:"data"`
			}
			if err := json.Unmarshal(r.Body, &body); err != nil || r.Status != 400 || len(body.Errors) == 0 || body.Data != nil ||
				!strings.Contains(body.Errors[0].Message, "32") {
				t.Errorf("%d aliases: got %d %s, want 400 with a GraphQL error naming the bound of 32", n, r.Status, r.Body)
			}
		}
	})
	t.Run("OKAtTheBound", func(t *testing.T) {
		r := srv.Must(t, 200, "POST", path, a.AdminToken, map[string]string{"query": query(32)})
		var body struct {
			Data struct {
				AuditData []map[string]any `json:"auditData"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.Body, &body); err != nil || len(body.Data.AuditData) == 0 || len(body.Data.AuditData[0]) != 32 {
			t.Errorf("32 aliases: got %.200s", r.Body)
		}
	})
}
