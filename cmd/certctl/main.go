package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Exit codes. verify uses 0 valid, 1 invalid, 2 unknown or error; every
// other command 0 success, 1 failure, 2 usage error.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// Verdict exit codes of verify.
const (
	exitValid   = 0
	exitInvalid = 1
	exitUnknown = 2
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv)
	stop()
	os.Exit(code)
}

// app is one invocation of certctl: its streams, environment and the
// connection settings common to every command.
type app struct {
	ctx    context.Context
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	now    func() time.Time
	g      *globals
}

// run executes certctl with args (without the program name) and returns the
// exit code. Tests call it in-process.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	// Everything certctl prints for people may hold text from outside.
	stdout, stderr = escapeWriter(stdout), escapeWriter(stderr)
	a := &app{ctx: ctx, stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, now: time.Now, g: newGlobals()}
	top := flag.NewFlagSet("certctl", flag.ContinueOnError)
	top.SetOutput(io.Discard)
	a.g.register(top)
	if err := top.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			a.usage(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "certctl: %v\n\n", err)
		a.usage(stderr)
		return exitUsage
	}
	rest := top.Args()
	if len(rest) == 0 {
		a.usage(stderr)
		return exitUsage
	}
	name, rest := rest[0], rest[1:]
	if name == "help" {
		if len(rest) > 0 {
			if c, _ := lookupCommand(rest); c != nil {
				fs := a.flagSet(c)
				c.setup(fs)
				printUsage(c, fs, stdout)
				return exitOK
			}
		}
		a.usage(stdout)
		return exitOK
	}
	if name == "version" {
		fmt.Fprintln(stdout, "certctl", version())
		return exitOK
	}
	c, rest := lookupCommand(append([]string{name}, rest...))
	if c == nil {
		if verbs := groupVerbs(name); len(verbs) > 0 {
			fmt.Fprintf(stderr, "certctl %s: give one of: %s\n", name, strings.Join(verbs, ", "))
			return exitUsage
		}
		fmt.Fprintf(stderr, "certctl: unknown command %q\n\n", name)
		a.usage(stderr)
		return exitUsage
	}
	fs := a.flagSet(c)
	c.setup(fs)
	pos, err := parseInterleaved(fs, rest)
	if errors.Is(err, flag.ErrHelp) {
		printUsage(c, fs, stdout)
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "certctl %s: %v (see certctl %s -h)\n", c.name, err, c.name)
		return c.usageExit()
	}
	if n := c.args; n.min > len(pos) || (n.max >= 0 && len(pos) > n.max) {
		fmt.Fprintf(stderr, "certctl %s: %s\n", c.name, n.describe(len(pos)))
		fmt.Fprintf(stderr, "usage: certctl %s\n", c.synopsis)
		return c.usageExit()
	}
	if err := a.g.resolve(a.getenv); err != nil {
		fmt.Fprintf(stderr, "certctl: %v\n", err)
		return c.usageExit()
	}
	return c.run(a, pos)
}

// command is one subcommand. setup registers its own flags on the flag set
// that already carries the connection flags; run gets the positional
// arguments.
type command struct {
	name     string
	group    string
	summary  string
	synopsis string
	// details is printed under the synopsis by -h.
	details string
	example string
	args    argCount
	setup   func(fs *flag.FlagSet)
	run     func(a *app, args []string) int
	// verdict marks verify, whose usage errors exit 2 like any error.
	verdict bool
}

func (c *command) usageExit() int {
	if c.verdict {
		return exitUnknown
	}
	return exitUsage
}

// argCount bounds the positional arguments of a command; max -1 is
// unbounded.
type argCount struct {
	min, max int
	what     string
}

func (n argCount) describe(got int) string {
	switch {
	case n.max == 0:
		return fmt.Sprintf("takes no arguments, got %d", got)
	case n.min == n.max:
		return fmt.Sprintf("needs %s, got %d arguments", n.what, got)
	case got < n.min:
		return fmt.Sprintf("needs %s", n.what)
	}
	return fmt.Sprintf("takes at most %d arguments (%s), got %d", n.max, n.what, got)
}

