// Package ui is the web UI of the service (SPEC §8): server-rendered pages
// for the people of an account — the audit trail, and for administrators
// their users, profiles, publisher keys and settings.
//
// # A client of the API, in the same process
//
// The UI holds no rule of its own about who may do what. Everything that
// authenticates, reads records or changes data is a request to the API
// (package http), made in memory through the API's ServeHTTP with the
// user's token as the bearer: a sign-in is POST /api/v1/login, a new user is
// POST /api/v1/accounts/{account}/users, a page of the audit trail is GET
// .../records. Validation, authorization, login throttling, the retention
// window and the service's own audit records are therefore the API's, and
// an error the API answers is shown in the page as the API words it. The
// UI reads the store directly for one thing only: who the session's user
// is, with their profile as it is now, and their account's name and time
// zone, to draw the header and menu.
//
// # Sessions and forms
//
// The session cookie holds the API token that the sign-in returned; it is
// HttpOnly, SameSite=Strict, Secure under TLS (here, or at a proxy that sends
// X-Forwarded-Proto: https), and expires with the token.
// Signing out revokes the token through the API. Every form carries a
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
