package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/comunitasocialecremasca/smartservices/portal/auth"
	"github.com/comunitasocialecremasca/smartservices/portal/config"
	"github.com/comunitasocialecremasca/smartservices/portal/storage"
)

const staffUsage = `usage: portal staff create -username NAME -name "FULL NAME" -role operatore|coordinatore|admin [-scope crema,soncino]

Creates a back-office account and prints its one-time password. At first sign-in the person enrols an
authenticator app (TOTP) and chooses a password of their own. -scope lists the sub-ambiti of an operatore.
`

// staffCommand runs `portal staff …`: back-office accounts from the command line, for the first admin of a new
// installation (later ones are created in the back office).
func staffCommand(ctx context.Context, args []string) error {
	return runStaff(ctx, args, os.Getenv, os.Stdout, os.Stderr)
}

func runStaff(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		fmt.Fprint(stderr, staffUsage)
		return errors.New("staff: unknown or missing subcommand")
	}
	fs := flag.NewFlagSet("portal staff create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, staffUsage) }
	username := fs.String("username", "", "username: 3-64 of a-z 0-9 . _ -")
	name := fs.String("name", "", "full name")
	role := fs.String("role", "", "operatore, coordinatore or admin")
	scope := fs.String("scope", "", "comma-separated sub-ambiti of an operatore, e.g. crema,soncino")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	n := storage.NewStaff{Username: strings.ToLower(strings.TrimSpace(*username)), FullName: strings.TrimSpace(*name),
		Role: *role, MustChangePassword: true}
	for _, s := range strings.Split(*scope, ",") {
		if s = strings.TrimSpace(s); s != "" {
			n.Scopes = append(n.Scopes, s)
		}
	}
	var problems []string
	if !storage.StaffUsernamePattern.MatchString(n.Username) {
		problems = append(problems, "-username must be 3-64 characters of a-z 0-9 . _ -")
	}
	if n.FullName == "" {
		problems = append(problems, "-name is required")
	}
	if !slices.Contains(storage.Roles, n.Role) {
		problems = append(problems, "-role must be one of "+strings.Join(storage.Roles, ", "))
	}
	if n.Role == storage.RoleOperatore && len(n.Scopes) == 0 {
		problems = append(problems, "-scope is required for an operatore")
	}
	if n.Role != storage.RoleOperatore && len(n.Scopes) > 0 {
		problems = append(problems, "-scope is only for an operatore (the other roles cover the whole district)")
	}
	if len(problems) > 0 {
		fmt.Fprint(stderr, staffUsage)
		return errors.New("staff create: " + strings.Join(problems, "; "))
	}

	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	db, err := storage.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	password := rand.Text() // 26 base32 characters, 130 bits
	if n.PasswordHash, err = auth.HashPassword(password); err != nil {
		return err
	}
	_, err = db.CreateStaff(ctx, n)
	switch {
	case errors.Is(err, storage.ErrUsernameTaken):
		return fmt.Errorf("staff create: username %q is taken", n.Username)
	case errors.Is(err, storage.ErrUnknownScope):
		subAmbiti, _ := db.SubAmbiti(ctx)
		var known []string
		for _, s := range subAmbiti {
			known = append(known, s.Code)
		}
		return fmt.Errorf("staff create: unknown sub-ambito in -scope (known: %s)", strings.Join(known, ", "))
	case err != nil:
		return err
	}
	fmt.Fprintf(stdout, "created %s (%s)\none-time password: %s\n", n.Username, n.Role, password)
	fmt.Fprintln(stdout, "Give it to the person in person; at first sign-in (/backoffice) they enrol an authenticator app and choose their own password.")
	return nil
}
