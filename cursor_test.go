package audittrail_test

import (
	"testing"
	"time"

	"github.com/audittrail/audittrail"
)

func TestCursor(t *testing.T) {
	t.Run("OK", func(t *testing.T) {
		c := &audittrail.Cursor{Date: time.Date(2026, 3, 1, 10, 0, 0, 123e6, time.UTC), Seq: 42}
		got, err := audittrail.ParseCursor(c.String())
		if err != nil {
			t.Fatal(err)
		}
		if !got.Date.Equal(c.Date) || got.Seq != c.Seq {
			t.Fatalf("got %#v, want %#v", got, c)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		for _, s := range []string{"", "x", "djEuMS4y!", "djEuYS4y", "djIuMS4y", "djEuMS4tMQ"} {
			if _, err := audittrail.ParseCursor(s); audittrail.ErrorCode(err) != audittrail.EINVALIDPARAMETER {
				t.Errorf("ParseCursor(%q): got %v, want %s", s, err, audittrail.EINVALIDPARAMETER)
			}
		}
	})
}

func FuzzParseCursor(f *testing.F) {
	f.Add((&audittrail.Cursor{Date: time.UnixMilli(1700000000123).UTC(), Seq: 7}).String())
	f.Add("djEuMS4y")
	f.Add("")
	f.Add("djEuLTYyMTM1NTk2ODAwMDAwLjA")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := audittrail.ParseCursor(s)
		if err != nil {
			if audittrail.ErrorCode(err) != audittrail.EINVALIDPARAMETER {
				t.Fatalf("got code %s, want %s", audittrail.ErrorCode(err), audittrail.EINVALIDPARAMETER)
			}
			return
		}
		again, err := audittrail.ParseCursor(c.String())
		if err != nil || !again.Date.Equal(c.Date) || again.Seq != c.Seq {
			t.Fatalf("round trip: got %#v (%v), want %#v", again, err, c)
		}
	})
}

func TestParseRetention(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{"13mo", time.Date(2025, 10, 25, 12, 0, 0, 0, time.UTC)},
		{"36h", now.Add(-36 * time.Hour)},
		{"1mo", time.Date(2026, 10, 25, 12, 0, 0, 0, time.UTC)},
	} {
		r, err := audittrail.ParseRetention(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if got := r.Start(now); !got.Equal(tt.want) {
			t.Errorf("%s: got %v, want %v", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "0mo", "-1h", "13months", "mo", "abc"} {
		if _, err := audittrail.ParseRetention(bad); err == nil {
			t.Errorf("ParseRetention(%q): got nil error, want one", bad)
		}
	}
}

func TestCatalog(t *testing.T) {
	c, err := audittrail.NewCatalog(nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{"users", "skills", "agent_groups", "permissions", "lobs", "post_conversation_survey", "campaign_scheduling", "working_hours"}
	labels := []string{"Users", "Skills", "Agent Groups", "Permissions", "LoBs", "Post Conversation Survey", "Campaign Scheduling", "Working Hours"}
	for i, k := range keys {
		typ, ok := c.Type(k)
		if !ok || typ.Label != labels[i] {
			t.Fatalf("type %s: got %v, want label %s", k, typ, labels[i])
		}
	}
	users, _ := c.Type("users")
	if l, s := users.Describe("password"); l != "Password" || !s {
		t.Errorf("password: got %s %v, want Password true", l, s)
	}
	if l, s := users.Describe("auto_accept_chats"); l != "Auto accept chats" || s {
		t.Errorf("auto_accept_chats: got %s %v, want Auto accept chats false", l, s)
	}
	if l, s := users.Describe("client_secret"); l != "Client secret" || !s {
		t.Errorf("client_secret: got %s %v, want sensitive", l, s)
	}
	if code := audittrail.ErrorCode(c.CheckType("logins")); code != audittrail.EUNKNOWNOBJECTTYPE {
		t.Errorf("logins: got %s, want %s", code, audittrail.EUNKNOWNOBJECTTYPE)
	}
	if code := audittrail.ErrorCode(c.CheckType("widgets")); code != audittrail.EUNKNOWNOBJECTTYPE {
		t.Errorf("widgets: got %s, want %s", code, audittrail.EUNKNOWNOBJECTTYPE)
	}
	got := map[string]string{}
	for _, typ := range c.Types() {
		got[typ.Key] = typ.ComponentType
	}
	for k, want := range map[string]string{"users": "ACUserObject", "skills": "ACSkillObject", "permissions": "ACProfileObject", "agent_groups": "ACAgentGroupObject"} {
		if got[k] != want {
			t.Errorf("component type of %s: got %s, want %s", k, got[k], want)
		}
	}

	t.Run("Extra", func(t *testing.T) {
		c, err := audittrail.NewCatalog([]audittrail.ObjectType{
			{Key: "chat_widgets", Elements: []audittrail.Element{{Key: "color"}}},
			{Key: "users", Elements: []audittrail.Element{{Key: "pin_code", Label: "PIN", Sensitive: true}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		w, ok := c.Type("chat_widgets")
		if !ok || w.Label != "Chat widgets" || w.ComponentType != "ACChatWidgetObject" || w.Elements[0].Label != "Color" {
			t.Fatalf("got %+v", w)
		}
		u, _ := c.Type("users")
		if l, s := u.Describe("pin_code"); l != "PIN" || !s {
			t.Errorf("pin_code: got %s %v, want PIN true", l, s)
		}
		if _, err := audittrail.NewCatalog([]audittrail.ObjectType{{Key: "sessions"}}); err == nil {
			t.Error("sessions: got nil error, want refusal")
		}
	})
}

func TestPassword(t *testing.T) {
	h := audittrail.HashPassword("correct horse")
	if !audittrail.CheckPassword(h, "correct horse") || audittrail.CheckPassword(h, "wrong horse") {
		t.Fatal("CheckPassword does not tell right from wrong")
	}
	if audittrail.ValidatePassword("short") == nil {
		t.Error("short password accepted")
	}
}
