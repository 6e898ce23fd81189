// Command mongotestd runs the MongoDB test server of certd as a process of
// its own: an embedded FerretDB v1 (SQLite backend) behind a proxy that
// executes one wire command at a time across all connections, so that
// every command is atomic as on MongoDB. It listens on 127.0.0.1, prints
// its URI on one line of standard output when it accepts connections, and
// stops on SIGTERM or SIGINT. Several certd processes pointed at it test
// what MongoDB guarantees, not what one process's locks would.
//
//	go run ./store/mongo/mongotest/cmd/mongotestd -port 27017 -data-dir /tmp/certd-mongo
//	CERTD_TEST_MONGO_URI=mongodb://127.0.0.1:27017/ go test ./store/mongo/... ./cmd/certd
//
// -direct leaves the proxy out, to show what FerretDB alone does with
// concurrent updates. It is a test tool: never store data worth keeping.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/certd/certd/store/mongo/mongotest"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "mongotestd:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("mongotestd", flag.ContinueOnError)
	port := fs.Int("port", 0, "TCP port to listen on at 127.0.0.1 (0: a free one, printed in the URI)")
	dataDir := fs.String("data-dir", "", "directory of the SQLite files (default: a new temporary directory, removed at exit)")
	direct := fs.Bool("direct", false, "no serializing proxy: FerretDB itself listens (its updates are then not atomic)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *port < 0 || *port > 65535 {
		return fmt.Errorf("-port %d: must be 0 to 65535", *port)
	}
	dir := *dataDir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "mongotestd-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	srv, err := mongotest.Listen(dir, net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)), *direct)
	if err != nil {
		return fmt.Errorf("start: %w", err)
	}
	fmt.Println(srv.URI())
	<-ctx.Done()
	srv.Stop()
	return nil
}
