package issuer

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"

	"github.com/certd/certd/cert"
)

// statusPosition maps the n-th allocation (0-based) of an issuer to a status
// list number and an index in it. Positions are handed out without
// replacement: list = n / size + 1, and the index is a keyed pseudo-random
// permutation of n % size, so indexes carry no information about issue
// order (herd privacy) and never collide, with no retries and no lookups.
func statusPosition(key []byte, n int64) (list, index int) {
	list = int(n/cert.StatusListSize) + 1
	return list, permute(key, list, int(n%cert.StatusListSize))
}

// permute is a 4-round Feistel network on 18 bits with cycle walking down to
// the 17-bit list size; each list has its own permutation.
func permute(key []byte, list, x int) int {
	const half = 9
	const mask = 1<<half - 1
	mac := hmac.New(sha256.New, key)
	round := func(r, v int) int {
		var b [12]byte
		binary.BigEndian.PutUint32(b[0:], uint32(list))
		binary.BigEndian.PutUint32(b[4:], uint32(r))
		binary.BigEndian.PutUint32(b[8:], uint32(v))
		mac.Reset()
		mac.Write(b[:])
		return int(binary.BigEndian.Uint16(mac.Sum(nil))) & mask
	}
	for {
		l, r := x>>half, x&mask
		for i := 0; i < 4; i++ {
			l, r = r, l^round(i, r)
		}
		x = l<<half | r
		if x < cert.StatusListSize {
			return x
		}
	}
}
