package notify

import "time"

// Outcome is what one delivery attempt means for the delivery.
type Outcome int

// Outcomes of an attempt.
const (
	// Delivered: the receiver answered 2xx; the delivery is done.
	Delivered Outcome = iota + 1
	// Retry: an error, a timeout or any other status; try again later.
	Retry
	// Gone: the receiver answered 410 Gone; the endpoint is disabled.
	Gone
)

// Classify returns the outcome of an attempt that answered resp or
// failed with err.
func Classify(resp *Response, err error) Outcome {
	switch {
	case err != nil || resp == nil:
		return Retry
	case resp.Status >= 200 && resp.Status <= 299:
		return Delivered
	case resp.Status == 410:
		return Gone
	default:
		return Retry
	}
}

// The retry schedule: after the n-th failed attempt the next comes
// backoff[n-1] later, then every steadyInterval, each delay lengthened by
// up to a tenth (jitter, so that deliveries failed together spread out);
// none starts later than MaxAge after the delivery was created.
var backoff = []time.Duration{
	5 * time.Second,
	30 * time.Second,
	2 * time.Minute,
	10 * time.Minute,
	30 * time.Minute,
	2 * time.Hour,
}

const (
	steadyInterval = 6 * time.Hour
	// MaxAge is how long a delivery is retried after it was created.
	MaxAge = 72 * time.Hour
)

// NextAttempt returns when a delivery created at created, whose attempts
// failed attempts (>= 1) ended with the last at now, is tried again; ok
// is false when the delivery gives up (the next attempt would start more
// than MaxAge after creation). r in [0, 1) picks the jitter; a caller
// passes a random number, a test a fixed one.
func NextAttempt(created, now time.Time, attempts int, r float64) (next time.Time, ok bool) {
	d := steadyInterval
	if attempts >= 1 && attempts <= len(backoff) {
		d = backoff[attempts-1]
	}
	r = min(max(r, 0), 1)
	d += time.Duration(float64(d) / 10 * r)
	next = now.Add(d)
	if next.Sub(created) > MaxAge {
		return time.Time{}, false
	}
	return next, true
}
