// Package enginetest is the conformance suite of engine.Engine: the
// behaviour every engine must show whatever runs underneath, so that a job
// runs the same on each. Each engine's tests call Run with its constructor;
// what only one engine does is tested next to that engine.
package enginetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/internal/wasmenc"
)

// NewEngine creates the engine under test.
type NewEngine func(engine.Config) (engine.Engine, error)

// Run runs the suite against the engines newEngine creates.
func Run(t *testing.T, newEngine NewEngine) {
	s := suite{newEngine: newEngine}
	t.Run("HostCallValues", s.hostCallValues)
	t.Run("Outcomes", s.outcomes)
	t.Run("Traps", s.traps)
	t.Run("HostMemory", s.hostMemory)
	t.Run("HostMemoryWithoutGuestMemory", s.hostMemoryWithoutGuestMemory)
	t.Run("MemoryLimit", s.memoryLimit)
	t.Run("RunMemoryLimit", s.runMemoryLimit)
	t.Run("Deadline", s.deadline)
	t.Run("DeadlineDuringGC", s.deadlineDuringGC)
	t.Run("Cancel", s.cancel)
	t.Run("CancelLeavesOtherRunsAlone", s.cancelLeavesOtherRunsAlone)
	t.Run("ConcurrentRuns", s.concurrentRuns)
	t.Run("CompileCache", s.compileCache)
	t.Run("CompileCacheDir", s.compileCacheDir)
	t.Run("Fuel", s.fuel)
	t.Run("WASI", s.wasi)
}

type suite struct{ newEngine NewEngine }

