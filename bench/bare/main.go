// Command bare is the baseline of the load benchmarks: an echo server whose
// handlers do the least a real one could, so that certd's throughput can be
// read against it on the same machine in the same run.
package main

import (
	"crypto/ed25519"
	"encoding/base64"
	"flag"
	"io"
	"log"
	"net/http"
	"strings"

	"github.com/labstack/echo/v5"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	pubB64 := flag.String("ed25519-public", "", "base64url Ed25519 public key for /ed25519")
	flag.Parse()
	pub, err := base64.RawURLEncoding.DecodeString(*pubB64)
	if err != nil {
		log.Fatal(err)
	}
	e := echo.New()
	// A JSON handler: the floor of any JSON endpoint.
	e.GET("/json/:id", func(c *echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"verdict": "valid", "id": c.Param("id")})
	})
	// A handler that only runs ed25519.Verify on the presented token.
	e.POST("/ed25519", func(c *echo.Context) error {
		b, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		tok := strings.TrimSpace(string(b))
		i := strings.LastIndexByte(tok, '.')
		sig, err := base64.RawURLEncoding.DecodeString(tok[i+1:])
		if err != nil {
			return err
		}
		ok := ed25519.Verify(ed25519.PublicKey(pub), []byte(tok[:i]), sig)
		return c.JSON(http.StatusOK, map[string]bool{"ok": ok})
	})
	log.Fatal(http.ListenAndServe(*addr, e))
}
