package mailtest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
)

// Parsed is a message read with net/mail and mime/multipart.
type Parsed struct {
	// Header holds the top-level header fields as received (encoded
	// words left as they are; see Subject).
	Header mail.Header
	// Subject is the decoded Subject.
	Subject string
	// Text and HTML are the decoded text/plain and text/html bodies
	// (the first of each, at any depth).
	Text, HTML string
	// Attachments are the parts with a file name, in order.
	Attachments []Attachment
}

// Attachment is one attached file.
type Attachment struct {
	Filename    string
	ContentType string
	Data        []byte
}

// Parse reads a raw message; it fails t when the message is not
// well-formed MIME.
func Parse(t testing.TB, raw []byte) *Parsed {
	t.Helper()
	p, err := ParseMessage(raw)
	if err != nil {
		t.Fatalf("mailtest: %v", err)
	}
	return p
}

// ParseMessage is Parse returning the error.
func ParseMessage(raw []byte) (*Parsed, error) {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	p := &Parsed{Header: m.Header}
	dec := new(mime.WordDecoder)
	if p.Subject, err = dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		return nil, fmt.Errorf("subject: %w", err)
	}
	if err := p.walk(m.Header.Get("Content-Type"), m.Header.Get("Content-Transfer-Encoding"), m.Header.Get("Content-Disposition"), m.Body); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Parsed) walk(ctype, cte, disposition string, body io.Reader) error {
	if ctype == "" {
		ctype = "text/plain; charset=us-ascii"
	}
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return fmt.Errorf("content type %q: %w", ctype, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mt, err)
			}
			h := part.Header
			if err := p.walk(h.Get("Content-Type"), h.Get("Content-Transfer-Encoding"), h.Get("Content-Disposition"), part); err != nil {
				return err
			}
		}
	}
	data, err := decode(cte, body)
	if err != nil {
		return fmt.Errorf("%s body: %w", mt, err)
	}
	name := ""
	if disposition != "" {
		if _, dp, err := mime.ParseMediaType(disposition); err == nil {
			name = dp["filename"]
		}
	}
	if name == "" {
		name = params["name"]
	}
	switch {
	case name != "":
		p.Attachments = append(p.Attachments, Attachment{Filename: name, ContentType: mt, Data: data})
	case mt == "text/plain" && p.Text == "":
		p.Text = string(data)
	case mt == "text/html" && p.HTML == "":
		p.HTML = string(data)
	}
	return nil
}

func decode(cte string, r io.Reader) ([]byte, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return io.ReadAll(base64.NewDecoder(base64.StdEncoding, newlineStripper{r}))
	case "quoted-printable":
		return io.ReadAll(quotedprintable.NewReader(r))
	default:
		return io.ReadAll(r)
	}
}

// newlineStripper drops CR and LF, which base64 bodies are wrapped with.
type newlineStripper struct{ r io.Reader }

func (n newlineStripper) Read(p []byte) (int, error) {
	k, err := n.r.Read(p)
	j := 0
	for _, b := range p[:k] {
		if b != '\r' && b != '\n' {
			p[j] = b
			j++
		}
	}
	return j, err
}
