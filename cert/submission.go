package cert

import "time"

// Submission records that an issuer submitted a report to a target (cnca,
// iafcertsearch) for a period, and which entries (certificate changes) the
// report held, so that a change that was not in it stays outstanding.
// Submissions are append-only: marking a period again adds a record.
type Submission struct {
	ID          string    `json:"id"`
	Issuer      string    `json:"issuer"`
	Target      string    `json:"target"`
	Period      string    `json:"period"`
	SubmittedAt time.Time `json:"submittedAt"`
	Actor       string    `json:"actor"`
	Entries     []string  `json:"entries"`
}