func (s suite) engine(t *testing.T, cfg engine.Config) engine.Engine {
	t.Helper()
	e, err := s.newEngine(cfg)
	if err != nil {
		t.Fatalf("new engine: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(context.Background()); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

func compile(t *testing.T, e engine.Engine, m wasmModule) engine.Module {
	t.Helper()
	mod, err := e.Compile(context.Background(), m.encode(t))
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return mod
}

func hostModule(fns ...engine.HostFunction) []engine.HostModule {
	return []engine.HostModule{{Name: "test", Functions: fns}}
}

// reporter is a host function test.report(i32) collecting its argument.
type reporter struct {
	mu  sync.Mutex
	got []int32
}

func (r *reporter) function() engine.HostFunction {
	return engine.HostFunction{
		Name:   "report",
		Params: []engine.ValueType{engine.I32},
		Func: func(_ context.Context, _ engine.Memory, stack []uint64) (bool, uint32) {
			r.mu.Lock()
			r.got = append(r.got, int32(uint32(stack[0])))
			r.mu.Unlock()
			return false, 0
		},
	}
}

func (r *reporter) take() []int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := r.got
	r.got = nil
	return got
}

// reportImport is the one import of the guests that report.
var reportImport = []funcImport{{"test", "report", sig([]wasmenc.ValType{i32})}}

func wantTrap(t *testing.T, err error, substr string) {
	t.Helper()
	var trap *engine.TrapError
	if !errors.As(err, &trap) {
		t.Fatalf("Run = %v (%T), want *engine.TrapError", err, err)
	}
	if !strings.Contains(trap.Message, substr) {
		t.Errorf("trap message %q does not mention %q", trap.Message, substr)
	}
	t.Logf("trap message: %s", trap.Message)
}

// hostCallValues passes every value type to the host and back, checking
// the encoding of engine.HostFunc's stack both ways.
func (s suite) hostCallValues(t *testing.T) {
	// Negative integers show that i32s arrive zero-extended.
	var (
		inI32, outI32 int32   = -2, math.MinInt32 + 1
		inI64, outI64 int64   = -3, -1 << 40
		inF32, outF32 float32 = 1.5, -0.5
		inF64, outF64         = -2.25, math.Pi
	)
	check := func(what string, stack []uint64, i32v int32, i64v int64, f32v float32, f64v float64) {
		want := []uint64{uint64(uint32(i32v)), uint64(i64v), uint64(math.Float32bits(f32v)), math.Float64bits(f64v)}
		if len(stack) < len(want) {
			t.Errorf("%s: stack of %d values, want at least %d", what, len(stack), len(want))
			return
		}
		for i := range want {
			if stack[i] != want[i] {
				t.Errorf("%s: stack[%d] = %#x, want %#x", what, i, stack[i], want[i])
			}
		}
	}
	all := []engine.ValueType{engine.I32, engine.I64, engine.F32, engine.F64}
	var calls atomic.Int32
	e := s.engine(t, engine.Config{HostModules: hostModule(
		engine.HostFunction{Name: "echo", Params: all, Results: all,
			Func: func(_ context.Context, _ engine.Memory, stack []uint64) (bool, uint32) {
				calls.Add(1)
				check("echo's parameters", stack, inI32, inI64, inF32, inF64)
				stack[0], stack[1] = uint64(uint32(outI32)), uint64(outI64)
				stack[2], stack[3] = uint64(math.Float32bits(outF32)), math.Float64bits(outF64)
				return false, 0
			}},
		engine.HostFunction{Name: "check", Params: all,
			Func: func(_ context.Context, _ engine.Memory, stack []uint64) (bool, uint32) {
				calls.Add(1)
				check("echo's results back in the guest", stack, outI32, outI64, outF32, outF64)
				return false, 0
			}},
	)})
	vals := []wasmenc.ValType{i32, i64, f32, f64}
	m := guest([]funcImport{{"test", "echo", sig(vals, vals...)}, {"test", "check", sig(vals)}},
		func(c *wasmenc.Code) {
			c.I32Const(inI32).I64Const(inI64).F32Const(inF32).F64Const(inF64).Call(0).Call(1)
		})
	if err := compile(t, e, m).Run(context.Background(), engine.RunConfig{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if calls.Load() != 2 {
		t.Errorf("%d host calls, want 2", calls.Load())
	}
}

type exitCodeKey struct{}

func (s suite) outcomes(t *testing.T) {
	// test.exit ends the guest with the exit code the run's context
	// carries, which is also how per-run state reaches host functions.
	exitFn := engine.HostFunction{
		Name: "exit",
		Func: func(ctx context.Context, _ engine.Memory, _ []uint64) (bool, uint32) {
			return true, ctx.Value(exitCodeKey{}).(uint32)
		},
	}
	e := s.engine(t, engine.Config{HostModules: hostModule(exitFn)})
	// The unreachable proves the host call did not return to the guest.
	callsExit := guest([]funcImport{{"test", "exit", sig(nil)}}, func(c *wasmenc.Code) { c.Call(0).Unreachable() })
	cases := []struct {
		name     string
		mod      wasmModule
		exitCode uint32
		wantExit uint32 // for an *engine.ExitError
		wantErr  string // substring of another error
	}{
		{name: "start returns", mod: wasmModule{}},
		{name: "host exit 3", mod: callsExit, exitCode: 3, wantExit: 3},
		{name: "host exit 0", mod: callsExit, exitCode: 0},
		{name: "host exit max", mod: callsExit, exitCode: math.MaxUint32 - 1, wantExit: math.MaxUint32 - 1},
		{name: "no _start", mod: wasmModule{noStart: true}, wantErr: "_start"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.WithValue(context.Background(), exitCodeKey{}, c.exitCode)
			err := compile(t, e, c.mod).Run(ctx, engine.RunConfig{})
			switch {
			case c.wantExit != 0:
				var exit *engine.ExitError
				if !errors.As(err, &exit) || exit.Code != c.wantExit {
					t.Fatalf("Run = %v, want *engine.ExitError{Code: %d}", err, c.wantExit)
				}
				if !engine.IsExit(err, c.wantExit) {
					t.Errorf("IsExit(%v, %d) = false", err, c.wantExit)
				}
			case c.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("Run = %v, want an error mentioning %q", err, c.wantErr)
				}
			case err != nil:
				t.Fatalf("Run = %v, want nil", err)
			}
		})
	}
}

func (s suite) traps(t *testing.T) {
	panics := engine.HostFunction{
		Name: "panics",
		Func: func(context.Context, engine.Memory, []uint64) (bool, uint32) {
			panic("host bug 42")
		},
	}
	// A nil dereference raises SIGSEGV, which the Go runtime must still
	// turn into a panic while the engine's own signal handlers (for traps
	// in compiled code) are installed.
	var nilMap *map[string]int
	segfaults := engine.HostFunction{
		Name: "segfaults",
		Func: func(context.Context, engine.Memory, []uint64) (bool, uint32) {
			(*nilMap)["x"]++
			return false, 0
		},
	}
	e := s.engine(t, engine.Config{HostModules: hostModule(panics, segfaults)})
	withMemory := func(m wasmModule) wasmModule { m.memory = []uint32{1}; return m }
	cases := []struct {
		name, want string
		mod        wasmModule
	}{
		{"unreachable", "unreachable", guest(nil, func(c *wasmenc.Code) { c.Unreachable() })},
		{"out of bounds load", "out of bounds", withMemory(guest(nil, func(c *wasmenc.Code) { c.I32Const(65536).I32Load(0).Drop() }))},
		{"division by zero", "divide by zero", guest(nil, func(c *wasmenc.Code) { c.I32Const(1).I32Const(0).I32DivU().Drop() })},
		// _start calls itself until the stack runs out.
		{"stack overflow", "stack overflow", guest(nil, callFirst)},
		{"host function panics", "host bug 42", guest([]funcImport{{"test", "panics", sig(nil)}}, callFirst)},
		{"host function dereferences nil", "nil pointer dereference", guest([]funcImport{{"test", "segfaults", sig(nil)}}, callFirst)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantTrap(t, compile(t, e, c.mod).Run(context.Background(), engine.RunConfig{}), c.want)
		})
	}
	t.Run("engine still runs", func(t *testing.T) {
		if err := compile(t, e, wasmModule{}).Run(context.Background(), engine.RunConfig{}); err != nil {
			t.Fatalf("Run after the traps: %v", err)
		}
	})
}

func (s suite) hostMemory(t *testing.T) {
	const pageSize = 65536
	var stackLen int
	var rep reporter
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
				if b, ok := mem.Read(pageSize, 0); !ok || len(b) != 0 {
					t.Errorf("Read(end, 0) = %v, %v; want empty, true", b, ok)
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
		rep.function(),
	)
	e := s.engine(t, engine.Config{HostModules: fns})
	m := guest(
		[]funcImport{{"test", "shout", sig([]wasmenc.ValType{i32, i32}, i32)}, reportImport[0]},
		// report(load8_u(shout(16, 5))): the guest sees the host's write.
		func(c *wasmenc.Code) { c.I32Const(16).I32Const(5).Call(0).I32Load8U(0).Call(1) },
	)
	m.memory = []uint32{1, 1}
	m.data = []dataSegment{{16, []byte("hello")}}
	if err := compile(t, e, m).Run(context.Background(), engine.RunConfig{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if stackLen < 2 {
		t.Errorf("shout got a stack of %d values, want room for 2 params", stackLen)
	}
	if got := rep.take(); len(got) != 1 || got[0] != 'H' {
		t.Errorf("guest read %v after the host call, want [%d]", got, 'H')
	}
}

func (s suite) hostMemoryWithoutGuestMemory(t *testing.T) {
	var readOK, emptyOK, writeOK bool
	fns := hostModule(engine.HostFunction{
		Name: "probe",
		Func: func(_ context.Context, mem engine.Memory, _ []uint64) (bool, uint32) {
			_, readOK = mem.Read(0, 1)
			_, emptyOK = mem.Read(0, 0)
			writeOK = mem.Write(0, []byte{1})
			return false, 0
		},
	})
	e := s.engine(t, engine.Config{HostModules: fns})
	if err := compile(t, e, guest([]funcImport{{"test", "probe", sig(nil)}}, callFirst)).Run(context.Background(), engine.RunConfig{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if readOK || !emptyOK || writeOK {
		t.Errorf("without guest memory Read(0,1) ok=%v, Read(0,0) ok=%v, Write(0, 1 byte) ok=%v; want false, true, false", readOK, emptyOK, writeOK)
	}
}

func (s suite) memoryLimit(t *testing.T) {
	var rep reporter
	e := s.engine(t, engine.Config{HostModules: hostModule(rep.function()), MemoryLimitPages: 2})

	t.Run("declared minimum over the limit", func(t *testing.T) {
		mod, err := e.Compile(context.Background(), wasmModule{memory: []uint32{4}}.encode(t))
		if err == nil {
			err = mod.Run(context.Background(), engine.RunConfig{})
		}
		if err == nil {
			t.Fatal("a module needing 4 pages ran under a 2-page limit")
		}
	})
	t.Run("growth stops at the limit", func(t *testing.T) {
		m := guest(reportImport, func(c *wasmenc.Code) { growMemory(c, 4, 0); growMemory(c, 1, 0); growMemory(c, 1, 0) })
		m.memory = []uint32{1}
		if err := compile(t, e, m).Run(context.Background(), engine.RunConfig{}); err != nil {
			t.Fatalf("Run: %v", err)
		}
		// memory.grow returns the old size in pages, or -1 when refused.
		if got, want := rep.take(), []int32{-1, 1, -1}; !equal(got, want) {
			t.Errorf("memory.grow results %v, want %v", got, want)
		}
	})
}

// runMemoryLimit caps one instance below the engine's limit, as a
// per-task-type policy does.
func (s suite) runMemoryLimit(t *testing.T) {
	var rep reporter
	e := s.engine(t, engine.Config{HostModules: hostModule(rep.function())})
	m := guest(reportImport, func(c *wasmenc.Code) {
		for _, pages := range []int32{2, 1, 1, 100} {
			growMemory(c, pages, 0)
		}
	})
	m.memory = []uint32{1}
	mod := compile(t, e, m)
	if err := mod.Run(context.Background(), engine.RunConfig{MemoryLimitBytes: 4 << 16}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := rep.take(), []int32{1, 3, -1, -1}; !equal(got, want) {
		t.Errorf("memory.grow under a 4-page cap: %v, want %v", got, want)
	}
	if err := mod.Run(context.Background(), engine.RunConfig{}); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got, want := rep.take(), []int32{1, 3, 4, 5}; !equal(got, want) {
		t.Errorf("memory.grow without a cap: %v, want %v", got, want)
	}
}

func equal(a, b []int32) bool {
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

// promptly bounds how long after its context ends a run may take to
// return. The host promises 100 ms; the margin is for loaded CI machines.
const promptly = time.Second

// callTree is a guest whose _start makes 2^depth calls without a single
// loop: each of its functions calls the next one twice.
func callTree(depth int) wasmModule {
	m := wasmModule{}
	for i := 1; i <= depth; i++ {
		m.funcs = append(m.funcs, function{body: func(c *wasmenc.Code) { c.Call(uint32(i)).Call(uint32(i)) }})
	}
	m.funcs = append(m.funcs, function{})
	return m
}

func (s suite) deadline(t *testing.T) {
	e := s.engine(t, engine.Config{})
	for _, c := range []struct {
		name string
		mod  wasmModule
	}{
		{"infinite loop", guest(nil, forever)},
		{"loop-free call tree", callTree(48)},
	} {
		t.Run(c.name, func(t *testing.T) {
			mod := compile(t, e, c.mod)
			const deadline = 100 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			err := mod.Run(ctx, engine.RunConfig{})
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Run = %v, want context.DeadlineExceeded", err)
			}
			late := time.Since(start) - deadline
			t.Logf("stopped %v after the deadline", late)
			if late > promptly {
				t.Errorf("Run returned %v after the deadline", late)
			}
		})
	}
}

func (s suite) cancel(t *testing.T) {
	e := s.engine(t, engine.Config{})
	spin := compile(t, e, guest(nil, forever))
	t.Run("while running", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- spin.Run(ctx, engine.RunConfig{}) }()
		time.Sleep(50 * time.Millisecond)
		cancel()
		cancelled := time.Now()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run = %v, want context.Canceled", err)
			}
			t.Logf("stopped %v after cancel", time.Since(cancelled))
		case <-time.After(promptly):
			t.Fatalf("Run still spinning %v after cancel", promptly)
		}
	})
	t.Run("before running", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := spin.Run(ctx, engine.RunConfig{}); !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	})
}

// cancelLeavesOtherRunsAlone cancels runs of an engine while another run
// of the same engine goes on; that one must not notice.
func (s suite) cancelLeavesOtherRunsAlone(t *testing.T) {
	release := make(chan struct{})
	polled := make(chan struct{}, 1)
	poll := engine.HostFunction{
		Name:    "poll",
		Results: []engine.ValueType{engine.I32},
		Func: func(_ context.Context, _ engine.Memory, stack []uint64) (bool, uint32) {
			select {
			case polled <- struct{}{}:
			default:
			}
			select {
			case <-release:
				stack[0] = 1
			default:
				stack[0] = 0
			}
			return false, 0
		},
	}
	e := s.engine(t, engine.Config{HostModules: hostModule(poll)})
	// Loops, calling poll, until poll returns 1.
	survivor := compile(t, e, guest([]funcImport{{"test", "poll", sig(nil, i32)}},
		func(c *wasmenc.Code) { c.Loop().Call(0).I32Eqz().BrIf(0).End() }))
	spin := compile(t, e, guest(nil, forever))

	survived := make(chan error, 1)
	go func() { survived <- survivor.Run(context.Background(), engine.RunConfig{}) }()
	<-polled
	for i := range 3 {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- spin.Run(ctx, engine.RunConfig{}) }()
		time.Sleep(10 * time.Millisecond)
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled run %d = %v, want context.Canceled", i, err)
		}
	}
	select {
	case err := <-survived:
		t.Fatalf("the other run ended when runs beside it were cancelled: %v", err)
	default:
	}
	close(release)
	select {
	case err := <-survived:
		if err != nil {
			t.Errorf("the other run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the other run did not finish after its release")
	}
}

