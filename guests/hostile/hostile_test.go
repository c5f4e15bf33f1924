//go:build !wasip1

package hostile_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wazeroengine"
	"github.com/xfhost/xfhost/guests/hostile"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/guestbuild"
)

// knownIssuesEnv, when set, runs the cases with a known issue too.
const knownIssuesEnv = "XF_HOSTILE_KNOWN_ISSUES"

// fssToken is set in the test process's environment, where a host's file
// store credentials would be; no guest may ever see it.
const fssToken = "XF_FSS_TOKEN=hostile-corpus-secret-7d1f"

// TestHostileGuests runs every case of the corpus on a wazero host beside
// a normal job (Lucid.CLIP.StatMinMax built from guests/go). The
// conformance suite runs the same cases on every engine.
func TestHostileGuests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the hostile guests")
	}
	name, value, _ := strings.Cut(fssToken, "=")
	t.Setenv(name, value)
	ctx := context.Background()

	cases, err := hostile.Load(hostile.Files())
	if err != nil {
		t.Fatal(err)
	}
	modules, errs := hostile.BuildAll(ctx, cases, hostile.Sources{FS: hostile.Files(), GoDir: ".", OutDir: t.TempDir()})
	for name, err := range errs {
		t.Fatalf("%s: %v", name, err)
	}
	eng, err := wazeroengine.New(ctx, engine.Config{HostModules: host.Imports()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(ctx) })
	statMinMax, err := guestbuild.Go(ctx, t.TempDir(), "statminmax")
	if err != nil {
		t.Fatal(err)
	}
	w, err := hostile.NewWorld(ctx, hostile.Options{Engine: eng, Neighbour: statMinMax, Secrets: []string{value},
		DurationScale: durationScale, KnownIssues: os.Getenv(knownIssuesEnv) != ""})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Logf("%s", c.Description)
			o := w.Run(ctx, c, modules[c.Name])
			if o.Skipped != "" {
				t.Skip(o.Skipped)
			}
			if testing.Verbose() {
				for _, n := range o.Notes {
					t.Log(n)
				}
			}
			for _, p := range o.Problems {
				t.Error(p)
			}
		})
	}
}

// TestNeighbourWithoutGo runs a few cases beside the generated normal job
// that `xfhost conformance host` uses where no Go toolchain is installed.
func TestNeighbourWithoutGo(t *testing.T) {
	ctx := context.Background()
	eng, err := wazeroengine.New(ctx, engine.Config{HostModules: host.Imports()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(ctx) })
	w, err := hostile.NewWorld(ctx, hostile.Options{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	for _, name := range []string{"finish-twice", "wrong-type-output", "denied-import"} {
		c, err := hostile.ReadCase(hostile.Files(), name)
		if err != nil {
			t.Fatal(err)
		}
		wasm, err := c.Module(ctx, hostile.Sources{FS: hostile.Files()})
		if err != nil {
			t.Fatal(err)
		}
		if o := w.Run(ctx, c, wasm); len(o.Problems) > 0 {
			t.Errorf("%s: %q", name, o.Problems)
		}
	}
	c, err := hostile.ReadCase(hostile.Files(), "env-probe")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Module(ctx, hostile.Sources{FS: hostile.Files()}); err != hostile.ErrNoGo {
		t.Errorf("a Go case without sources: %v, want ErrNoGo", err)
	}
}

// TestEmbeddedCorpusIsComplete checks that the corpus compiled into the
// binary holds every case on disk with its committed modules.
func TestEmbeddedCorpusIsComplete(t *testing.T) {
	onDisk, err := filepath.Glob("*/case.json")
	if err != nil {
		t.Fatal(err)
	}
	embedded, err := fs.Glob(hostile.Files(), "*/case.json")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(onDisk, embedded) {
		t.Errorf("embedded cases %v, on disk %v", embedded, onDisk)
	}
	wasms, _ := filepath.Glob("*/*.wasm")
	for _, p := range wasms {
		want, _ := os.ReadFile(p)
		got, err := fs.ReadFile(hostile.Files(), p)
		if err != nil || string(got) != string(want) {
			t.Errorf("%s is not embedded as committed (%v)", p, err)
		}
	}
}

func TestDefaultTaskType(t *testing.T) {
	for in, want := range map[string]string{"log-spam": "Hostile.LogSpam", "finish-twice": "Hostile.FinishTwice", "x": "Hostile.X"} {
		if got := hostile.DefaultTaskType(in); got != want {
			t.Errorf("DefaultTaskType(%q) = %q, want %q", in, got, want)
		}
	}
}
