package wazeroengine_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wazeroengine"
)

// The guests here are assembled by hand: a Go guest would bring a runtime
// whose start-up hides what each test is about, and wat2wasm is not a
// dependency of this repository.

// Value types and opcodes of the few instructions the test guests use.
const (
	i32 = 0x7f

	opUnreachable = 0x00
	opLoop        = 0x03
	opEnd         = 0x0b
	opBr          = 0x0c
	opCall        = 0x10
	opDrop        = 0x1a
	opI32Load8U   = 0x2d
	opMemoryGrow  = 0x40
	opI32Const    = 0x41
	blockVoid     = 0x40
)

type funcType struct{ params, results []byte }

type funcImport struct {
	module, name string
	typ          uint32
}

type dataSegment struct {
	offset int32
	data   []byte
}

// wasmModule describes a module with one memory at most and a single
// defined function, _start, of type 0.
type wasmModule struct {
	types   []funcType
	imports []funcImport
	// start is _start's code without the trailing end.
	start []byte
	// memory is nil for no memory, else {min} or {min, max} in pages.
	memory []uint32
	data   []dataSegment
}

func uleb(v uint64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if v == 0 {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

func sleb(v int64) []byte {
	var out []byte
	for {
		b := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && b&0x40 == 0) || (v == -1 && b&0x40 != 0) {
			return append(out, b)
		}
		out = append(out, b|0x80)
	}
}

func vec(items ...[]byte) []byte {
	out := uleb(uint64(len(items)))
	for _, it := range items {
		out = append(out, it...)
	}
	return out
}

func sized(b []byte) []byte { return append(uleb(uint64(len(b))), b...) }

func wasmName(s string) []byte { return sized([]byte(s)) }

func section(id byte, body []byte) []byte { return append([]byte{id}, sized(body)...) }

func i32Const(v int32) []byte { return append([]byte{opI32Const}, sleb(int64(v))...) }

func call(fn uint32) []byte { return append([]byte{opCall}, uleb(uint64(fn))...) }

// code concatenates instruction fragments.
func code(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func (m wasmModule) encode() []byte {
	out := []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}
	types := m.types
	if len(types) == 0 {
		types = []funcType{{}}
	}
	var ts [][]byte
	for _, t := range types {
		ts = append(ts, code([]byte{0x60}, vec(bytesOf(t.params)...), vec(bytesOf(t.results)...)))
	}
	out = append(out, section(1, vec(ts...))...)
	if len(m.imports) > 0 {
		var ims [][]byte
		for _, im := range m.imports {
			ims = append(ims, code(wasmName(im.module), wasmName(im.name), []byte{0x00}, uleb(uint64(im.typ))))
		}
		out = append(out, section(2, vec(ims...))...)
	}
	out = append(out, section(3, vec([]byte{0x00}))...)
	if m.memory != nil {
		lim := append([]byte{0x00}, uleb(uint64(m.memory[0]))...)
		if len(m.memory) > 1 {
			lim = code([]byte{0x01}, uleb(uint64(m.memory[0])), uleb(uint64(m.memory[1])))
		}
		out = append(out, section(5, vec(lim))...)
	}
	exports := [][]byte{code(wasmName("_start"), []byte{0x00}, uleb(uint64(len(m.imports))))}
	if m.memory != nil {
		exports = append(exports, code(wasmName("memory"), []byte{0x02, 0x00}))
	}
	out = append(out, section(7, vec(exports...))...)
	body := code([]byte{0x00}, m.start, []byte{opEnd}) // no locals
	out = append(out, section(10, vec(sized(body)))...)
	if len(m.data) > 0 {
		var segs [][]byte
		for _, d := range m.data {
			segs = append(segs, code([]byte{0x00}, i32Const(d.offset), []byte{opEnd}, sized(d.data)))
		}
		out = append(out, section(11, vec(segs...))...)
	}
	return out
}

// bytesOf splits a value type list into vec items.
func bytesOf(ts []byte) [][]byte {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		out[i] = []byte{t}
	}
	return out
}

