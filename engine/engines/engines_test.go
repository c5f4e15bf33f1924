package engines

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/engine"
)

func TestNamesStartWithDefault(t *testing.T) {
	names := Names()
	if len(names) == 0 || names[0] != Default {
		t.Fatalf("Names() = %v, want %q first", names, Default)
	}
}

func TestNewEveryEngine(t *testing.T) {
	ctx := context.Background()
	for _, name := range Names() {
		eng, err := New(ctx, name, engine.Config{})
		if err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
		if eng.Name() != name {
			t.Errorf("New(%q).Name() = %q", name, eng.Name())
		}
		if err := eng.Close(ctx); err != nil {
			t.Errorf("close %s: %v", name, err)
		}
	}
}

func TestNewUnknownEngine(t *testing.T) {
	_, err := New(context.Background(), "v8", engine.Config{})
	if err == nil || !strings.Contains(err.Error(), `unknown engine "v8"`) || !strings.Contains(err.Error(), "wazero") {
		t.Fatalf("err = %v, want unknown engine naming the available ones", err)
	}
}

// TestRequiredEngines fails when XFHOST_REQUIRE_ENGINES names an engine
// this build lacks, so that CI cannot pass with fewer engines than it
// means to test (a build without cgo silently has no wasmtime).
func TestRequiredEngines(t *testing.T) {
	want := os.Getenv("XFHOST_REQUIRE_ENGINES")
	if want == "" {
		t.Skip("XFHOST_REQUIRE_ENGINES is not set")
	}
	for _, name := range strings.Split(want, ",") {
		if !slices.Contains(Names(), name) {
			t.Errorf("XFHOST_REQUIRE_ENGINES wants engine %q; this build has %v", name, Names())
		}
	}
}
