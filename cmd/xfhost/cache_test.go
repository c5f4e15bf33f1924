package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/fsscache"
)

// memOrigin serves files from memory, to fill a cache for the CLI to look at.
type memOrigin map[string][]byte

func (m memOrigin) info(ref string) (fsscache.RemoteInfo, error) {
	data, ok := m[ref]
	if !ok {
		return fsscache.RemoteInfo{}, fss.ErrNotFound
	}
	sum := sha256.Sum256(data)
	d := hex.EncodeToString(sum[:])
	return fsscache.RemoteInfo{Size: int64(len(data)), ETag: `"sha256:` + d + `"`, SHA256: d}, nil
}

func (m memOrigin) Head(_ context.Context, ref string) (fsscache.RemoteInfo, error) {
	return m.info(ref)
}

func (m memOrigin) Get(_ context.Context, ref string, _ int64, _ string) (io.ReadCloser, fsscache.RemoteInfo, bool, error) {
	info, err := m.info(ref)
	if err != nil {
		return nil, info, false, err
	}
	return io.NopCloser(bytes.NewReader(m[ref])), info, false, nil
}

func TestCacheCommands(t *testing.T) {
	dir := t.TempDir()
	origin := memOrigin{
		"runs/1/a.raw": bytes.Repeat([]byte("a"), 3000),
		"runs/1/b.raw": bytes.Repeat([]byte("b"), 5000),
	}
	c, err := fsscache.Open(dir, fsscache.Options{Origin: origin, Name: "http://fss.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, ref := range []string{"runs/1/a.raw", "runs/1/b.raw"} {
		h, err := c.Fetch(t.Context(), ref)
		if err != nil {
			t.Fatal(err)
		}
		h.Close()
	}

	out, _, err := xfhost(t, "cache", "ls", "--cache", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"REF", "runs/1/a.raw", "3000", "runs/1/b.raw", "5000", `"sha256:`, "http://fss.test"} {
		if !strings.Contains(out, want) {
			t.Errorf("cache ls does not show %q:\n%s", want, out)
		}
	}
	out, _, err = xfhost(t, "cache", "ls", "--json", "--cache", dir)
	var entries []fsscache.Entry
	if err != nil || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 2 {
		t.Errorf("cache ls --json: %v\n%s", err, out)
	}

	out, _, err = xfhost(t, "cache", "stat", "--cache", dir)
	if err != nil || !strings.Contains(out, "entries   2") || !strings.Contains(out, "blobs     2, 7.8 KiB") {
		t.Errorf("cache stat: %v\n%s", err, out)
	}

	// Damage one blob: verify finds it, removes it and says so.
	blob := filepath.Join(dir, "blobs", entries[0].SHA256[:2], entries[0].SHA256)
	os.Chmod(blob, 0o644)
	os.WriteFile(blob, bytes.Repeat([]byte("x"), int(entries[0].Size)), 0o644)
	out, _, err = xfhost(t, "cache", "verify", "--cache", dir)
	if exitCode(err) != 1 || !strings.Contains(out, "removed 1 damaged files") {
		t.Errorf("cache verify of a damaged cache: exit %d (%v)\n%s", exitCode(err), err, out)
	}
	if out, _, err = xfhost(t, "cache", "verify", "--cache", dir); err != nil {
		t.Errorf("cache verify after repair: %v\n%s", err, out)
	}

	out, _, err = xfhost(t, "cache", "gc", "--cache", dir, "--max", "1K")
	if err != nil || !strings.Contains(out, "evicted 1 files") {
		t.Errorf("cache gc: %v\n%s", err, out)
	}
	h, err := c.Fetch(t.Context(), "runs/1/a.raw")
	if err != nil {
		t.Fatal(err)
	}
	out, _, err = xfhost(t, "cache", "clear", "--cache", dir)
	if err != nil || !strings.Contains(out, "1 pinned files kept") {
		t.Errorf("cache clear with a pinned file: %v\n%s", err, out)
	}
	h.Close()
	out, _, err = xfhost(t, "cache", "clear", "--cache", dir)
	if err != nil || !strings.Contains(out, "removed 1 files") {
		t.Errorf("cache clear: %v\n%s", err, out)
	}
	if out, _, _ := xfhost(t, "cache", "ls", "--cache", dir); strings.Count(out, "\n") != 1 {
		t.Errorf("cache ls after clear:\n%s", out)
	}
}

func TestCacheCommandErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"cache", "ls"}, 2, "--cache is required"},
		{[]string{"cache", "gc", "--cache", dir}, 2, "--max is required"},
		{[]string{"cache", "gc", "--cache", dir, "--max", "lots"}, 2, `--max "lots"`},
		{[]string{"cache", "gc", "--cache", dir, "--max", "1G", "--low", "2G"}, 2, "--low"},
		{[]string{"cache", "stat", "--cache", filepath.Join(dir, "missing")}, 1, "no such file"},
		{[]string{"cache", "ls", "--cache", dir, "extra"}, 2, "unexpected argument"},
	}
	for _, tt := range tests {
		_, _, err := xfhost(t, tt.args...)
		if exitCode(err) != tt.code || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: exit %d, %v; want exit %d mentioning %q", tt.args, exitCode(err), err, tt.code, tt.want)
		}
	}
}

func TestParseByteSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1024", 1024, true},
		{"10B", 10, true},
		{"64K", 64 << 10, true},
		{"64kb", 64 << 10, true},
		{"2MiB", 2 << 20, true},
		{"500G", 500 << 30, true},
		{"3T", 3 << 40, true},
		{"", 0, false},
		{"G", 0, false},
		{"-1", 0, false},
		{"1.5G", 0, false},
		{"99999999999T", 0, false},
	}
	for _, tt := range tests {
		got, err := parseByteSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}