type runIDKey struct{}

// concurrentRuns runs many instances at once, each checking that host
// calls see its own context and its own memory.
func (s suite) concurrentRuns(t *testing.T) {
	var calls, mismatches atomic.Int64
	id := engine.HostFunction{
		Name:    "id",
		Results: []engine.ValueType{engine.I32},
		Func: func(ctx context.Context, _ engine.Memory, stack []uint64) (bool, uint32) {
			stack[0] = uint64(ctx.Value(runIDKey{}).(uint32))
			return false, 0
		},
	}
	check := engine.HostFunction{
		Name:   "check",
		Params: []engine.ValueType{engine.I32},
		Func: func(ctx context.Context, mem engine.Memory, stack []uint64) (bool, uint32) {
			calls.Add(1)
			b, ok := mem.Read(uint32(stack[0]), 4)
			want := ctx.Value(runIDKey{}).(uint32)
			if !ok || uint32(b[0])|uint32(b[1])<<8|uint32(b[2])<<16|uint32(b[3])<<24 != want {
				mismatches.Add(1)
			}
			return false, 0
		},
	}
	e := s.engine(t, engine.Config{HostModules: hostModule(id, check)})
	// 100 times: store id() at 8, check(8).
	const iterations = 100
	m := wasmModule{
		imports: []funcImport{{"test", "id", sig(nil, i32)}, {"test", "check", sig([]wasmenc.ValType{i32})}},
		funcs: []function{{locals: []wasmenc.ValType{i32}, body: func(c *wasmenc.Code) {
			c.I32Const(iterations).LocalSet(0).
				Loop().
				I32Const(8).Call(0).I32Store(0).
				I32Const(8).Call(1).
				LocalGet(0).I32Const(1).I32Sub().LocalSet(0).
				LocalGet(0).BrIf(0).End()
		}}},
		memory: []uint32{1},
	}
	mod := compile(t, e, m)
	const goroutines, runs = 16, 10
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*runs)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range runs {
				ctx := context.WithValue(context.Background(), runIDKey{}, uint32(g*1000+r+1))
				if err := mod.Run(ctx, engine.RunConfig{}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Run: %v", err)
	}
	if want := int64(goroutines * runs * iterations); calls.Load() != want {
		t.Errorf("%d checks, want %d", calls.Load(), want)
	}
	if n := mismatches.Load(); n > 0 {
		t.Errorf("%d host calls saw another run's context or memory", n)
	}
}

