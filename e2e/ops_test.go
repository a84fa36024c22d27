package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestOperations covers the operations endpoints and the request log
// (SPEC §6).
func TestOperations(t *testing.T) {
	t.Parallel()
	srv := MustStart(t)
	a := srv.MustAccount(t, "ops", true)
	srv.MustRecords(t, a, rec(), rec(), rec())
	srv.MustChanges(t, a, chg("before", map[string]any{"name": "A", "email": "a@x"}, "after", map[string]any{"name": "B", "email": "b@x"}))

	t.Run("OKHealth", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz"} {
			r := srv.Must(t, 200, "GET", p, "", nil)
			r.JSON(t)
		}
	})

	t.Run("OKMetrics", func(t *testing.T) {
		r := srv.Must(t, 200, "GET", "/metrics", "", nil)
		body := string(r.Body)
		for _, name := range []string{"audittrail_http_requests_total", "audittrail_records_accepted_total", "audittrail_http_request_duration_seconds"} {
			if !strings.Contains(body, "\n"+name) && !strings.HasPrefix(body, name) {
				t.Errorf("metrics: got no %s, want it", name)
			}
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") && !strings.Contains(ct, "openmetrics") {
			t.Errorf("Content-Type: got %q, want the Prometheus text format", ct)
		}
		var accepted float64
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "audittrail_records_accepted_total") {
				f := strings.Fields(line)
				v, err := strconv.ParseFloat(f[len(f)-1], 64)
				if err != nil {
					t.Fatalf("metrics line %q: %v", line, err)
				}
				accepted += v
			}
		}
		if accepted < 5 {
			t.Errorf("audittrail_records_accepted_total: got %v, want at least %v", accepted, 5)
		}
	})

	t.Run("OKOpenAPI", func(t *testing.T) {
		v := srv.Must(t, 200, "GET", "/api/v1/openapi.json", "", nil).JSON(t)
		if s, _ := v["openapi"].(string); !strings.HasPrefix(s, "3") {
			t.Errorf("openapi: got %v, want 3.x", v["openapi"])
		}
	})

	t.Run("OKObjectTypes", func(t *testing.T) {
		builtin := map[string][2]string{
			"users": {"Users", "ACUserObject"}, "skills": {"Skills", "ACSkillObject"},
			"agent_groups": {"Agent Groups", "ACAgentGroupObject"}, "permissions": {"Permissions", "ACProfileObject"},
			"lobs": {"LoBs", ""}, "post_conversation_survey": {"Post Conversation Survey", ""},
			"campaign_scheduling": {"Campaign Scheduling", ""}, "working_hours": {"Working Hours", ""},
		}
		for name, cred := range map[string]string{"admin": a.AdminToken, "publisher": a.Key, "operator": OperatorToken} {
			types := objectTypes(t, srv, cred)
			for key, want := range builtin {
				ot, ok := types[key]
				if !ok {
					t.Errorf("%s: type %s: got none, want it", name, key)
					continue
				}
				if ot.Label != want[0] {
					t.Errorf("%s: label of %s: got %v, want %v", name, key, ot.Label, want[0])
				}
				if want[1] != "" && ot.ComponentType != want[1] || !strings.HasPrefix(ot.ComponentType, "AC") || !strings.HasSuffix(ot.ComponentType, "Object") {
					t.Errorf("%s: component_type of %s: got %v, want %v", name, key, ot.ComponentType, want[1])
				}
			}
			users := types["users"]
			for _, e := range users.Elements {
				if sens := e.Key == "password"; e.Sensitive != sens {
					t.Errorf("users.%s: sensitive: got %v, want %v", e.Key, e.Sensitive, sens)
				}
			}
			want := map[string]string{"login_name": "Login name", "name": "Name", "email": "Email", "password": "Password",
				"profile": "Profile", "member_of": "Member of", "skills": "Skills", "max_chats": "Max no. of live chats", "enabled": "Enabled"}
			for k, label := range want {
				if i := slices.IndexFunc(users.Elements, func(e element) bool { return e.Key == k }); i < 0 || users.Elements[i].Label != label {
					t.Errorf("users element %s: got %+v, want label %q", k, users.Elements, label)
				}
			}
		}
		MustError(t, srv.Do(t, "GET", "/api/v1/object-types", "", nil), 401, "unauthenticated")
	})

	t.Run("OKLogs", func(t *testing.T) {
		path := a.path("/records/count")
		before := strings.Count(srv.Logs(), path)
		for range 7 {
			srv.Count(t, a, nil)
		}
		srv.Do(t, "GET", path, "", nil)
		srv.Do(t, "DELETE", path, a.AdminToken, nil)
		want := before + 9
		var got int
		for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if got = countLines(srv.Logs(), path); got >= want {
				break
			}
		}
		if got != want {
			t.Errorf("log lines for %s: got %v, want %v", path, got, want)
		}
		if !strings.Contains(srv.Logs(), "status=401") && !strings.Contains(srv.Logs(), `"status":401`) {
			t.Errorf("logs: got no status of the refused request, want one")
		}
	})
}

