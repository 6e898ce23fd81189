package api

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/pdfattach"
	"github.com/certd/certd/templates"
)

// maxUpload bounds the body of a file verification (POST /verify and POST
// /api/v1/verify/file): the multipart form with the file.
const maxUpload = 16 << 20

// maxTokenField bounds the pasted token of the form (a credential is at
// most 16 KiB; the verifier refuses what is larger).
const maxTokenField = 64 << 10

// verifyFileForm is the "verify a file" page. Verifying needs the store
// (the issuers' keys, the certificate's status): while it does not answer,
// the page says so instead of offering a form that cannot work.
func (s *Server) verifyFileForm(c *echo.Context) error {
	if err := s.cfg.Store.Ping(c.Request().Context()); err != nil {
		return fmt.Errorf("ping the store: %w: %w", cert.ErrUnavailable, err)
	}
	lang := pageLang(c)
	page, err := templates.VerifyFilePage(templates.VerifyFilePageData{Lang: lang, PublicURL: s.cfg.PublicURL})
	if err != nil {
		return err
	}
	return writePage(c, http.StatusOK, lang, page)
}

// verifyFilePage verifies an uploaded PDF or .jwt file (or a pasted
// token) for a person: the verification page of the certificate when the
// credential is genuine, else a page saying that the file carries no
// credential or that it is not genuine.
func (s *Server) verifyFilePage(c *echo.Context) error {
	token, err := s.uploadedCredential(c)
	lang := pageLang(c)
	if errors.Is(err, errNoCredential) {
		return s.writeFileOutcome(c, lang, http.StatusUnprocessableEntity, templates.FileNoCredential)
	}
	if err != nil {
		return err
	}
	v := s.cfg.Verifying.ByToken(c.Request().Context(), token)
	if v.Certificate == nil && v.Verdict == cert.VerdictInvalid {
		s.metrics.verdicts.WithLabelValues(v.Verdict).Inc()
		return s.writeFileOutcome(c, lang, http.StatusOK, templates.FileNotGenuine)
	}
	id := ""
	if v.Certificate != nil {
		id = v.Certificate.ID
	}
	return s.writeVerdictPage(c, v, id)
}

func (s *Server) writeFileOutcome(c *echo.Context, lang string, status int, outcome string) error {
	page, err := templates.VerifyFilePage(templates.VerifyFilePageData{Lang: lang, PublicURL: s.cfg.PublicURL, Outcome: outcome})
	if err != nil {
		return err
	}
	return writePage(c, status, lang, page)
}

// verifyFileAPI is the JSON twin of verifyFilePage: the verdict of the
// credential in the uploaded file, or a problem.
func (s *Server) verifyFileAPI(c *echo.Context) error {
	token, err := s.uploadedCredential(c)
	if errors.Is(err, errNoCredential) {
		return newHTTPError(http.StatusUnprocessableEntity, "no-credential", "No credential in the file",
			"The file is neither a certificate PDF of certd (with its credential.jwt attachment) nor a credential (compact JWS). A PDF made by printing or re-creating a certificate loses the attachment: send the original PDF.")
	}
	if err != nil {
		return err
	}
	v := s.cfg.Verifying.ByToken(c.Request().Context(), token)
	return s.writeVerdict(c, v)
}

// errNoCredential: the upload holds no credential to verify.
var errNoCredential = errors.New("no credential in the upload")

// uploadedCredential reads the multipart body (at most maxUpload bytes,
// refused before reading when its declared length is larger) and returns
// the credential it holds: the credential.jwt attachment of a PDF in the
// part "file", a credential file in that part, or the field "token".
func (s *Server) uploadedCredential(c *echo.Context) (string, error) {
	r := c.Request()
	if r.ContentLength > maxUpload {
		return "", errUploadTooLarge()
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return "", newHTTPError(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"Send the file as multipart/form-data in a part named file (a certificate PDF or a .jwt file), or a credential in a field named token.")
	}
	var file, token []byte
	mr := multipart.NewReader(http.MaxBytesReader(c.Response(), r.Body, maxUpload), params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", uploadError(err)
		}
		switch part.FormName() {
		case "file":
			if file, err = io.ReadAll(part); err != nil {
				return "", uploadError(err)
			}
		case "token":
			if token, err = io.ReadAll(io.LimitReader(part, maxTokenField+1)); err != nil {
				return "", uploadError(err)
			}
			if len(token) > maxTokenField {
				return "", cert.Invalid("token", "must be a credential (compact JWS) of at most 16 KiB")
			}
		}
		// Other parts are read past (and counted against the limit).
		if _, err := io.Copy(io.Discard, part); err != nil {
			return "", uploadError(err)
		}
	}
	if len(bytes.TrimSpace(file)) == 0 && len(bytes.TrimSpace(token)) == 0 {
		return "", cert.Invalid("file", "choose a certificate PDF or a .jwt file, or paste a credential in token")
	}
	if len(bytes.TrimSpace(file)) == 0 {
		file = token
	}
	release := s.acquireUpload()
	defer release()
	return credentialIn(file)
}

// acquireUpload bounds the uploads being examined at once to the number
// of cores, sharing the slots of the PDF renders (a PDF of 16 MiB to
// parse is work of the same order); the returned function releases the
// slot.
func (s *Server) acquireUpload() func() {
	s.renders <- struct{}{}
	return func() { <-s.renders }
}

// credentialIn finds the credential in an uploaded file.
func credentialIn(file []byte) (string, error) {
	if i := bytes.Index(file, []byte("%PDF-")); i >= 0 && i <= 1024 {
		token, _, err := pdfattach.Credential(file)
		if err != nil {
			return "", errNoCredential
		}
		return token, nil
	}
	token := strings.TrimSpace(string(file))
	if !looksLikeToken(token) {
		return "", errNoCredential
	}
	return token, nil
}

// looksLikeToken reports whether s has the form of a compact JWS: three
// base64url parts. The verifier decides the rest.
func looksLikeToken(s string) bool {
	if len(s) < 10 || len(s) > maxTokenField || strings.Count(s, ".") != 2 {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func errUploadTooLarge() error {
	return newHTTPError(http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large",
		fmt.Sprintf("The upload is larger than %d MiB. A certificate PDF of certd is well under 1 MiB: send the original file.", maxUpload>>20))
}

func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return errUploadTooLarge()
	}
	return errBadRequest("The multipart body could not be read: " + err.Error())
}
