package sqlite

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/audittrail/audittrail"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// translate turns an error of the driver into the domain's, the one place
// where this backend does so: no row becomes ENOTFOUND with the message
// notFound, a unique or primary key violation becomes EALREADYEXISTS with
// the message exists. An empty message leaves that case an internal error;
// domain errors and other errors pass through unchanged.
func translate(err error, notFound, exists string) error {
	var e *sqlite.Error
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows) && notFound != "":
		return audittrail.Errorf(audittrail.ENOTFOUND, "%s", notFound)
	case errors.As(err, &e) && isUniqueViolation(e.Code()) && exists != "":
		return audittrail.Errorf(audittrail.EALREADYEXISTS, "%s", exists)
	}
	return err
}

func isUniqueViolation(code int) bool {
	return code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

// storageTrouble says what is wrong when err says that the storage itself
// could not do its part: the disk (or a limit on the file's size) is full,
// or the operating system answered an I/O error. Such a failure is the
// storage's, not the request's, and passes once the storage has recovered.
// It returns "" for any other error.
func storageTrouble(err error) string {
	var e *sqlite.Error
	if !errors.As(err, &e) {
		return ""
	}
	switch e.Code() & 0xff { // the primary result code of an extended one
	case sqlite3.SQLITE_FULL:
		return "the disk is full"
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		return "the disk failed to write (an I/O error)"
	}
	return ""
}

// unavailable turns a write's storage failure into EUNAVAILABLE, whose
// message names the trouble and tells the caller to send the request again;
// the driver's error stays wrapped, for the log. Other errors pass through.
func unavailable(err error) error {
	trouble := storageTrouble(err)
	if trouble == "" {
		return err
	}
	return fmt.Errorf("%w: %w", audittrail.Errorf(audittrail.EUNAVAILABLE,
		"the service cannot store data now: %s; the request was not acknowledged, send it again later (with the same ids, it is stored once)", trouble), err)
}
