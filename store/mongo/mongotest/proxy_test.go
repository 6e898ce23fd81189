package mongotest

import (
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.mongodb.org/mongo-driver/v2/mongo/writeconcern"
)

// Through the proxy, find-and-modify $inc from many connections at once
// hands out every value once (FerretDB v1 alone hands out some twice), and
// an unacknowledged write (moreToCome, no reply) leaves the connection
// usable.
func TestSerialProxy(t *testing.T) {
	srv := Start(t)
	uri := srv.DatabaseURI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	client, err := driver.Connect(options.Client().ApplyURI(uri).SetMaxPoolSize(32))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db := client.Database(databaseOf(uri))
	coll := db.Collection("counters")

	const workers, each = 16, 20
	var (
		mu   sync.Mutex
		seen = map[int64]int{}
		errs []error
		wg   sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				var d struct{ Value int64 }
				err := coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: "n"}},
					bson.D{{Key: "$inc", Value: bson.D{{Key: "value", Value: 1}}}},
					options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&d)
				mu.Lock()
				if err != nil && !driver.IsDuplicateKeyError(err) { // two first upserts: one loses
					errs = append(errs, err)
				} else if err == nil {
					seen[d.Value]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		t.Fatal(err)
	}
	for v, n := range seen {
		if n > 1 {
			t.Errorf("value %d handed out %d times", v, n)
		}
	}
	var final struct{ Value int64 }
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: "n"}}).Decode(&final); err != nil {
		t.Fatal(err)
	}
	if int(final.Value) != len(seen) {
		t.Errorf("counter at %d after %d distinct values", final.Value, len(seen))
	}

	unacked := db.Collection("fire", options.Collection().SetWriteConcern(writeconcern.Unacknowledged()))
	for i := range 5 {
		if _, err := unacked.InsertOne(ctx, bson.D{{Key: "i", Value: i}}); err != nil {
			t.Fatalf("unacknowledged insert: %v", err)
		}
	}
	if err := client.Ping(ctx, nil); err != nil {
		t.Fatalf("ping after unacknowledged writes: %v", err)
	}
}

// databaseOf returns the database name of a URI from DatabaseURI.
func databaseOf(uri string) string {
	return uri[strings.LastIndex(uri, "/")+1:]
}

func TestReadMessage(t *testing.T) {
	msg := func(length, op uint32, body int) []byte {
		b := make([]byte, headerLen+body)
		binary.LittleEndian.PutUint32(b[0:], length)
		binary.LittleEndian.PutUint32(b[12:], op)
		return b
	}
	cases := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"ok/op-msg", msg(headerLen+5, opMsg, 5), true},
		{"ok/op-query", msg(headerLen+1, opQuery, 1), true},
		{"fail/shorter-than-header", msg(4, opMsg, 0), false},
		{"fail/too-long", msg(maxMessage+1, opMsg, 0), false},
		{"fail/compressed", msg(headerLen, opCompressed, 0), false},
		{"fail/unknown-opcode", msg(headerLen, 2010, 0), false},
		{"fail/truncated", msg(headerLen+10, opMsg, 3), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := readMessage(bytes.NewReader(tc.in))
			if tc.ok && (err != nil || !bytes.Equal(got, tc.in)) {
				t.Errorf("readMessage = %d bytes, %v; want the message", len(got), err)
			}
			if !tc.ok && err == nil {
				t.Errorf("readMessage accepted %d bytes", len(got))
			}
		})
	}
}
