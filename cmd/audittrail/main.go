// Command audittrail is the audit trail service and its administration
// commands: serve, account create, export, verify, purge.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:]); err == flag.ErrHelp {
		os.Exit(2)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "audittrail:", err)
		os.Exit(1)
	}
}

// Run runs the subcommand named by args[0].
func Run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		usage()
		return flag.ErrHelp
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		m := NewServeCommand()
		if err := m.ParseFlags(rest); err != nil {
			return err
		}
		if err := m.Run(ctx); err != nil {
			m.Close()
			return err
		}
		<-ctx.Done()
		return m.Close()
	case "account":
		if len(rest) == 0 || rest[0] != "create" {
			fmt.Fprintln(os.Stderr, "usage: audittrail account create --id ID --name NAME [--timezone TZ] --admin LOGIN")
			return flag.ErrHelp
		}
		return (&AccountCreateCommand{}).Run(ctx, rest[1:])
	case "export":
		return (&ExportCommand{}).Run(ctx, rest)
	case "verify":
		err := (&VerifyCommand{}).Run(ctx, rest)
		if err == errVerifyFailed {
			os.Exit(1)
		}
		return err
	case "purge":
		return (&PurgeCommand{}).Run(ctx, rest)
	case "help", "-h", "--help":
		usage()
		return nil
	default:
		usage()
		return fmt.Errorf("unknown command %q", cmd)
	}
}

func usage() {
	fmt.Fprint(os.Stderr, `audittrail is a multi-tenant audit trail service.

Usage:
	audittrail <command> [flags]

Commands:
	serve           run the HTTP service (API and operations endpoints)
	account create  create an account with its first administrator and a publisher key
	export          write an account's records as xlsx, csv or ndjson
	verify          check an account's Merkle log against its signed checkpoints
	purge           remove the records older than the retention window now

Every flag also reads from AUDITTRAIL_<FLAG> (AUDITTRAIL_ADDR, AUDITTRAIL_DATA, ...).
Run "audittrail <command> -h" for a command's flags.
`)
}

// parseFlags parses args after filling each flag that is not on the
// command line from its environment variable AUDITTRAIL_<FLAG>.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "AUDITTRAIL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// storageFlags are the flags of every command that reads or writes storage.
type storageFlags struct {
	Data string
	DB   string

	// Logger receives the storage's warnings when it is opened
	// (slog.Default() if nil).
	Logger *slog.Logger
}

func (s *storageFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&s.Data, "data", "./audittrail-data", "data directory of the embedded SQLite store")
	fs.StringVar(&s.DB, "db", "", "PostgreSQL URL (postgres://...) instead of the embedded store")
}
