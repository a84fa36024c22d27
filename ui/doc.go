// Package ui is the web UI of the service (SPEC §8): server-rendered pages
// for the people of an account — the audit trail, and for administrators
// their users, profiles, publisher keys and settings.
//
// # A client of the service
//
// The UI holds no rule of its own about who may do what. Every page and
// form calls a method of service.Service with the session's principal: a
// sign-in is Service.Login, a new user Service.CreateUser, a page of the
// audit trail one Service.FindRecords and one Service.CountRecords, an
// export Service.OpenExport streamed into the response. Validation,
// authorization, login throttling, the retention window and the service's
// own audit records are therefore the service's, and an error it returns
// (*audittrail.Error) is shown in the page as the service words it, with
// the status the API answers for its code. Requests that are not pages of
// the UI (/api/..., /healthz, /metrics) go to the API's handler, since the
// two share one origin.
//
// # Sessions and forms
//
// The session cookie holds the user token that the sign-in returned; it is
// HttpOnly, SameSite=Strict, Secure under TLS (here, or at a proxy that sends
// X-Forwarded-Proto: https), and expires with the token.
// Signing out revokes the token (Service.Logout). Every form carries a
// CSRF token, checked on every POST: inside a session it is an HMAC of the
// session token (so any replica can check it without shared state, and it
// reveals nothing of the token); on the sign-in form, which has no session
// yet, it is a random value that must match a cookie of its own.
//
// # Pages
//
// Templates are html/template, so every value is escaped; the CSS and the
// one small script are embedded in the binary and served from /static/,
// under a Content-Security-Policy that allows no inline script or style.
// The audit trail page keeps every filter in its URL under the API's
// names (object_type, action_type, originator, q, from, to) plus timeframe
// (24h, 7d, 30d, 13mo, custom), so a view can be bookmarked and shared.
package ui
