package issuer

import (
	"context"
	"sync"
	"time"
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

// positionBlocks holds, per issuer, the rest of the last reserved block
// and the next block, reserved ahead (see reservePositions).
type positionBlocks struct {
	mu    sync.Mutex
	left  map[string]positionRange
	spare map[string]positionRange
	// refill holds, per issuer, a channel closed when the reservation of
	// the next block in progress ends.
	refill map[string]chan struct{}
}

// positionRange is the reserved sequence values [next, end).
type positionRange struct{ next, end int64 }

// refillTimeout bounds the reservation of a block ahead, which runs
// outside any request.
const refillTimeout = 30 * time.Second

// reservePositions reserves n consecutive status-position sequence values
// of an issuer and returns the first (1-based, as NextSequence). When half
// of a block is used, the next one is reserved in the background, so that
// concurrent requests do not all wait for the commit of a new block when
// one runs out.
func (s *Service) reservePositions(ctx context.Context, issuerID string, n int64) (int64, error) {
	counter := "status/" + issuerID
	if n >= positionBlock {
		return s.st.NextSequence(ctx, counter, n)
	}
	b := &s.positions
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.left == nil {
		b.left, b.spare, b.refill = map[string]positionRange{}, map[string]positionRange{}, map[string]chan struct{}{}
	}
	for {
		if r := b.left[issuerID]; r.end-r.next >= n {
			first := r.next
			r.next += n
			b.left[issuerID] = r
			if r.end-r.next < positionBlock/2 {
				s.reserveAhead(issuerID, counter)
			}
			return first, nil
		}
		if r, ok := b.spare[issuerID]; ok {
			delete(b.spare, issuerID)
			b.left[issuerID] = r
			continue
		}
		if done := b.refill[issuerID]; done != nil {
			b.mu.Unlock()
			select {
			case <-done:
			case <-ctx.Done():
			}
			b.mu.Lock()
			if err := ctx.Err(); err != nil {
				return 0, err
			}
			continue
		}
		first, err := s.st.NextSequence(ctx, counter, positionBlock)
		if err != nil {
			return 0, err
		}
		b.left[issuerID] = positionRange{next: first, end: first + positionBlock}
	}
}

// reserveAhead reserves the issuer's next block in the background unless
// one is reserved or on its way. The caller holds s.positions.mu. A failed
// reservation leaves no block: the request that needs one then reserves
// it itself and sees the error.
func (s *Service) reserveAhead(issuerID, counter string) {
	b := &s.positions
	if _, ok := b.spare[issuerID]; ok || b.refill[issuerID] != nil {
		return
	}
	done := make(chan struct{})
	b.refill[issuerID] = done
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), refillTimeout)
		defer cancel()
		first, err := s.st.NextSequence(ctx, counter, positionBlock)
		b.mu.Lock()
		defer b.mu.Unlock()
		if err == nil {
			b.spare[issuerID] = positionRange{next: first, end: first + positionBlock}
		}
		delete(b.refill, issuerID)
		close(done)
	}()
}
