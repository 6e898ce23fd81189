package api

import (
	"github.com/labstack/echo/v5"
	"github.com/labstack/echo/v5/middleware"

	"github.com/certd/certd/cert"
)

// routes registers every route of certd; this function is the map of the
// HTTP interface (DESIGN.md section 9), and openapi.json documents it.
func (s *Server) routes() {
	e := s.e
	e.Use(middleware.Recover())
	e.Use(requestIDMiddleware, s.accessLog, securityHeaders, healthOnlyGate)

	limit := newRateLimiter(s.cfg.PublicRate, s.cfg.PublicBurst).middleware
	// A search that matches nothing reads every certificate: it gets a tenth
	// of the public budget on top of the common one.
	searchLimit := newRateLimiter(s.cfg.PublicRate/10, max(s.cfg.PublicBurst/10, 5)).middleware
	auth := s.requireAuth

	// Operations.
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", s.metricsHandler)
	e.GET("/openapi.json", s.openAPI)

	// Public verification.
	for _, v := range []string{"/v/", "/V/"} {
		e.GET(v+":id", s.verifyPage, limit)
		e.GET(v+":id/qr.png", s.qrPNG, limit)
		e.GET(v+":id/qr.svg", s.qrSVG, limit)
		e.GET(v+":id/credential.jwt", s.credentialJWT, limit)
		e.GET(v+":id/certificate.pdf", s.certificatePDF, limit)
		e.POST(v+":id/watch", s.watchSubscribe, limit, refuseCrossOrigin)
	}
	// Watchlists: confirmation and unsubscribe links of the mails. The
	// one-click unsubscribe (RFC 8058) is posted by mail clients: no
	// Origin check there.
	e.GET("/watch/confirm", s.watchConfirmPage, limit)
	e.POST("/watch/confirm", s.watchConfirm, limit, refuseCrossOrigin)
	e.GET("/watch/unsubscribe", s.watchUnsubscribePage, limit)
	e.POST("/watch/unsubscribe", s.watchUnsubscribe, limit)
	e.GET("/", s.landing, limit)
	e.GET("/search", s.searchPage, limit, searchLimit)
	e.GET("/api/v1/search", s.searchAPI, limit, searchLimit)
	// Verifying a file reads up to 16 MiB and parses a PDF: a fifth of
	// the search budget on top of the common one.
	fileLimit := newRateLimiter(s.cfg.PublicRate/50, max(s.cfg.PublicBurst/50, 3)).middleware
	e.GET("/verify", s.verifyFileForm, limit)
	e.POST("/verify", s.verifyFilePage, limit, fileLimit)
	e.POST("/api/v1/verify/file", s.verifyFileAPI, limit, fileLimit)
	e.GET("/api/v1/verify/:id", s.verifyByID, limit)
	e.POST("/api/v1/verify", s.verifyToken, limit)
	e.POST("/api/v1/verify/batch", s.verifyBatch, limit)

	// Published keys.
	e.GET("/issuers/:issuer/jwks.json", s.issuerJWKS, limit)
	e.GET("/issuers/:issuer/logo.png", s.issuerImage(cert.ImageLogo), limit)
	e.GET("/issuers/:issuer/seal.png", s.issuerImage(cert.ImageSeal), limit)
	e.GET("/.well-known/jwks.json", s.allJWKS, limit)
	e.GET("/.well-known/jwt-vc-issuer/issuers/:issuer", s.issuerMetadata, limit)
	e.GET("/status/:issuer/:purpose/:n", s.statusList, limit)
	e.GET("/api/v1/schemes", s.listSchemes, limit)

	// The staff console: its own router behind the common middleware and
	// the public per-IP budget (sign-in is not free: argon2id).
	if s.cfg.Console != nil {
		h := echo.WrapHandler(s.cfg.Console)
		e.Any("/console", h, limit)
		e.Any("/console/*", h, limit)
	}

	// Certification bodies.
	g := e.Group("/api/v1", auth)
	g.POST("/certificates", s.createCertificate)
	g.POST("/certificates/batch", s.createBatch)
	g.GET("/certificates", s.listCertificates)
	g.GET("/certificates/:id", s.getCertificate)
	g.GET("/certificates/:id/events", s.certificateEvents)
	g.POST("/certificates/:id/:action", s.certificateAction)
	g.PUT("/certificates/:id/confidential", s.setConfidential)
	g.PUT("/organizations/:uscc/confidential", s.setOrganizationConfidential)

	// Reports to regulators and registries.
	g.GET("/reports/:target", s.reportPeriods)
	g.GET("/reports/:target/:period", s.getReport)
	g.POST("/reports/:target/:period/submitted", s.markSubmitted)

	// Administration.
	g.POST("/issuers", s.createIssuer, requireAdmin)
	g.GET("/issuers", s.listIssuers, requireAdmin)
	g.GET("/issuers/:issuer", s.getIssuer)
	g.PATCH("/issuers/:issuer", s.patchIssuer, requireAdmin)
	g.GET("/issuers/:issuer/events", s.issuerEvents)
	for _, kind := range []string{cert.ImageLogo, cert.ImageSeal} {
		g.PUT("/issuers/:issuer/"+kind, s.putIssuerImage(kind), requireAdmin)
		g.DELETE("/issuers/:issuer/"+kind, s.deleteIssuerImage(kind), requireAdmin)
	}
	g.POST("/issuers/:issuer/keys/rotate", s.rotateKey, requireAdmin)
	g.GET("/issuers/:issuer/keys", s.listKeys, requireAdmin)
	g.POST("/apikeys", s.createAPIKey, requireAdmin)
	g.GET("/apikeys", s.listAPIKeys, requireAdmin)
	g.DELETE("/apikeys/:id", s.revokeAPIKey, requireAdmin)

	// Webhooks (admin keys; the use case checks the issuer).
	g.POST("/webhooks", s.createWebhook)
	g.GET("/webhooks", s.listWebhooks)
	g.GET("/webhooks/:id", s.getWebhook)
	g.PATCH("/webhooks/:id", s.patchWebhook)
	g.DELETE("/webhooks/:id", s.deleteWebhook)
	g.GET("/webhooks/:id/deliveries", s.webhookDeliveries)
	g.POST("/webhooks/:id/deliveries/:delivery/redeliver", s.redeliverWebhook)

	// Watchlists of watcher keys.
	g.POST("/watches", s.createWatch)
	g.GET("/watches", s.listWatches)
	g.DELETE("/watches/:id", s.deleteWatch)
}

func (s *Server) metricsHandler(c *echo.Context) error {
	s.metrics.handler.ServeHTTP(c.Response(), c.Request())
	return nil
}
