package wasip1_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xfhost/xfhost/engine/wasip1"
)

// fixture returns a setup that gives scratch a file, links inside and
// escaping it, and a secret in a directory next to it that no guest may
// read. The outside directory is shared by the runs being compared, so
// that a link to it reads the same in both snapshots.
func fixture(t *testing.T) func(*testing.T, string) {
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("outside secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	return func(t *testing.T, scratch string) {
		rel, err := filepath.Rel(scratch, outside)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(scratch, "hello.txt"), []byte("from host"), 0o644); err != nil {
			t.Fatal(err)
		}
		for link, target := range map[string]string{
			"rel_link":    "hello.txt",
			"escape_link": filepath.Join(rel, "secret"),
			"dir_link":    rel,
			"abs_link":    filepath.Join(outside, "secret"),
		} {
			if err := os.Symlink(target, filepath.Join(scratch, link)); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestDifferentialGoGuest(t *testing.T) {
	rt := getRuntimes(t)
	compiled := rt.compileBoth(t, buildGoGuest(t))
	setup := fixture(t)

	cases := []struct {
		name     string
		args     []string
		quota    int64
		exitCode uint32
		// want are substrings the transcript must contain, so that a
		// check cannot pass by both implementations failing alike.
		want []string
	}{
		{name: "scenario", args: []string{"goguest", "scenario"}, want: []string{
			`args: ["goguest" "scenario"]`,
			`environ: []`,
			`stdin: 0 bytes, err <nil>`,
			`read: 5 "world" <nil>`,
			`pread: 5 "hello" <nil>`,
			`contents: "hello+tail" <nil>`,
			`create existing exclusively: error: open /scratch/a.txt: File exists`,
			`big dir: 300 entries, 0 duplicates`,
			`big dir again: 300 <nil>`,
			`read input: "input data\n" <nil>`,
			`read nested input: 3000 bytes <nil>`,
			`openat scratch ../secret: error: Operation not permitted`,
			`openat scratch escape_link: error: Operation not permitted`,
			`mtime set: true`,
			`sleep 20ms took at least 20ms: true`,
			`random: <nil> <nil> true true`,
			`read through link: "from host" <nil>`,
		}},
		{name: "quota", args: []string{"goguest", "quota"}, quota: 50_000, want: []string{
			// hello.txt holds 9 of the 50000 bytes.
			"write stopped after 49991 bytes: write /scratch/fill: I/O error",
			"truncate fill to grow: error: truncate /scratch/fill: I/O error",
			"write after freeing: ok",
		}},
		{name: "exit 0", args: []string{"goguest", "exit", "0"}, want: []string{"exiting with 0"}},
		{name: "exit 7", args: []string{"goguest", "exit", "7"}, exitCode: 7, want: []string{"exiting with 7"}},
		{name: "panic", args: []string{"goguest", "panic"}, exitCode: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := runSpec{args: c.args, quota: c.quota, setup: setup}
			ref := rt.run(t, compiled, spec)
			spec.portable = true
			got := rt.run(t, compiled, spec)
			compareOutcomes(t, ref, got)
			if got.exitCode != c.exitCode || got.err != nil {
				t.Errorf("exit code %d, err %v; want exit code %d\nstderr: %s", got.exitCode, got.err, c.exitCode, got.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(got.stdout, w) {
					t.Errorf("transcript lacks %q", w)
				}
			}
			if strings.Contains(got.stdout, "outside secret") {
				t.Errorf("the guest read the outside secret:\n%s", got.stdout)
			}
			if t.Failed() {
				t.Logf("transcript:\n%s", got.stdout)
			}
		})
	}
}

func compareOutcomes(t *testing.T, ref, got outcome) {
	t.Helper()
	if ref.err != nil {
		t.Fatalf("reference run failed: %v\nstderr: %s", ref.err, ref.stderr)
	}
	if got.err != nil {
		t.Fatalf("portable run failed: %v\nstderr: %s", got.err, got.stderr)
	}
	if got.exitCode != ref.exitCode {
		t.Errorf("exit code %d, wazero's WASI gives %d", got.exitCode, ref.exitCode)
	}
	if d := lineDiff(ref.stdout, got.stdout); d != "" {
		t.Errorf("stdout differs from wazero's WASI (- wazero, + wasip1):\n%s", d)
	}
	if d := lineDiff(ref.stderr, got.stderr); d != "" {
		t.Errorf("stderr differs from wazero's WASI (- wazero, + wasip1):\n%s", d)
	}
	if d := lineDiff(ref.scratch, got.scratch); d != "" {
		t.Errorf("scratch differs from wazero's WASI (- wazero, + wasip1):\n%s", d)
	}
}

// lineDiff lists the lines of a and b that differ position by position, or
// returns "" when they are equal.
func lineDiff(a, b string) string {
	if a == b {
		return ""
	}
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out []string
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			out = append(out, "- "+x, "+ "+y)
		}
	}
	return strings.Join(out, "\n")
}

