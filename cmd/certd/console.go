package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/certd/certd/accounts"
	"github.com/certd/certd/console"
)

// consoleSetupFile holds the first admin's one-time console link.
const consoleSetupFile = "console-setup.url"

// wireConsole builds the accounts use cases and the console on the store.
func (m *Main) wireConsole(profiles console.Profiles, preview func(ctx context.Context, issuer string) ([]byte, error), hooks console.Webhooks) (*console.Console, error) {
	m.Accounts = accounts.New(accounts.Config{Store: m.store, Now: m.Now, Password: m.PasswordParams})
	return console.New(console.Config{Accounts: m.Accounts, Issuing: m.Issuer, Profiles: profiles, PreviewPDF: preview, APIKeys: m.Issuer, SigningKeys: m.Keys, Webhooks: hooks, PublicURL: m.Config.PublicURL, Logger: m.Logger, Now: m.Now,
		ReportDeadlines: m.Deadlines.Outstanding})
}

// consoleSetup makes the one-time link with which the first admin of the
// default issuer chooses an email and a password, writes it to
// console-setup.url (mode 0600) and returns it for the first-start message.
func (m *Main) consoleSetup(ctx context.Context) (string, error) {
	link, err := m.Accounts.NewSetupLink(ctx, DefaultIssuer)
	if err != nil {
		return "", fmt.Errorf("console setup link: %w", err)
	}
	url := m.Config.PublicURL + "/console/setup/" + link.Secret
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return "", fmt.Errorf("console setup link: %w", err)
	}
	path := filepath.Join(m.Config.DataDir, consoleSetupFile)
	if err := os.WriteFile(path, []byte(url+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return fmt.Sprintf("Set up the web console (one-time link, valid until %s; a copy is in %s):\n\n  %s\n", link.ExpiresAt.Format("2006-01-02 15:04 MST"), path, url), nil
}
