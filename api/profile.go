package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/profile"
)

// ifMatchVersion reads If-Match as a version ("3", W/"3"); no header gives
// profile.NoIfMatch.
func ifMatchVersion(c *echo.Context, what string) (int64, error) {
	h := c.Request().Header.Get("If-Match")
	if h == "" {
		return profile.NoIfMatch, nil
	}
	v, err := strconv.ParseInt(strings.Trim(strings.TrimPrefix(strings.TrimSpace(h), "W/"), `"`), 10, 64)
	if err != nil || v < 0 {
		return 0, errBadRequest(`If-Match must be the ` + what + `'s ETag, e.g. "3".`)
	}
	return v, nil
}

// writeIssuer answers the issuer resource with its version as ETag.
func (s *Server) writeIssuer(c *echo.Context, is *cert.Issuer) error {
	h := c.Response().Header()
	h.Set("ETag", strconv.Quote(strconv.FormatInt(is.Version, 10)))
	h.Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, s.issuerResource(is))
}

// ForgetIssuer drops what the server and its verifier keep of an
// issuer's profile, after a change made elsewhere (the console).
func (s *Server) ForgetIssuer(id string) { s.changed(id) }

// changed drops the cached copies of an issuer this instance holds.
func (s *Server) changed(id string) {
	s.issuers.m.Delete(id)
	s.cfg.Verifying.ForgetIssuer(id)
}

func (s *Server) getIssuer(c *echo.Context) error {
	is, err := s.cfg.Profiles.Get(c.Request().Context(), principal(c), c.Param("issuer"))
	if err != nil {
		return err
	}
	return s.writeIssuer(c, is)
}

// patchIssuer applies a JSON merge patch (RFC 7396) to the profile.
func (s *Server) patchIssuer(c *echo.Context) error {
	ct := c.Request().Header.Get("Content-Type")
	if ct != "" && !strings.HasPrefix(ct, "application/merge-patch+json") && !strings.HasPrefix(ct, "application/json") {
		return newHTTPError(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
			"Send the change as a JSON merge patch with 'Content-Type: application/merge-patch+json' (or application/json).")
	}
	ifMatch, err := ifMatchVersion(c, "issuer")
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxBody))
	if err != nil {
		return jsonError(err, maxBody)
	}
	if !json.Valid(body) {
		return errBadRequest("The body must be one JSON object (a JSON merge patch, RFC 7396).")
	}
	id := c.Param("issuer")
	is, err := s.cfg.Profiles.Patch(c.Request().Context(), principal(c), id, body, ifMatch)
	if err != nil {
		return err
	}
	s.changed(id)
	s.log.Info("issuer profile changed", "request_id", requestID(c), "issuer", id, "version", is.Version, "actor", principal(c).Actor())
	return s.writeIssuer(c, is)
}

func (s *Server) issuerEvents(c *echo.Context) error {
	is, err := s.cfg.Profiles.Get(c.Request().Context(), principal(c), c.Param("issuer"))
	if err != nil {
		return err
	}
	events := is.Events
	if events == nil {
		events = []cert.IssuerEvent{}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, struct {
		ID     string             `json:"id"`
		Events []cert.IssuerEvent `json:"events"`
	}{is.ID, events})
}

func (s *Server) putIssuerImage(kind string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ifMatch, err := ifMatchVersion(c, "issuer")
		if err != nil {
			return err
		}
		ct := c.Request().Header.Get("Content-Type")
		if mt := strings.TrimSpace(strings.SplitN(ct, ";", 2)[0]); mt != "image/png" && mt != "image/jpeg" {
			return newHTTPError(http.StatusUnsupportedMediaType, "unsupported-media-type", "Unsupported media type",
				"Send the "+kind+" as the body with 'Content-Type: image/png' or 'image/jpeg' (at most 1 MiB).")
		}
		data, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, profile.MaxImageBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return newHTTPError(http.StatusRequestEntityTooLarge, "body-too-large", "Request body too large",
					"The "+kind+" must be at most 1 MiB (1048576 bytes).")
			}
			return err
		}
		id := c.Param("issuer")
		is, err := s.cfg.Profiles.PutImage(c.Request().Context(), principal(c), id, kind, ct, data, ifMatch)
		if err != nil {
			return err
		}
		s.changed(id)
		s.log.Info("issuer image changed", "request_id", requestID(c), "issuer", id, "image", kind, "actor", principal(c).Actor())
		return s.writeIssuer(c, is)
	}
}

func (s *Server) deleteIssuerImage(kind string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		ifMatch, err := ifMatchVersion(c, "issuer")
		if err != nil {
			return err
		}
		id := c.Param("issuer")
		is, err := s.cfg.Profiles.DeleteImage(c.Request().Context(), principal(c), id, kind, ifMatch)
		if err != nil {
			return err
		}
		s.changed(id)
		s.log.Info("issuer image deleted", "request_id", requestID(c), "issuer", id, "image", kind, "actor", principal(c).Actor())
		return s.writeIssuer(c, is)
	}
}

// issuerImage serves an issuer's logo or seal (public). The PNG was
// encoded by certd; its SHA-256 is the ETag.
func (s *Server) issuerImage(kind string) echo.HandlerFunc {
	return func(c *echo.Context) error {
		img, err := s.cfg.Profiles.Image(c.Request().Context(), c.Param("issuer"), kind)
		if err != nil {
			return err
		}
		h := c.Response().Header()
		etag := `"` + img.SHA256 + `"`
		h.Set("ETag", etag)
		h.Set("Cache-Control", "public, max-age=300")
		h.Set("Content-Security-Policy", "default-src 'none'")
		if match := c.Request().Header.Get("If-None-Match"); match == etag {
			return c.NoContent(http.StatusNotModified)
		}
		return c.Blob(http.StatusOK, "image/png", img.PNG)
	}
}
