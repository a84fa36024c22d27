package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

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
	codeCrashShutdown           = "57P02" // another server process crashed
	codeIdleSessionTimeout      = "57P05"
	codeQueryCanceled           = "57014" // statement_timeout, or pg_cancel_backend
	codeLockNotAvailable        = "55P03"
	codeDiskFull                = "53100"
	codeOutOfMemory             = "53200"
	codeIOError                 = "58030"

	// classConnectionException is the class of SQLSTATEs 08xxx.
	classConnectionException = "08"
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
// errors, at the end of every read: a database that cannot be reached, that
// lost the connection, that did not answer in time, is overloaded, or whose
// server cannot do its part (a full disk, an I/O error, no memory) is
// EUNAVAILABLE naming the trouble (the caller may try again), with the
// driver's error wrapped for the log; a text that PostgreSQL cannot store (a
// NUL character) is EVALIDATION. A caller's cancellation, domain errors and
// other errors pass through: the rest become internal errors.
func driverError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled):
		return err
	case invalidText(err):
		return audittrail.Errorf(audittrail.EVALIDATION, "a value holds a NUL character (\\u0000), which cannot be stored; nothing was stored")
	}
	if trouble := databaseTrouble(err); trouble != "" {
		return fmt.Errorf("%w: %w", audittrail.Errorf(audittrail.EUNAVAILABLE,
			"the service cannot use its database now: %s; try again later (a write sent again with the same ids is stored once)", trouble), err)
	}
	return err
}

// writeError is driverError for a write transaction. committing says that
// the failure came once COMMIT had been sent: when the connection broke
// then, or the answer never came, the transaction may have committed or
// not, and nobody can tell. Such a write is EUNAVAILABLE all the same,
// never a success: the caller sends it again with the same ids, which
// stores it once whichever way it went (the idempotency keys commit with
// the records). A failure before COMMIT is a write that the server rolled
// back: nothing of it was stored.
func writeError(err error, committing bool) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), invalidText(err):
		return driverError(err)
	case committing && sqlState(err) == "" && !errors.Is(err, pgx.ErrTxCommitRollback):
		// The server did not answer the COMMIT with an error of its own.
		// pgconn.SafeToRetry is no proof that COMMIT was not sent: when the
		// connection breaks while pgx waits for the answer, it may report
		// "conn closed", which it marks safe to retry.
		return fmt.Errorf("%w: %w", audittrail.Errorf(audittrail.EUNAVAILABLE,
			"the connection to the database was lost while the write was being committed (%s), so it may or may not be stored; "+
				"the request was not acknowledged: send it again with the same ids, and it is stored once", lostWhy(err)), err)
	}
	if trouble := databaseTrouble(err); trouble != "" {
		return fmt.Errorf("%w: %w", audittrail.Errorf(audittrail.EUNAVAILABLE,
			"the service cannot store data now: %s; nothing was stored, send the request again later (with the same ids, it is stored once)", trouble), err)
	}
	return err
}

// databaseTrouble says what is wrong when err says that the database could
// not do its part, through no fault of the request: it cannot be reached,
// the connection broke, it did not answer in time, it is busy, overloaded
// or shutting down, or its server cannot write (a full disk, an I/O error,
// no memory). Such a failure passes. It returns "" for any other error.
func databaseTrouble(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch code := pgErr.Code; {
		case code == codeSerializationFailure, code == codeDeadlockDetected, code == codeLockNotAvailable:
			return "the database is busy with conflicting writes"
		case code == codeTooManyConnections, code == codeCannotConnectNow:
			return "the database is not accepting connections (too many, or it is starting or stopping)"
		case code == codeAdminShutdown, code == codeCrashShutdown, code == codeIdleSessionTimeout:
			return "the database ended the connection (it is stopping or restarting)"
		case code == codeDiskFull:
			return "the database server's disk is full"
		case code == codeIOError:
			return "the database server failed to read or write its disk (an I/O error)"
		case code == codeOutOfMemory:
			return "the database server is out of memory"
		case code == codeQueryCanceled:
			return "the database cancelled the statement (a statement timeout, or an administrator)"
		case code == codeReadOnlyTransaction:
			return "the database accepts no writes (a standby in recovery, or default_transaction_read_only is on)"
		case strings.HasPrefix(code, classConnectionException):
			return "the connection to the database failed"
		}
		return ""
	}
	var connErr *pgconn.ConnectError
	switch {
	case errors.As(err, &connErr):
		return "the database cannot be reached"
	case pgconn.Timeout(err), errors.Is(err, context.DeadlineExceeded):
		return "the database did not answer in time"
	case connectionLost(err):
		return "the connection to the database was lost"
	}
	return ""
}

// connectionLost reports whether err says that the connection to the
// server broke or was closed under the statement, as opposed to the server
// answering an error: an end of file or a reset where an answer was due, a
// network error, or pgx's "conn closed" for a connection it closed after
// such a failure. (pgconn.SafeToRetry is not used: it also holds for
// misuse such as "conn busy", which is a bug, not a trouble that passes.)
func connectionLost(err error) bool {
	var netErr net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, pgconn.ErrConnClosed) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &netErr)
}

// brokenConn reports whether err says that a connection that was open
// broke under a statement: the database may well answer on another one.
// A connection that could not be opened, or a statement that got no answer
// in time, says that the database itself is away or stuck.
func brokenConn(err error) bool {
	var connErr *pgconn.ConnectError
	return connectionLost(err) && !errors.As(err, &connErr) && !pgconn.Timeout(err) && !errors.Is(err, context.DeadlineExceeded)
}

// lostWhy says in a few words how an unanswered COMMIT failed.
func lostWhy(err error) string {
	if pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return "no answer in time"
	}
	return "the connection broke"
}

// invalidText reports whether the server refused a text that it cannot
// store: a NUL character.
func invalidText(err error) bool {
	switch sqlState(err) {
	case codeCharacterNotInRepertory, codeUntranslatableCharacter:
		return true
	}
	return false
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
