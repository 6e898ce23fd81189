package bolt

import (
	"encoding/binary"
	"math"
	"testing"
)

// TestOutboxValues: values round-trip, an entry waiting for its first
// lease takes 3 bytes, and values of the fixed-width form written before
// still decode.
func TestOutboxValues(t *testing.T) {
	for _, v := range []outboxValue{
		{version: 1},
		{version: 7, until: 1_795_737_600_123_456_789, owner: "instance-7f3a"},
		{version: math.MaxInt64, until: -1, owner: "x"},
	} {
		got, err := decodeOutbox(v.encode())
		if err != nil || got != v {
			t.Errorf("%+v read back as %+v, %v", v, got, err)
		}
		old := binary.BigEndian.AppendUint64(nil, uint64(v.version))
		old = binary.BigEndian.AppendUint64(old, uint64(v.until))
		old = append(old, v.owner...)
		if got, err := decodeOutbox(old); err != nil || got != v {
			t.Errorf("%+v in the earlier form read back as %+v, %v", v, got, err)
		}
	}
	if n := len(outboxValue{version: 3}.encode()); n != 3 {
		t.Errorf("an unleased entry takes %d bytes, want 3", n)
	}
	for _, bad := range [][]byte{nil, {outboxCompact}, {outboxCompact, 2}, {outboxCompact, 0x80}, make([]byte, 15)} {
		if v, err := decodeOutbox(bad); err == nil {
			t.Errorf("decodeOutbox(%x) = %+v, want an error", bad, v)
		}
	}
}
