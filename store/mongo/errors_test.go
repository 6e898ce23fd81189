package mongo

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/certd/certd/store"
)

func TestTranslate(t *testing.T) {
	dup := mongo.WriteError{Code: 11000, Message: "E11000 duplicate key error"}
	cases := []struct {
		name string
		err  error
		want error // nil: no sentinel
	}{
		{"ok/nil", nil, nil},
		{"notfound/no-documents", mongo.ErrNoDocuments, store.ErrNotFound},
		{"exists/write-exception", mongo.WriteException{WriteErrors: mongo.WriteErrors{dup}}, store.ErrAlreadyExists},
		{"exists/write-error", dup, store.ErrAlreadyExists},
		{"exists/command", mongo.CommandError{Code: 11000}, store.ErrAlreadyExists},
		{"exists/ferretdb-update", mongo.CommandError{Code: 1, Name: "InternalError",
			Message: "constraint failed: UNIQUE constraint failed: index 'apikeys_f2bcdd77_uniq_hash' (2067)"}, store.ErrAlreadyExists},
		{"internal/ferretdb-other", mongo.CommandError{Code: 1, Name: "InternalError", Message: "disk I/O error"}, nil},
		{"unavailable/deadline", fmt.Errorf("x: %w", context.DeadlineExceeded), store.ErrUnavailable},
		{"unavailable/canceled", context.Canceled, store.ErrUnavailable},
		{"unavailable/server-selection", topology.ServerSelectionError{Wrapped: errors.New("no server")}, store.ErrUnavailable},
		{"unavailable/connection", topology.ConnectionError{Wrapped: errors.New("refused")}, store.ErrUnavailable},
		{"unavailable/disconnected", mongo.ErrClientDisconnected, store.ErrUnavailable},
		{"unavailable/network-label", mongo.CommandError{Code: 1, Labels: []string{"NetworkError"}}, store.ErrUnavailable},
		{"unavailable/shutdown", mongo.CommandError{Code: 91, Name: "ShutdownInProgress"}, store.ErrUnavailable},
		{"unavailable/not-primary", mongo.CommandError{Code: 10107, Name: "NotWritablePrimary"}, store.ErrUnavailable},
		{"unavailable/write-concern", mongo.WriteException{WriteConcernError: &mongo.WriteConcernError{Code: 64}}, store.ErrUnavailable},
		{"unavailable/bulk-write-concern", mongo.BulkWriteException{WriteConcernError: &mongo.WriteConcernError{Code: 100}}, store.ErrUnavailable},
		{"internal/bad-command", mongo.CommandError{Code: 2, Name: "BadValue"}, nil},
		{"internal/other", errors.New("boom"), nil},
	}
	sentinels := []error{store.ErrNotFound, store.ErrAlreadyExists, store.ErrConflict, store.ErrUnavailable}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := translate("op", tc.err)
			if tc.err == nil {
				if got != nil {
					t.Fatalf("translate(nil) = %v, want nil", got)
				}
				return
			}
			if got == nil {
				t.Fatalf("translate(%v) = nil", tc.err)
			}
			for _, s := range sentinels {
				if errors.Is(got, s) != (s == tc.want) {
					t.Errorf("translate(%v) = %v: errors.Is(%v) = %v, want %v", tc.err, got, s, !(s == tc.want), s == tc.want)
				}
			}
		})
	}
}
