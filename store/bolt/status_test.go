package bolt

import (
	"bytes"
	"testing"
	"time"

	"github.com/certd/certd/store"
)

// TestMarkFormats reads marks in the form written before sweep instants
// existed (bits, then the watch if any) and in the current one.
func TestMarkFormats(t *testing.T) {
	watch := time.Date(2027, 11, 27, 0, 0, 0, 0, time.UTC)
	sweep := time.Date(2027, 3, 1, 9, 30, 0, 5, time.UTC)
	for _, tc := range []struct {
		name         string
		stored       []byte
		bits         byte
		watch, sweep []byte
	}{
		{"empty", []byte{}, 0, nil, nil},
		{"v1/bits", []byte{markSuspended}, markSuspended, nil, nil},
		{"v1/watch", append([]byte{markRevoked}, timeKey(watch)...), markRevoked, timeKey(watch), nil},
		{"v2/watch", encodeMark(store.StatusMark{Suspended: true, Watch: watch}), markSuspended, timeKey(watch), nil},
		{"v2/sweep", encodeMark(store.StatusMark{Sweep: sweep}), 0, nil, timeKey(sweep)},
		{"v2/all", encodeMark(store.StatusMark{Revoked: true, Suspended: true, Watch: watch, Sweep: sweep}), markBits, timeKey(watch), timeKey(sweep)},
	} {
		bits, w, s := splitMark(tc.stored)
		if bits != tc.bits || !bytes.Equal(w, tc.watch) || !bytes.Equal(s, tc.sweep) {
			t.Errorf("%s: splitMark(%x) = %d, %x, %x; want %d, %x, %x", tc.name, tc.stored, bits, w, s, tc.bits, tc.watch, tc.sweep)
		}
	}
}
