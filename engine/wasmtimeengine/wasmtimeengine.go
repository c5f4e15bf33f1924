//go:build cgo

// Package wasmtimeengine runs task modules on wasmtime (through
// wasmtime-go), the second engine of xfhost beside wazero. It needs cgo, so
// it exists only in cgo builds.
//
// Guests see the same imports as on wazero: the host modules of the
// engine.Config and WASI preview 1 from package engine/wasip1 (wasmtime's own
// WASI can neither write to an io.Writer nor mount an fs.FS).
//
// Every run gets its own wasmtime store, so per-job limits are store limits:
// linear memory through the store limiter, fuel through the store's fuel
// budget. Deadlines and cancellation use epoch interruption without a ticker:
// when a run's context ends, it flags that run's store and increments the
// engine's epoch once; every store then reaches its epoch deadline at its
// next function entry or loop back-edge, and a small C callback stops the
// flagged one and lets the others carry on. A running job costs nothing
// until then: no goroutine, no timer.
//
// A few calls that wasmtime-go does not wrap (unchecked host functions,
// epoch deadline callbacks) go to wasmtime's C API directly, in capi.c.
//
// Fuel metering needs differently compiled code, which is slower even with an
// unlimited budget, so the engine keeps two wasmtime engines: the plain one
// that runs every module, and a metering one, created and compiled for on the
// first run of a module with RunConfig.Fuel set.
//
// With Config.CacheDir set, compiled code is kept in files there, keyed by the
// module's sha256, the wasmtime version and the metering flavor. wasmtime
// loads such files as trusted native code: the directory must be writable
// only by the host's own user.
package wasmtimeengine

import (
	"context"
	"crypto/sha256"
	"fmt"
	"runtime/cgo"
	"sync"

	"github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wasip1"
)

// maxWasmStack bounds the native stack Wasm code may use. wasmtime's own
// default (512 KiB) suffices for Go, C and Rust guests; twice that costs
// nothing and still stays well below the thread stacks cgo runs Wasm on
// (glibc's default: RLIMIT_STACK, usually 8 MiB, at least 2 MiB), so deep
// recursion traps ("stack overflow") instead of overflowing the thread.
const maxWasmStack = 1 << 20

// Store limits beyond linear memory, which the run's configuration sets.
// Table counts and sizes match the defaults of the policy's module limits
// (a policy raising those still gets these); a task module has one
// instance and one memory.
const (
	maxTableElements = 1 << 20
	maxTables        = 10
	maxInstances     = 1
	maxMemories      = 1
)

// Engine compiles and runs modules on wasmtime. Host functions are defined
// once per wasmtime engine in a linker and find the state of the run that
// calls them through the store they are called from.
type Engine struct {
	funcs       []*hostFunc
	handles     []cgo.Handle // of funcs, passed to C as the functions' env
	maxSlots    int          // the most values any host function takes or returns
	memoryLimit uint64       // bytes; 0 for the Wasm maximum
	cacheDir    string

	plain *flavor

	fuelOnce sync.Once
	fuel     *flavor
	fuelErr  error

	// runs maps the wasmtime context of each running store to its run.
	runs sync.Map

	mu       sync.Mutex
	compiled map[[32]byte]*entry
	// compiling counts compilations in flight, which Close waits for: they
	// use the wasmtime engine it frees.
	compiling sync.WaitGroup
}

// flavor is one wasmtime engine with the host functions linked.
type flavor struct {
	name   string // in cache file names
	engine *wasmtime.Engine
	linker *wasmtime.Linker
}

// New creates an engine.
func New(_ context.Context, cfg engine.Config) (*Engine, error) {
	if err := checkLayouts(); err != nil {
		return nil, err
	}
	e := &Engine{
		memoryLimit: uint64(cfg.MemoryLimitPages) << 16,
		cacheDir:    cfg.CacheDir,
		compiled:    map[[32]byte]*entry{},
	}
	for _, hm := range append([]engine.HostModule{wasip1.Module()}, cfg.HostModules...) {
		for _, hf := range hm.Functions {
			if hf.Func == nil {
				e.release()
				return nil, fmt.Errorf("wasmtime: host function %s.%s has no implementation", hm.Name, hf.Name)
			}
			f := &hostFunc{e: e, module: hm.Name, name: hf.Name, fn: hf.Func, params: hf.Params, results: hf.Results}
			e.funcs = append(e.funcs, f)
			e.handles = append(e.handles, cgo.NewHandle(f))
			e.maxSlots = max(e.maxSlots, len(hf.Params), len(hf.Results))
		}
	}
	plain, err := e.newFlavor("plain", false)
	if err != nil {
		e.release()
		return nil, err
	}
	e.plain = plain
	if err := verifyStorePtr(plain.engine); err != nil {
		e.release()
		return nil, err
	}
	if cfg.CacheDir != "" {
		if err := prepareCacheDir(cfg.CacheDir); err != nil {
			e.release()
			return nil, err
		}
	}
	return e, nil
}

