// Package wazeroengine runs task modules on wazero, the pure-Go WebAssembly
// runtime that is xfhost's default engine.
package wazeroengine

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/tetratelabs/wazero/experimental/sysfs"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/internal/guestfs"
	"github.com/xfhost/xfhost/internal/wasmfile"
)

// Engine is a wazero runtime with the host modules instantiated once; every
// job gets its own anonymous guest instance, and per-job state reaches the
// host functions through the context.
type Engine struct {
	runtime wazero.Runtime
	cache   wazero.CompilationCache

	mu       sync.Mutex
	compiled map[[32]byte]*compileEntry
	// compiling counts compiles still running on their own goroutine,
	// which Close must wait for: wazero cannot stop them, and one that
	// finishes into a closed runtime panics.
	compiling sync.WaitGroup
}

type compileEntry struct {
	done      chan struct{}
	stoppable *wasmfile.Stoppable
	mod       wazero.CompiledModule
	err       error
}

// New creates an engine. The host modules are registered with the fast
// stack-based function API.
func New(ctx context.Context, cfg engine.Config) (*Engine, error) {
	var cache wazero.CompilationCache
	if cfg.CacheDir != "" {
		c, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("wazero: compilation cache %s: %w", cfg.CacheDir, err)
		}
		cache = c
	} else {
		cache = wazero.NewCompilationCache()
	}
	// No WithCloseOnContextDone: its checks at every loop header and
	// function entry cost 13-17x on compute-bound guests. Modules get a
	// stop flag instead (see Compile and Run).
	rc := wazero.NewRuntimeConfig().
		WithCompilationCache(cache)
	if cfg.MemoryLimitPages > 0 {
		rc = rc.WithMemoryLimitPages(cfg.MemoryLimitPages)
	}
	r := wazero.NewRuntimeWithConfig(ctx, rc)
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, r); err != nil {
		_ = r.Close(ctx)
		return nil, fmt.Errorf("wazero: instantiate WASI: %w", err)
	}
	for _, hm := range cfg.HostModules {
		if err := InstantiateHostModule(ctx, r, hm); err != nil {
			_ = r.Close(ctx)
			return nil, fmt.Errorf("wazero: instantiate host module %s: %w", hm.Name, err)
		}
	}
	return &Engine{runtime: r, cache: cache, compiled: map[[32]byte]*compileEntry{}}, nil
}

// Name implements engine.Engine.
func (e *Engine) Name() string { return "wazero" }

// Close releases the runtime and every compiled module, after waiting for
// compiles that are still running.
func (e *Engine) Close(ctx context.Context) error {
	e.compiling.Wait()
	err := e.runtime.Close(ctx)
	return errors.Join(err, e.cache.Close(ctx))
}

