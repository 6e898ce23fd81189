package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/templates"
	"github.com/certd/certd/watch"
)

// Watching is the use case of watchlists (watch.Service).
type Watching interface {
	Subscribe(ctx context.Context, certID, email, client string) (watch.Outcome, error)
	Confirm(ctx context.Context, token string) error
	Unsubscribe(ctx context.Context, token string) error
	Add(ctx context.Context, p cert.Principal, req watch.Request) (*cert.Watch, bool, error)
	List(ctx context.Context, p cert.Principal, cursor string, limit int) ([]*cert.Watch, string, error)
	Remove(ctx context.Context, p cert.Principal, id string) error
}

// maxWatchForm bounds the body of the public watch forms.
const maxWatchForm = 4 << 10

// crossOrigin refuses the cross-origin posts of browsers (the forms of
// the public pages, like the console's).
var crossOrigin = http.NewCrossOriginProtection()

func refuseCrossOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c *echo.Context) error {
		if err := crossOrigin.Check(c.Request()); err != nil {
			return fmt.Errorf("a form of another site cannot post here: %w", cert.ErrForbidden)
		}
		return next(c)
	}
}

func (s *Server) watching() (Watching, error) {
	if s.cfg.Watches == nil {
		return nil, fmt.Errorf("watchlists are not configured: %w", cert.ErrUnavailable)
	}
	return s.cfg.Watches, nil
}

// formValue reads one field of a url-encoded form body of at most
// maxWatchForm bytes (or of the query).
func formValue(c *echo.Context, name string) (string, error) {
	r := c.Request()
	r.Body = http.MaxBytesReader(c.Response(), r.Body, maxWatchForm)
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return "", newHTTPError(http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large",
				"The form may be at most "+strconv.Itoa(maxWatchForm)+" bytes.")
		}
		return "", errBadRequest("Send the form as application/x-www-form-urlencoded.")
	}
	return r.Form.Get(name), nil
}

func (s *Server) writeWatchPage(c *echo.Context, status int, d templates.WatchPageData) error {
	d.Lang, d.PublicURL = pageLang(c), s.cfg.PublicURL
	page, err := templates.WatchPage(d)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	return writePage(c, status, d.Lang, page)
}

// watchSubscribe is POST /v/{id}/watch: the answer is the same page for a
// new, pending or confirmed address and when a limit refused it.
func (s *Server) watchSubscribe(c *echo.Context) error {
	w, err := s.watching()
	if err != nil {
		return err
	}
	email, err := formValue(c, "email")
	if err != nil {
		return err
	}
	client := c.RealIP()
	if a, err := netip.ParseAddr(client); err == nil {
		client = ClientKey(a)
	}
	out, err := w.Subscribe(c.Request().Context(), c.Param("id"), email, client)
	if err != nil {
		return err
	}
	outcome := "accepted"
	if out == watch.LimitedClient {
		outcome = "limited_client"
	}
	s.metrics.watches.WithLabelValues(outcome).Inc()
	id, _ := cert.NormalizeID(c.Param("id"))
	return s.writeWatchPage(c, http.StatusOK, templates.WatchPageData{State: templates.WatchSent, CertURL: s.cfg.PublicURL + "/v/" + id})
}

// watchConfirmPage is GET /watch/confirm: a page with the button that
// confirms (a link scanner's GET confirms nothing).
func (s *Server) watchConfirmPage(c *echo.Context) error {
	if _, err := s.watching(); err != nil {
		return err
	}
	return s.writeWatchPage(c, http.StatusOK, templates.WatchPageData{State: templates.WatchConfirm, Token: c.QueryParam("token")})
}

// watchConfirm is POST /watch/confirm.
func (s *Server) watchConfirm(c *echo.Context) error {
	w, err := s.watching()
	if err != nil {
		return err
	}
	token, err := formValue(c, "token")
	if err != nil {
		return err
	}
	switch err := w.Confirm(c.Request().Context(), token); {
	case errors.Is(err, cert.ErrNotFound):
		return s.writeWatchPage(c, http.StatusNotFound, templates.WatchPageData{State: templates.WatchInvalid})
	case err != nil:
		return err
	}
	return s.writeWatchPage(c, http.StatusOK, templates.WatchPageData{State: templates.WatchConfirmed})
}

// watchUnsubscribePage is GET /watch/unsubscribe: a page with the button.
func (s *Server) watchUnsubscribePage(c *echo.Context) error {
	if _, err := s.watching(); err != nil {
		return err
	}
	return s.writeWatchPage(c, http.StatusOK, templates.WatchPageData{State: templates.WatchUnsubscribe, Token: c.QueryParam("token")})
}

// watchUnsubscribe is POST /watch/unsubscribe?token=: the RFC 8058
// one-click unsubscribe that mail clients post (body
// "List-Unsubscribe=One-Click", no form token, no Origin check), and the
// button of the page. An unknown token is answered the same.
func (s *Server) watchUnsubscribe(c *echo.Context) error {
	w, err := s.watching()
	if err != nil {
		return err
	}
	token, err := formValue(c, "token")
	if err != nil {
		return err
	}
	if err := w.Unsubscribe(c.Request().Context(), token); err != nil {
		return err
	}
	return s.writeWatchPage(c, http.StatusOK, templates.WatchPageData{State: templates.WatchUnsubscribed})
}

// watchResource is a watch as the API answers it: never an address.
type watchResource struct {
	ID          string `json:"id"`
	Certificate string `json:"certificate,omitempty"`
	Issuer      string `json:"issuer,omitempty"`
	Number      string `json:"number,omitempty"`
	USCC        string `json:"uscc,omitempty"`
	CreatedAt   string `json:"createdAt"`
}

func resourceOfWatch(w *cert.Watch) watchResource {
	return watchResource{ID: w.ID, Certificate: w.Certificate, Issuer: w.Issuer, Number: w.Number, USCC: w.USCC,
		CreatedAt: w.CreatedAt.UTC().Format("2006-01-02T15:04:05.000Z07:00")}
}

func (s *Server) createWatch(c *echo.Context) error {
	w, err := s.watching()
	if err != nil {
		return err
	}
	var req watch.Request
	if err := decodeJSON(c, &req, maxBody); err != nil {
		return err
	}
	got, created, err := w.Add(c.Request().Context(), principal(c), req)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, resourceOfWatch(got))
}

func (s *Server) listWatches(c *echo.Context) error {
	w, err := s.watching()
	if err != nil {
		return err
	}
	limit := 0
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return cert.Invalid("limit", "must be a number from 1 to 1000")
		}
		limit = n
	}
	page, next, err := w.List(c.Request().Context(), principal(c), c.QueryParam("cursor"), limit)
	if err != nil {
		return err
	}
	items := make([]watchResource, len(page))
	for i, x := range page {
		items[i] = resourceOfWatch(x)
	}
	return c.JSON(http.StatusOK, struct {
		Items      []watchResource `json:"items"`
		NextCursor string          `json:"nextCursor,omitempty"`
	}{items, next})
}

func (s *Server) deleteWatch(c *echo.Context) error {
	w, err := s.watching()
	if err != nil {
		return err
	}
	if err := w.Remove(c.Request().Context(), principal(c), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
