package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/audittrail/audittrail"
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
	for _, err := range []error{audittrail.ValidateAccountID(c.ID), audittrail.ValidateTimezone(c.Timezone)} {
		if err != nil {
			return fmt.Errorf("%s", audittrail.ErrorMessage(err))
		}
	}
	store, err := c.Storage.open()
	if err != nil {
		return err
	}
	defer store.Close()

	now := time.Now()
	acct, admin := audittrail.NewAccount(c.ID, c.Name, c.Timezone, now)
	profiles := audittrail.BuiltinProfiles(acct.ID, acct.CreatedAt)
	password := audittrail.NewSecret("")[:24]
	admin.LoginName, admin.Name, admin.ProfileID = c.Admin, c.Admin, profiles[0].ID
	admin.PasswordHash = audittrail.HashPassword(password)
	if err := store.CreateAccount(ctx, acct, profiles, admin); err != nil {
		return fmt.Errorf("%s", audittrail.ErrorMessage(err))
	}
	key, secret := audittrail.NewPublisherKey(acct.ID, "cli", now)
	if err := store.Change(ctx, acct.ID, func(tx audittrail.Tx) ([]audittrail.Entry, error) {
		return nil, tx.CreatePublisherKey(key, audittrail.HashSecret(secret))
	}); err != nil {
		return err
	}
	key.Key = secret
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(map[string]any{
		"account":       acct,
		"admin":         map[string]string{"id": admin.ID, "login_name": admin.LoginName, "password": password},
		"publisher_key": key,
	})
}
