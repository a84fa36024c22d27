package liveengage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

// Limits of a GraphQL request.
const (
	maxQueryBody = 1 << 20 // bytes of the request body
	maxTokens    = 20_000  // tokens of the document
)

// graphQLRequest is the body of the audit method: {"query": "...",
// "variables": {...}, "operationName": "..."}.
type graphQLRequest struct {
	Query         string          `json:"query"`
	Variables     json.RawMessage `json:"variables"`
	OperationName string          `json:"operationName"`
}

// call is a checked GraphQL request: the fields of the operation to answer.
type call struct {
	fields []selection              // the operation's root fields
	vars   map[string]any           // the coerced variables
	audit  *ast.Field               // the auditData field, nil when not asked
	items  []selection              // the fields selected on each auditData item
	args   params                   // the arguments of auditData,
	first  int                      // its page size
	offset int                      // and the page's start
	argPos map[string]*ast.Position // where each argument was given
}

// MaxItemFields bounds the fields selected on each auditData item, aliases
// included, so that aliases cannot multiply an answer (issue 14): 32.
const MaxItemFields = 32

// selection is one field of a selection set under its response key.
type selection struct {
	key   string // the alias, or the name
	field *ast.Field
}

// Answer is the answer of the GraphQL method: its JSON body, which
// MarshalJSON returns, and the number of records that match before first
// and offset (X-Total-Count; nil when the query does not ask for
// auditData).
type Answer struct {
	Total *int

	h    *Handler
	c    *call
	recs []*audittrail.Record
	s    *search
}

// flushAt is how many bytes of the answer are buffered before they go out.
const flushAt = 64 << 10

// WriteTo writes the body, {"data": {...}} with the selected fields and a
// newline, to w as it renders it, a few records at a time: an answer of
// many large values never sits whole in memory.
func (a *Answer) WriteTo(w io.Writer) (n int64, err error) {
	var b bytes.Buffer
	flush := func() error {
		m, err := w.Write(b.Bytes())
		n += int64(m)
		b.Reset()
		return err
	}
	b.WriteString(`{"data":{`)
	for i, f := range a.c.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		writeString(&b, f.key)
		b.WriteByte(':')
		switch f.field.Name {
		case "__typename":
			writeString(&b, "Query")
		case "auditData":
			if err := a.h.writeItems(&b, flush, a.recs, a.c.items, a.s); err != nil {
				return n, err
			}
		}
	}
	b.WriteString("}}\n")
	return n, flush()
}

// MarshalJSON returns the body, rendered whole (WriteTo streams it).
func (a *Answer) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	_, err := a.WriteTo(&b)
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), err
}

// QueryError is a request of the GraphQL method that cannot be answered: a
// body that is not a request, a malformed or invalid document, a bad
// argument. It is an EINVALIDPARAMETER (errors.As finds the
// *audittrail.Error) answered in GraphQL's error shape, which MarshalJSON
// writes: {"errors": [{"message", "locations"}], "data": null}.
type QueryError struct {
	Errors gqlerror.List
}

func (e *QueryError) Error() string { return e.Errors.Error() }

// Unwrap returns the error as the domain's EINVALIDPARAMETER.
func (e *QueryError) Unwrap() error {
	return audittrail.Errorf(audittrail.EINVALIDPARAMETER, "%s", e.Errors.Error())
}

// MarshalJSON writes GraphQL's error shape.
func (e *QueryError) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Errors gqlerror.List `json:"errors"`
		Data   any           `json:"data"`
	}{e.Errors, nil})
}

