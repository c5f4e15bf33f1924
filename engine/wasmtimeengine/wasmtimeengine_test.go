//go:build cgo

package wasmtimeengine_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/enginetest"
	"github.com/xfhost/xfhost/engine/wasmtimeengine"
	"github.com/xfhost/xfhost/internal/wasmenc"
)

func newEngine(cfg engine.Config) (engine.Engine, error) {
	return wasmtimeengine.New(context.Background(), cfg)
}

func TestConformance(t *testing.T) { enginetest.Run(t, newEngine) }

func mustEngine(t testing.TB, cfg engine.Config) engine.Engine {
	t.Helper()
	e, err := newEngine(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	return e
}

// Minimal modules.
var (
	// emptyStart: one function with an empty body, exported as _start.
	emptyStart = memoryModule(0)
	memoryMin1 = memoryModule(1)
	memoryMin4 = memoryModule(4)
)

// memoryModule is a module whose _start does nothing; with min > 0 it also
// exports a memory of at least min pages.
func memoryModule(min uint32) []byte {
	var m wasmenc.Module
	if min > 0 {
		m.Memory(min, "memory")
	}
	start := m.Func(wasmenc.FuncType{})
	m.ExportFunc("_start", start.Index)
	return mustEncode(&m)
}

func mustEncode(m *wasmenc.Module) []byte {
	b, err := m.Encode()
	if err != nil {
		panic(err) // the test's own module is wrong
	}
	return b
}

func TestName(t *testing.T) {
	if got := mustEngine(t, engine.Config{}).Name(); got != "wasmtime" {
		t.Errorf("Name() = %q", got)
	}
}

// TestRunMemoryMinimumOverLimit: unlike wazero, which grants a module's
// declared minimum whatever the run's limit, wasmtime's store limiter
// refuses to instantiate it.
func TestRunMemoryMinimumOverLimit(t *testing.T) {
	e := mustEngine(t, engine.Config{})
	mod, err := e.Compile(context.Background(), memoryMin4)
	if err != nil {
		t.Fatal(err)
	}
	err = mod.Run(context.Background(), engine.RunConfig{MemoryLimitBytes: 2 << 16})
	var trap *engine.TrapError
	if !errors.As(err, &trap) || !strings.Contains(trap.Message, "instantiate") || !strings.Contains(trap.Message, "memory") {
		t.Errorf("Run of a 4-page module under a 2-page limit = %v, want a trap saying instantiation failed on memory", err)
	}
	t.Logf("Run of a 4-page module under a 2-page limit: %v", err)
	if err := mod.Run(context.Background(), engine.RunConfig{MemoryLimitBytes: 4 << 16}); err != nil {
		t.Errorf("Run at exactly the limit: %v", err)
	}
}

func TestHostModuleErrors(t *testing.T) {
	fn := func(context.Context, engine.Memory, []uint64) (bool, uint32) { return false, 0 }
	for _, c := range []struct {
		name string
		mods []engine.HostModule
		want string
	}{
		{"no implementation", []engine.HostModule{{Name: "m", Functions: []engine.HostFunction{{Name: "f"}}}}, "m.f has no implementation"},
		{"bad value type", []engine.HostModule{{Name: "m", Functions: []engine.HostFunction{{Name: "f", Params: []engine.ValueType{9}, Func: fn}}}}, "unsupported value type ValueType(9)"},
		{"defined twice", []engine.HostModule{{Name: "m", Functions: []engine.HostFunction{{Name: "f", Func: fn}, {Name: "f", Func: fn}}}}, "m.f"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, err := newEngine(engine.Config{HostModules: c.mods})
			if err == nil {
				e.Close(context.Background())
				t.Fatal("New succeeded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want it to mention %q", err, c.want)
			}
		})
	}
}

// TestCacheDirFiles checks the files of the compilation cache: one per
// module and flavor under a directory named by the wasmtime version, no
// temporary files left, and a damaged file replaced.
func TestCacheDirFiles(t *testing.T) {
	dir := t.TempDir()
	e := mustEngine(t, engine.Config{CacheDir: dir})
	mod, err := e.Compile(context.Background(), emptyStart)
	if err != nil {
		t.Fatal(err)
	}
	if err := mod.Run(context.Background(), engine.RunConfig{Fuel: 1000}); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(emptyStart)
	prefix := filepath.Join(dir, "wasmtime-39.0.1", hex.EncodeToString(sum[:]))
	if len(files) != 2 || files[0] != prefix+"-fuel.cwasm" || files[1] != prefix+"-plain.cwasm" {
		t.Fatalf("cache files %v, want %s-fuel.cwasm and -plain.cwasm only", files, prefix)
	}

	plain := files[1]
	if err := os.WriteFile(plain, []byte("damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	second := mustEngine(t, engine.Config{CacheDir: dir})
	mod, err = second.Compile(context.Background(), emptyStart)
	if err != nil {
		t.Fatalf("Compile over a damaged cache file: %v", err)
	}
	if err := mod.Run(context.Background(), engine.RunConfig{}); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(plain); err != nil || string(b) == "damaged" {
		t.Errorf("damaged cache file not replaced (%v)", err)
	}
}

// TestCacheDirLoads shows that a second engine loads the code instead of
// compiling: loading is far cheaper than compiling a module of many
// functions.
func TestCacheDirLoads(t *testing.T) {
	wasm := manyFunctions(600)
	compileWith := func(cfg engine.Config) time.Duration {
		e := mustEngine(t, cfg)
		start := time.Now()
		if _, err := e.Compile(context.Background(), wasm); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	dir := t.TempDir()
	compiled := compileWith(engine.Config{CacheDir: dir})
	loaded := compileWith(engine.Config{CacheDir: dir})
	t.Logf("compile %v, load from the cache %v", compiled, loaded)
	if loaded*3 > compiled {
		t.Errorf("loading took %v, compiling %v: the cache does not seem to be used", loaded, compiled)
	}
}

// manyFunctions is a module of n functions that each do some arithmetic.
func manyFunctions(n int) []byte {
	var m wasmenc.Module
	ft := wasmenc.FuncType{Params: []wasmenc.ValType{wasmenc.I32}, Results: []wasmenc.ValType{wasmenc.I32}}
	for range n {
		// ((x * 7 + 3) / 5) ^ x, a few times.
		c := &m.Func(ft).Code
		for range 8 {
			c.LocalGet(0).I32Const(7).I32Mul().I32Const(3).I32Add().I32Const(5).I32DivU().LocalGet(0).I32Xor().LocalSet(0)
		}
		c.LocalGet(0)
	}
	return mustEncode(&m)
}

// TestNoLeaks runs, cancels and times out many jobs and checks that no
// goroutine stays behind.
func TestNoLeaks(t *testing.T) {
	e := mustEngine(t, engine.Config{})
	mod, err := e.Compile(context.Background(), emptyStart)
	if err != nil {
		t.Fatal(err)
	}
	before := runtime.NumGoroutine()
	for i := range 200 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
		if i%2 == 0 {
			cancel()
		}
		if err := mod.Run(ctx, engine.RunConfig{}); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatal(err)
		}
		cancel()
	}
	time.Sleep(10 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("%d goroutines before 200 runs, %d after", before, after)
	}
}
