// Package diff works out the records of a change: given an object before
// and after it changed, which of its elements changed, and from what to
// what, as the display strings that records keep (SPEC §2, and the
// changes route of §6).
//
// # Add, edit, delete
//
// Compute takes the object type and the two sides of a change:
//
//   - before nil: an add. There is one Change per element of after that
//     has a value; Old is "".
//   - after nil: a delete. There is one Change per element of before that
//     has a value; New is "".
//   - both: an edit. There is one Change per element whose value differs;
//     an element missing on one side counts as empty there. An edit with no
//     difference has no changes.
//   - both nil: an error.
//
// An element "has a value" when its rendering is not empty: null, "", an
// empty list and an empty object carry no information, so an add or a
// delete does not record them, and in an edit null, "", [] and a missing
// key are all the same. An empty map is not nil: before {} with an after is
// an edit, not an add.
//
// # Flattening
//
// Nested objects flatten to dotted keys: {"routing": {"max_wait": 30}} is
// the element "routing.max_wait". An empty nested object flattens to
// nothing. A key that itself holds a dot is kept as it is ({"a.b": 1} is
// the element "a.b"), but the same dotted key coming both ways ({"a.b": 1,
// "a": {"b": 2}}) is refused as ambiguous, and so is an empty key.
//
// When a value changes type, each side contributes its own elements: before
// {"a": {"b": 1}} and after {"a": 2} give "a.b" edited from "1" to "" and
// "a" edited from "" to "2".
//
// # Values
//
// Values are compared and shown as Render writes them: null empty, strings
// as they are, numbers and booleans as text, objects as compact JSON with
// sorted keys. A json.Number keeps its literal text, so 1 and 1.0 are
// different values; a float64 is written in its shortest form. The string
// "1" and the number 1 render alike and so are the same value.
//
// Lists compare as sets: each item is rendered (objects and lists inside a
// list as compact JSON), items that render empty are dropped, and the rest
// are de-duplicated and sorted. A change of order or of duplicates is no
// change. Lists are compared by these item sets, not by the joined text, so
// ["a, b"] and ["a", "b"] differ even though both display as "a, b"; a
// scalar compares as the set of its one rendering, so "a" and ["a"] are the
// same value.
//
// # Labels and redaction
//
// An element's label is the catalog's label for its key, else one made from
// the key by audittrail.LabelFromKey ("auto_accept_chats" → "Auto accept
// chats", "routing.max_wait" → "Routing max wait"). Whether an element is
// sensitive is the catalog's one rule (audittrail.ObjectType.Describe): the
// type marks it or one of its dotted prefixes ("password.hash" under the
// catalog's sensitive "password"), or its dotted key or its label names a
// secret once folded (audittrail.IsSensitiveName: NFKC, case-folded,
// without spaces, dots, underscores and hyphens), so {"api": {"key": …}},
// "auth.token" and "private.key" are all sensitive. The values of a
// sensitive element never leave Compute: a non-empty one becomes
// audittrail.Redacted, an empty one stays empty. The comparison is made
// before redaction, so a changed secret is recorded as changed even though
// both sides show "********".
//
// Secrets are masked at every depth: inside the rendered items of a list,
// an object's member whose dotted path (the element's key, then the keys
// down to it) names a secret shows "********" (Render, RenderElement), so
// {"api": [{"key": …}]} keeps no key.
//
// # Order
//
// Changes come in the order of the type's elements; an element under a
// listed one ("skill_routing.mode" under "skill_routing") goes with it.
// Elements the type does not know follow, sorted by key. The output depends
// only on the input, never on map order.
//
// # Bounds
//
// Each side may nest objects and lists at most MaxDepth (16) levels deep,
// the object itself being level 1, and have at most MaxElements (10,000)
// elements once flattened. Beyond either, Compute returns an
// *audittrail.Error with code audittrail.EVALIDATION that names the side
// and, for depth, the element. The length of a value is not bounded here:
// the caller checks the rendered strings against its own limits.
package diff
