package mongo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// The status index (store.StatusIndex) lives in the certificate documents:
// stBits (1 revoked, 2 suspended), stWatch (the watch instant, or
// noWatch) and stSweep (the sweep instant, or noWatch), written by the same single-document insert or conditional
// update that writes the certificate, so that a mark can never disagree
// with the certificate it was computed from, whatever instance wrote it.
// Two indexes, (issuer, stBits) and (issuer, stWatch), answer StatusView;
// (stSweep, _id) answers SweepDue.

const (
	markRevoked   = 1
	markSuspended = 2
	// metaStatusTag is the document of the counters collection that holds
	// the tag of the last complete reindex; counter names never start with
	// a colon.
	metaStatusTag = ":statusMarkerTag"
	reindexPage   = 1000
)

// noWatch stands for "no watch instant": later than any instant asked for,
// so that the (issuer, stWatch) index needs no null handling.
var noWatch = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

type statusMarker struct {
	tag string
	f   store.StatusMarker
}

// SetStatusMarker sets the function that marks written certificates; see
// store.StatusIndex.
func (s *Store) SetStatusMarker(tag string, f store.StatusMarker) {
	s.marker.Store(&statusMarker{tag: tag, f: f})
}

// mark sets the status mark of c on b; without a marker b keeps none, and
// an update leaves the stored mark as it is.
func (s *Store) mark(c *cert.Certificate, b *certBody) {
	m := s.marker.Load()
	if m == nil {
		return
	}
	b.StBits, b.StWatch, b.StSweep = markFields(m.f(c))
}

func markFields(m store.StatusMark) (*int32, *time.Time, *time.Time) {
	var bits int32
	if m.Revoked {
		bits |= markRevoked
	}
	if m.Suspended {
		bits |= markSuspended
	}
	return &bits, markTime(m.Watch), markTime(m.Sweep)
}

// markTime is the stored form of a mark's instant: noWatch for none.
// Stored times have millisecond precision: rounding down makes the
// certificate due a little early, never late.
func markTime(t time.Time) *time.Time {
	w := noWatch
	if !t.IsZero() {
		w = t.UTC().Truncate(time.Millisecond)
	}
	return &w
}

// StatusMarkerTag returns the tag recorded by the last complete
// ReindexStatus; see store.StatusIndex.
func (s *Store) StatusMarkerTag(ctx context.Context) (string, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d struct {
		Tag string `bson:"tag"`
	}
	err := s.counters.FindOne(ctx, bson.D{{Key: "_id", Value: metaStatusTag}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return "", nil
	}
	if err != nil {
		return "", translate("read status marker tag", err)
	}
	return d.Tag, nil
}

func (s *Store) setStatusTag(ctx context.Context, tag string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.counters.UpdateOne(ctx, bson.D{{Key: "_id", Value: metaStatusTag}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "tag", Value: tag}}}}, options.UpdateOne().SetUpsert(true))
	return translate("write status marker tag", err)
}

// ReindexStatus marks every certificate again, each with a conditional
// update on its version (a certificate written meanwhile was marked by
// that write), then records the marker's tag; see store.StatusIndex.
func (s *Store) ReindexStatus(ctx context.Context) error {
	m := s.marker.Load()
	if m == nil {
		return cert.Invalid("statusMarker", "must be set before reindexing")
	}
	if err := s.setStatusTag(ctx, ""); err != nil {
		return err
	}
	after := ""
	for {
		page, err := s.reindexPage(ctx, after)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		for _, d := range page {
			c := d.certificate()
			bits, watch, sweep := markFields(m.f(c))
			cctx, cancel := s.call(ctx)
			_, err := s.certs.UpdateOne(cctx,
				bson.D{{Key: "_id", Value: d.ID}, {Key: "version", Value: d.Body.Version}},
				bson.D{{Key: "$set", Value: bson.D{{Key: "stBits", Value: bits}, {Key: "stWatch", Value: watch}, {Key: "stSweep", Value: sweep}}}})
			cancel()
			if err != nil {
				return translate("reindex status of "+d.ID, err)
			}
			after = d.ID
		}
	}
	return s.setStatusTag(ctx, m.tag)
}

func (s *Store) reindexPage(ctx context.Context, after string) ([]certDoc, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	cur, err := s.certs.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(reindexPage))
	if err != nil {
		return nil, translate("reindex status", err)
	}
	var page []certDoc
	if err := cur.All(ctx, &page); err != nil {
		return nil, translate("reindex status", err)
	}
	return page, nil
}

