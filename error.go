package audittrail

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes. They are the codes of the API contract (SPEC §6): the HTTP
// layer maps each to a status and shows Code and Message to the caller.
const (
	EUNAUTHENTICATED      = "unauthenticated"
	EFORBIDDEN            = "forbidden"
	ENOTFOUND             = "not_found"
	EINVALIDJSON          = "invalid_json"
	EINVALIDPARAMETER     = "invalid_parameter"
	EVALIDATION           = "validation_failed"
	EBODYTOOLARGE         = "body_too_large"
	EBATCHTOOLARGE        = "batch_too_large"
	EVALUETOOLONG         = "value_too_long"
	EDATEINFUTURE         = "date_in_future"
	EIDEMPOTENCYCONFLICT  = "idempotency_conflict"
	EAUDITTRAILDISABLED   = "audit_trail_disabled"
	EBEFOREENABLED        = "before_enabled"
	EUNKNOWNOBJECTTYPE    = "unknown_object_type"
	ERESERVEDOBJECTTYPE   = "reserved_object_type"
	EPERMISSIONNOTALLOWED = "permission_not_allowed_for_role"
	EALREADYEXISTS        = "already_exists"
	ECONFLICT             = "conflict"
	EEXPORTTOOLARGE       = "export_too_large"
	EEXPORTBUSY           = "export_busy"
	ETOOMANYREQUESTS      = "too_many_requests"
	EMETHODNOTALLOWED     = "method_not_allowed"
	EUNAVAILABLE          = "unavailable"
	EINTERNAL             = "internal"
)

// statuses maps each error code of the contract to its HTTP status (SPEC
// §6): the API answers with it, and the access log records it (SPEC §11).
var statuses = map[string]int{
	EUNAUTHENTICATED:      http.StatusUnauthorized,
	EFORBIDDEN:            http.StatusForbidden,
	ENOTFOUND:             http.StatusNotFound,
	EINVALIDJSON:          http.StatusBadRequest,
	EINVALIDPARAMETER:     http.StatusBadRequest,
	EVALIDATION:           http.StatusUnprocessableEntity,
	EBODYTOOLARGE:         http.StatusRequestEntityTooLarge,
	EBATCHTOOLARGE:        http.StatusUnprocessableEntity,
	EVALUETOOLONG:         http.StatusUnprocessableEntity,
	EDATEINFUTURE:         http.StatusUnprocessableEntity,
	EIDEMPOTENCYCONFLICT:  http.StatusConflict,
	EAUDITTRAILDISABLED:   http.StatusConflict,
	EBEFOREENABLED:        http.StatusUnprocessableEntity,
	EUNKNOWNOBJECTTYPE:    http.StatusUnprocessableEntity,
	ERESERVEDOBJECTTYPE:   http.StatusUnprocessableEntity,
	EPERMISSIONNOTALLOWED: http.StatusUnprocessableEntity,
	EALREADYEXISTS:        http.StatusConflict,
	ECONFLICT:             http.StatusConflict,
	EEXPORTTOOLARGE:       http.StatusUnprocessableEntity,
	EEXPORTBUSY:           http.StatusTooManyRequests,
	ETOOMANYREQUESTS:      http.StatusTooManyRequests,
	EMETHODNOTALLOWED:     http.StatusMethodNotAllowed,
	EUNAVAILABLE:          http.StatusServiceUnavailable,
	EINTERNAL:             http.StatusInternalServerError,
}

// ErrorCodes returns every error code of the contract.
func ErrorCodes() []string {
	list := make([]string, 0, len(statuses))
	for code := range statuses {
		list = append(list, code)
	}
	return list
}

// ErrorStatus returns the HTTP status of an error code.
func ErrorStatus(code string) int {
	if s, ok := statuses[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Error is the domain's error: a code from the list above, a message a
// person can act on, and for batch validation one detail per problem.
// Errors that are not *Error are internal: logged in full, shown as
// "internal error".
type Error struct {
	Code    string
	Message string
	Details []ErrorDetail
}

// ErrorDetail names one problem in one item of a batch.
type ErrorDetail struct {
	Index   int    `json:"index"`
	Field   string `json:"field"`
	Message string `json:"message"`
	Code    string `json:"code,omitempty"`
}

func (e *Error) Error() string {
	return fmt.Sprintf("audittrail error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of err, EINTERNAL for an error that is not an
// *Error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of err, or "internal error" for an error
// that is not an *Error, so that internals never reach a caller.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ValidationError turns a list of problems into one *Error. When every
// problem has the same code, that code is the error's code (a batch whose
// only fault is a long value answers value_too_long); otherwise it is
// EVALIDATION.
func ValidationError(details []ErrorDetail) error {
	if len(details) == 0 {
		return nil
	}
	code := details[0].Code
	for _, d := range details[1:] {
		if d.Code != code {
			code = EVALIDATION
			break
		}
	}
	msg := details[0].Message
	if len(details) > 1 {
		msg = fmt.Sprintf("%d problems in the batch; nothing was stored. First: item %d: %s", len(details), details[0].Index, details[0].Message)
	} else {
		msg = fmt.Sprintf("item %d: %s; nothing was stored", details[0].Index, msg)
	}
	return &Error{Code: code, Message: msg, Details: details}
}

// Clip shortens a value quoted back in an error message to 64 characters,
// so that a huge or hostile input never makes a huge message.
func Clip(s string) string {
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}
