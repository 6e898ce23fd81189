package mongotest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// FerretDB v1 executes findAndModify and conditional updates as a read
// followed by a write, not atomically across connections, where MongoDB
// executes each command atomically on a document. serialProxy stands
// between the clients and FerretDB and lets one command at a time reach it,
// whatever connection it came on: a command and its reply run with no
// other command in between, so each command is atomic, as on MongoDB.
// Nothing more is serialized: code that needs two commands to be one step
// still races between them here, as it would on MongoDB.

// Wire protocol constants (MongoDB wire protocol, "Standard Message Header").
const (
	headerLen = 16
	// maxMessage is MongoDB's maxMessageSizeBytes.
	maxMessage = 48_000_000

	opReply      = 1
	opQuery      = 2004
	opCompressed = 2012
	opMsg        = 2013

	flagChecksumPresent = 1 << 0
	flagMoreToCome      = 1 << 1
	flagExhaustAllowed  = 1 << 16
)

// serialProxy relays MongoDB wire messages from the clients that connect to
// its listener to a backend, one command at a time across all connections.
type serialProxy struct {
	ln      net.Listener
	backend string // host:port

	// turn is held from the moment a command is sent to the backend until
	// its reply is read: the one command executing.
	turn sync.Mutex

	// latency delays every command before it queues for its turn, as
	// a network between client and server would (SetLatency).
	latency atomic.Int64

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// newSerialProxy listens on addr and relays to backend until Close.
func newSerialProxy(addr, backend string) (*serialProxy, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &serialProxy{ln: ln, backend: backend, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the address the proxy listens on.
func (p *serialProxy) Addr() string { return p.ln.Addr().String() }

// Close stops listening, closes every connection in both directions and
// returns when the relays have ended.
func (p *serialProxy) Close() {
	p.mu.Lock()
	p.closed = true
	_ = p.ln.Close()
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// track registers c to be closed by Close; false when the proxy is closed.
func (p *serialProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *serialProxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

func (p *serialProxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(client) {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(client)
			server, err := net.Dial("tcp", p.backend)
			if err != nil {
				return // the client sees its connection closed
			}
			if !p.track(server) {
				return
			}
			defer p.untrack(server)
			_ = p.relay(client, server)
		}()
	}
}

// relay passes the commands of one client connection to its backend
// connection, and the replies back, until either side closes.
func (p *serialProxy) relay(client, server net.Conn) error {
	for {
		msg, err := readMessage(client)
		if err != nil {
			return err
		}
		replies, err := p.execute(server, msg)
		if err != nil {
			return err
		}
		for _, r := range replies {
			if _, err := client.Write(r); err != nil {
				return err
			}
		}
	}
}

// execute sends one request to the backend and reads its replies while
// no other request executes. A request flagged moreToCome (an
// unacknowledged write) has no reply. Exhaust is turned off (the
// exhaustAllowed flag cleared), so one request has exactly one reply and
// the backend never streams replies while another command runs; should
// a reply still say moreToCome, the following ones are read too.
func (p *serialProxy) execute(server net.Conn, msg []byte) ([][]byte, error) {
	op := binary.LittleEndian.Uint32(msg[12:16])
	expectReply := true
	if op == opMsg && len(msg) >= headerLen+4 {
		flags := binary.LittleEndian.Uint32(msg[headerLen:])
		if flags&flagChecksumPresent == 0 && flags&flagExhaustAllowed != 0 {
			binary.LittleEndian.PutUint32(msg[headerLen:], flags&^flagExhaustAllowed)
		}
		expectReply = flags&flagMoreToCome == 0
	}
	if d := time.Duration(p.latency.Load()); d > 0 {
		time.Sleep(d)
	}
	p.turn.Lock()
	defer p.turn.Unlock()
	if _, err := server.Write(msg); err != nil {
		return nil, err
	}
	var replies [][]byte
	for expectReply {
		r, err := readMessage(server)
		if err != nil {
			return nil, err
		}
		replies = append(replies, r)
		expectReply = binary.LittleEndian.Uint32(r[12:16]) == opMsg && len(r) >= headerLen+4 &&
			binary.LittleEndian.Uint32(r[headerLen:])&flagMoreToCome != 0
	}
	return replies, nil
}

// readMessage reads one whole wire message: the header's first field is
// the length of the message, header included.
func readMessage(r io.Reader) ([]byte, error) {
	var h [headerLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	n := binary.LittleEndian.Uint32(h[:4])
	if n < headerLen || n > maxMessage {
		return nil, fmt.Errorf("wire message of %d bytes", n)
	}
	switch op := binary.LittleEndian.Uint32(h[12:16]); op {
	case opMsg, opQuery, opReply:
	case opCompressed:
		return nil, errors.New("compressed wire messages are not relayed (FerretDB does not offer compression)")
	default:
		return nil, fmt.Errorf("wire message with opcode %d", op)
	}
	msg := make([]byte, n)
	copy(msg, h[:])
	if _, err := io.ReadFull(r, msg[headerLen:]); err != nil {
		return nil, err
	}
	return msg, nil
}
