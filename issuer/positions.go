package issuer

import (
	"context"
	"sync"
)

// positionBlock is how many status-list positions a Service reserves from
// the store at a time for requests that need fewer: one reservation (one
// grouped commit) then serves that many single issues, which otherwise
// make three commits each (position, number, certificate). Positions
// reserved and never used (at a restart) stay free slots of their list,
// which no reader can tell from a list; the store's unique (list, index)
// still stands behind every certificate. Numbers are not reserved ahead:
// a CB reads them, and they should not jump at a restart.
const positionBlock = 64

// positionBlocks holds, per issuer, the rest of the last reserved block.
type positionBlocks struct {
	mu   sync.Mutex
	left map[string]positionRange
}

// positionRange is the reserved sequence values [next, end).
type positionRange struct{ next, end int64 }

// reservePositions reserves n consecutive status-position sequence values
// of an issuer and returns the first (1-based, as NextSequence).
func (s *Service) reservePositions(ctx context.Context, issuerID string, n int64) (int64, error) {
	counter := "status/" + issuerID
	if n >= positionBlock {
		return s.st.NextSequence(ctx, counter, n)
	}
	b := &s.positions
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.left[issuerID]
	if r.end-r.next < n {
		first, err := s.st.NextSequence(ctx, counter, positionBlock)
		if err != nil {
			return 0, err
		}
		r = positionRange{next: first, end: first + positionBlock}
	}
	first := r.next
	r.next += n
	if b.left == nil {
		b.left = map[string]positionRange{}
	}
	b.left[issuerID] = r
	return first, nil
}