func countLines(logs, s string) int {
	n := 0
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, s) {
			n++
		}
	}
	return n
}

type element struct {
	Key       string `json:"key"`
	Label     string `json:"label"`
	Sensitive bool   `json:"sensitive"`
}

type objectType struct {
	Key           string    `json:"key"`
	Label         string    `json:"label"`
	ComponentType string    `json:"component_type"`
	Elements      []element `json:"elements"`
}

func objectTypes(tb testing.TB, srv *Server, cred string) map[string]objectType {
	tb.Helper()
	var v struct {
		ObjectTypes []objectType `json:"object_types"`
	}
	r := srv.Must(tb, 200, "GET", "/api/v1/object-types", cred, nil)
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatalf("object types: %v: %s", err, r.Body)
	}
	out := map[string]objectType{}
	for _, ot := range v.ObjectTypes {
		out[ot.Key] = ot
	}
	return out
}

// TestCatalogFile checks that --catalog adds types and elements that
// records can then use (SPEC §3).
func TestCatalogFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "catalog.json")
	catalog := `{"object_types": [
		{"key": "chatbots", "label": "Chatbots", "elements": [
			{"key": "intent", "label": "Intent"},
			{"key": "webhook_url", "label": "Webhook URL"},
			{"key": "signing", "label": "Signing material", "sensitive": true}
		]},
		{"key": "canned_responses", "elements": []},
		{"key": "users", "elements": [{"key": "team", "label": "Team"}]}
	]}`
	if err := os.WriteFile(file, []byte(catalog), 0o600); err != nil {
		t.Fatal(err)
	}
	srv := MustStart(t, "--catalog", file)
	a := srv.MustAccount(t, "catalog", true)

	t.Run("OK", func(t *testing.T) {
		types := objectTypes(t, srv, a.Key)
		bot, ok := types["chatbots"]
		if !ok {
			t.Fatalf("chatbots: got none, want the type of the catalog file")
		}
		if bot.Label != "Chatbots" || bot.ComponentType != "ACChatbotObject" || len(bot.Elements) != 3 {
			t.Errorf("chatbots: got %+v, want label Chatbots, component type ACChatbotObject, 3 elements", bot)
		}
		if c := types["canned_responses"]; c.Label != "Canned responses" || c.ComponentType == "" {
			t.Errorf("canned_responses: got %+v, want a label and a component type made from the key", c)
		}
		if _, ok := types["users"]; !ok || len(types) < 10 {
			t.Errorf("types: got %d, want the built-in ones and the file's", len(types))
		}
		users := types["users"]
		if !slices.ContainsFunc(users.Elements, func(e element) bool { return e.Key == "team" && e.Label == "Team" }) ||
			!slices.ContainsFunc(users.Elements, func(e element) bool { return e.Key == "password" && e.Sensitive }) {
			t.Errorf("users elements: got %+v, want the built-in ones and team", users.Elements)
		}

		rs := srv.MustRecords(t, a,
			rec("object_type", "chatbots", "object_name", "Helper bot", "element", "intent", "old_value", "greet", "new_value", "sell"),
			rec("object_type", "chatbots", "element", "signing", "old_value", "abc", "new_value", "def"),
			rec("object_type", "chatbots", "element", "signing MATERIAL", "old_value", "abc", "new_value", "def"),
			rec("element", "team", "old_value", "Red", "new_value", "Blue"),
		)
		rs = append(rs, srv.MustChanges(t, a, chg("object_type", "canned_responses", "before", nil, "after", map[string]any{"text": "Hello!"}))...)
		got := [][3]string{}
		for _, r := range rs {
			got = append(got, [3]string{r.ObjectType, r.Element, r.NewValue})
		}
		want := [][3]string{{"chatbots", "Intent", "sell"}, {"chatbots", "Signing material", "********"}, {"chatbots", "Signing material", "********"}, {"users", "Team", "Blue"}, {"canned_responses", "Text", "Hello!"}}
		if !slices.Equal(got, want) {
			t.Errorf("records: got %v, want %v", got, want)
		}
		if n := srv.Count(t, a, vals("object_type", "chatbots")); n != 3 {
			t.Errorf("count of chatbots: got %v, want %v", n, 3)
		}
	})

	t.Run("ErrUnknownObjectType", func(t *testing.T) {
		MustError(t, srv.PostRecords(t, a, rec("object_type", "chatbot")), 422, "unknown_object_type")
	})
}
