// Package export writes records as CSV, NDJSON and Excel (xlsx).
//
// The three encoders share one shape: the constructor writes the header,
// Encode writes one record, Close flushes and returns the writer's error.
// They hold no more than one record at a time (the Excel writer spills its
// rows to a temporary file through excelize's StreamWriter), so an export
// runs in constant memory whatever its size.
//
// Spreadsheet safety: no cell of any export is ever a formula. In CSV a
// value that starts with a tab or a carriage return, or whose first visible
// character (past white space, invisible characters and quotes) is =, +, -
// or @ or a full-width form of them, is prefixed with a single quote (OWASP
// "CSV Injection"; SafeCell); in Excel every value is an
// inline string cell, which Excel never evaluates. NDJSON is the API's JSON
// and stays raw.
//
// People read the CSV and Excel exports: the object type and the action are
// shown as their labels, the originator by name, and the date in the
// account's time zone (a real date-time cell in Excel). NDJSON lines are the
// records exactly as the API returns them.
package export
