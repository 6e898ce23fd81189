package api

import "github.com/certd/certd/templates"

// SetRenderPDF replaces the PDF renderer, so that tests can count renders
// and make them fail or wait.
func (s *Server) SetRenderPDF(f func(templates.CertificateDoc, templates.Fonts) ([]byte, error)) {
	s.renderPDF = f
}