// Compile implements engine.Engine. Concurrent compiles of the same bytes
// share one compilation.
func (e *Engine) Compile(ctx context.Context, wasm []byte) (engine.Module, error) {
	key := sha256.Sum256(wasm)
	e.mu.Lock()
	ent, ok := e.compiled[key]
	if !ok {
		ent = &compileEntry{done: make(chan struct{})}
		e.compiled[key] = ent
		e.mu.Unlock()
		// wazero compilation cannot be interrupted, so it runs on its own
		// goroutine: the caller's ctx bounds only the wait, and a compile
		// that outlasts it still finishes into the cache. It gets its own
		// copy of the bytes, which it may still read after Compile returns.
		wasm := bytes.Clone(wasm)
		e.compiling.Go(func() {
			ent.stoppable, ent.err = wasmfile.AddStopChecks(wasm)
			if ent.err == nil {
				ent.mod, ent.err = e.runtime.CompileModule(context.WithoutCancel(ctx), ent.stoppable.Wasm)
			}
			if ent.err != nil {
				ent.err = fmt.Errorf("wazero: compile: %w", ent.err)
				e.mu.Lock()
				delete(e.compiled, key)
				e.mu.Unlock()
			}
			close(ent.done)
		})
	} else {
		e.mu.Unlock()
	}
	select {
	case <-ent.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if ent.err != nil {
		return nil, ent.err
	}
	return &module{e: e, compiled: ent.mod, stopGlobal: ent.stoppable.StopGlobal, start: ent.stoppable.Start}, nil
}

type module struct {
	e        *Engine
	compiled wazero.CompiledModule
	// stopGlobal is the exported flag that makes the guest trap at its
	// next check (see wasmfile.AddStopChecks); start is the exported
	// former start function, or "".
	stopGlobal, start string
}

// Run implements engine.Module.
func (m *module) Run(ctx context.Context, cfg engine.RunConfig) error {
	if cfg.Fuel > 0 {
		// Running unmetered would silently drop a limit the operator set.
		return fmt.Errorf("%w by the wazero engine", engine.ErrFuelUnsupported)
	}
	fsc := wazero.NewFSConfig()
	var roots []*os.Root
	defer func() {
		for _, r := range roots {
			r.Close()
		}
	}()
	for _, mnt := range cfg.Mounts {
		switch {
		case mnt.FS != nil:
			fsc = fsc.WithFSMount(mnt.FS, mnt.GuestPath)
		case mnt.HostDir != "":
			root, err := os.OpenRoot(mnt.HostDir)
			if err != nil {
				return fmt.Errorf("wazero: mount %s: %w", mnt.GuestPath, err)
			}
			roots = append(roots, root)
			fsc = fsc.(sysfs.FSConfig).WithSysFSMount(guestfs.New(root, guestfs.Options{ReadOnly: mnt.ReadOnly, QuotaBytes: mnt.QuotaBytes}), mnt.GuestPath)
		}
	}
	mc := wazero.NewModuleConfig().
		WithName("").
		WithArgs(cfg.Args...).
		WithStdin(eofReader{}).
		WithStdout(writerOrDiscard(cfg.Stdout)).
		WithStderr(writerOrDiscard(cfg.Stderr)).
		WithFSConfig(fsc).
		WithSysWalltime().
		WithSysNanotime().
		WithRandSource(rand.Reader).
		// A sleeping guest wakes when the job ends.
		WithNanosleep(func(ns int64) {
			t := time.NewTimer(time.Duration(ns))
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
			}
		}).
		// The start functions run below, once the stop flag is reachable.
		WithStartFunctions()
	if cfg.MemoryLimitBytes > 0 {
		ctx = experimental.WithMemoryAllocator(ctx, cappedAllocator{limit: cfg.MemoryLimitBytes})
	}
	mod, err := m.e.runtime.InstantiateModule(ctx, m.compiled, mc)
	if err != nil {
		return classify(ctx, err)
	}
	defer mod.Close(context.WithoutCancel(ctx))
	stop, ok := mod.ExportedGlobal(m.stopGlobal).(api.MutableGlobal)
	if !ok {
		return fmt.Errorf("wazero: stop flag %q not exported", m.stopGlobal)
	}
	// Setting the flag from another goroutine is what makes the guest
	// stop: compiled code reads it at every 4096th function entry and
	// loop iteration, after a call into Go that also lets this goroutine's
	// scheduler and the garbage collector in.
	defer context.AfterFunc(ctx, func() { stop.Set(1) })()
	for _, name := range []string{m.start, "_start"} {
		if name == "" {
			continue
		}
		fn := mod.ExportedFunction(name)
		if fn == nil {
			return &engine.TrapError{Message: "module exports no " + name + " function"}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := fn.Call(ctx); err != nil {
			return classify(ctx, err)
		}
	}
	return nil
}

// classify maps wazero's errors onto the engine-neutral ones.
func classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var exit *sys.ExitError
	if errors.As(err, &exit) {
		switch exit.ExitCode() {
		case 0:
			return nil
		case sys.ExitCodeDeadlineExceeded, sys.ExitCodeContextCanceled:
			if ctx.Err() != nil {
				return ctx.Err()
			}
		}
		return &engine.ExitError{Code: exit.ExitCode()}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return &engine.TrapError{Message: err.Error()}
}

// InstantiateHostModule instantiates hm in r exactly as New does for the
// host modules of its Config. It is exported for tests that run host
// modules on a wazero runtime configured differently from the engine's,
// such as engine/wasip1's comparison with wazero's own WASI.
func InstantiateHostModule(ctx context.Context, r wazero.Runtime, hm engine.HostModule) error {
	b := r.NewHostModuleBuilder(hm.Name)
	for _, hf := range hm.Functions {
		b.NewFunctionBuilder().
			WithGoModuleFunction(adapt(hf.Func), valueTypes(hf.Params), valueTypes(hf.Results)).
			Export(hf.Name)
	}
	_, err := b.Instantiate(ctx)
	return err
}

func adapt(fn engine.HostFunc) api.GoModuleFunc {
	return func(ctx context.Context, mod api.Module, stack []uint64) {
		// api.Memory has engine.Memory's method set, so no wrapper (and no
		// allocation) is needed.
		var mem engine.Memory = noMemory{}
		// A module without memory yields a typed nil, hence reflect.
		if m := mod.Memory(); m != nil && !reflect.ValueOf(m).IsNil() {
			mem = m
		}
		if exit, code := fn(ctx, mem, stack); exit {
			_ = mod.CloseWithExitCode(ctx, code)
			panic(sys.NewExitError(code)) // how wazero unwinds a guest, as its proc_exit does
		}
	}
}

// noMemory serves a guest that exports no memory: every access is out of
// bounds, except an empty one.
type noMemory struct{}

func (noMemory) Read(off, n uint32) ([]byte, bool) { return nil, n == 0 && off == 0 }
func (noMemory) Write(off uint32, b []byte) bool   { return len(b) == 0 && off == 0 }

func valueTypes(ts []engine.ValueType) []api.ValueType {
	out := make([]api.ValueType, len(ts))
	for i, t := range ts {
		switch t {
		case engine.I32:
			out[i] = api.ValueTypeI32
		case engine.I64:
			out[i] = api.ValueTypeI64
		case engine.F32:
			out[i] = api.ValueTypeF32
		case engine.F64:
			out[i] = api.ValueTypeF64
		}
	}
	return out
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

func writerOrDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