// Query answers the audit method (POST .../audit) for p: body is the
// request's body, read as contentType says (JSON, or the bare document
// for application/graphql). Returns EINVALIDPARAMETER for an accountId
// that cannot be an account id, then the service's refusals (ENOTFOUND,
// EFORBIDDEN), then a *QueryError for a request that cannot be answered.
func (h *Handler) Query(ctx context.Context, p *audittrail.Principal, accountID string, body io.Reader, contentType string) (*Answer, error) {
	if err := authorize(p, accountID); err != nil {
		return nil, err
	}
	req, gerr := readGraphQLRequest(body, contentType)
	if gerr != nil {
		return nil, &QueryError{gqlerror.List{gerr}}
	}
	c, errs := prepare(req)
	if errs != nil {
		return nil, &QueryError{errs}
	}

	ans := &Answer{}
	var (
		recs []*audittrail.Record
		s    *search
	)
	if c.audit != nil {
		var err error
		s, err = h.newSearch(accountID, c.args, h.svc.Now())
		var ae *argError
		if errors.As(err, &ae) {
			return nil, &QueryError{gqlerror.List{gqlerror.ErrorPosf(c.position(ae.Arg), "Argument %q of auditData has an invalid value: %s.", ae.Arg, ae.Message)}}
		} else if err != nil {
			return nil, err
		}
		total := 0
		err = h.svc.Read(ctx, p, accountID, audittrail.AccessLEQuery, "json", service.GivenFilters(s.filter()), func(rd *service.Reader) (int, error) {
			total, recs, err = newScan(rd, s).page(ctx, s.ascending, c.offset, c.first)
			return len(recs), err
		})
		if err != nil {
			return nil, err
		}
		ans.Total = &total
	}

	ans.h, ans.c, ans.recs, ans.s = h, c, recs, s
	return ans, nil
}

// readGraphQLRequest reads the body: JSON as GraphQL over HTTP sends it,
// or, with Content-Type application/graphql, the bare document.
func readGraphQLRequest(r io.Reader, contentType string) (*graphQLRequest, *gqlerror.Error) {
	body, err := io.ReadAll(io.LimitReader(r, maxQueryBody+1))
	if err != nil {
		return nil, gqlerror.Errorf("The request body could not be read: %v.", err)
	}
	if len(body) > maxQueryBody {
		return nil, gqlerror.Errorf("The request body is larger than %d bytes.", maxQueryBody)
	}
	if mt, _, _ := mime.ParseMediaType(contentType); mt == "application/graphql" {
		return &graphQLRequest{Query: string(body)}, nil
	}
	var req graphQLRequest
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&req); err != nil {
		return nil, gqlerror.Errorf("The request body is not a JSON object such as {\"query\": \"{auditData {changeDate}}\"}: %s.", jsonProblem(err))
	}
	if dec.More() {
		return nil, gqlerror.Errorf("The request body holds more than one JSON value; send one object such as {\"query\": \"{auditData {changeDate}}\"}.")
	}
	if strings.TrimSpace(req.Query) == "" {
		return nil, gqlerror.Errorf("The request body has no query; send {\"query\": \"{auditData {changeDate}}\"}.")
	}
	return &req, nil
}

func jsonProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	case errors.As(err, &te):
		return fmt.Sprintf("%s must be a %s", te.Field, te.Type)
	case errors.Is(err, io.EOF):
		return "the body is empty"
	}
	return err.Error()
}

// variables decodes the request's variables: an object, null, or (as some
// clients send it) an object encoded as a JSON string.
func (req *graphQLRequest) variables() (map[string]any, *gqlerror.Error) {
	raw := bytes.TrimSpace(req.Variables)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return map[string]any{}, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, gqlerror.Errorf("variables must be a JSON object.")
		}
		if strings.TrimSpace(s) == "" {
			return map[string]any{}, nil
		}
		raw = []byte(s)
	}
	vars := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&vars); err != nil || dec.More() {
		return nil, gqlerror.Errorf("variables must be a JSON object.")
	}
	return vars, nil
}

