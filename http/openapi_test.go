package http

import (
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
)

// openAPIDoc is the part of openapi.json that TestOpenAPI checks.
type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

// openAPIOperation is the part of one operation that TestOpenAPI checks.
type openAPIOperation struct {
	OperationID string             `json:"operationId"`
	Access      string             `json:"x-access"`
	Security    *[]json.RawMessage `json:"security"`
}

// openAPIMethods are the keys of a path item that hold an operation.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPI checks that openapi.json describes exactly the routes of
// routes(), each with the route's access level, and that it holds together.
func TestOpenAPI(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc openAPIDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi: got %q, want 3.x", doc.OpenAPI)
	}

	// The routes of the code, by "METHOD /path".
	inCode := map[string]access{}
	for _, rt := range (&Server{}).routes() {
		method, path, ok := strings.Cut(rt.pattern, " ")
		if !ok {
			t.Errorf("route %q has no method; the document needs one", rt.pattern)
			continue
		}
		inCode[method+" "+path] = rt.access
	}

	// The operations of the document, by "METHOD /path".
	inDoc := map[string]openAPIOperation{}
	opIDs := map[string]string{}
	for path, item := range doc.Paths {
		for key, body := range item {
			if !slices.Contains(openAPIMethods, key) {
				continue
			}
			var op openAPIOperation
			if err := json.Unmarshal(body, &op); err != nil {
				t.Errorf("%s %s: %v", key, path, err)
				continue
			}
			name := strings.ToUpper(key) + " " + path
			inDoc[name] = op
			if op.OperationID == "" {
				t.Errorf("%s: no operationId", name)
			} else if other, dup := opIDs[op.OperationID]; dup {
				t.Errorf("%s: operationId %q is also %s's", name, op.OperationID, other)
			}
			opIDs[op.OperationID] = name
		}
	}

	var missing, extra []string
	for name := range inCode {
		if _, ok := inDoc[name]; !ok {
			missing = append(missing, name)
		}
	}
	for name := range inDoc {
		if _, ok := inCode[name]; !ok {
			extra = append(extra, name)
		}
	}
	slices.Sort(missing)
	slices.Sort(extra)
	if len(missing) > 0 {
		t.Errorf("routes missing from openapi.json:\n\t%s", strings.Join(missing, "\n\t"))
	}
	if len(extra) > 0 {
		t.Errorf("operations of openapi.json that routes() does not have:\n\t%s", strings.Join(extra, "\n\t"))
	}

	for name, a := range inCode {
		op, ok := inDoc[name]
		if !ok {
			continue
		}
		if op.Access != a.String() {
			t.Errorf("%s: x-access: got %q, want %q", name, op.Access, a.String())
		}
		// Public routes opt out of the document's default bearer security;
		// the others keep it.
		optsOut := op.Security != nil && len(*op.Security) == 0
		if want := a == public; optsOut != want {
			t.Errorf("%s: security: got public=%v, want public=%v (an empty security list marks a public route)", name, optsOut, want)
		}
	}

	t.Run("Refs", func(t *testing.T) {
		var tree any
		if err := json.Unmarshal(raw, &tree); err != nil {
			t.Fatal(err)
		}
		refs := map[string]bool{}
		collectRefs(tree, refs)
		if len(refs) == 0 {
			t.Fatal("got no $ref, want the components to be used")
		}
		for ref := range refs {
			if !strings.HasPrefix(ref, "#/components/") {
				t.Errorf("$ref %q: want a reference into #/components/", ref)
				continue
			}
			if _, ok := resolvePointer(tree, strings.TrimPrefix(ref, "#")); !ok {
				t.Errorf("$ref %q does not resolve", ref)
			}
		}
	})
}

// collectRefs adds to refs every "$ref" string found in v.
func collectRefs(v any, refs map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			if s, ok := e.(string); ok && k == "$ref" {
				refs[s] = true
				continue
			}
			collectRefs(e, refs)
		}
	case []any:
		for _, e := range v {
			collectRefs(e, refs)
		}
	}
}

// resolvePointer follows a JSON pointer (RFC 6901) through a decoded document.
func resolvePointer(v any, pointer string) (any, bool) {
	if pointer == "" {
		return v, true
	}
	if !strings.HasPrefix(pointer, "/") {
		return nil, false
	}
	unescape := strings.NewReplacer("~1", "/", "~0", "~")
	for _, tok := range strings.Split(pointer[1:], "/") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[unescape.Replace(tok)]; !ok {
			return nil, false
		}
	}
	return v, true
}