// TestSleepEndsWithContext checks that a guest sleeping past its deadline
// is stopped at the deadline with the exit code engines map to the
// context's error, rather than sleeping on.
func TestSleepEndsWithContext(t *testing.T) {
	rt := getRuntimes(t)
	compiled := rt.compileBoth(t, buildGoGuest(t))
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// 30s rather than longer, so that a sleep deaf to the context fails
	// the test instead of hanging it.
	got := rt.run(t, compiled, runSpec{args: []string{"goguest", "sleep", "30s"}, portable: true, ctx: ctx})
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Errorf("the guest slept %v past a 300ms deadline", elapsed)
	}
	if got.exitCode != wasip1.ExitCodeDeadlineExceeded {
		t.Errorf("exit code %#x, err %v; want %#x", got.exitCode, got.err, wasip1.ExitCodeDeadlineExceeded)
	}
}

// TestDifferentialCGuest runs the committed wasi-libc guest, which reaches
// the functions Go's runtime does not use (readv and writev with several
// buffers, fd_fdstat_set_flags for append, clock_res_get, utimensat,
// opendir/rewinddir, openat from a directory descriptor).
func TestDifferentialCGuest(t *testing.T) {
	wasm, err := os.ReadFile(filepath.Join("testdata", "cguest", "cguest.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	rt := getRuntimes(t)
	compiled := rt.compileBoth(t, wasm)
	setup := fixture(t)

	cases := []struct {
		name     string
		args     []string
		exitCode uint32
		want     []string
	}{
		{name: "scenario", args: []string{"cguest", "scenario"}, want: []string{
			"argc 2: [cguest] [scenario]",
			"environ: 0, HOME=(unset)",
			"stdin read: 0",
			"stdout isatty: 0",
			"writev: 8",
			"readv: 7 bc defgh",
			"pread: 7 bcXYfgh",
			"append write: 2",
			"fread: 6 abcX++",
			"open excl existing: error: File exists",
			"rmdir non-empty: error: Directory not empty",
			"readlink: 9 hello.txt",
			"mtime: 1600000000",
			"readdir count 9, after rewind 9",
			"list /inputs: . .. data.txt sub",
			"input: input data",
			"openat ../secret: error: Operation not permitted",
			"openat escape_link: error: Operation not permitted",
			"realtime resolution: 1000",
			"random differs: 1",
		}},
		{name: "exit 3", args: []string{"cguest", "exit", "3"}, exitCode: 3, want: []string{"exiting with 3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			spec := runSpec{args: c.args, setup: setup}
			ref := rt.run(t, compiled, spec)
			spec.portable = true
			got := rt.run(t, compiled, spec)
			compareOutcomes(t, ref, got)
			if got.exitCode != c.exitCode || got.err != nil {
				t.Errorf("exit code %d, err %v; want exit code %d\nstderr: %s", got.exitCode, got.err, c.exitCode, got.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(got.stdout, w) {
					t.Errorf("transcript lacks %q", w)
				}
			}
			if t.Failed() {
				t.Logf("transcript:\n%s", got.stdout)
			}
		})
	}
}

// TestCGuestPortable checks, on this package only, what it deliberately
// does differently from wazero v1.12: sleeps that sleep, absolute clock
// subscriptions, poll readiness of streams, and readdir cookies from before
// the entries it keeps.
func TestCGuestPortable(t *testing.T) {
	wasm, err := os.ReadFile(filepath.Join("testdata", "cguest", "cguest.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	rt := getRuntimes(t)
	compiled := rt.compileBoth(t, wasm)
	got := rt.run(t, compiled, runSpec{args: []string{"cguest", "portable"}, portable: true})
	if got.err != nil || got.exitCode != 0 {
		t.Fatalf("exit code %d, err %v\nstderr: %s", got.exitCode, got.err, got.stderr)
	}
	for _, w := range []string{
		"nanosleep: ok",
		"slept 30ms: 1",
		"clock_nanosleep abstime: 0, slept 20ms: 1",
		"poll: 2 in 1 out 1, quick 1",
		"poll timeout: 0, slept 25ms: 1",
		"seekdir back: same entry 1 (errno 0), 396 more entries",
	} {
		if !strings.Contains(got.stdout, w) {
			t.Errorf("transcript lacks %q", w)
		}
	}
	if t.Failed() {
		t.Logf("transcript:\n%s", got.stdout)
	}
}
