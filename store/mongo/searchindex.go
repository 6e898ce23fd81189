package mongo

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/store"
)

// The search index: every certificate document holds the terms of its
// organization names (store.SearchTerms) in searchTerms, written with the
// document (the same insert, the same $set of the body), indexed by
// idx_search_terms (multikey). searchV says which rule of terms made
// them; Open fills documents written before (or by another rule).
//
// The words of the terms are also listed once each in the collection
// searchwords ({_id: word}), the vocabulary through which a part of a word
// in a search text finds the words that contain it. A word is inserted
// there before the first certificate that has it, so the vocabulary may
// hold a word no certificate has (a write that failed), never lack one.
// The document {_id: vocabularyMarker} says the vocabulary is complete;
// Open rebuilds it from the certificates when it is missing.
const (
	collSearchWords  = "searchwords"
	idxSearchTerms   = "idx_search_terms"
	searchTermsV     = 2              // 2: with the junctions of words
	vocabularyMarker = "#complete-v1" // not a word: words are [a-z0-9]
	// maxExpansion bounds the stored words a part of a word may stand for;
	// a part in more words is left to the regular expression.
	maxExpansion = 256
)

// setSearchTerms fills the search fields of b from its names.
func setSearchTerms(b *certBody) {
	b.SearchTerms = store.SearchTerms(b.Organization.Name, b.Organization.NameEn)
	b.SearchV = searchTermsV
}

// knownWords remembers the words this process has seen stored in the
// vocabulary, so that a write with only known words costs no round trip.
type knownWords struct{ m sync.Map }

// addWords inserts the words among terms that this process has not seen
// stored yet into the vocabulary.
func (s *Store) addWords(ctx context.Context, terms ...[]string) error {
	var docs []any
	var fresh []string
	seen := map[string]bool{}
	for _, ts := range terms {
		for _, t := range ts {
			if !store.IsWordTerm(t) || seen[t] {
				continue
			}
			seen[t] = true
			if _, ok := s.words.m.Load(t); !ok {
				docs = append(docs, bson.D{{Key: "_id", Value: t}})
				fresh = append(fresh, t)
			}
		}
	}
	if len(docs) == 0 {
		return nil
	}
	_, err := s.searchWords.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	if err != nil && errors.As(err, &bwe) && bwe.WriteConcernError == nil {
		for _, we := range bwe.WriteErrors {
			if !errors.Is(translate("add search word", we.WriteError), store.ErrAlreadyExists) {
				return translate("add search words", err)
			}
		}
		err = nil
	}
	if err != nil {
		return translate("add search words", err)
	}
	for _, w := range fresh {
		s.words.m.Store(w, true)
	}
	return nil
}

// expandWord returns the stored words that satisfy c, and false when
// there are more than maxExpansion.
func (s *Store) expandWord(ctx context.Context, c store.WordCondition) ([]string, bool, error) {
	q := regexp.QuoteMeta(c.Word)
	switch c.Part {
	case store.WholeWord:
		return []string{c.Word}, true, nil
	case store.WordPrefix:
		q = "^" + q
	case store.WordSuffix:
		q += "$"
	}
	cur, err := s.searchWords.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$regex", Value: q}}}},
		options.Find().SetLimit(maxExpansion+2).SetProjection(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, false, translate("search words", err)
	}
	var docs []struct {
		ID string `bson:"_id"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		return nil, false, translate("search words", err)
	}
	var out []string
	for _, d := range docs {
		if d.ID != vocabularyMarker && c.Matches(d.ID) {
			out = append(out, d.ID)
		}
	}
	if len(out) > maxExpansion {
		return nil, false, nil
	}
	return out, true, nil
}

// buildChunk is how many documents one step of ensureSearchIndex reads.
const buildChunk = 1000

// ensureSearchIndex fills the search terms of the documents written
// without them (or by another rule), each with a conditional update on
// its version so that a concurrent write, which sets its own terms, wins;
// and rebuilds the vocabulary when its marker is missing.
func (s *Store) ensureSearchIndex(ctx context.Context) error {
	err := s.searchWords.FindOne(ctx, bson.D{{Key: "_id", Value: vocabularyMarker}}).Err()
	vocabulary := errors.Is(err, mongo.ErrNoDocuments)
	if err != nil && !vocabulary {
		return translate("read the vocabulary marker", err)
	}
	filter := bson.D{{Key: "searchV", Value: bson.D{{Key: "$ne", Value: searchTermsV}}}}
	if vocabulary {
		filter = bson.D{} // every document gives its words
	}
	proj := bson.D{{Key: "organization.name", Value: 1}, {Key: "organization.nameEn", Value: 1}, {Key: "version", Value: 1}, {Key: "searchV", Value: 1}}
	cur, err := s.certs.Find(ctx, filter, options.Find().SetProjection(proj).SetBatchSize(buildChunk))
	if err != nil {
		return translate("find documents without search terms", err)
	}
	defer cur.Close(ctx)
	var words [][]string
	for cur.Next(ctx) {
		var d struct {
			ID           string `bson:"_id"`
			Organization orgDoc `bson:"organization"`
			Version      int64  `bson:"version"`
			SearchV      int32  `bson:"searchV"`
		}
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("decode certificate for search terms: %w", err)
		}
		terms := store.SearchTerms(d.Organization.Name, d.Organization.NameEn)
		words = append(words, terms)
		if len(words) == buildChunk {
			if err := s.addWords(ctx, words...); err != nil {
				return err
			}
			words = words[:0]
		}
		if d.SearchV == searchTermsV {
			continue
		}
		if _, err := s.certs.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}, {Key: "version", Value: d.Version}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "searchTerms", Value: terms}, {Key: "searchV", Value: searchTermsV}}}}); err != nil {
			return translate("set search terms of "+d.ID, err)
		}
	}
	if err := cur.Err(); err != nil {
		return translate("find documents without search terms", err)
	}
	if err := s.addWords(ctx, words...); err != nil {
		return err
	}
	if vocabulary {
		_, err := s.searchWords.UpdateOne(ctx, bson.D{{Key: "_id", Value: vocabularyMarker}},
			bson.D{{Key: "$set", Value: bson.D{{Key: "complete", Value: true}}}}, options.UpdateOne().SetUpsert(true))
		if err != nil && !errors.Is(translate("", err), store.ErrAlreadyExists) {
			return translate("write the vocabulary marker", err)
		}
	}
	return nil
}
