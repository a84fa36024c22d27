package diff

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/audittrail/audittrail"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Render turns a JSON value, as encoding/json decodes it with UseNumber
// (nil, bool, json.Number, float64, string, []any, map[string]any), into
// the display string of a record:
//
//   - null is "";
//   - a string is itself;
//   - a json.Number is its literal text ("1.0" stays "1.0");
//   - a float64 is the shortest text that reads back as the same number,
//     in exponent form only below 1e-6 or from 1e21 on ("1.5", "1e+21");
//   - a boolean is "true" or "false";
//   - an object is compact JSON with sorted keys and no HTML escaping;
//   - a list is the set of its items: each item rendered (objects and lists
//     inside a list as compact JSON), items that render empty dropped,
//     duplicates dropped, sorted bytewise, joined with ", ".
//
// Any other Go value is rendered as compact JSON, or with fmt when it has
// no JSON form.
//
// Inside objects, at every depth and inside lists, the value of a key whose
// dotted path names a secret (audittrail.IsSensitiveName: "password",
// "api.key", "private.key") is "********" when it is not empty, so that a
// structured value never carries a secret into a record.
func Render(v any) string { return RenderElement("", v) }

// RenderElement is Render for the value v of the element named element (a
// key or a label): the dotted paths inside v that secrets are recognized by
// start with the element's name, so that the element "private" with the
// value {"key": "s3cr3t"} shows {"key":"********"}. The caller decides
// whether the element itself is sensitive (audittrail.ObjectType.Describe)
// and then redacts the whole value.
func RenderElement(element string, v any) string {
	switch v := v.(type) {
	case []any:
		return strings.Join(items(pathTail(element), v), ", ")
	case map[string]any:
		return compactJSON(maskSecrets(pathTail(element), v))
	}
	return scalar(v)
}

// pathTail is the folded tail of a dotted path that
// audittrail.SensitivePath walks on from; "" for none.
func pathTail(path string) string {
	if path == "" {
		return ""
	}
	tail, _ := audittrail.SensitivePath("", path)
	return tail
}

// maskSecrets returns v with the value of every key inside it whose dotted
// path, continuing from tail (see audittrail.SensitivePath), names a secret
// replaced by "********", at every depth and inside lists too; an empty
// value stays as it is. The walk keeps only a short tail of the path, so a
// deeply nested value costs what its keys do.
func maskSecrets(tail string, v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			next, sensitive := audittrail.SensitivePath(tail, k)
			if x != nil && x != "" && sensitive {
				out[k] = audittrail.Redacted
			} else {
				out[k] = maskSecrets(next, x)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = maskSecrets(tail, x)
		}
		return out
	}
	return v
}

// scalar renders a value that is neither a list nor an object.
func scalar(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case json.Number:
		return string(v)
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return formatFloat(v)
	case float32:
		return formatFloat(float64(v))
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	}
	return compactJSON(v)
}

// formatFloat writes f the way encoding/json does: plain digits in the
// range where people read them, exponent form outside it.
func formatFloat(f float64) string {
	if a := math.Abs(f); a != 0 && (a < 1e-6 || a >= 1e21) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// items returns the set of the renderings of the items of list: empty ones
// dropped, de-duplicated, sorted. It is what lists are compared by, so that
// a list of strings containing ", " cannot pass for another list. tail is
// the folded end of the list's path, for the secrets inside its items.
func items(tail string, list []any) []string {
	out := make([]string, 0, len(list))
	for _, it := range list {
		var s string
		switch it.(type) {
		case []any, map[string]any:
			s = compactJSON(maskSecrets(tail, it))
		default:
			s = scalar(it)
		}
		if s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// compactJSON encodes v as compact JSON without HTML escaping; maps come
// out with sorted keys. A value that has no JSON form (NaN, a channel) is
// written with fmt, which also sorts map keys.
func compactJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(buf.String(), "\n")
}