func (s suite) compileCache(t *testing.T) {
	e := s.engine(t, engine.Config{})
	wasm := guest(nil, dropConst(1)).encode(t)
	if _, err := e.Compile(context.Background(), wasm); err != nil {
		t.Fatalf("Compile: %v", err)
	}
	t.Run("cached", func(t *testing.T) {
		// Decoding and compiling allocate a lot; a cache hit only
		// allocates the returned handle.
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
		fresh := guest(nil, dropConst(2)).encode(t)
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
			if err == nil || !strings.Contains(err.Error(), e.Name()+": compile") {
				t.Errorf("Compile(garbage) = %v, want a %s: compile error", err, e.Name())
			}
		}
	})
	t.Run("compile outlasting its context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		other := guest(nil, dropConst(3)).encode(t)
		if _, err := e.Compile(ctx, other); err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Compile with a cancelled context = %v, want nil or context.Canceled", err)
		}
		if _, err := e.Compile(context.Background(), other); err != nil {
			t.Errorf("Compile after a cancelled wait: %v", err)
		}
	})
}

func (s suite) compileCacheDir(t *testing.T) {
	dir := t.TempDir()
	wasm := guest(nil, dropConst(4))
	first := s.engine(t, engine.Config{CacheDir: dir})
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
	second := s.engine(t, engine.Config{CacheDir: dir})
	if err := compile(t, second, wasm).Run(context.Background(), engine.RunConfig{}); err != nil {
		t.Fatalf("Run from the file cache: %v", err)
	}
}