func newEngine(t *testing.T, cfg engine.Config) *wazeroengine.Engine {
	t.Helper()
	e, err := wazeroengine.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

func compile(t *testing.T, e engine.Engine, wasm []byte) engine.Module {
	t.Helper()
	mod, err := e.Compile(context.Background(), wasm)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return mod
}

func hostModule(fns ...engine.HostFunction) []engine.HostModule {
	return []engine.HostModule{{Name: "test", Functions: fns}}
}

type exitCodeKey struct{}

func TestRunOutcomes(t *testing.T) {
	// test.exit ends the guest with the exit code the job's context carries,
	// which is also how per-job state reaches host functions.
	exitFn := engine.HostFunction{
		Name: "exit",
		Func: func(ctx context.Context, _ engine.Memory, _ []uint64) (bool, uint32) {
			return true, ctx.Value(exitCodeKey{}).(uint32)
		},
	}
	e := newEngine(t, engine.Config{HostModules: hostModule(exitFn)})
	if e.Name() != "wazero" {
		t.Errorf("Name() = %q, want wazero", e.Name())
	}
	callsExit := wasmModule{
		imports: []funcImport{{"test", "exit", 0}},
		// The unreachable proves the host call did not return to the guest.
		start: code(call(0), []byte{opUnreachable}),
	}
	// fd_write(fd 1, iovs 0, 1 iov, nwritten at 8), then proc_exit(code).
	wasiWrite := func(exitCode int32) wasmModule {
		return wasmModule{
			types: []funcType{{}, {params: []byte{i32, i32, i32, i32}, results: []byte{i32}}, {params: []byte{i32}}},
			imports: []funcImport{
				{"wasi_snapshot_preview1", "fd_write", 1},
				{"wasi_snapshot_preview1", "proc_exit", 2},
			},
			memory: []uint32{1},
			data:   []dataSegment{{0, []byte{16, 0, 0, 0, 3, 0, 0, 0}}, {16, []byte("hi\n")}},
			start: code(i32Const(1), i32Const(0), i32Const(1), i32Const(8), call(0), []byte{opDrop},
				i32Const(exitCode), call(1)),
		}
	}
	cases := []struct {
		name       string
		mod        wasmModule
		exitCode   uint32
		wantExit   uint32 // for an *engine.ExitError
		wantTrap   string // substring of a *engine.TrapError's message
		wantStdout string
	}{
		{name: "start returns", mod: wasmModule{}},
		{name: "host exit 3", mod: callsExit, exitCode: 3, wantExit: 3},
		{name: "host exit 0", mod: callsExit, exitCode: 0},
		{name: "unreachable", mod: wasmModule{start: []byte{opUnreachable}}, wantTrap: "unreachable"},
		{name: "wasi exit 7", mod: wasiWrite(7), wantExit: 7, wantStdout: "hi\n"},
		{name: "wasi exit 0", mod: wasiWrite(0), wantStdout: "hi\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mod := compile(t, e, c.mod.encode())
			ctx := context.WithValue(context.Background(), exitCodeKey{}, c.exitCode)
			var stdout bytes.Buffer
			err := mod.Run(ctx, engine.RunConfig{Stdout: &stdout})
			switch {
			case c.wantExit != 0:
				var exit *engine.ExitError
				if !errors.As(err, &exit) || exit.Code != c.wantExit {
					t.Fatalf("Run = %v, want *engine.ExitError{Code: %d}", err, c.wantExit)
				}
				if !engine.IsExit(err, c.wantExit) {
					t.Errorf("IsExit(%v, %d) = false", err, c.wantExit)
				}
			case c.wantTrap != "":
				var trap *engine.TrapError
				if !errors.As(err, &trap) {
					t.Fatalf("Run = %v (%T), want *engine.TrapError", err, err)
				}
				if !strings.Contains(trap.Message, c.wantTrap) {
					t.Errorf("trap message %q does not mention %q", trap.Message, c.wantTrap)
				}
			case err != nil:
				t.Fatalf("Run = %v, want nil", err)
			}
			if got := stdout.String(); got != c.wantStdout {
				t.Errorf("stdout = %q, want %q", got, c.wantStdout)
			}
		})
	}
}

func TestRunStopsWithContext(t *testing.T) {
	e := newEngine(t, engine.Config{})
	spin := compile(t, e, wasmModule{start: code([]byte{opLoop, blockVoid, opBr, 0x00, opEnd})}.encode())

	t.Run("deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := spin.Run(ctx, engine.RunConfig{})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Run = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Run took %v after a 100ms deadline", d)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- spin.Run(ctx, engine.RunConfig{}) }()
		time.Sleep(50 * time.Millisecond)
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("Run still spinning 2s after cancel")
		}
	})
}

