package mongo_test

import (
	"context"
	"slices"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/mongo/mongotest"
	"github.com/certd/certd/store/storetest"
)

// TestSearchMatchesScan compares the indexed search with a full scan on a
// randomized store; 1,000 certificates and 20 queries (and the fixed
// ones), fewer than on bbolt: the embedded FerretDB behind the test proxy
// reads every document for each query and each update, and 10,000
// certificates took more than half an hour before an update timed out.
func TestSearchMatchesScan(t *testing.T) {
	if testing.Short() {
		t.Skip("slow on FerretDB")
	}
	storetest.SearchMatchesScan(t, mongotest.Open(t), 1_000, 20, 2)
}

// TestSearchTermsFilledAtOpen removes searchTerms from stored documents
// and the vocabulary, as in a database written before the index, and
// checks that the next Open writes them again and searches find the same.
func TestSearchTermsFilledAtOpen(t *testing.T) {
	uri := mongotest.URI(t)
	s := mongotest.OpenURI(t, uri)
	var cs []*cert.Certificate
	for i := range 12 {
		c := storetest.NewCertificate(t, "issuer-a")
		c.Organization.Name = []string{"补写检索有限公司", "其他名称公司"}[i%2]
		c.Organization.NameEn = []string{"Backfilled Terms Ltd.", "Other Name Co."}[i%2]
		cs = append(cs, c)
	}
	if errs, err := s.CreateCertificates(t.Context(), cs); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	texts := []string{"检索", "补", "backfilled terms", "ackfill", "其他名称公司", "不存在"}
	search := func() map[string][]string {
		got := map[string][]string{}
		for _, text := range texts {
			page, _, err := s.Search(t.Context(), store.SearchQuery{Text: text, Limit: 50})
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range page {
				got[text] = append(got[text], c.ID)
			}
		}
		return got
	}
	before := search()
	if len(before["检索"]) != 6 || len(before["其他名称公司"]) != 6 {
		t.Fatalf("before: %v, want 6 of each name", before)
	}

	client, err := driver.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(context.Background())
	coll := client.Database(databaseOf(t, uri)).Collection("certificates")
	if _, err := coll.UpdateMany(t.Context(), bson.D{}, bson.D{{Key: "$unset", Value: bson.D{{Key: "searchTerms", Value: ""}, {Key: "searchV", Value: ""}}}}); err != nil {
		t.Fatal(err)
	}
	if err := client.Database(databaseOf(t, uri)).Collection("searchwords").Drop(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := search(); len(got["检索"]) != 0 {
		t.Fatalf("without searchTerms the search still finds %v: the terms are not used", got["检索"])
	}

	s = mongotest.OpenURI(t, uri)
	got := search()
	for _, text := range texts {
		if !slices.Equal(got[text], before[text]) {
			t.Errorf("Search(%q) after Open = %v, want %v", text, got[text], before[text])
		}
	}
	n, err := coll.CountDocuments(t.Context(), bson.D{{Key: "searchTerms", Value: bson.D{{Key: "$exists", Value: false}}}})
	if err != nil || n != 0 {
		t.Errorf("%d documents without searchTerms after Open (%v), want 0", n, err)
	}
}