// fuel checks either metering or its refusal: an engine that cannot meter
// must not run a guest unmetered when asked for a budget.
func (s suite) fuel(t *testing.T) {
	e := s.engine(t, engine.Config{})
	// Counts down from 1000.
	counter := compile(t, e, wasmModule{funcs: []function{{locals: []wasmenc.ValType{i32}, body: func(c *wasmenc.Code) {
		c.I32Const(1000).LocalSet(0).
			Loop().
			LocalGet(0).I32Const(1).I32Sub().LocalSet(0).
			LocalGet(0).BrIf(0).End()
	}}}})
	err := counter.Run(context.Background(), engine.RunConfig{Fuel: 1 << 40})
	if errors.Is(err, engine.ErrFuelUnsupported) {
		if !strings.Contains(err.Error(), e.Name()) {
			t.Errorf("Run with fuel = %q, want the error to name the engine %s", err, e.Name())
		}
		if err := counter.Run(context.Background(), engine.RunConfig{}); err != nil {
			t.Errorf("Run without fuel: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Run with ample fuel: %v", err)
	}
	spin := compile(t, e, guest(nil, forever))
	for range 2 { // the second run gets a fresh budget
		start := time.Now()
		err = spin.Run(context.Background(), engine.RunConfig{Fuel: 1_000_000})
		if !errors.Is(err, engine.ErrFuelExhausted) {
			t.Fatalf("infinite loop with fuel = %v, want an error wrapping ErrFuelExhausted", err)
		}
		wantTrap(t, err, "fuel")
		if d := time.Since(start); d > promptly {
			t.Errorf("a million units of fuel lasted %v", d)
		}
	}
	if err := counter.Run(context.Background(), engine.RunConfig{Fuel: 100}); !errors.Is(err, engine.ErrFuelExhausted) {
		t.Errorf("1000 iterations on 100 units of fuel = %v, want ErrFuelExhausted", err)
	}
	if err := counter.Run(context.Background(), engine.RunConfig{}); err != nil {
		t.Errorf("Run without fuel after metered runs: %v", err)
	}
}

// WASI preview 1 imports of the guests below, at the function indexes
// fn* name.
var wasiImports = []funcImport{
	{"wasi_snapshot_preview1", "fd_write", sig([]wasmenc.ValType{i32, i32, i32, i32}, i32)},
	{"wasi_snapshot_preview1", "proc_exit", sig([]wasmenc.ValType{i32})},
	{"wasi_snapshot_preview1", "args_sizes_get", sig([]wasmenc.ValType{i32, i32}, i32)},
	{"wasi_snapshot_preview1", "args_get", sig([]wasmenc.ValType{i32, i32}, i32)},
	{"wasi_snapshot_preview1", "path_open", sig([]wasmenc.ValType{i32, i32, i32, i32, i32, i64, i64, i32, i32}, i32)},
	{"wasi_snapshot_preview1", "fd_read", sig([]wasmenc.ValType{i32, i32, i32, i32}, i32)},
	reportImport[0],
}

const (
	fnFdWrite = iota
	fnProcExit
	fnArgsSizesGet
	fnArgsGet
	fnPathOpen
	fnFdRead
	fnReport
)

// store32 stores the i32 value produces at addr.
func store32(c *wasmenc.Code, addr int32, value body) {
	c.I32Const(addr)
	value(c)
	c.I32Store(0)
}

// load32 is a body loading the i32 at addr.
func load32(addr int32) body { return func(c *wasmenc.Code) { c.I32Const(addr).I32Load(0) } }

// iovec places one iovec {buf, n} at 0; n is a body producing an i32.
func iovec(buf int32, n body) body {
	return func(c *wasmenc.Code) {
		store32(c, 0, i32Const(buf))
		store32(c, 4, n)
	}
}

// transfer calls fn, fd_read or fd_write, on the descriptor stored at 12
// with the iovec at 0 and the count going to 8, and reports the errno.
func transfer(fn uint32) body {
	return func(c *wasmenc.Code) {
		load32(12)(c)
		c.I32Const(0).I32Const(1).I32Const(8).Call(fn).Call(fnReport)
	}
}

// write writes n bytes at buf to fd, using an iovec at 0 and the count at 8;
// n is a body producing an i32.
func write(fd int32, buf int32, n body) body {
	return seq(iovec(buf, n), func(c *wasmenc.Code) {
		c.I32Const(fd).I32Const(0).I32Const(1).I32Const(8).Call(fnFdWrite).Call(fnReport)
	})
}

// open opens path (placed at addr by the guest's data) relative to the
// preopen dirFD, storing the new descriptor at 12 and reporting the errno.
func open(dirFD int32, addr int32, path string, oflags int32) body {
	const rights = 1<<29 - 1 // every right WASI preview 1 defines
	return func(c *wasmenc.Code) {
		c.I32Const(dirFD).I32Const(0).I32Const(addr).I32Const(int32(len(path))).I32Const(oflags).
			I64Const(rights).I64Const(rights).I32Const(0).I32Const(12).Call(fnPathOpen).Call(fnReport)
	}
}

func (s suite) wasi(t *testing.T) {
	var rep reporter
	e := s.engine(t, engine.Config{HostModules: hostModule(rep.function())})
	wasiGuest := func(data []dataSegment, code ...body) engine.Module {
		m := guest(wasiImports, seq(code...))
		m.memory = []uint32{1}
		m.data = data
		return compile(t, e, m)
	}
	run := func(t *testing.T, mod engine.Module, cfg engine.RunConfig) (stdout, stderr string, err error) {
		var out, errOut bytes.Buffer
		cfg.Stdout, cfg.Stderr = &out, &errOut
		err = mod.Run(context.Background(), cfg)
		return out.String(), errOut.String(), err
	}
	noErrnos := func(t *testing.T) {
		t.Helper()
		for i, errno := range rep.take() {
			if errno != 0 {
				t.Errorf("WASI call %d failed with errno %d", i, errno)
			}
		}
	}

	for _, code := range []uint32{0, 7} {
		t.Run(fmt.Sprintf("stdout, stderr and exit code %d", code), func(t *testing.T) {
			mod := wasiGuest([]dataSegment{{16, []byte("out\n")}, {32, []byte("err\n")}},
				write(1, 16, i32Const(4)), write(2, 32, i32Const(4)),
				func(c *wasmenc.Code) { c.I32Const(int32(code)).Call(fnProcExit).Unreachable() })
			stdout, stderr, err := run(t, mod, engine.RunConfig{})
			if code == 0 && err != nil {
				t.Errorf("Run = %v, want nil for exit code 0", err)
			}
			if code != 0 && !engine.IsExit(err, code) {
				t.Errorf("Run = %v, want exit code %d", err, code)
			}
			if stdout != "out\n" || stderr != "err\n" {
				t.Errorf("stdout %q, stderr %q; want %q, %q", stdout, stderr, "out\n", "err\n")
			}
			noErrnos(t)
		})
	}
	t.Run("args", func(t *testing.T) {
		// args_sizes_get(&argc at 16, &size at 20); args_get(argv at 32,
		// buf at 256); write the buffer.
		mod := wasiGuest(nil,
			func(c *wasmenc.Code) {
				c.I32Const(16).I32Const(20).Call(fnArgsSizesGet).Call(fnReport).
					I32Const(32).I32Const(256).Call(fnArgsGet).Call(fnReport)
			},
			write(1, 256, load32(20)))
		stdout, _, err := run(t, mod, engine.RunConfig{Args: []string{"task", "a b"}})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if want := "task\x00a b\x00"; stdout != want {
			t.Errorf("args as the guest sees them: %q, want %q", stdout, want)
		}
		noErrnos(t)
	})
	t.Run("mounts", func(t *testing.T) {
		dir := t.TempDir()
		// Read in.txt from the FS mount (fd 3) and write it to stdout and
		// to out.txt, created in the HostDir mount (fd 4).
		const oCreat = 1
		mod := wasiGuest([]dataSegment{{100, []byte("in.txt")}, {120, []byte("out.txt")}},
			open(3, 100, "in.txt", 0),
			// fd_read(fd, iovec{512, 64} at 0, 1, &n at 8)
			iovec(512, i32Const(64)), transfer(fnFdRead),
			write(1, 512, load32(8)),
			open(4, 120, "out.txt", oCreat),
			iovec(512, i32Const(7)), transfer(fnFdWrite))
		stdout, _, err := run(t, mod, engine.RunConfig{Mounts: []engine.Mount{
			{GuestPath: "/in", FS: fstest.MapFS{"in.txt": {Data: []byte("mounted")}}},
			{GuestPath: "/out", HostDir: dir},
		}})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		noErrnos(t)
		if stdout != "mounted" {
			t.Errorf("read from the FS mount: %q, want %q", stdout, "mounted")
		}
		if b, err := os.ReadFile(filepath.Join(dir, "out.txt")); err != nil || string(b) != "mounted" {
			t.Errorf("file written to the HostDir mount: %q, %v; want %q", b, err, "mounted")
		}
	})
	t.Run("read-only mount", func(t *testing.T) {
		dir := t.TempDir()
		mod := wasiGuest([]dataSegment{{120, []byte("out.txt")}}, open(3, 120, "out.txt", 1))
		if _, _, err := run(t, mod, engine.RunConfig{Mounts: []engine.Mount{{GuestPath: "/out", HostDir: dir, ReadOnly: true}}}); err != nil {
			t.Fatalf("Run: %v", err)
		}
		if got := rep.take(); len(got) != 1 || got[0] == 0 {
			t.Errorf("path_open(O_CREAT) in a read-only mount: errnos %v, want one failure", got)
		}
		if _, err := os.Stat(filepath.Join(dir, "out.txt")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a read-only mount got a file: %v", err)
		}
	})
	t.Run("missing mount directory", func(t *testing.T) {
		mod := wasiGuest(nil)
		missing := filepath.Join(t.TempDir(), "missing")
		_, _, err := run(t, mod, engine.RunConfig{Mounts: []engine.Mount{{GuestPath: "/data", HostDir: missing}}})
		if err == nil || !strings.Contains(err.Error(), "mount /data") {
			t.Errorf("Run with a missing mount directory = %v, want an error naming the mount", err)
		}
	})
}