// commands lists every subcommand, in the order of the help text; each
// file defines the commands of its responsibility.
func commands() []*command {
	var all []*command
	all = append(all, issueCommands()...)
	all = append(all, certificateCommands()...)
	all = append(all, lifecycleCommands()...)
	all = append(all, verifyCommands()...)
	all = append(all, reportCommands()...)
	all = append(all, adminCommands()...)
	all = append(all, webhookCommands()...)
	all = append(all, watchCommands()...)
	return all
}

// lookupCommand finds the command named by the first one or two words of
// args ("verify", "issuers create") and returns the remaining arguments.
func lookupCommand(args []string) (*command, []string) {
	all := commands()
	if len(args) >= 2 {
		for _, c := range all {
			if c.name == args[0]+" "+args[1] {
				return c, args[2:]
			}
		}
	}
	for _, c := range all {
		if len(args) >= 1 && c.name == args[0] {
			return c, args[1:]
		}
	}
	return nil, args
}

// groupVerbs lists the verbs of a two-word command group ("issuers").
func groupVerbs(group string) []string {
	var verbs []string
	for _, c := range commands() {
		if g, verb, ok := strings.Cut(c.name, " "); ok && g == group {
			verbs = append(verbs, verb)
		}
	}
	return verbs
}

// flagSet builds the flag set of c with the connection flags.
func (a *app) flagSet(c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("certctl "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	a.g.register(fs)
	// The flag package calls Usage on every parse error; certctl prints
	// its own one-line error instead, and the usage only for -h.
	fs.Usage = func() {}
	return fs
}

// printUsage writes the help of c: synopsis, details, flags and example.
func printUsage(c *command, fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "certctl %s: %s\n\nusage: certctl %s\n", c.name, c.summary, c.synopsis)
	if c.details != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimRight(c.details, "\n"))
	}
	fmt.Fprintf(w, "\nflags:\n")
	printFlags(fs, w)
	fmt.Fprintf(w, "\nexample:\n%s\n", strings.TrimRight(c.example, "\n"))
}

// printFlags lists the command's own flags first, then the connection
// flags, each with its default.
func printFlags(fs *flag.FlagSet, w io.Writer) {
	var own, common []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if globalFlagNames[f.Name] {
			common = append(common, f)
		} else {
			own = append(own, f)
		}
	})
	show := func(list []*flag.Flag) {
		for _, f := range list {
			name, usage := flag.UnquoteUsage(f)
			line := "  --" + f.Name
			if name != "" {
				line += " " + name
			}
			def := f.DefValue
			if def != "" && def != "false" && def != "0" && !globalFlagNames[f.Name] {
				usage += fmt.Sprintf(" (default %s)", def)
			}
			fmt.Fprintf(w, "%s\n      %s\n", line, usage)
		}
	}
	show(own)
	fmt.Fprintf(w, "\nconnection flags (every command):\n")
	show(common)
}

func (a *app) usage(w io.Writer) {
	fmt.Fprintf(w, `certctl is the command line of certd: issue, manage and verify certificates.

usage: certctl [connection flags] COMMAND [flags] [arguments]

`)
	groups := map[string][]*command{}
	var order []string
	for _, c := range commands() {
		if _, ok := groups[c.group]; !ok {
			order = append(order, c.group)
		}
		groups[c.group] = append(groups[c.group], c)
	}
	for _, g := range order {
		fmt.Fprintf(w, "%s:\n", g)
		cs := groups[g]
		width := 0
		for _, c := range cs {
			width = max(width, len(c.name))
		}
		for _, c := range cs {
			fmt.Fprintf(w, "  %-*s  %s\n", width, c.name, c.summary)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, `connection flags:
  --server URL     certd base URL ($CERTD_SERVER, config "server"; default %s)
  --token KEY      API key ($CERTD_TOKEN, config "token")
  --config FILE    JSON config {"server": "...", "token": "..."} ($CERTCTL_CONFIG; default %s)
  --output FORMAT  table or json (default table)
  --timeout D      deadline of each HTTP request (default 30s)

Exit codes: 0 success, 1 failure, 2 usage error; verify: 0 valid, 1 invalid,
2 unknown or error. "certctl COMMAND -h" shows a command's flags and an example.
`, defaultServer, "~/.config/certctl/config.json")
}

// parseInterleaved parses flags that may come before or after the
// positional arguments ("certctl verify ID --offline"); "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// sortedKeys returns the keys of m in order.
func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