// prepare parses and validates the document, picks the operation, coerces
// the variables and reads the arguments of auditData: everything that can
// fail before a record is read.
func prepare(req *graphQLRequest) (c *call, errs gqlerror.List) {
	defer func() {
		// The parser and validator read outside input; whatever they
		// trip on is a bad request, never a crash of the handler.
		if v := recover(); v != nil {
			c, errs = nil, gqlerror.List{gqlerror.Errorf("The query could not be read: %v.", v)}
		}
	}()
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: req.Query}, maxTokens)
	if err != nil {
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			return nil, gqlerror.List{ge}
		}
		return nil, gqlerror.List{gqlerror.Wrap(err)}
	}
	if errs := validator.ValidateWithRules(schema, doc, validationRules); len(errs) > 0 {
		return nil, errs
	}
	op, gerr := operation(doc, req.OperationName)
	if gerr != nil {
		return nil, gqlerror.List{gerr}
	}
	if op.Operation != ast.Query {
		return nil, gqlerror.List{gqlerror.ErrorPosf(op.Position, "Only queries are supported: the audit trail cannot be changed through this API.")}
	}
	vars, gerr := req.variables()
	if gerr != nil {
		return nil, gqlerror.List{gerr}
	}
	coerced, err := validator.VariableValues(schema, op, vars)
	if err != nil {
		var ge *gqlerror.Error
		if errors.As(err, &ge) {
			return nil, gqlerror.List{ge}
		}
		return nil, gqlerror.List{gqlerror.Wrap(err)}
	}

	c = &call{vars: coerced, args: defaultParams(), first: DefaultFirst}
	if c.fields, err = collect(op.SelectionSet, coerced); err != nil {
		return nil, gqlerror.List{gqlerror.Wrap(err)}
	}
	for _, f := range c.fields {
		switch f.field.Name {
		case "__typename":
		case "auditData":
			if c.audit != nil {
				return nil, gqlerror.List{gqlerror.ErrorPosf(f.field.Position, "Ask for auditData once per request: each one reads the whole trail.")}
			}
			c.audit = f.field
		default:
			return nil, gqlerror.List{gqlerror.ErrorPosf(f.field.Position, "Introspection (%s) is not supported; the fields of auditData are: %s.", f.field.Name, strings.Join(fieldNames, ", "))}
		}
	}
	if c.audit == nil {
		return c, nil
	}
	if c.items, err = collect(c.audit.SelectionSet, coerced); err != nil {
		return nil, gqlerror.List{gqlerror.Wrap(err)}
	}
	if len(c.items) > MaxItemFields {
		return nil, gqlerror.List{gqlerror.ErrorPosf(c.audit.Position,
			"auditData selects %d fields per item, aliases included; at most %d may be selected.", len(c.items), MaxItemFields)}
	}
	if gerr := c.readArgs(); gerr != nil {
		return nil, gqlerror.List{gerr}
	}
	return c, nil
}

// operation returns the operation of the document that name names, or its
// only operation.
func operation(doc *ast.QueryDocument, name string) (*ast.OperationDefinition, *gqlerror.Error) {
	if name != "" {
		if op := doc.Operations.ForName(name); op != nil {
			return op, nil
		}
		return nil, gqlerror.Errorf("Unknown operation named %q.", audittrail.Clip(name))
	}
	switch len(doc.Operations) {
	case 0:
		return nil, gqlerror.Errorf("The document has no operation; send a query such as {auditData {changeDate}}.")
	case 1:
		return doc.Operations[0], nil
	}
	return nil, gqlerror.Errorf("The document holds several operations: name the one to run in operationName.")
}

// collect returns the fields of set under their response keys, in order,
// through fragments, leaving out those that @skip or @include leave out. A
// key already collected is not collected again (the validator has checked
// that both ask the same), and each fragment is read once: a fragment
// spread six times in each of twelve nested fragments would otherwise be
// walked 6^11 times.
func collect(set ast.SelectionSet, vars map[string]any) ([]selection, error) {
	c := &collector{vars: vars, keys: map[string]bool{}, spread: map[string]bool{}}
	if err := c.add(set); err != nil {
		return nil, err
	}
	return c.out, nil
}

