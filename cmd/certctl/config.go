package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// defaultServer is where certctl looks for certd when nothing says
// otherwise: the address "go run ./cmd/certd" serves on.
const defaultServer = "http://localhost:8080"

// Output formats.
const (
	outputTable = "table"
	outputJSON  = "json"
)

// globalFlagNames are the connection flags every command accepts.
var globalFlagNames = map[string]bool{"server": true, "token": true, "config": true, "output": true, "timeout": true}

// setString is a string flag that remembers whether it was given, so that
// a flag wins over the environment, which wins over the config file.
type setString struct {
	val string
	set bool
}

func (s *setString) String() string {
	if s == nil {
		return ""
	}
	return s.val
}

func (s *setString) Set(v string) error {
	s.val, s.set = v, true
	return nil
}

// globals are the connection settings, resolved from flags, CERTD_*
// variables and the config file, in that order of precedence.
type globals struct {
	server, token, config, output setString
	timeout                       time.Duration

	// Resolved values.
	Server  *url.URL
	Token   string
	Output  string
	Timeout time.Duration
	// ServerSource says where Server came from, for error messages.
	ServerSource string
	// TokenSource says where Token came from.
	TokenSource string
	// warnings are printed once by the first command that connects.
	warnings []string
}

func newGlobals() *globals { return &globals{timeout: 30 * time.Second} }

// register adds the connection flags to fs; the same variables back them on
// the top-level and the command's flag set, so either position works.
func (g *globals) register(fs *flag.FlagSet) {
	fs.Var(&g.server, "server", "certd base `URL` ($CERTD_SERVER, config \"server\"; default "+defaultServer+")")
	fs.Var(&g.token, "token", "API `key` ($CERTD_TOKEN, config \"token\")")
	fs.Var(&g.config, "config", "config `FILE`, JSON {\"server\": ..., \"token\": ...} (default ~/.config/certctl/config.json)")
	fs.Var(&g.output, "output", "`format` of the output: table or json")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "`duration` allowed for each HTTP request, e.g. 30s")
}

// fileConfig is the config file.
type fileConfig struct {
	Server string `json:"server"`
	Token  string `json:"token"`
}

// configPath returns the config file to read and whether the user named it.
func (g *globals) configPath(getenv func(string) string) (string, bool) {
	if g.config.set {
		return g.config.val, true
	}
	if p := getenv("CERTCTL_CONFIG"); p != "" {
		return p, true
	}
	dir := getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := getenv("HOME")
		if home == "" {
			home = getenv("USERPROFILE")
		}
		if home == "" {
			return "", false
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "certctl", "config.json"), false
}

// resolve fills the resolved values.
func (g *globals) resolve(getenv func(string) string) error {
	var fc fileConfig
	path, explicit := g.configPath(getenv)
	if path != "" {
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			dec := json.NewDecoder(bytes.NewReader(b))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&fc); err != nil {
				return fmt.Errorf("config file %s: %v (expected {\"server\": \"https://...\", \"token\": \"certd_...\"})", path, err)
			}
			if fc.Token != "" {
				if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
					g.warnings = append(g.warnings, fmt.Sprintf("config file %s holds an API key and is readable by others: chmod 600 %s", path, path))
				}
			}
		case errors.Is(err, fs.ErrNotExist) && !explicit:
		default:
			return fmt.Errorf("config file: %v", err)
		}
	}
	pick := func(flag setString, env, file, def, name string) (string, string) {
		switch {
		case flag.set:
			return flag.val, "--" + name
		case getenv(env) != "":
			return getenv(env), "$" + env
		case file != "":
			return file, "config file " + path
		}
		return def, "default"
	}
	server, src := pick(g.server, "CERTD_SERVER", fc.Server, defaultServer, "server")
	u, err := parseServer(server)
	if err != nil {
		return fmt.Errorf("server (from %s): %v", src, err)
	}
	g.Server, g.ServerSource = u, src
	g.Token, g.TokenSource = pick(g.token, "CERTD_TOKEN", fc.Token, "", "token")
	g.Token = strings.TrimSpace(g.Token)
	if g.Token != "" && u.Scheme == "http" && !isLoopback(u.Hostname()) {
		g.warnings = append(g.warnings, fmt.Sprintf("sending the API key over plain http to %s: use https", u.Host))
	}
	g.Output = outputTable
	if g.output.set {
		g.Output = g.output.val
	}
	if g.Output != outputTable && g.Output != outputJSON {
		return fmt.Errorf("--output: %q must be table or json", g.Output)
	}
	if g.timeout <= 0 {
		return errors.New("--timeout: must be positive, e.g. 30s")
	}
	g.Timeout = g.timeout
	return nil
}

// parseServer checks a server base URL: http or https, a host, no query.
func parseServer(s string) (*url.URL, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "/")
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q must be an http(s) base URL such as https://verify.example.cn", s)
	}
	return u, nil
}

func isLoopback(host string) bool {
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

// jsonOutput reports whether --output json was asked for.
func (a *app) jsonOutput() bool { return a.g.Output == outputJSON }
