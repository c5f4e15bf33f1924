//go:build cgo

package wasmtimeengine

// #include "capi.h"
import "C"

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unsafe"

	"github.com/bytecodealliance/wasmtime-go/v39"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wasip1"
)

type module struct {
	e   *Engine
	ent *entry
}

// run is the state of one Run that host functions see. Its fields are used
// only by the goroutine running the guest.
type run struct {
	ctx   context.Context
	stack []uint64 // values of the current host call

	// mem is the guest's memory during a host call, nil between calls.
	mem []byte

	exited    bool // a host function asked to end the guest with exitCode
	exitCode  uint32
	hostPanic string // set if a host function panicked
}

// Run implements engine.Module.
func (m *module) Run(ctx context.Context, cfg engine.RunConfig) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	e := m.e
	f := e.plain
	if cfg.Fuel > 0 {
		var err error
		if f, err = e.fuelFlavor(); err != nil {
			return err
		}
	}
	compiled, err := e.compileFor(ctx, m.ent, f)
	if err != nil {
		return err
	}

	store := wasmtime.NewStore(f.engine)
	defer store.Close()
	store.Limiter(e.memoryLimitFor(cfg), maxTableElements, maxInstances, maxTables, maxMemories)
	if cfg.Fuel > 0 {
		if err := store.SetFuel(cfg.Fuel); err != nil {
			return fmt.Errorf("wasmtime: set fuel: %w", err)
		}
	}
	wasi, err := wasip1.NewInstance(cfg)
	if err != nil {
		return err
	}
	defer wasi.Close()
	r := &run{ctx: wasip1.WithInstance(ctx, wasi), stack: make([]uint64, e.maxSlots)}
	key := uintptr(unsafe.Pointer(store.Context()))
	e.runs.Store(key, r)
	defer e.runs.Delete(key)
	unwatch, err := watch(ctx, store)
	if err != nil {
		return err
	}
	defer unwatch()

	inst, err := f.linker.Instantiate(store, compiled)
	if err != nil {
		return r.outcome(ctx, cfg, fuelLeft(store, cfg), "instantiate: ", err)
	}
	start := inst.GetFunc(store, "_start")
	if start == nil {
		return &engine.TrapError{Message: "module exports no _start function"}
	}
	_, err = start.Call(store)
	if err := r.outcome(ctx, cfg, fuelLeft(store, cfg), "", err); err != nil {
		return err
	}
	// Reports what the guest left open that failed to close, and host
	// bugs WASI recovered from.
	return wasi.Close()
}

// fuelLeft returns the fuel the guest has left, if it was given any.
func fuelLeft(store *wasmtime.Store, cfg engine.RunConfig) uint64 {
	if cfg.Fuel == 0 {
		return 0
	}
	left, err := store.GetFuel()
	if err != nil {
		return cfg.Fuel // cannot happen: the store meters fuel
	}
	return left
}

// memoryLimitFor is the store's memory limit in bytes for cfg.
func (e *Engine) memoryLimitFor(cfg engine.RunConfig) int64 {
	limit := e.memoryLimit
	if cfg.MemoryLimitBytes > 0 && (limit == 0 || cfg.MemoryLimitBytes < limit) {
		limit = cfg.MemoryLimitBytes
	}
	if limit == 0 || limit > 1<<32 {
		return 1 << 32 // the Wasm maximum of a 32-bit memory
	}
	return int64(limit)
}

// outcome maps how the guest stopped onto the engine-neutral errors.
// fuelLeft is the store's remaining fuel when cfg.Fuel is set; what
// prefixes the message of a trap.
func (r *run) outcome(ctx context.Context, cfg engine.RunConfig, fuelLeft uint64, what string, err error) error {
	switch {
	case r.hostPanic != "":
		return &engine.TrapError{Message: r.hostPanic}
	case r.exited && r.exitCode == 0:
		return nil
	case r.exited && ctx.Err() != nil && (r.exitCode == wasip1.ExitCodeCanceled || r.exitCode == wasip1.ExitCodeDeadlineExceeded):
		return ctx.Err() // a sleep in WASI ended with ctx
	case r.exited:
		return &engine.ExitError{Code: r.exitCode}
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if cfg.Fuel > 0 && fuelLeft == 0 {
		return &engine.TrapError{
			Message: fmt.Sprintf("fuel exhausted: the guest executed its budget of %d units", cfg.Fuel),
			Err:     engine.ErrFuelExhausted,
		}
	}
	return &engine.TrapError{Message: what + trapMessage(err.Error())}
}

// maxFrames bounds the Wasm backtrace in a trap message; a stack overflow
// has thousands of frames.
const maxFrames = 10

// trapMessage condenses wasmtime's report of a failed call (an anyhow
// chain: "error while executing at wasm backtrace: FRAMES Caused by: CAUSES
// [Stack backtrace: NATIVE FRAMES]") into the causes and the innermost
// Wasm frames. The native frames, present when RUST_BACKTRACE is set, are
// wasmtime's own and say nothing about the guest.
func trapMessage(msg string) string {
	msg = withoutNativeBacktrace(msg)
	head, causes, ok := strings.Cut(msg, "\n\nCaused by:\n")
	if !ok {
		return msg
	}
	var parts []string
	for _, line := range strings.Split(causes, "\n") {
		line = strings.TrimSpace(line)
		// Causes are numbered when there are several: "0: ...".
		if n, rest, ok := strings.Cut(line, ": "); ok && strings.Trim(n, "0123456789") == "" {
			line = rest
		}
		if line = strings.TrimPrefix(line, "wasm trap: "); line != "" {
			parts = append(parts, line)
		}
	}
	// The trap itself comes last, what led to it before.
	slices.Reverse(parts)
	if len(parts) > 0 && parts[0] == "call stack exhausted" {
		// wazero's name for it, which the conformance suite expects.
		parts[0] = "stack overflow: call stack exhausted"
	}
	var b strings.Builder
	b.WriteString(strings.Join(parts, ": "))
	frames := strings.Split(strings.TrimSpace(head), "\n")[1:] // after "error while executing at wasm backtrace:"
	if len(frames) > 0 {
		b.WriteString("\nwasm backtrace:")
		for i, f := range frames {
			if i == maxFrames {
				fmt.Fprintf(&b, "\n    ... %d more frames", len(frames)-maxFrames)
				break
			}
			b.WriteString("\n    " + strings.TrimSpace(f))
		}
	}
	return b.String()
}

// withoutNativeBacktrace drops the backtrace of wasmtime's own frames that
// its errors carry when RUST_BACKTRACE is set.
func withoutNativeBacktrace(msg string) string {
	msg, _, _ = strings.Cut(msg, "\n\nStack backtrace:")
	return strings.TrimSpace(msg)
}