type collector struct {
	vars   map[string]any
	out    []selection
	keys   map[string]bool // of out
	spread map[string]bool // fragments read
}

func (c *collector) add(set ast.SelectionSet) error {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if skipped(sel.Directives, c.vars) {
				continue
			}
			key := sel.Alias
			if key == "" {
				key = sel.Name
			}
			if !c.keys[key] {
				c.keys[key] = true
				c.out = append(c.out, selection{key: key, field: sel})
			}
		case *ast.InlineFragment:
			if !skipped(sel.Directives, c.vars) {
				if err := c.add(sel.SelectionSet); err != nil {
					return err
				}
			}
		case *ast.FragmentSpread:
			if sel.Definition == nil {
				return fmt.Errorf("unknown fragment %q", sel.Name)
			}
			if !skipped(sel.Directives, c.vars) && !c.spread[sel.Name] {
				c.spread[sel.Name] = true
				if err := c.add(sel.Definition.SelectionSet); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// skipped reports whether @skip(if: true) or @include(if: false) leaves a
// selection out.
func skipped(dirs ast.DirectiveList, vars map[string]any) bool {
	for _, d := range dirs {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		arg := d.Arguments.ForName("if")
		if arg == nil {
			continue
		}
		v, err := arg.Value.Value(vars)
		if err != nil {
			continue
		}
		if b, ok := v.(bool); ok && b == (d.Name == "skip") {
			return true
		}
	}
	return false
}

// readArgs reads the arguments of auditData into c.args, c.first and
// c.offset. A null argument, or a variable without a value, takes the
// argument's default.
func (c *call) readArgs() *gqlerror.Error {
	c.argPos = map[string]*ast.Position{}
	for _, arg := range c.audit.Arguments {
		c.argPos[arg.Name] = arg.Position
		v, err := arg.Value.Value(c.vars)
		if err != nil {
			return gqlerror.ErrorPosf(arg.Position, "Argument %q of auditData has an invalid value: %v.", arg.Name, err)
		}
		if v == nil {
			continue
		}
		p := &c.args
		switch arg.Name {
		case "fromDate":
			p.fromDate, err = asString(v)
		case "toDate":
			p.toDate, err = asString(v)
		case "first":
			c.first, err = asInt(v, 0, MaxFirst)
		case "offset":
			c.offset, err = asInt(v, 0, MaxOffset)
		case "orderBy":
			p.orderBy, err = asStrings(v)
		case "orderDirection":
			p.orderDirection, err = asStrings(v)
		case "users":
			p.users, err = asStrings(v)
		case "componentTypes":
			p.componentTypes, err = asStrings(v)
		case "language":
			p.language, err = asString(v)
		case "timezone":
			p.timezone, err = asString(v)
		case "lpa":
			p.lpa, err = asBool(v)
		case "automaticUpdates":
			p.automatic, err = asBool(v)
		}
		if err != nil {
			return gqlerror.ErrorPosf(arg.Position, "Argument %q of auditData has an invalid value: %v.", arg.Name, err)
		}
	}
	return nil
}

// position returns where the argument arg was given, or where auditData
// was, to point an error at.
func (c *call) position(arg string) *ast.Position {
	if p := c.argPos[arg]; p != nil {
		return p
	}
	return c.audit.Position
}

func asString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	return "", fmt.Errorf("%s must be a string", describe(v))
}

// asStrings reads a list of strings or numbers; a single value is a list
// of one, as GraphQL's input coercion has it.
func asStrings(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	var out []string
	for _, e := range list {
		switch e := e.(type) {
		case nil:
		case string:
			out = append(out, e)
		case json.Number:
			out = append(out, e.String())
		case int64:
			out = append(out, strconv.FormatInt(e, 10))
		case int:
			out = append(out, strconv.Itoa(e))
		case float64:
			if e != float64(int64(e)) {
				return nil, fmt.Errorf("%v must be a string or a whole number", e)
			}
			out = append(out, strconv.FormatInt(int64(e), 10))
		default:
			return nil, fmt.Errorf("%s must be a string", describe(e))
		}
	}
	return out, nil
}

func asInt(v any, lo, hi int) (int, error) {
	var n int64
	var err error
	switch v := v.(type) {
	case int64:
		n = v
	case int:
		n = int64(v)
	case json.Number:
		n, err = v.Int64()
	case float64:
		n = int64(v)
		if float64(n) != v {
			err = errors.New("not whole")
		}
	case string:
		n, err = strconv.ParseInt(v, 10, 64)
	default:
		err = errors.New("not a number")
	}
	if err != nil || n < int64(lo) || n > int64(hi) {
		return 0, fmt.Errorf("%s must be a whole number from %d to %d", describe(v), lo, hi)
	}
	return int(n), nil
}

func asBool(v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		if b, err := strconv.ParseBool(v); err == nil {
			return b, nil
		}
	}
	return false, fmt.Errorf("%s must be true or false", describe(v))
}