// StatusView answers from the two mark indexes and the unique position
// index; see store.StatusIndex.
func (s *Store) StatusView(ctx context.Context, issuer string, at time.Time) (*store.StatusView, error) {
	op := "status view of " + issuer
	ctx, cancel := s.call(ctx)
	defer cancel()
	view := &store.StatusView{}
	// One seek of the unique position index per list in use (distinct
	// is not portable to FerretDB).
	for n := int64(0); ; {
		var d struct {
			List int64 `bson:"statusList"`
		}
		err := s.certs.FindOne(ctx,
			bson.D{{Key: "issuer", Value: issuer}, {Key: "statusList", Value: bson.D{{Key: "$gt", Value: n}}}},
			options.FindOne().SetSort(bson.D{{Key: "issuer", Value: 1}, {Key: "statusList", Value: 1}}).
				SetProjection(bson.D{{Key: "statusList", Value: 1}})).Decode(&d)
		if errors.Is(err, mongo.ErrNoDocuments) {
			break
		}
		if err != nil {
			return nil, translate(op, err)
		}
		view.Lists = append(view.Lists, int(d.List))
		n = d.List
	}
	cur, err := s.certs.Find(ctx,
		bson.D{{Key: "issuer", Value: issuer}, {Key: "stBits", Value: bson.D{{Key: "$gt", Value: 0}}}},
		options.Find().SetProjection(bson.D{{Key: "statusList", Value: 1}, {Key: "statusIndex", Value: 1}, {Key: "stBits", Value: 1}}))
	if err != nil {
		return nil, translate(op, err)
	}
	var marked []struct {
		List  int64 `bson:"statusList"`
		Index int64 `bson:"statusIndex"`
		Bits  int32 `bson:"stBits"`
	}
	if err := cur.All(ctx, &marked); err != nil {
		return nil, translate(op, err)
	}
	for _, m := range marked {
		view.Marked = append(view.Marked, store.StatusEntry{List: int(m.List), Index: int(m.Index),
			Revoked: m.Bits&markRevoked != 0, Suspended: m.Bits&markSuspended != 0})
	}
	slices.SortFunc(view.Marked, func(a, b store.StatusEntry) int {
		if a.List != b.List {
			return a.List - b.List
		}
		return a.Index - b.Index
	})
	cur, err = s.certs.Find(ctx,
		bson.D{{Key: "issuer", Value: issuer}, {Key: "stWatch", Value: bson.D{{Key: "$lte", Value: at.UTC()}}}})
	if err != nil {
		return nil, translate(op, err)
	}
	var due []certDoc
	if err := cur.All(ctx, &due); err != nil {
		return nil, translate(op, err)
	}
	for i := range due {
		view.Due = append(view.Due, due[i].certificate())
	}
	return view, nil
}

// SweepDue answers from the (stSweep, _id) index; the cursor is the last
// document's stSweep in Unix milliseconds and its id. See
// store.StatusIndex.
func (s *Store) SweepDue(ctx context.Context, at time.Time, cursor string, limit int) ([]*cert.Certificate, string, error) {
	filter := bson.D{{Key: "stSweep", Value: bson.D{{Key: "$lte", Value: at.UTC()}}}}
	if cursor != "" {
		ms, id, ok := strings.Cut(cursor, ".")
		n, err := strconv.ParseInt(ms, 10, 64)
		if !ok || err != nil || id == "" {
			return nil, "", cert.Invalid("cursor", "must be a cursor returned by SweepDue")
		}
		t := time.UnixMilli(n).UTC()
		filter = append(filter, bson.E{Key: "$or", Value: bson.A{
			bson.D{{Key: "stSweep", Value: bson.D{{Key: "$gt", Value: t}}}},
			bson.D{{Key: "stSweep", Value: t}, {Key: "_id", Value: bson.D{{Key: "$gt", Value: id}}}},
		}})
	}
	if limit <= 0 {
		limit = 500
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	page, last, err := s.findPage(ctx, "sweep due", filter, bson.D{{Key: "stSweep", Value: 1}, {Key: "_id", Value: 1}}, limit)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if last != nil {
		if last.Body.StSweep == nil {
			return nil, "", fmt.Errorf("sweep due: document %s without stSweep: %w", last.ID, cert.ErrUnavailable)
		}
		next = strconv.FormatInt(last.Body.StSweep.UnixMilli(), 10) + "." + last.ID
	}
	return page, next, nil
}

// DeferSweep sets stSweep with an update conditional on the version; see
// store.StatusIndex.
func (s *Store) DeferSweep(ctx context.Context, id string, version int64, until time.Time) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.certs.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: id}, {Key: "version", Value: version}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "stSweep", Value: markTime(until)}}}})
	return translate("defer sweep of "+id, err)
}
