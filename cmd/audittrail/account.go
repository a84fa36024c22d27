package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/audittrail/audittrail"
	"github.com/audittrail/audittrail/service"
)

// AccountCreateCommand creates an account from the command line:
// `audittrail account create`. It prints the administrator's generated
// password and a new publisher key, as JSON; neither is shown again.
type AccountCreateCommand struct {
	ID, Name, Timezone, Admin string
	Storage                   storageFlags
}

// Run parses args and creates the account.
func (c *AccountCreateCommand) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("audittrail account create", flag.ContinueOnError)
	fs.StringVar(&c.ID, "id", "", "account id ([a-z0-9][a-z0-9-]{1,62})")
	fs.StringVar(&c.Name, "name", "", "account name")
	fs.StringVar(&c.Timezone, "timezone", "UTC", "IANA time zone of the account")
	fs.StringVar(&c.Admin, "admin", "", "login name of the first administrator")
	c.Storage.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if c.Name == "" || c.Admin == "" {
		return fmt.Errorf("--name and --admin are required")
	}
	store, err := c.Storage.open()
	if err != nil {
		return err
	}
	defer store.Close()
	catalog, err := audittrail.NewCatalog(nil)
	if err != nil {
		return err
	}
	// The command runs the service's own operations, with every rule of
	// the API (lengths, patterns, the password policy), as the local
	// principal: whoever runs it has the storage open.
	svc := service.New(store, catalog, nil, service.DefaultConfig(), time.Now, slog.New(slog.DiscardHandler))
	password := audittrail.NewSecret("")[:24]
	acct, admin, err := svc.CreateAccount(ctx, service.Local(), service.AccountInput{ID: c.ID, Name: c.Name, Timezone: c.Timezone,
		Admin: service.AdminInput{LoginName: c.Admin, Password: password}})
	if err != nil {
		return fmt.Errorf("%s", audittrail.ErrorMessage(err))
	}
	key, err := svc.CreatePublisherKey(ctx, service.Local(), acct.ID, "cli")
	if err != nil {
		return fmt.Errorf("%s", audittrail.ErrorMessage(err))
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"account":       acct,
		"admin":         map[string]string{"id": admin.ID, "login_name": admin.LoginName, "password": password},
		"publisher_key": key,
	})
}
