package http

// Attribute keys of the server's log lines, constant so that logs can be
// searched by them.
const (
	logMethod   = "method"
	logRoute    = "route"
	logPath     = "path"
	logStatus   = "status"
	logDuration = "duration_ms"
	logAccount  = "account"
	logError    = "error"
	logBytes    = "bytes"
)
