package console

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/certd/certd/cert"
)

// Profiles is what the console needs of the issuer profile use cases.
type Profiles interface {
	Get(ctx context.Context, p cert.Principal, id string) (*cert.Issuer, error)
	Patch(ctx context.Context, p cert.Principal, id string, patch []byte, ifMatch int64) (*cert.Issuer, error)
	PutImage(ctx context.Context, p cert.Principal, id, kind, contentType string, data []byte, ifMatch int64) (*cert.Issuer, error)
	DeleteImage(ctx context.Context, p cert.Principal, id, kind string, ifMatch int64) (*cert.Issuer, error)
}

func (c *Console) profilePage(q *request, status int, extra map[string]any) error {
	if c.prof == nil {
		return cert.ErrNotFound
	}
	is, err := c.prof.Get(q.r.Context(), q.principal(), q.user.Issuer)
	if err != nil {
		return err
	}
	var acc []string
	for _, a := range is.Accreditation {
		acc = append(acc, a.Body+" | "+a.Number)
	}
	r := is.RemindersOf()
	data := map[string]any{"Is": is, "P": is.Profile(), "Accreditation": strings.Join(acc, "\n"), "Schemes": c.iss.Schemes().IDs(),
		"Reminders": r, "CloseDays": joinDays(r.SurveillanceCloseDays), "ExpiryDays": joinDays(r.ExpiryDays)}
	for k, v := range extra {
		data[k] = v
	}
	return c.page(q, status, "profile", data)
}

func (c *Console) profile(q *request) error {
	if q.user.Role != cert.RoleAdmin {
		return errors.Join(errors.New("only administrators edit the issuer's profile"), cert.ErrForbidden)
	}
	return c.profilePage(q, http.StatusOK, nil)
}

// profilePatch turns the profile form into a JSON merge patch: each field
// named as in the REST API, the accreditation one "body | number" a line.
func profilePatch(r *http.Request, schemes []string) ([]byte, error) {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	patch := map[string]any{}
	for _, k := range []string{"name", "nameZh", "address", "addressEn", "website", "email", "phone", "approvalNumber", "timeZone"} {
		patch[k] = f(k)
	}
	if n, t := f("signatory.name"), f("signatory.title"); n != "" || t != "" {
		patch["signatory"] = map[string]string{"name": n, "title": t}
	} else {
		patch["signatory"] = nil
	}
	var acc []map[string]string
	for i, line := range strings.Split(f("accreditation"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		body, number, ok := strings.Cut(line, "|")
		if !ok {
			return nil, cert.Invalid("accreditation", "line "+strconv.Itoa(i+1)+": write the body and the number separated by |, e.g. CNAS | CNAS C001-M")
		}
		acc = append(acc, map[string]string{"body": strings.TrimSpace(body), "number": strings.TrimSpace(number)})
	}
	if acc == nil {
		patch["accreditation"] = nil
	} else {
		patch["accreditation"] = acc
	}
	patterns := map[string]any{}
	for _, s := range schemes {
		if v := f("numberPatterns." + s); v != "" {
			patterns[s] = v
		} else {
			patterns[s] = nil
		}
	}
	patch["numberPatterns"] = patterns
	// Forms without the reminders section (an older page) leave the lead
	// times as they are.
	if f("reminders") != "" {
		closeDays, err := parseDays("reminders.surveillanceCloseDays", f("reminders.surveillanceCloseDays"))
		if err != nil {
			return nil, err
		}
		expiry, err := parseDays("reminders.expiryDays", f("reminders.expiryDays"))
		if err != nil {
			return nil, err
		}
		patch["reminders"] = map[string]any{
			"surveillanceOpen": f("reminders.surveillanceOpen") != "", "surveillanceCloseDays": closeDays, "expiryDays": expiry,
		}
	}
	return json.Marshal(patch)
}

// joinDays shows lead times as the form field takes them: "180, 90, 30".
func joinDays(days []int) string {
	s := make([]string, len(days))
	for i, d := range days {
		s[i] = strconv.Itoa(d)
	}
	return strings.Join(s, ", ")
}

// parseDays reads a form field of lead times: whole numbers separated by
// commas or spaces; the profile validates their range.
func parseDays(field, v string) ([]int, error) {
	days := []int{}
	for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '，' || r == ' ' }) {
		d, err := strconv.Atoi(part)
		if err != nil {
			return nil, cert.Invalid(field, "write whole numbers of days separated by commas, e.g. 180, 90, 30")
		}
		days = append(days, d)
	}
	return days, nil
}

