package diff_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/diff"
)

const red = audittrail.Redacted

// MustType returns the type key of a catalog built from the built-in types
// and extra.
func MustType(tb testing.TB, key string, extra ...audittrail.ObjectType) *audittrail.ObjectType {
	tb.Helper()
	c, err := audittrail.NewCatalog(extra)
	if err != nil {
		tb.Fatal(err)
	}
	t, ok := c.Type(key)
	if !ok {
		tb.Fatalf("no type %q", key)
	}
	return t
}

// MustObject decodes s the way the API does (UseNumber); "" is nil.
func MustObject(tb testing.TB, s string) map[string]any {
	tb.Helper()
	if s == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		tb.Fatalf("decode %s: %v", s, err)
	}
	return m
}

func add(key, label, v string) diff.Change {
	return diff.Change{Key: key, Label: label, Action: audittrail.ActionAdd, New: v}
}

func edit(key, label, old, new string) diff.Change {
	return diff.Change{Key: key, Label: label, Action: audittrail.ActionEdit, Old: old, New: new}
}

func del(key, label, v string) diff.Change {
	return diff.Change{Key: key, Label: label, Action: audittrail.ActionDelete, Old: v}
}

func secret(c diff.Change) diff.Change {
	c.Sensitive = true
	return c
}