// describe shows a value in an error message.
func describe(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(audittrail.Clip(v))
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return audittrail.Clip(fmt.Sprint(v))
}

// fieldNames are the fields of an AuditData item, in the documentation's
// order.
var fieldNames = []string{"accountId", "objectType", "objectName", "actionType", "element", "oldValue", "newValue",
	"changeDate", "originator", "originatorLoginName", "originatorUserId", "originatorUserAgent", "originatorAuthType", "originatorIsLpa"}

// ChangeDateFormat is the format of changeDate: yyyy-MM-dd HH:mm:ss.S, the
// fraction in tenths of a second.
const ChangeDateFormat = "2006-01-02 15:04:05.0"

// writeItems writes the records as a JSON list of objects holding the
// selected fields, in the order selected.
func (h *Handler) writeItems(b *bytes.Buffer, flush func() error, recs []*audittrail.Record, items []selection, s *search) error {
	b.WriteByte('[')
	for i, r := range recs {
		if i > 0 {
			b.WriteByte(',')
		}
		if b.Len() >= flushAt {
			if err := flush(); err != nil {
				return err
			}
		}
		b.WriteByte('{')
		for j, it := range items {
			if j > 0 {
				b.WriteByte(',')
			}
			writeString(b, it.key)
			b.WriteByte(':')
			switch it.field.Name {
			case "__typename":
				writeString(b, "AuditData")
			case "accountId":
				writeString(b, s.accountID)
			case "objectType":
				writeString(b, h.svc.Catalog().Label(r.ObjectType))
			case "objectName":
				writeString(b, r.ObjectName)
			case "actionType":
				writeString(b, audittrail.ActionLabel(r.ActionType))
			case "element":
				writeString(b, r.Element)
			case "oldValue":
				writeString(b, r.OldValue)
			case "newValue":
				writeString(b, r.NewValue)
			case "changeDate":
				writeString(b, r.Date.In(s.loc).Format(ChangeDateFormat))
			case "originator":
				writeString(b, r.Originator.Name)
			case "originatorLoginName":
				writeString(b, r.Originator.LoginName)
			case "originatorUserId":
				writeString(b, r.Originator.ID)
			case "originatorUserAgent":
				writeString(b, r.Originator.UserAgent)
			case "originatorAuthType":
				writeString(b, r.Originator.AuthType)
			case "originatorIsLpa":
				b.WriteString(strconv.FormatBool(r.Originator.IsLPA))
			default:
				b.WriteString("null")
			}
		}
		b.WriteByte('}')
	}
	b.WriteByte(']')
	return nil
}

// writeString writes s as a JSON string, without escaping HTML characters.
func writeString(b *bytes.Buffer, s string) {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	b.Truncate(b.Len() - 1) // the newline Encode adds
}