func TestHostMemory(t *testing.T) {
	const pageSize = 65536
	var reported []uint64
	var stackLen int
	fns := hostModule(
		// shout(src, n) upper-cases n bytes at src into src+16 and returns
		// the destination, probing the bounds of memory on the way.
		engine.HostFunction{
			Name:    "shout",
			Params:  []engine.ValueType{engine.I32, engine.I32},
			Results: []engine.ValueType{engine.I32},
			Func: func(_ context.Context, mem engine.Memory, stack []uint64) (bool, uint32) {
				stackLen = len(stack)
				src, n := uint32(stack[0]), uint32(stack[1])
				b, ok := mem.Read(src, n)
				if !ok {
					t.Errorf("Read(%d, %d) out of bounds", src, n)
					return true, 1
				}
				if string(b) != "hello" {
					t.Errorf("Read(%d, %d) = %q, want the data segment %q", src, n, b, "hello")
				}
				if !mem.Write(src+16, bytes.ToUpper(b)) {
					t.Errorf("Write(%d) out of bounds", src+16)
				}
				for _, r := range []struct{ off, n uint32 }{{pageSize - 2, 4}, {pageSize, 1}, {0xffffffff, 2}, {1, 0xffffffff}} {
					if got, ok := mem.Read(r.off, r.n); ok {
						t.Errorf("Read(%d, %d) = %d bytes, true; want false past the end", r.off, r.n, len(got))
					}
				}
				if b, ok := mem.Read(pageSize-1, 1); !ok || b[0] != 0 {
					t.Errorf("Read(last byte) = %v, %v; want [0], true", b, ok)
				}
				if mem.Write(pageSize-1, []byte{1, 2}) {
					t.Error("Write across the end of memory = true, want false")
				}
				if b, _ := mem.Read(pageSize-1, 1); len(b) != 1 || b[0] != 0 {
					t.Errorf("a failed Write changed the last byte to %v", b)
				}
				stack[0] = uint64(src + 16)
				return false, 0
			},
		},
		engine.HostFunction{
			Name:   "report",
			Params: []engine.ValueType{engine.I32},
			Func: func(_ context.Context, _ engine.Memory, stack []uint64) (bool, uint32) {
				reported = append(reported, stack[0])
				return false, 0
			},
		},
	)
	e := newEngine(t, engine.Config{HostModules: fns})
	wasm := wasmModule{
		types: []funcType{{}, {params: []byte{i32, i32}, results: []byte{i32}}, {params: []byte{i32}}},
		imports: []funcImport{
			{"test", "shout", 1},
			{"test", "report", 2},
		},
		memory: []uint32{1, 1},
		data:   []dataSegment{{16, []byte("hello")}},
		// report(load8_u(shout(16, 5))): the guest sees the host's write.
		start: code(i32Const(16), i32Const(5), call(0), []byte{opI32Load8U, 0x00, 0x00}, call(1)),
	}.encode()
	if err := compile(t, e, wasm).Run(context.Background(), engine.RunConfig{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if stackLen < 2 {
		t.Errorf("shout got a stack of %d values, want room for 2 params", stackLen)
	}
	if len(reported) != 1 || reported[0] != 'H' {
		t.Errorf("guest read %v after the host call, want [%d]", reported, 'H')
	}
}

func TestHostMemoryWithoutGuestMemory(t *testing.T) {
	var readOK, emptyOK bool
	fns := hostModule(engine.HostFunction{
		Name: "probe",
		Func: func(_ context.Context, mem engine.Memory, _ []uint64) (bool, uint32) {
			_, readOK = mem.Read(0, 1)
			_, emptyOK = mem.Read(0, 0)
			return false, 0
		},
	})
	e := newEngine(t, engine.Config{HostModules: fns})
	wasm := wasmModule{imports: []funcImport{{"test", "probe", 0}}, start: call(0)}.encode()
	if err := compile(t, e, wasm).Run(context.Background(), engine.RunConfig{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if readOK || !emptyOK {
		t.Errorf("without guest memory Read(0,1) ok=%v, Read(0,0) ok=%v; want false, true", readOK, emptyOK)
	}
}

func TestMemoryLimit(t *testing.T) {
	var grown []int32
	fns := hostModule(engine.HostFunction{
		Name:   "report",
		Params: []engine.ValueType{engine.I32},
		Func: func(_ context.Context, _ engine.Memory, stack []uint64) (bool, uint32) {
			grown = append(grown, int32(uint32(stack[0])))
			return false, 0
		},
	})
	e := newEngine(t, engine.Config{HostModules: fns, MemoryLimitPages: 2})

	t.Run("declared minimum over the limit", func(t *testing.T) {
		mod, err := e.Compile(context.Background(), wasmModule{memory: []uint32{4}}.encode())
		if err == nil {
			err = mod.Run(context.Background(), engine.RunConfig{})
		}
		if err == nil {
			t.Fatal("a module needing 4 pages ran under a 2-page limit")
		}
	})
	t.Run("growth stops at the limit", func(t *testing.T) {
		grow := func(pages int32) []byte {
			return code(i32Const(pages), []byte{opMemoryGrow, 0x00}, call(0))
		}
		wasm := wasmModule{
			types:   []funcType{{}, {params: []byte{i32}}},
			imports: []funcImport{{"test", "report", 1}},
			memory:  []uint32{1},
			start:   code(grow(4), grow(1), grow(1)),
		}.encode()
		if err := compile(t, e, wasm).Run(context.Background(), engine.RunConfig{}); err != nil {
			t.Fatalf("Run: %v", err)
		}
		// memory.grow returns the old size in pages, or -1 when refused.
		if want := []int32{-1, 1, -1}; !equalInt32s(grown, want) {
			t.Errorf("memory.grow results %v, want %v", grown, want)
		}
	})
}

// TestRunMemoryLimit caps one instance below the engine's limit, as a
// per-task-type policy does.
func TestRunMemoryLimit(t *testing.T) {
	var grown []int32
	fns := hostModule(engine.HostFunction{
		Name:   "report",
		Params: []engine.ValueType{engine.I32},
		Func: func(_ context.Context, _ engine.Memory, stack []uint64) (bool, uint32) {
			grown = append(grown, int32(uint32(stack[0])))
			return false, 0
		},
	})
	e := newEngine(t, engine.Config{HostModules: fns})
	grow := func(pages int32) []byte {
		return code(i32Const(pages), []byte{opMemoryGrow, 0x00}, call(0))
	}
	wasm := wasmModule{
		types:   []funcType{{}, {params: []byte{i32}}},
		imports: []funcImport{{"test", "report", 1}},
		memory:  []uint32{1},
		start:   code(grow(2), grow(1), grow(1), grow(100)),
	}.encode()
	mod := compile(t, e, wasm)
	if err := mod.Run(context.Background(), engine.RunConfig{MemoryLimitBytes: 4 << 16}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if want := []int32{1, 3, -1, -1}; !equalInt32s(grown, want) {
		t.Errorf("memory.grow under a 4-page cap: %v, want %v", grown, want)
	}
	grown = nil
	if err := mod.Run(context.Background(), engine.RunConfig{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if want := []int32{1, 3, 4, 5}; !equalInt32s(grown, want) {
		t.Errorf("memory.grow without a cap: %v, want %v", grown, want)
	}
}

func equalInt32s(a, b []int32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCompileCache(t *testing.T) {
	e := newEngine(t, engine.Config{})
	wasm := wasmModule{start: code(i32Const(1), []byte{opDrop})}.encode()
	compile(t, e, wasm)

	t.Run("cached", func(t *testing.T) {
		// Decoding and compiling allocate a lot; a cache hit only allocates
		// the returned handle.
		allocs := testing.AllocsPerRun(20, func() {
			if _, err := e.Compile(context.Background(), wasm); err != nil {
				t.Fatalf("Compile: %v", err)
			}
		})
		if allocs > 2 {
			t.Errorf("a second Compile of the same bytes allocated %v times, want a cache hit", allocs)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		fresh := wasmModule{start: code(i32Const(2), []byte{opDrop})}.encode()
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				mod, err := e.Compile(context.Background(), fresh)
				if err == nil {
					err = mod.Run(context.Background(), engine.RunConfig{})
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("goroutine %d: %v", i, err)
			}
		}
	})
	t.Run("garbage", func(t *testing.T) {
		// Twice: a failed compilation must not be cached as a success.
		for range 2 {
			_, err := e.Compile(context.Background(), []byte("not wasm at all"))
			if err == nil || !strings.Contains(err.Error(), "wazero: compile") {
				t.Errorf("Compile(garbage) = %v, want a wazero: compile error", err)
			}
		}
	})
}

func TestCompileCacheDir(t *testing.T) {
	dir := t.TempDir()
	wasm := wasmModule{start: code(i32Const(3), []byte{opDrop})}.encode()
	first := newEngine(t, engine.Config{CacheDir: dir})
	compile(t, first, wasm)
	var files int
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if files == 0 {
		t.Fatalf("no compiled code written to %s", dir)
	}

	second := newEngine(t, engine.Config{CacheDir: dir})
	if err := compile(t, second, wasm).Run(context.Background(), engine.RunConfig{}); err != nil {
		t.Fatalf("Run from the file cache: %v", err)
	}
}

func TestMountErrors(t *testing.T) {
	e := newEngine(t, engine.Config{})
	mod := compile(t, e, wasmModule{}.encode())
	missing := filepath.Join(t.TempDir(), "missing")
	err := mod.Run(context.Background(), engine.RunConfig{Mounts: []engine.Mount{{GuestPath: "/data", HostDir: missing}}})
	if err == nil || !strings.Contains(err.Error(), "mount /data") {
		t.Errorf("Run with a missing mount directory = %v, want an error naming the mount", err)
	}
}
