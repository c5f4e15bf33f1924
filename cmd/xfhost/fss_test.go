package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xfhost/xfhost/fss/fsshttp"
)

// lockedBuffer is a bytes.Buffer that server goroutines may log into.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestFSSServe(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "runs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "runs", "a.txt"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("  s3cret \nnot part of it\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	app := newApp()
	stdout, stdoutW := io.Pipe()
	var stderr lockedBuffer
	app.Writer, app.ErrWriter = stdoutW, &stderr
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		args := []string{"xfhost", "fss", "serve", dir, "--addr", "127.0.0.1:0", "--token-file", tokenFile}
		done <- app.RunContext(ctx, hoistFlags(app, args))
		stdoutW.Close()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the address: %v (command: %v; stderr: %s)", err, <-done, stderr.String())
	}
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if !ok || !strings.HasPrefix(base, "http://127.0.0.1:") || strings.HasSuffix(base, ":0") {
		t.Fatalf("first line %q does not give the address", line)
	}

	get := func(token string) (int, string) {
		req, _ := http.NewRequestWithContext(t.Context(), "GET", base+"/files/runs/a.txt", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("s3cret"); code != 200 || body != "hello" {
		t.Errorf("GET with the token: %d %q", code, body)
	}
	if code, _ := get(""); code != 401 {
		t.Errorf("GET without a token: %d, want 401", code)
	}
	c, err := fsshttp.NewClient(base, fsshttp.ClientOptions{Token: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Put(t.Context(), "out/b.txt", strings.NewReader("written")); err != nil {
		t.Errorf("Put: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "out", "b.txt")); err != nil || string(b) != "written" {
		t.Errorf("stored %q, %v", b, err)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("fss serve after cancel: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("fss serve did not stop after cancel")
	}
	logs := stderr.String()
	for _, want := range []string{"fss serve: serving", "auth=true", "shutting down", "status=401"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "s3cret") {
		t.Errorf("the token appears in the log:\n%s", logs)
	}
}

func TestFSSServeBadInvocations(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	blankFirst := filepath.Join(dir, "blank-first")
	spaced := filepath.Join(dir, "spaced")
	for p, content := range map[string]string{empty: "", blankFirst: "  \ntoken\n", spaced: "two words\n"} {
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"fss", "serve", dir}, 2, "--addr is required"},
		{[]string{"fss", "serve", "--addr", "127.0.0.1:0"}, 2, "one DIR"},
		{[]string{"fss", "serve", dir, "--addr", "127.0.0.1:0", "--token-file", empty}, 2, "first line is empty"},
		{[]string{"fss", "serve", dir, "--addr", "127.0.0.1:0", "--token-file", blankFirst}, 2, "first line is empty"},
		{[]string{"fss", "serve", dir, "--addr", "127.0.0.1:0", "--token-file", spaced}, 2, "visible ASCII"},
		{[]string{"fss", "serve", dir, "--addr", "127.0.0.1:0", "--token-file", filepath.Join(dir, "missing")}, 2, "no such file"},
		{[]string{"fss", "serve", filepath.Join(dir, "missing"), "--addr", "127.0.0.1:0"}, 1, "open dir"},
		{[]string{"fss", "serve", dir, "--addr", "not an address"}, 1, "fss serve"},
		{[]string{"fss", "serve", dir, "--addr", "127.0.0.1:0", "--log-format", "xml"}, 2, "--log-format"},
	} {
		_, _, err := xfhost(t, tc.args...)
		if exitCode(err) != tc.code || err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("xfhost %s: exit %d, %v; want exit %d and %q", strings.Join(tc.args, " "), exitCode(err), err, tc.code, tc.msg)
		}
	}
}
