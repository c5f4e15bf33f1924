package wazeroengine_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/internal/wasmenc"
)

// TestCloseDuringCompile closes the engine while a compile that its
// caller gave up on is still running: Close must wait for it rather than
// let it finish into a closed runtime, which crashed the process.
func TestCloseDuringCompile(t *testing.T) {
	// Deeply nested blocks: the optimising compiler needs time quadratic
	// in the depth, long enough to still run when Close is called.
	var m wasmenc.Module
	m.Memory(1, "memory")
	start := m.Func(wasmenc.FuncType{})
	for range 8000 {
		start.Code.Block()
	}
	for range 8000 {
		start.Code.End()
	}
	m.ExportFunc("_start", start.Index)
	wasm, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	e, err := newEngine(engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := e.Compile(ctx, wasm); !errors.Is(err, context.DeadlineExceeded) {
		t.Logf("compile finished within 1 ms (%v); Close has nothing to wait for", err)
	}
	if err := e.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Nothing of the engine may still run after Close. (Without the wait
	// in Close, the compile goroutine lives on and panics when it ends.)
	for deadline := time.Now().Add(20 * time.Second); runtime.NumGoroutine() > before; {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after Close, %d before the engine", runtime.NumGoroutine(), before)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