func TestCompute(t *testing.T) {
	users := MustType(t, "users")
	widgets := MustType(t, "widgets", audittrail.ObjectType{Key: "widgets", Elements: []audittrail.Element{
		{Key: "pin", Label: "PIN", Sensitive: true}, {Key: "color", Label: "Colour"},
	}})

	for _, tt := range []struct {
		name          string
		typ           *audittrail.ObjectType // users when nil and !nilType
		nilType       bool
		before, after string // JSON objects; "" is null
		want          []diff.Change
	}{
		{name: "Add",
			after: `{"name":"Ann","email":"ann@example.com","max_chats":3,"enabled":true,"nickname":"","profile":null,"skills":[]}`,
			want: []diff.Change{
				add("name", "Name", "Ann"), add("email", "Email", "ann@example.com"),
				add("max_chats", "Max no. of live chats", "3"), add("enabled", "Enabled", "true"),
			}},
		{name: "AddNested",
			after: `{"routing":{"max_wait":30,"mode":{"kind":"fifo"}}}`,
			want: []diff.Change{
				add("routing.max_wait", "Routing max wait", "30"), add("routing.mode.kind", "Routing mode kind", "fifo"),
			}},
		{name: "AddEmptyObject", after: `{}`},
		{name: "Delete",
			before: `{"login_name":"ann","skills":["b","a"],"nickname":null}`,
			want: []diff.Change{
				del("login_name", "Login name", "ann"), del("skills", "Skills", "a, b"),
			}},
		{name: "Edit",
			before: `{"name":"Ann","email":"ann@example.com"}`,
			after:  `{"name":"Anna","email":"ann@example.com"}`,
			want:   []diff.Change{edit("name", "Name", "Ann", "Anna")}},
		{name: "EditAddsAndRemovesElements",
			before: `{"name":"Ann","nickname":"A"}`,
			after:  `{"name":"Ann","email":"ann@example.com"}`,
			want: []diff.Change{
				edit("nickname", "Nickname", "A", ""), edit("email", "Email", "", "ann@example.com"),
			}},
		{name: "EditFromEmptyObject",
			before: `{}`, after: `{"name":"Ann"}`,
			want: []diff.Change{edit("name", "Name", "", "Ann")}},
		{name: "EditNested",
			before: `{"routing":{"max_wait":30,"mode":"fifo"}}`,
			after:  `{"routing":{"max_wait":45,"mode":"fifo"}}`,
			want:   []diff.Change{edit("routing.max_wait", "Routing max wait", "30", "45")}},
		{name: "Unchanged",
			before: `{"name":"Ann","skills":["a"],"routing":{"max_wait":30}}`,
			after:  `{"name":"Ann","skills":["a"],"routing":{"max_wait":30}}`},
		{name: "ListOrder",
			before: `{"member_of":["a","b","c"]}`, after: `{"member_of":["c","a","b"]}`},
		{name: "ListDuplicates",
			before: `{"member_of":["a","a","b"]}`, after: `{"member_of":["b","a"]}`},
		{name: "ListNullItems",
			before: `{"member_of":["a",null,""]}`, after: `{"member_of":["a"]}`},
		{name: "ListChanged",
			before: `{"member_of":["b","a"]}`, after: `{"member_of":["a","c"]}`,
			want: []diff.Change{edit("member_of", "Member of", "a, b", "a, c")}},
		{name: "ListItemWithComma",
			before: `{"member_of":["a, b"]}`, after: `{"member_of":["a","b"]}`,
			want: []diff.Change{edit("member_of", "Member of", "a, b", "a, b")}},
		{name: "ListOfObjectsOrder",
			before: `{"shifts":[{"day":"mon","from":9},{"day":"tue"}]}`,
			after:  `{"shifts":[{"day":"tue"},{"from":9,"day":"mon"},{"day":"tue"}]}`},
		{name: "ListOfObjectsChanged",
			before: `{"shifts":[{"day":"mon"}]}`,
			after:  `{"shifts":[{"day":"tue","to":"<17>"},{"day":"mon"}]}`,
			want: []diff.Change{edit("shifts", "Shifts",
				`{"day":"mon"}`, `{"day":"mon"}, {"day":"tue","to":"<17>"}`)}},
		{name: "ListEmptyVsMissing", before: `{"skills":[]}`, after: `{}`},
		{name: "TypeChangeObjectToScalar",
			before: `{"a":{"b":1}}`, after: `{"a":2}`,
			want: []diff.Change{edit("a", "A", "", "2"), edit("a.b", "A b", "1", "")}},
		{name: "TypeChangeScalarToObject",
			before: `{"a":2}`, after: `{"a":{"b":1}}`,
			want: []diff.Change{edit("a", "A", "2", ""), edit("a.b", "A b", "", "1")}},
		{name: "TypeChangeScalarToSameList",
			before: `{"skills":"x"}`, after: `{"skills":["x","x"]}`},
		{name: "TypeChangeScalarToList",
			before: `{"skills":"x"}`, after: `{"skills":["x","y"]}`,
			want: []diff.Change{edit("skills", "Skills", "x", "x, y")}},
		{name: "TypeChangeStringToNumber",
			before: `{"max_chats":"3"}`, after: `{"max_chats":3}`},
		{name: "NumberLiteralText",
			before: `{"max_chats":1}`, after: `{"max_chats":1.0}`,
			want: []diff.Change{edit("max_chats", "Max no. of live chats", "1", "1.0")}},
		{name: "NumberExponent",
			before: `{"max_chats":1e3}`, after: `{"max_chats":1e3}`},
		{name: "Booleans",
			before: `{"enabled":true}`, after: `{"enabled":false}`,
			want: []diff.Change{edit("enabled", "Enabled", "true", "false")}},
		{name: "NullVsMissing", before: `{"nickname":null}`, after: `{}`},
		{name: "NullVsEmptyString", before: `{"nickname":""}`, after: `{"nickname":null}`},
		{name: "NullToValue",
			before: `{"nickname":null}`, after: `{"nickname":"Al"}`,
			want: []diff.Change{edit("nickname", "Nickname", "", "Al")}},
		{name: "EmptyNestedObject", before: `{"a":{}}`, after: `{}`},
		{name: "EmptyNestedObjectToValue",
			before: `{"a":{"b":{}}}`, after: `{"a":1}`,
			want: []diff.Change{edit("a", "A", "", "1")}},
		{name: "DottedKey",
			before: `{"a.b":1}`, after: `{"a":{"b":1},"c.d":2}`,
			want: []diff.Change{edit("c.d", "C d", "", "2")}},
		{name: "RedactCatalog",
			before: `{"password":"old"}`, after: `{"password":"new"}`,
			want: []diff.Change{secret(edit("password", "Password", red, red))}},
		{name: "RedactAdd",
			after: `{"name":"Ann","password":"s3cret"}`,
			want:  []diff.Change{add("name", "Name", "Ann"), secret(add("password", "Password", red))}},
		{name: "RedactDelete",
			before: `{"password":"s3cret"}`,
			want:   []diff.Change{secret(del("password", "Password", red))}},
		{name: "RedactEmptyStaysEmpty",
			before: `{"password":""}`, after: `{"password":"s3cret"}`,
			want: []diff.Change{secret(edit("password", "Password", "", red))}},
		{name: "RedactUnchanged",
			before: `{"password":"same"}`, after: `{"password":"same"}`},
		{name: "RedactByName",
			before: `{"api_key":"k1","client_secret":"s1","x_token":5}`,
			after:  `{"api_key":"k2","client_secret":["s2"],"x_token":6}`,
			want: []diff.Change{
				secret(edit("api_key", "Api key", red, red)),
				secret(edit("client_secret", "Client secret", red, red)),
				secret(edit("x_token", "X token", red, red)),
			}},
		{name: "RedactNested",
			before: `{"auth":{"token":"t1","user":"u"}}`,
			after:  `{"auth":{"token":"t2","user":"v"}}`,
			want: []diff.Change{
				secret(edit("auth.token", "Auth token", red, red)),
				edit("auth.user", "Auth user", "u", "v"),
			}},
		{name: "RedactUnderSensitiveParent",
			before: `{"credentials":{"api-key":{"value":"k1"}}}`,
			after:  `{"credentials":{"api-key":{"value":"k2"}}}`,
			want:   []diff.Change{secret(edit("credentials.api-key.value", "Credentials api key value", red, red))}},
		{name: "RedactUnderCatalogSensitive", typ: widgets,
			before: `{"pin":{"code":"1234"},"color":"red"}`,
			after:  `{"pin":{"code":"4321"},"color":"blue"}`,
			want: []diff.Change{
				secret(edit("pin.code", "Pin code", red, red)),
				edit("color", "Colour", "red", "blue"),
			}},
		{name: "RedactNaturalNames",
			after: `{"api":{"key":"k1"},"private":{"key":"k2"},"Api Key":"k3","private_key.id":"k4","ＡＰＩ＿ＫＥＹ":"k5","pass\u200bword":"k6","passphrase":"k7"}`,
			want: []diff.Change{
				secret(add("Api Key", "Api Key", red)), secret(add("api.key", "Api key", red)), secret(add("passphrase", "Passphrase", red)),
				secret(add("pass\u200bword", "Pass\u200bword", red)), secret(add("private.key", "Private key", red)), secret(add("private_key.id", "Private key id", red)),
				secret(add("ＡＰＩ＿ＫＥＹ", "Ａｐｉ＿ｋｅｙ", red)),
			}},
		{name: "RedactInsideListItems",
			before: `{"config":[{"api":{"key":"k1"},"x":1}]}`,
			after:  `{"config":[{"api":{"key":"k2"},"x":2}]}`,
			want:   []diff.Change{edit("config", "Config", `{"api":{"key":"********"},"x":1}`, `{"api":{"key":"********"},"x":2}`)}},
		{name: "RedactInsideListItemsByElementPath",
			after: `{"api":[{"key":"k1"},{"name":"n"}]}`,
			want:  []diff.Change{add("api", "Api", `{"key":"********"}, {"name":"n"}`)}},
		{name: "LabelFromKey",
			after: `{"auto_accept_chats":true,"member_of":["g"]}`,
			want: []diff.Change{
				add("member_of", "Member of", "g"), add("auto_accept_chats", "Auto accept chats", "true"),
			}},
		{name: "Order",
			after: `{"z":1,"a":1,"enabled":true,"profile":{"id":7},"b.c":1,"name":"Ann","member_of":["g"],"skills":["s"],"profile_x":1}`,
			want: []diff.Change{
				add("name", "Name", "Ann"), add("profile.id", "Profile id", "7"),
				add("member_of", "Member of", "g"), add("skills", "Skills", "s"), add("enabled", "Enabled", "true"),
				add("a", "A", "1"), add("b.c", "B c", "1"), add("profile_x", "Profile x", "1"), add("z", "Z", "1"),
			}},
		{name: "NilType", nilType: true,
			before: `{"name":"a","secret_word":"x"}`, after: `{"name":"b","secret_word":"y"}`,
			want: []diff.Change{
				edit("name", "Name", "a", "b"), secret(edit("secret_word", "Secret word", red, red)),
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			typ := tt.typ
			if typ == nil && !tt.nilType {
				typ = users
			}
			got, err := diff.Compute(typ, MustObject(t, tt.before), MustObject(t, tt.after))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// nested returns an object whose leaf sits depth objects deep, the outer
// object counting as the first.
func nested(depth int) map[string]any {
	var v any = "leaf"
	for range depth - 1 {
		v = map[string]any{"k": v}
	}
	return map[string]any{"k": v}
}

// nestedList is like nested, with lists instead of objects below the top.
func nestedList(depth int) map[string]any {
	var v any = "leaf"
	for range depth - 1 {
		v = []any{v}
	}
	return map[string]any{"k": v}
}

func wide(n int) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[fmt.Sprintf("e%05d", i)] = json.Number("1")
	}
	return m
}

func TestComputeErrors(t *testing.T) {
	users := MustType(t, "users")
	for _, tt := range []struct {
		name          string
		before, after map[string]any
		wantIn        string // part of the message
	}{
		{name: "ErrBothNil", wantIn: "both null"},
		{name: "ErrTooDeep", after: nested(diff.MaxDepth + 1), wantIn: "more than 16 levels"},
		{name: "ErrTooDeepBefore", before: nested(diff.MaxDepth + 1), after: map[string]any{}, wantIn: "before"},
		{name: "ErrTooDeepList", after: nestedList(diff.MaxDepth + 1), wantIn: "more than 16 levels"},
		{name: "ErrTooDeepObjectInList", after: map[string]any{"k": []any{nested(diff.MaxDepth - 1)}}, wantIn: "more than 16 levels"},
		{name: "ErrTooMany", after: wide(diff.MaxElements + 1), wantIn: "more than 10000 elements"},
		{name: "ErrTooManyNested", after: map[string]any{"a": wide(diff.MaxElements / 2), "b": wide(diff.MaxElements/2 + 1)}, wantIn: "more than 10000 elements"},
		{name: "ErrEmptyKey", after: map[string]any{"": "x"}, wantIn: "empty key"},
		{name: "ErrEmptyNestedKey", after: map[string]any{"a": map[string]any{"": "x"}}, wantIn: `"a" has a member with an empty key`},
		{name: "ErrDottedAndNested", after: map[string]any{"a.b": "x", "a": map[string]any{"b": "y"}}, wantIn: `"a.b" appears twice`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := diff.Compute(users, tt.before, tt.after)
			var e *audittrail.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, %v, want an *audittrail.Error", got, err)
			}
			if e.Code != audittrail.EVALIDATION {
				t.Errorf("got %v, want %v", e.Code, audittrail.EVALIDATION)
			}
			if !strings.Contains(e.Message, tt.wantIn) {
				t.Errorf("got %v, want a message containing %q", e.Message, tt.wantIn)
			}
		})
	}

	t.Run("OKAtBounds", func(t *testing.T) {
		for _, after := range []map[string]any{nested(diff.MaxDepth), nestedList(diff.MaxDepth), wide(diff.MaxElements)} {
			got, err := diff.Compute(users, nil, after)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) == 0 {
				t.Errorf("got %v, want changes", got)
			}
		}
	})
}

