package sqlite

import (
	"database/sql"
	"errors"

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
