package api

import (
	"encoding/json"
	"strconv"
	"sync"

	"github.com/labstack/echo/v5"

	"github.com/certd/certd/cert"
)

// appendJSON appends r as encoding/json writes it, without reflection: a
// batch answer holds a thousand of them. TestResourceJSON holds it to
// encoding/json for every field.
func (r *certificateResource) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = cert.AppendJSONString(b, r.ID)
	b = append(b, `,"number":`...)
	b = cert.AppendJSONString(b, r.Number)
	if r.Revision != 0 {
		b = append(b, `,"revision":`...)
		b = strconv.AppendInt(b, int64(r.Revision), 10)
	}
	b = append(b, `,"issuer":`...)
	b = cert.AppendJSONString(b, r.Issuer)
	b = append(b, `,"scheme":`...)
	b = cert.AppendJSONString(b, r.Scheme)
	b = cert.AppendJSONOmitEmpty(b, `,"standard":`, r.Standard)
	b = cert.AppendJSONOmitEmpty(b, `,"category":`, r.Category)
	if r.Level != 0 {
		b = append(b, `,"level":`...)
		b = strconv.AppendInt(b, int64(r.Level), 10)
	}
	b = cert.AppendJSONOmitEmpty(b, `,"scope":`, r.Scope)
	b = cert.AppendJSONOmitEmpty(b, `,"scopeEn":`, r.ScopeEn)
	if len(r.Sites) > 0 {
		b = append(b, `,"sites":[`...)
		for i, s := range r.Sites {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"name":`...)
			b = cert.AppendJSONString(b, s.Name)
			b = cert.AppendJSONOmitEmpty(b, `,"address":`, s.Address)
			b = cert.AppendJSONOmitEmpty(b, `,"scope":`, s.Scope)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = cert.AppendJSONOmitEmpty(b, `,"assessmentBody":`, r.AssessmentBody)
	b = cert.AppendJSONOmitEmpty(b, `,"decisionDate":`, r.DecisionDate)
	b = cert.AppendJSONOmitEmpty(b, `,"originalDate":`, r.OriginalDate)
	if r.Audit != nil {
		// Rare and small: encoding/json writes it.
		a, _ := json.Marshal(r.Audit)
		b = append(append(b, `,"audit":`...), a...)
	}
	b = append(b, `,"organization":`...)
	b = r.Organization.AppendJSON(b)
	b = append(b, `,"status":`...)
	b = cert.AppendJSONString(b, string(r.Status))
	b = cert.AppendJSONOmitEmpty(b, `,"statusReason":`, r.StatusReason)
	b = append(b, `,"surveillance":`...)
	b = r.Surveillance.AppendJSON(b)
	b = append(b, `,"validFrom":`...)
	b = cert.AppendJSONString(b, r.ValidFrom)
	b = append(b, `,"validUntil":`...)
	b = cert.AppendJSONString(b, r.ValidUntil)
	b = cert.AppendJSONOmitEmpty(b, `,"supersedes":`, r.Supersedes)
	b = cert.AppendJSONOmitEmpty(b, `,"supersededBy":`, r.SupersededBy)
	b = append(b, `,"confidential":`...)
	b = strconv.AppendBool(b, r.Confidential)
	b = append(b, `,"organizationConfidential":`...)
	b = strconv.AppendBool(b, r.OrganizationConfidential)
	b = append(b, `,"confidentialEffective":`...)
	b = strconv.AppendBool(b, r.ConfidentialEffective)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, r.Version, 10)
	b = append(b, `,"kid":`...)
	b = cert.AppendJSONString(b, r.Kid)
	b = append(b, `,"credential":`...)
	b = cert.AppendJSONString(b, r.Credential)
	b = append(b, `,"createdAt":`...)
	b = cert.AppendJSONTime(b, r.CreatedAt)
	l := &r.Links
	b = append(b, `,"links":{"verify":`...)
	b = cert.AppendJSONString(b, l.Verify)
	b = append(b, `,"qr":`...)
	b = cert.AppendJSONString(b, l.QR)
	b = append(b, `,"pdf":`...)
	b = cert.AppendJSONString(b, l.PDF)
	b = append(b, `,"credential":`...)
	b = cert.AppendJSONString(b, l.Credential)
	b = append(b, `,"events":`...)
	b = cert.AppendJSONString(b, l.Events)
	return append(b, "}}"...)
}

// MarshalJSON makes encoding/json use appendJSON.
func (r certificateResource) MarshalJSON() ([]byte, error) { return r.appendJSON(nil), nil }

// appendBatchResults appends the answer of a batch, {"results": [...]}, as
// encoding/json writes it.
func appendBatchResults(b []byte, results []batchResult) []byte {
	b = append(b, `{"results":[`...)
	for i := range results {
		r := &results[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(r.Index), 10)
		b = append(b, `,"status":`...)
		b = strconv.AppendInt(b, int64(r.Status), 10)
		if r.Certificate != nil {
			b = append(b, `,"certificate":`...)
			b = r.Certificate.appendJSON(b)
		}
		if r.Problem != nil {
			// A Problem (strings and numbers) always encodes.
			p, _ := json.Marshal(r.Problem)
			b = append(append(b, `,"problem":`...), p...)
		}
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// writeJSON answers status with the JSON appendJSON appends to a pooled
// buffer, ended by a newline as c.JSON writes it; Blob copies it out.
func writeJSON(c *echo.Context, status int, appendJSON func([]byte) []byte) error {
	bp := jsonBuffers.Get().(*[]byte)
	b := append(appendJSON((*bp)[:0]), '\n')
	err := c.Blob(status, echo.MIMEApplicationJSON, b)
	if cap(b) <= maxPooledJSON {
		*bp = b
		jsonBuffers.Put(bp)
	}
	return err
}

// jsonBuffers hold answers being written; a batch answer (about 3 MB)
// is not kept for the next request.
var jsonBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

const maxPooledJSON = 64 << 10
