package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
)

// collSubmissions holds cert.Submission records; they are only inserted,
// never updated, so concurrent marks need no lock and no condition.
const collSubmissions = "submissions"

type submissionDoc struct {
	ID          string    `bson:"_id"`
	Issuer      string    `bson:"issuer"`
	Target      string    `bson:"target"`
	Period      string    `bson:"period"`
	SubmittedAt time.Time `bson:"submittedAt"`
	// SubmittedAtNs keeps the nanoseconds BSON dates drop.
	SubmittedAtNs int32    `bson:"submittedAtNs,omitempty"`
	Actor         string   `bson:"actor"`
	Entries       []string `bson:"entries"`
}

// CreateSubmission stores a new submission; a taken id gives
// ErrAlreadyExists.
func (s *Store) CreateSubmission(ctx context.Context, sub *cert.Submission) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	d := submissionDoc{ID: sub.ID, Issuer: sub.Issuer, Target: sub.Target, Period: sub.Period, Actor: sub.Actor, Entries: sub.Entries}
	if d.Entries == nil {
		d.Entries = []string{}
	}
	d.SubmittedAt, d.SubmittedAtNs = splitTime(sub.SubmittedAt)
	_, err := s.db.Collection(collSubmissions).InsertOne(ctx, d)
	return translate("create submission "+sub.ID, err)
}

// Submissions returns an issuer's submissions to a target, oldest first.
func (s *Store) Submissions(ctx context.Context, issuer, target string) ([]*cert.Submission, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	cur, err := s.db.Collection(collSubmissions).Find(ctx, bson.D{{Key: "issuer", Value: issuer}, {Key: "target", Value: target}},
		options.Find().SetSort(bson.D{{Key: "submittedAt", Value: 1}, {Key: "submittedAtNs", Value: 1}, {Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate("submissions", err)
	}
	var docs []submissionDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("submissions", err)
	}
	out := make([]*cert.Submission, len(docs))
	for i, d := range docs {
		out[i] = &cert.Submission{ID: d.ID, Issuer: d.Issuer, Target: d.Target, Period: d.Period, Actor: d.Actor, Entries: d.Entries,
			SubmittedAt: joinTime(d.SubmittedAt, d.SubmittedAtNs, time.UTC)}
	}
	return out, nil
}
