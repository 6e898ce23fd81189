package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// DefaultIssuer is the id of the issuer created on first start.
const DefaultIssuer = "default"

// bootstrap prepares a first start: with no issuer in the store it creates
// the default issuer and an admin API key, prints the key once with a curl
// command that issues a sample certificate, and writes it to admin.token
// (mode 0600). Several instances starting at once on one database create
// the issuer once; only the instance that created it makes the key.
func (m *Main) bootstrap(ctx context.Context) error {
	all, err := m.Issuer.Issuers(ctx)
	if err != nil {
		return fmt.Errorf("read issuers: %w", err)
	}
	if len(all) > 0 {
		return m.migrateNumberPatterns(ctx, all)
	}
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "bootstrap", Name: "first start"}
	_, err = m.Issuer.CreateIssuer(ctx, admin, issuer.IssuerRequest{
		ID: DefaultIssuer, Name: "Default Certification Body", NameZh: "默认认证机构",
		TimeZone: "Asia/Shanghai", NumberPrefix: "ITSS",
		NumberPatterns: m.Issuer.Schemes().DefaultNumberPatterns(),
	})
	if errors.Is(err, cert.ErrAlreadyExists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("create default issuer: %w", err)
	}
	_, token, err := m.Issuer.CreateAPIKey(ctx, admin, issuer.APIKeyRequest{Role: cert.RoleAdmin, Name: "bootstrap admin"})
	if err != nil {
		return fmt.Errorf("create admin key: %w", err)
	}
	setup, err := m.consoleSetup(ctx)
	if err != nil {
		return err
	}
	var demo []demoLink
	if m.Config.Demo {
		if demo, err = m.seedDemo(ctx, admin); err != nil {
			return fmt.Errorf("--demo: %w", err)
		}
	}
	tokenPath := filepath.Join(m.Config.DataDir, tokenFile)
	where := fmt.Sprintf("a copy is in %s, mode 0600", tokenPath)
	if err := writeTokenFile(tokenPath, token, false); err != nil {
		m.Logger.Warn("could not write admin.token", "error", err.Error())
		where = "write it down: " + tokenPath + " was not written"
	}
	fmt.Fprintf(m.Stdout, `
certd: first start. Created issuer %q and an admin API key.
The key is shown only this once (%s):

  %s

Issue a sample ITSS certificate:

%s

Then open the "verify" link of the answer in a browser.

%s
`, DefaultIssuer, where, token, sampleCurl(m.Config.PublicURL, token), setup)
	if len(demo) > 0 {
		fmt.Fprintf(m.Stdout, "Sample certificates (--demo), in every status:\n\n")
		for _, d := range demo {
			fmt.Fprintf(m.Stdout, "  %-11s %s  %s\n", d.Status, d.URL, d.Name)
		}
		fmt.Fprintln(m.Stdout)
	}
	return nil
}

// sampleRequest is the body of the first-start curl command.
const sampleRequest = `{"issuer":"default","scheme":"itss","standard":"GB/T 28827.1-2022","category":"运行维护","level":3,` +
	`"scope":"信息系统运行维护服务","scopeEn":"IT operation and maintenance services","assessmentBody":"Default Certification Body",` +
	`"organization":{"name":"北京示例科技有限公司","nameEn":"Beijing Example Technology Co., Ltd.","uscc":"91110108MA0123456G","address":"北京市海淀区中关村大街1号","country":"CN"}}`

func sampleCurl(publicURL, token string) string {
	return fmt.Sprintf(`  curl -sS -X POST %s/api/v1/certificates \
    -H 'Authorization: Bearer %s' \
    -H 'Content-Type: application/json' \
    -d '%s'`, publicURL, token, sampleRequest)
}

// writeTokenFile writes token to path with mode 0600. Without replace it
// never overwrites: an existing file (another start's key, which may be the
// only copy) is an error. With replace the new file takes the place of the
// old one atomically.
func writeTokenFile(path, token string, replace bool) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	target := path
	if replace {
		target = path + ".new"
		_ = os.Remove(target)
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, werr := f.WriteString(token + "\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil && replace {
		werr = os.Rename(target, path)
	}
	if werr != nil {
		_ = os.Remove(target)
	}
	return werr
}

// migrateNumberPatterns gives the default issuer of a data directory made
// before per-scheme numbering the schemes' own patterns (ITSS-…, QMS-…),
// so that its ISO/IEC 17021 certificates are no longer numbered ITSS-….
// Its ITSS pattern renders as before and keeps its counter, so new numbers
// continue the old sequence. Only an issuer never changed since (no audit
// trail) is touched; a lost race with another instance is no error.
func (m *Main) migrateNumberPatterns(ctx context.Context, all []*cert.Issuer) error {
	for _, is := range all {
		if is.ID != DefaultIssuer || len(is.Events) > 0 || len(is.NumberPatterns) > 0 || is.NumberPrefix != "ITSS" ||
			(is.NumberPattern != "" && is.NumberPattern != cert.DefaultNumberPattern) {
			continue
		}
		is.NumberPatterns = m.Issuer.Schemes().DefaultNumberPatterns()
		is.AppendEvent(cert.IssuerEvent{Type: cert.IssuerProfileUpdated, At: m.Now(), Actor: cert.SystemActor, Fields: []string{"numberPatterns"}})
		if err := m.store.UpdateIssuer(ctx, is); err != nil && !errors.Is(err, cert.ErrConflict) {
			return fmt.Errorf("give issuer %s per-scheme number patterns: %w", is.ID, err)
		}
	}
	return nil
}
