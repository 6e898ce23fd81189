package mongo

import (
	"errors"
	"testing"
	"time"

	"github.com/certd/certd/cert"
)

// FuzzListCursor: a listing cursor from outside is refused as
// cert.ErrInvalid or names a position that encodes back to a cursor of the
// same position; a position encodes to a cursor that decodes to it.
func FuzzListCursor(f *testing.F) {
	f.Add(int64(1795737600123), int32(456789), "01HZX3K4Q6V8B0C2D4E6F8G0H2", "")
	f.Add(int64(0), int32(0), "x", "MTIzLjQuaWQ")
	f.Add(int64(-1), int32(999999), ".", "LS0xLjAueA")
	f.Add(int64(1), int32(1), "a.b", "MS4xMDAwMDAwLmE")
	f.Fuzz(func(t *testing.T, millis int64, ns int32, id, cursor string) {
		if ns >= 0 && ns < int32(time.Millisecond) && id != "" {
			p := position{created: time.UnixMilli(millis).UTC(), ns: ns, id: id}
			got, err := decodeCursor(p.encode())
			if err != nil || got != p {
				t.Fatalf("decodeCursor(encode(%+v)) = %+v, %v", p, got, err)
			}
		}
		p, err := decodeCursor(cursor)
		if err != nil {
			if !errors.Is(err, cert.ErrInvalid) {
				t.Fatalf("decodeCursor(%q): %v, want an error matching cert.ErrInvalid", cursor, err)
			}
			return
		}
		if p.id == "" || p.ns < 0 || p.ns >= int32(time.Millisecond) {
			t.Fatalf("decodeCursor(%q) = %+v, outside what encode writes", cursor, p)
		}
		if again, err := decodeCursor(p.encode()); err != nil || again != p {
			t.Fatalf("decodeCursor(%q) = %+v, but its encoding decodes to %+v, %v", cursor, p, again, err)
		}
	})
}

// FuzzSearchCursor: the same for the cursor of a search.
func FuzzSearchCursor(f *testing.F) {
	f.Add(int64(1795737600123), int32(456789), "01HZX3K4Q6V8B0C2D4E6F8G0H2", "")
	f.Add(int64(0), int32(0), "x", "cy4xMjMuNC5pZA")
	f.Add(int64(-1), int32(999999), "a.b", "cy4tMS4wLng")
	f.Fuzz(func(t *testing.T, millis int64, ns int32, id, cursor string) {
		if ns >= 0 && ns < int32(time.Millisecond) && id != "" {
			p := searchPos{created: time.UnixMilli(millis).UTC(), ns: ns, id: id}
			got, err := decodeSearchCursor(encodeSearchCursor(p))
			if err != nil || got != p {
				t.Fatalf("decodeSearchCursor(encode(%+v)) = %+v, %v", p, got, err)
			}
		}
		p, err := decodeSearchCursor(cursor)
		if err != nil {
			if !errors.Is(err, cert.ErrInvalid) {
				t.Fatalf("decodeSearchCursor(%q): %v, want an error matching cert.ErrInvalid", cursor, err)
			}
			return
		}
		if p.id == "" || p.ns < 0 || p.ns >= int32(time.Millisecond) {
			t.Fatalf("decodeSearchCursor(%q) = %+v, outside what encode writes", cursor, p)
		}
		if again, err := decodeSearchCursor(encodeSearchCursor(p)); err != nil || again != p {
			t.Fatalf("decodeSearchCursor(%q) = %+v, but its encoding decodes to %+v, %v", cursor, p, again, err)
		}
	})
}