func TestComputeDeterministic(t *testing.T) {
	users := MustType(t, "users")
	before := MustObject(t, `{"a":1,"b":{"c":[3,1,2],"d":{"e":"x"}},"name":"A","password":"p","z":[{"k":2,"j":1}]}`)
	after := MustObject(t, `{"a":2,"b":{"c":[1],"d":"x"},"name":"B","password":"q","y":true,"z":[]}`)
	want, err := diff.Compute(users, before, after)
	if err != nil {
		t.Fatal(err)
	}
	for range 50 {
		got, err := diff.Compute(users, before, after)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}

func TestRender(t *testing.T) {
	for _, tt := range []struct {
		name string
		v    any
		want string
	}{
		{"Null", nil, ""},
		{"String", "a <b> & c", "a <b> & c"},
		{"EmptyString", "", ""},
		{"True", true, "true"},
		{"False", false, "false"},
		{"Number", json.Number("1.0"), "1.0"},
		{"NumberExponent", json.Number("1e3"), "1e3"},
		{"Float", 1.5, "1.5"},
		{"FloatInteger", 3.0, "3"},
		{"FloatLarge", 1e21, "1e+21"},
		{"FloatBelowExponent", 123456789012345678.0, "123456789012345680"},
		{"FloatSmall", 1e-7, "1e-07"},
		{"FloatZero", 0.0, "0"},
		{"FloatNaN", math.NaN(), "NaN"},
		{"Int", 42, "42"},
		{"List", []any{"b", "a", "b"}, "a, b"},
		{"ListMixed", []any{json.Number("2"), true, "x", nil, ""}, "2, true, x"},
		{"ListEmpty", []any{}, ""},
		{"ListOfObjects", []any{map[string]any{"b": 1.0, "a": "<x>"}, map[string]any{}}, `{"a":"<x>","b":1}, {}`},
		{"ListOfLists", []any{[]any{"b", "a"}}, `["b","a"]`},
		{"Object", map[string]any{"b": json.Number("2"), "a": []any{"x", nil}, "c": map[string]any{"d": "&"}}, `{"a":["x",null],"b":2,"c":{"d":"&"}}`},
		{"ObjectEmpty", map[string]any{}, "{}"},
		{"ObjectNaN", map[string]any{"a": math.NaN()}, "map[a:NaN]"},
		{"ObjectSecretsAtEveryDepth", map[string]any{"api": map[string]any{"key": "s3cr3t"}, "x": 1.0, "l": []any{map[string]any{"private": map[string]any{"key": "p"}}},
			"Api Key": "k", "token": "", "password": map[string]any{"a": "b"}, "keys": "visible"},
			`{"Api Key":"********","api":{"key":"********"},"keys":"visible","l":[{"private":{"key":"********"}}],"password":"********","token":"","x":1}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := diff.Render(tt.v); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRenderElement checks that the paths inside a value start with the
// element's name: the element "api" with {"key": …} holds a secret.
func TestRenderElement(t *testing.T) {
	for _, tt := range []struct {
		element string
		v       any
		want    string
	}{
		{"config", map[string]any{"api": map[string]any{"key": "s3cr3t"}, "x": 1.0}, `{"api":{"key":"********"},"x":1}`},
		{"api", map[string]any{"key": "s3cr3t", "name": "n"}, `{"key":"********","name":"n"}`},
		{"Private", map[string]any{"Key": "s3cr3t"}, `{"Key":"********"}`},
		{"private", []any{map[string]any{"key": "s3cr3t"}}, `{"key":"********"}`},
		{"api", "plain", "plain"},
		{"settings", map[string]any{"key": "k"}, `{"key":"k"}`},
	} {
		if got := diff.RenderElement(tt.element, tt.v); got != tt.want {
			t.Errorf("RenderElement(%q, %v): got %v, want %v", tt.element, tt.v, got, tt.want)
		}
	}
}

// BenchmarkRenderDeep renders a value nested 4,000 objects deep beside a
// flat one of the same size (the same-run baseline): masking secrets walks
// a short tail of each path, so depth costs no more than width.
func BenchmarkRenderDeep(b *testing.B) {
	var deep any = "x"
	flat := map[string]any{}
	for i := range 4000 {
		deep = map[string]any{"abcdefgh": deep}
		flat[fmt.Sprintf("k%07d", i)] = "x"
	}
	for _, bb := range []struct {
		name string
		v    any
	}{{"Flat4000", flat}, {"Deep4000", deep}} {
		b.Run(bb.name, func(b *testing.B) {
			for b.Loop() {
				diff.Render(bb.v)
			}
		})
	}
}
