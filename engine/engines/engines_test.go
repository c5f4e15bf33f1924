package engines

import (
	"context"
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
