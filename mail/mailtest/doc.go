// Package mailtest runs a real SMTP server inside a test process, on
// 127.0.0.1, and reads the messages it received: the receiving end of
// certd's e-mail in tests (github.com/emersion/go-smtp as the server).
//
//	srv := mailtest.Start(t, mailtest.Options{})
//	// ... make certd send to srv.URL() with --smtp-url ...
//	msgs := srv.Messages()
//	m := mailtest.Parse(t, msgs[0].Data)
//	m.Header.Get("Subject"), m.Text, m.HTML, m.Attachments
//
// srv.Answer(address, 550) (or 451) makes the server refuse RCPT TO for
// that address until srv.Answer(address, 0); srv.To(address) lists what
// one recipient received; srv.Close() stops the server early (a relay that
// is down). Options.Username and Password offer AUTH PLAIN.
//
// With Options.StartTLS or Options.ImplicitTLS the server presents a
// certificate generated for 127.0.0.1 and ::1; clients trust it through
// Server.RootCAs. The server stops when the test ends.
//
// It imports only the standard library and go-smtp; never a certd package.
package mailtest
