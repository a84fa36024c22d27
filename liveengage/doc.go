// Package liveengage serves the audit trail through the LiveEngage Meta Data
// API's audit trail methods (SPEC §10), so that a brand's existing scripts
// work unchanged against audittrail:
//
//	POST /api/account/{accountId}/configuration/metadata/audit          GraphQL: {"query": "{auditData(...) {...}}"}
//	GET  /api/account/{accountId}/configuration/metadata/audit/export   CSV
//
// # Who may call
//
// Package http mounts the two methods in its route table and authenticates
// them as every route: no or an unknown credential answers 401, and the
// request counts against its account's read rate limit. Handler then
// applies the service's rule for reading records (service.Authorize): a
// credential without audit_trail.view (a publisher key, an agent, the
// operator) 403, one of another account 404 not_found, as if the account
// did not exist (SPEC §4). LiveEngage documents 400 for a bad account id,
// so before that an id that does not match audittrail's account id
// pattern is EINVALIDPARAMETER (400). These answers, like every status,
// come from package http's one error table, in the native error body
// {"error": {"code", "message", "details"}}.
//
// # The GraphQL method
//
// The document is parsed and validated by gqlparser against the schema in
// schema.go: one query field, auditData, whose items are AuditData objects
// with the fourteen fields of the LiveEngage documentation. Any subset of
// them may be selected, with aliases, fragments, @skip/@include and
// __typename; the answer holds the selected fields only, in the order asked.
// Arguments may be literals or variables (the body's "variables" object).
// A malformed document, an unknown field or argument, a bad argument value,
// or a bad body is a *QueryError: EINVALIDPARAMETER (400), answered in
// GraphQL's error shape {"errors": [{"message", "locations"}], "data": null}.
//
// Arguments and how they map onto the store's RecordFilter:
//
//   - fromDate, toDate: yyyy-MM-dd, days in the requested time zone; toDate
//     includes its whole day. Without fromDate, or with one before the
//     retention window, the window's start is used (SPEC §7; the service
//     clamps every read to the window).
//   - first (default 50, 0 to 1,000, the native API's largest page) and
//     offset (default 0): the page, counted after every filter.
//   - orderBy (default and only column: changeTimestamp) and orderDirection
//     (DESC, the default, or ASC), each a value or a list of one; ASC pages
//     count from the oldest record.
//   - users: originator ids or names (an id may be a number), matched
//     exactly (RecordFilter.Originators).
//   - componentTypes: catalog component type names (ACUserObject = users,
//     ACSkillObject = skills, ACProfileObject = permissions, ...); a
//     catalog key is accepted too. An unknown name is a bad argument.
//   - language (default en-US): accepted; labels are those of the catalog.
//   - timezone (default US/Eastern): an IANA name, or a fixed offset such
//     as GMT+02:00; it sets the days of fromDate/toDate and the zone of
//     changeDate.
//   - lpa (default false) leaves out the changes whose originator is an
//     LPA (originator.is_lpa, RecordFilter.ExcludeLPA); automaticUpdates
//     (default false) leaves out automatic changes (the record's automatic
//     flag, RecordFilter.ExcludeAutomatic).
//
// Fields: accountId, objectType (the catalog label: Users), objectName,
// actionType (Add new, Edit, Delete), element, oldValue, newValue,
// changeDate (yyyy-MM-dd HH:mm:ss.S in the requested zone, tenths of a
// second), originator (the originator's name), originatorLoginName,
// originatorUserId (the originator's id), originatorUserAgent,
// originatorAuthType, originatorIsLpa (a boolean). The X-Total-Count header
// counts every record that matches, before first and offset.
//
// # The export
//
// The export takes the same filters as query parameters (users and
// componentTypes comma-separated or repeated), orderDirection, and limit
// (default 1,000,000). It answers CSV as the LiveEngage documentation shows
// it: a "Search Criteria" block (the account, the start and end days in the
// zone, the component types or All, the originators or All, and the two
// include flags), a "Total Items" block with the number of matching
// records (the X-Total-Count of the same query), and a "Results" table of
// at most limit rows, dates as yyyy-MM-ddTHH:mm:ss in the zone, profiles as
// [a, b]. The file has no byte order mark, quotes as RFC 4180 with
// encoding/csv and its CRLF line ends, and defuses every cell a
// spreadsheet would read as a formula (export.SafeCell) but plain numbers
// such as -1 or +3. Bad parameters answer 400 invalid_parameter with the
// native error body. Package http takes one of the account's export slots
// (shared with the native exports) before the export counts, and streams
// it.
//
// # Memory
//
// Every argument is a condition of the RecordFilter, so the store filters
// and counts in SQL and a Handler never holds more than a page: a DESC
// page or export is the store's count and one walk from the newest record
// that stops at the end of the page; an ASC page or export first walks the
// matching records to count them and mark a cursor every chunk of records,
// then reads the chunks it needs from the oldest up, one at a time,
// reversed in memory.
package liveengage