// saveProfile applies the form with the version it was shown at: a profile
// changed meanwhile is shown again with the conflict explained.
func (c *Console) saveProfile(q *request) error {
	if c.prof == nil {
		return cert.ErrNotFound
	}
	version, _ := strconv.ParseInt(q.r.PostFormValue("version"), 10, 64)
	patch, err := profilePatch(q.r, c.iss.Schemes().IDs())
	if err == nil {
		_, err = c.prof.Patch(q.r.Context(), q.principal(), q.user.Issuer, patch, version)
	}
	var v *cert.ValidationError
	switch {
	case errors.As(err, &v):
		return c.profilePage(q, http.StatusUnprocessableEntity, map[string]any{"Errors": v.Fields})
	case errors.Is(err, cert.ErrPrecondition):
		return c.profilePage(q, http.StatusConflict, map[string]any{"Errors": []cert.FieldError{{Field: "version", Message: tr(messages, q.lang, "profile.conflict")}}})
	case err != nil:
		return err
	}
	return seeOther(q.w, q.r, prefix+"/settings/profile")
}

// saveImage uploads or removes the logo or the seal.
func (c *Console) saveImage(q *request) error {
	if c.prof == nil {
		return cert.ErrNotFound
	}
	kind := q.r.PathValue("kind")
	version, _ := strconv.ParseInt(q.r.PostFormValue("version"), 10, 64)
	var err error
	if q.r.PostFormValue("delete") != "" {
		_, err = c.prof.DeleteImage(q.r.Context(), q.principal(), q.user.Issuer, kind, version)
	} else {
		f, hdr, ferr := q.r.FormFile("image")
		if ferr != nil {
			return c.profilePage(q, http.StatusUnprocessableEntity, map[string]any{"Errors": []cert.FieldError{{Field: kind, Message: "choose a PNG or JPEG image (at most 1 MiB)"}}})
		}
		defer f.Close()
		data, rerr := io.ReadAll(io.LimitReader(f, 1<<20+1))
		if rerr != nil {
			return rerr
		}
		_, err = c.prof.PutImage(q.r.Context(), q.principal(), q.user.Issuer, kind, hdr.Header.Get("Content-Type"), data, version)
	}
	var v *cert.ValidationError
	switch {
	case errors.As(err, &v):
		return c.profilePage(q, http.StatusUnprocessableEntity, map[string]any{"Errors": v.Fields})
	case errors.Is(err, cert.ErrPrecondition):
		return c.profilePage(q, http.StatusConflict, map[string]any{"Errors": []cert.FieldError{{Field: "version", Message: tr(messages, q.lang, "profile.conflict")}}})
	case err != nil && (errors.Is(err, cert.ErrInvalid) || strings.Contains(err.Error(), "image")):
		return c.profilePage(q, http.StatusUnprocessableEntity, map[string]any{"Errors": []cert.FieldError{{Field: kind, Message: err.Error()}}})
	case err != nil:
		return err
	}
	return seeOther(q.w, q.r, prefix+"/settings/profile")
}

// previewPDF answers the issuer's PDF with a sample certificate, so that an
// administrator sees what a profile change does before issuing.
func (c *Console) previewPDF(q *request) error {
	if q.user.Role != cert.RoleAdmin || c.cfg.PreviewPDF == nil {
		return errors.Join(errors.New("only administrators preview the profile"), cert.ErrForbidden)
	}
	pdf, err := c.cfg.PreviewPDF(q.r.Context(), q.user.Issuer)
	if err != nil {
		return err
	}
	q.w.Header().Set("Content-Type", "application/pdf")
	q.w.Header().Set("Content-Disposition", `inline; filename="preview.pdf"`)
	_, err = q.w.Write(pdf)
	return err
}