func (e *Engine) newFlavor(name string, fuel bool) (*flavor, error) {
	c := wasmtime.NewConfig()
	c.SetEpochInterruption(true)
	c.SetConsumeFuel(fuel)
	c.SetMaxWasmStack(maxWasmStack)
	// Shared memories would outlive the limits of one store, and wazero
	// does not run them either.
	c.SetWasmThreads(false)
	f := &flavor{name: name, engine: wasmtime.NewEngineWithConfig(c)}
	f.linker = wasmtime.NewLinker(f.engine)
	for i, hf := range e.funcs {
		if err := defineHostFunc(f.linker, hf, e.handles[i]); err != nil {
			f.close()
			return nil, fmt.Errorf("wasmtime: define host function %s.%s: %w", hf.module, hf.name, err)
		}
	}
	return f, nil
}

func (f *flavor) close() {
	f.linker.Close()
	f.engine.Close()
}

// fuelFlavor returns the metering engine, creating it on first use.
func (e *Engine) fuelFlavor() (*flavor, error) {
	e.fuelOnce.Do(func() { e.fuel, e.fuelErr = e.newFlavor("fuel", true) })
	return e.fuel, e.fuelErr
}

// Name implements engine.Engine.
func (e *Engine) Name() string { return "wasmtime" }

// Close releases the engine and every compiled module, after waiting for
// compilations in flight. Runs must have ended.
func (e *Engine) Close(context.Context) error {
	e.compiling.Wait()
	e.mu.Lock()
	entries := e.compiled
	e.compiled = map[[32]byte]*entry{}
	e.mu.Unlock()
	for _, ent := range entries {
		ent.close()
	}
	e.release()
	return nil
}

// release frees the wasmtime engines, then the handles their linkers use.
func (e *Engine) release() {
	if e.plain != nil {
		e.plain.close()
		e.plain = nil
	}
	e.fuelOnce.Do(func() {}) // no metering engine from now on
	if e.fuel != nil {
		e.fuel.close()
		e.fuel = nil
	}
	for _, h := range e.handles {
		h.Delete()
	}
	e.handles = nil
}

// Compile implements engine.Engine. Concurrent compiles of the same bytes
// share one compilation, which runs on its own goroutine because wasmtime
// cannot interrupt it: ctx bounds only the wait, and a compile that outlasts
// it still finishes into the cache.
func (e *Engine) Compile(ctx context.Context, wasm []byte) (engine.Module, error) {
	key := sha256.Sum256(wasm)
	e.mu.Lock()
	ent, ok := e.compiled[key]
	if !ok {
		ent = &entry{key: key, wasm: append([]byte(nil), wasm...)}
		e.compiled[key] = ent
	}
	e.mu.Unlock()
	if _, err := e.compileFor(ctx, ent, e.plain); err != nil {
		return nil, err
	}
	return &module{e: e, ent: ent}, nil
}

// compileFor returns ent's code for flavor f, compiling it (or loading it
// from the cache directory) on first use.
func (e *Engine) compileFor(ctx context.Context, ent *entry, f *flavor) (*wasmtime.Module, error) {
	s := &ent.plain
	if f != e.plain {
		s = &ent.fuel
	}
	s.start.Do(func() {
		s.done = make(chan struct{})
		e.compiling.Add(1)
		go func() {
			defer e.compiling.Done()
			defer close(s.done)
			s.mod, s.err = e.load(ent, f)
			if s.err != nil && f == e.plain {
				// Not cached as a success, nor as a failure: the
				// next Compile of these bytes tries again.
				e.mu.Lock()
				if e.compiled[ent.key] == ent {
					delete(e.compiled, ent.key)
				}
				e.mu.Unlock()
			}
		}()
	})
	select {
	case <-s.done:
		return s.mod, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// load compiles ent for flavor f, going through the cache directory if
// there is one.
func (e *Engine) load(ent *entry, f *flavor) (*wasmtime.Module, error) {
	if e.cacheDir == "" {
		return compile(f, ent.wasm)
	}
	return e.loadCached(ent, f)
}

func compile(f *flavor, wasm []byte) (*wasmtime.Module, error) {
	mod, err := wasmtime.NewModule(f.engine, wasm)
	if err != nil {
		return nil, fmt.Errorf("wasmtime: compile: %s", withoutNativeBacktrace(err.Error()))
	}
	return mod, nil
}

// entry is one module's bytes and its code for each flavor. The bytes stay
// for the metering flavor, which is compiled only when a run asks for fuel.
type entry struct {
	key         [32]byte
	wasm        []byte
	plain, fuel slot
}

// slot is the code of one module for one flavor, compiled once.
type slot struct {
	start sync.Once
	done  chan struct{}
	mod   *wasmtime.Module
	err   error
}

// close frees the compiled code; no compilation is in flight.
func (ent *entry) close() {
	for _, s := range []*slot{&ent.plain, &ent.fuel} {
		s.start.Do(func() {}) // nothing starts compiling from now on
		if s.mod != nil {
			s.mod.Close()
		}
	}
}
