package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"
)

// browser drives a headless Chromium through the DevTools protocol on a
// pipe (--remote-debugging-pipe: commands on fd 3, answers on fd 4, each
// message a JSON object followed by a NUL byte). It is the least a test
// needs to read what a page really shows: the rendered text
// (HTMLElement.innerText leaves out what CSS hides), the geometry and
// styles of elements, and screenshots.
type browser struct {
	cmd     *exec.Cmd
	in      io.WriteCloser
	session string

	mu      sync.Mutex
	nextID  int
	pending map[int]chan cdpMessage
	done    chan struct{} // closed when the pipe from Chromium ends
}

type cdpMessage struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Result json.RawMessage `json:"result"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// chromiumFlags are those of a quiet, isolated headless run.
func chromiumFlags(profile string, width, height int) []string {
	return []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--disable-extensions", "--hide-scrollbars", "--mute-audio", "--disable-breakpad", "--disable-crash-reporter",
		"--user-data-dir=" + profile, fmt.Sprintf("--window-size=%d,%d", width, height),
		"--remote-debugging-pipe", "about:blank",
	}
}

// startBrowser starts Chromium (killed when ctx ends) with a page of the
// given viewport; mobile makes it honour the viewport meta tag as a phone
// does.
func startBrowser(ctx context.Context, t testing.TB, chromium string, width, height int, mobile bool) *browser {
	t.Helper()
	toChrome, chromeIn, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	chromeOut, fromChrome, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// The profile is removed by hand once every Chromium process is gone:
	// t.TempDir's removal could race with a helper process still writing.
	profile, err := os.MkdirTemp("", "certd-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, chromium, chromiumFlags(profile, width, height)...)
	cmd.ExtraFiles = []*os.File{toChrome, fromChrome} // fd 3 and fd 4
	// Chromium starts helper processes: put them in a process group of
	// their own, so that they all end with the test.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	toChrome.Close()
	fromChrome.Close()
	b := &browser{cmd: cmd, in: chromeIn, pending: map[int]chan cdpMessage{}, done: make(chan struct{})}
	go b.read(chromeOut)
	t.Cleanup(func() {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.call(closeCtx, "", "Browser.close", nil, nil)
		chromeIn.Close()
		wait := make(chan error, 1)
		go func() { wait <- cmd.Wait() }()
		select {
		case <-wait:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-wait
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // helpers that outlived it
		for i := 0; i < 50; i++ {
			if err := os.RemoveAll(profile); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("could not remove the Chromium profile %s", profile)
	})

	var target struct{ TargetID string }
	if err := b.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target); err != nil {
		t.Fatalf("create page: %v", err)
	}
	var attached struct{ SessionID string }
	if err := b.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &attached); err != nil {
		t.Fatalf("attach to page: %v", err)
	}
	b.session = attached.SessionID
	if err := b.call(ctx, b.session, "Emulation.setDeviceMetricsOverride", map[string]any{
		"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
	}, nil); err != nil {
		t.Fatalf("set viewport: %v", err)
	}
	return b
}

// read dispatches the answers to their callers; events are dropped.
func (b *browser) read(r io.Reader) {
	defer close(b.done)
	br := bufio.NewReader(r)
	for {
		raw, err := br.ReadBytes(0)
		if err != nil {
			return
		}
		var m cdpMessage
		if json.Unmarshal(raw[:len(raw)-1], &m) != nil || m.ID == 0 {
			continue
		}
		b.mu.Lock()
		ch := b.pending[m.ID]
		delete(b.pending, m.ID)
		b.mu.Unlock()
		if ch != nil {
			ch <- m
		}
	}
}

// call sends one command (to the page when session is set) and decodes
// its result into out.
func (b *browser) call(ctx context.Context, session, method string, params, out any) error {
	b.mu.Lock()
	b.nextID++
	id := b.nextID
	ch := make(chan cdpMessage, 1)
	b.pending[id] = ch
	b.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	raw, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := b.in.Write(append(raw, 0)); err != nil {
		return fmt.Errorf("%s: write to chromium: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if out != nil {
			return json.Unmarshal(m.Result, out)
		}
		return nil
	case <-b.done:
		return fmt.Errorf("%s: chromium closed the pipe", method)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

// open loads url in the page and waits until it has loaded.
func (b *browser) open(ctx context.Context, url string) error {
	var nav struct{ ErrorText string }
	if err := b.call(ctx, b.session, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return err
	}
	if nav.ErrorText != "" {
		return fmt.Errorf("navigate to %s: %s", url, nav.ErrorText)
	}
	for {
		var state string
		if err := b.eval(ctx, "document.readyState", &state); err != nil {
			return err
		}
		if state == "complete" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("load %s: %w", url, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// eval evaluates a JavaScript expression in the page (through DevTools:
// the page itself runs no script) and decodes its JSON value into out.
func (b *browser) eval(ctx context.Context, expr string, out any) error {
	var res struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := b.call(ctx, b.session, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true}, &res); err != nil {
		return err
	}
	if res.ExceptionDetails != nil {
		return errors.New("evaluate: " + res.ExceptionDetails.Text)
	}
	return json.Unmarshal(res.Result.Value, out)
}

// screenshot returns a PNG of the viewport, or of the whole page when
// fullHeight is above 0 (the page's height in CSS pixels).
func (b *browser) screenshot(ctx context.Context, width, fullHeight int) ([]byte, error) {
	params := map[string]any{"format": "png"}
	if fullHeight > 0 {
		params["captureBeyondViewport"] = true
		params["clip"] = map[string]any{"x": 0, "y": 0, "width": width, "height": fullHeight, "scale": 1}
	}
	var shot struct{ Data string }
	if err := b.call(ctx, b.session, "Page.captureScreenshot", params, &shot); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(shot.Data)
}
