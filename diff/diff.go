package diff

import (
	"cmp"
	"slices"
	"strings"

	"github.com/audittrail/audittrail"
)

// Bounds of one side of a change. Compute refuses an object beyond them
// with an EVALIDATION error.
const (
	// MaxDepth is how many levels of objects and lists may nest, counting
	// the object itself as level 1.
	MaxDepth = 16
	// MaxElements is how many elements an object may have once nested
	// objects are flattened.
	MaxElements = 10000
)

// Change is one element whose value differs between before and after.
type Change struct {
	Key       string // dotted key of the element ("routing.max_wait")
	Label     string // from the catalog type, or audittrail.LabelFromKey
	Action    string // audittrail.ActionAdd / ActionEdit / ActionDelete
	Old, New  string // display strings (Render), already redacted when Sensitive
	Sensitive bool
}

// Compute works out the element-level changes of one object of type t:
// with before nil, an add of every element of after that has a value; with
// after nil, a delete of every element of before that has a value; with
// both, an edit of every element whose value differs. The rules are in the
// package documentation. t may be nil: labels then come from the keys and
// sensitivity from the names alone.
//
// Both nil, an empty key, a key that appears both dotted and nested, or an
// object beyond MaxDepth or MaxElements returns an *audittrail.Error with
// code audittrail.EVALIDATION.
func Compute(t *audittrail.ObjectType, before, after map[string]any) ([]Change, error) {
	if before == nil && after == nil {
		return nil, audittrail.Errorf(audittrail.EVALIDATION, "before and after are both null: send after for an add, before for a delete, both for an edit")
	}
	action := audittrail.ActionEdit
	switch {
	case before == nil:
		action = audittrail.ActionAdd
	case after == nil:
		action = audittrail.ActionDelete
	}
	oldE, err := flatten("before", before)
	if err != nil {
		return nil, err
	}
	newE, err := flatten("after", after)
	if err != nil {
		return nil, err
	}

	var keys []string
	for k, o := range oldE {
		if !slices.Equal(o, newE[k]) {
			keys = append(keys, k)
		}
	}
	for k, n := range newE {
		if _, ok := oldE[k]; !ok && len(n) > 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, nil
	}
	cat := newCatalogView(t)
	slices.SortFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(cat.rank(a), cat.rank(b)), strings.Compare(a, b))
	})

	changes := make([]Change, 0, len(keys))
	for _, k := range keys {
		c := Change{Key: k, Action: action, Old: strings.Join(oldE[k], ", "), New: strings.Join(newE[k], ", ")}
		c.Label, c.Sensitive = cat.describe(k)
		if c.Sensitive {
			c.Old, c.New = redact(c.Old), redact(c.New)
		}
		changes = append(changes, c)
	}
	return changes, nil
}

// redact hides a non-empty value; an empty one says nothing and stays empty.
func redact(v string) string {
	if v == "" {
		return ""
	}
	return audittrail.Redacted
}

// catalogView answers what Compute asks of an object type: an element's
// position in the type, its label and whether it is sensitive.
type catalogView struct {
	t     *audittrail.ObjectType
	index map[string]int // element key → position in t.Elements
}

func newCatalogView(t *audittrail.ObjectType) catalogView {
	v := catalogView{t: t, index: map[string]int{}}
	if t != nil {
		for i, e := range t.Elements {
			if _, ok := v.index[e.Key]; !ok {
				v.index[e.Key] = i
			}
		}
	}
	return v
}

// rank is the position in the type of key, or of its longest dotted prefix
// that the type lists; keys the type does not know rank after all others.
func (v catalogView) rank(key string) int {
	for p := key; ; {
		if i, ok := v.index[p]; ok {
			return i
		}
		j := strings.LastIndexByte(p, '.')
		if j < 0 {
			return len(v.index)
		}
		p = p[:j]
	}
}

// describe returns the label of key and whether it is sensitive, by the
// catalog's one rule (audittrail.ObjectType.Describe): the type marks it or
// a dotted prefix of it, or the key or its label names a secret once
// folded ("auth.token", "api.key", "private.key").
func (v catalogView) describe(key string) (label string, sensitive bool) {
	return v.t.Describe(key)
}

// flatten turns obj into its elements: dotted key → the sorted set of the
// renderings of its value (one item for a scalar, none for null or ""). An
// empty nested object has no elements. side ("before" or "after") names
// the object in error messages.
func flatten(side string, obj map[string]any) (map[string][]string, error) {
	f := flattener{side: side, out: make(map[string][]string, len(obj))}
	if obj == nil {
		return f.out, nil
	}
	if err := f.walk("", obj, 1); err != nil {
		return nil, err
	}
	return f.out, nil
}

type flattener struct {
	side string
	out  map[string][]string
}

// walk adds the elements of obj, an object at nesting level level, under
// prefix. Keys are taken in sorted order so that which problem an error
// names does not depend on map order.
func (f *flattener) walk(prefix string, obj map[string]any, level int) error {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "" {
			if prefix == "" {
				return audittrail.Errorf(audittrail.EVALIDATION, "%s has an element with an empty key; every element needs a name", f.side)
			}
			return audittrail.Errorf(audittrail.EVALIDATION, "%s: element %q has a member with an empty key; every element needs a name", f.side, clip(prefix))
		}
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		v := obj[k]
		if m, ok := v.(map[string]any); ok {
			if level+1 > MaxDepth {
				return f.tooDeep(key)
			}
			if err := f.walk(key, m, level+1); err != nil {
				return err
			}
			continue
		}
		if list, ok := v.([]any); ok && deeperThan(list, level+1) {
			return f.tooDeep(key)
		}
		if len(f.out) >= MaxElements {
			return audittrail.Errorf(audittrail.EVALIDATION, "%s has more than %d elements once nested objects are flattened; split the object into smaller changes or send large parts as lists", f.side, MaxElements)
		}
		if _, dup := f.out[key]; dup {
			return audittrail.Errorf(audittrail.EVALIDATION, "%s: element %q appears twice, once as a dotted key and once as nested objects; send it one way only", f.side, clip(key))
		}
		f.out[key] = leaf(key, v)
	}
	return nil
}

func (f *flattener) tooDeep(key string) error {
	return audittrail.Errorf(audittrail.EVALIDATION, "%s: element %q nests objects or lists more than %d levels deep; send deeper parts as a JSON string", f.side, clip(key), MaxDepth)
}

// deeperThan reports whether v, a value at nesting level level, or
// anything inside it nests beyond MaxDepth.
func deeperThan(v any, level int) bool {
	switch v := v.(type) {
	case []any:
		if level > MaxDepth {
			return true
		}
		for _, it := range v {
			if deeperThan(it, level+1) {
				return true
			}
		}
	case map[string]any:
		if level > MaxDepth {
			return true
		}
		for _, it := range v {
			if deeperThan(it, level+1) {
				return true
			}
		}
	}
	return false
}

// leaf returns what an element's value is compared by: the set of item
// renderings of a list, the one rendering of any other value, nothing for
// a value that renders empty. key is the element's dotted key, where the
// paths of the secrets inside the items of a list start.
func leaf(key string, v any) []string {
	if list, ok := v.([]any); ok {
		return items(pathTail(key), list)
	}
	if s := Render(v); s != "" {
		return []string{s}
	}
	return nil
}

// clip shortens a key for an error message.
func clip(s string) string {
	const n = 100
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…"
}
