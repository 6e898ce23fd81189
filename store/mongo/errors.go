package mongo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/certd/certd/store"
)

// translate turns a driver error into one matching a store sentinel, prefixed
// with the operation: no document is ErrNotFound, a unique index violation
// ErrAlreadyExists, and anything that says the deployment cannot answer now
// (network, timeout, server selection, shutdown, failover, write concern)
// ErrUnavailable. Other errors (a bug, a server that rejects a command) keep
// no sentinel and surface as internal errors.
func translate(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return fmt.Errorf("%s: %w", op, store.ErrNotFound)
	case unavailable(err):
		return fmt.Errorf("%s: %w: %w", op, store.ErrUnavailable, err)
	case mongo.IsDuplicateKeyError(err), isFerretUniqueViolation(err):
		return fmt.Errorf("%s: %w", op, store.ErrAlreadyExists)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// Server error codes that mean "not now" rather than "never": the node is
// shutting down, stepping down or not (yet) primary, or the network failed
// between nodes.
var transientCodes = []int{
	6,     // HostUnreachable
	7,     // HostNotFound
	89,    // NetworkTimeout
	91,    // ShutdownInProgress
	189,   // PrimarySteppedDown
	262,   // ExceededTimeLimit
	9001,  // SocketException
	10107, // NotWritablePrimary
	11600, // InterruptedAtShutdown
	11602, // InterruptedDueToReplStateChange
	13435, // NotPrimaryNoSecondaryOk
	13436, // NotPrimaryOrSecondary
	64,    // WriteConcernFailed (wtimeout)
	100,   // UnsatisfiableWriteConcern
}

func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, mongo.ErrClientDisconnected) ||
		mongo.IsTimeout(err) || mongo.IsNetworkError(err) {
		return true
	}
	var sse topology.ServerSelectionError
	if errors.As(err, &sse) {
		return true
	}
	var ce topology.ConnectionError
	if errors.As(err, &ce) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var le mongo.LabeledError
	if errors.As(err, &le) && (le.HasErrorLabel("RetryableWriteError") || le.HasErrorLabel("TransientTransactionError")) {
		return true
	}
	// A write concern that cannot be satisfied now (no majority reachable)
	// leaves the write's durability unknown: the caller must retry.
	var we mongo.WriteException
	if errors.As(err, &we) && we.WriteConcernError != nil {
		return true
	}
	var bwe mongo.BulkWriteException
	if errors.As(err, &bwe) && bwe.WriteConcernError != nil {
		return true
	}
	var se mongo.ServerError
	if errors.As(err, &se) {
		for _, c := range transientCodes {
			if se.HasErrorCode(c) {
				return true
			}
		}
	}
	return false
}

// isFerretUniqueViolation recognizes how FerretDB v1 reports an update (not
// an insert) that breaks a unique index: an InternalError carrying SQLite's
// message, where MongoDB answers a duplicate key error.
func isFerretUniqueViolation(err error) bool {
	var ce mongo.CommandError
	return errors.As(err, &ce) && ce.Code == 1 && strings.Contains(ce.Message, "UNIQUE constraint failed")
}
