package postgres

import (
	"context"
	"errors"
	"net"

	"github.com/audittrail/audittrail"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SQLSTATE codes that this backend tells apart
// (https://www.postgresql.org/docs/current/errcodes-appendix.html).
const (
	codeUniqueViolation         = "23505"
	codeForeignKeyViolation     = "23503"
	codeSerializationFailure    = "40001"
	codeDeadlockDetected        = "40P01"
	codeReadOnlyTransaction     = "25006"
	codeInsufficientPrivilege   = "42501"
	codeUndefinedTable          = "42P01"
	codeCharacterNotInRepertory = "22021" // a NUL byte in text
	codeUntranslatableCharacter = "22P05" // \u0000 in jsonb
	codeTooManyConnections      = "53300"
	codeCannotConnectNow        = "57P03"
	codeAdminShutdown           = "57P01"
	codeLockNotAvailable        = "55P03"
)

// translate turns an error of the driver into the domain's, the one place
// where this backend does so for a statement whose failure has a meaning:
// no row becomes ENOTFOUND with the message notFound, a unique violation
// EALREADYEXISTS with the message exists, a foreign key violation (the row
// referred to is gone) ENOTFOUND with the message notFound. An empty
// message leaves that case as it is; domain errors and other errors pass
// through, to driverError.
func translate(err error, notFound, exists string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pgx.ErrNoRows) && notFound != "":
		return audittrail.Errorf(audittrail.ENOTFOUND, "%s", notFound)
	case sqlState(err) == codeUniqueViolation && exists != "":
		return audittrail.Errorf(audittrail.EALREADYEXISTS, "%s", exists)
	case sqlState(err) == codeForeignKeyViolation && notFound != "":
		return audittrail.Errorf(audittrail.ENOTFOUND, "%s", notFound)
	case (sqlState(err) == codeCharacterNotInRepertory || sqlState(err) == codeUntranslatableCharacter) && notFound != "":
		// A key holding NUL, which no stored text can: nothing has it.
		return audittrail.Errorf(audittrail.ENOTFOUND, "%s", notFound)
	}
	return err
}

// driverError turns the failures that any statement may meet into domain
// errors, at the end of every read and write: a database that cannot be
// reached or is overloaded is EUNAVAILABLE (the caller may try again), a
// text that PostgreSQL cannot store (a NUL character) is EVALIDATION, a
// write in a read-only transaction is errReadOnly. Other errors pass
// through: domain errors as they are, the rest as internal errors.
func driverError(err error) error {
	var pgErr *pgconn.PgError
	var netErr net.Error
	var connErr *pgconn.ConnectError
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &pgErr):
		switch pgErr.Code {
		case codeSerializationFailure, codeDeadlockDetected, codeLockNotAvailable:
			return audittrail.Errorf(audittrail.EUNAVAILABLE, "the database is busy with conflicting writes; try again")
		case codeTooManyConnections, codeCannotConnectNow, codeAdminShutdown:
			return audittrail.Errorf(audittrail.EUNAVAILABLE, "the database is not accepting connections; try again later")
		case codeCharacterNotInRepertory, codeUntranslatableCharacter:
			return audittrail.Errorf(audittrail.EVALIDATION, "a value holds a NUL character (\\u0000), which cannot be stored; nothing was stored")
		case codeReadOnlyTransaction:
			return errReadOnly
		}
	case errors.As(err, &connErr), errors.As(err, &netErr):
		return audittrail.Errorf(audittrail.EUNAVAILABLE, "the database cannot be reached; try again later")
	}
	return err
}

// sqlState returns the SQLSTATE of a PostgreSQL error, or "".
func sqlState(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// isRetryable reports whether a transaction that failed with err may be
// run again from the start: it met a deadlock or a serialization failure,
// and was rolled back.
func isRetryable(err error) bool {
	switch sqlState(err) {
	case codeSerializationFailure, codeDeadlockDetected:
		return true
	}
	return false
}

func isInsufficientPrivilege(err error) bool { return sqlState(err) == codeInsufficientPrivilege }

func isUndefinedTable(err error) bool { return sqlState(err) == codeUndefinedTable }
