// Package engine defines the small interface between the job runtime and a
// WebAssembly engine, so that wazero (the default) and other engines such as
// wasmtime run the same host functions and jobs.
package engine

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// ValueType is a WebAssembly value type of a host function signature.
type ValueType byte

// The value types used by the ABI.
const (
	I32 ValueType = iota + 1
	I64
	F32
	F64
)

func (t ValueType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	}
	return fmt.Sprintf("ValueType(%d)", byte(t))
}

// ParseValueType parses "i32", "i64", "f32" or "f64".
func ParseValueType(s string) (ValueType, error) {
	for t := I32; t <= F64; t++ {
		if t.String() == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("unknown wasm value type %q", s)
}

// Memory is a guest's linear memory as seen from a host function. Slices it
// returns alias guest memory and are valid only until the host function
// returns, because the guest may grow (and so move) its memory afterwards.
type Memory interface {
	// Read returns the byte range [offset, offset+length), or false if any
	// of it lies outside memory.
	Read(offset, length uint32) ([]byte, bool)
	// Write copies data to offset, or returns false (writing nothing) if
	// the range lies outside memory.
	Write(offset uint32, data []byte) bool
}

// HostFunc implements an import. Parameters arrive in stack in order, each
// encoded as its Wasm bits (i32 zero-extended, f64 as IEEE bits); results
// are written back to stack[0:len(results)]. Per-job state travels in ctx;
// mem is the calling instance's memory. Returning exit=true ends the guest
// with the exit code instead of returning to it. A HostFunc must not panic.
//
// The signature avoids per-call allocations: it is on the path of every
// host call.
type HostFunc func(ctx context.Context, mem Memory, stack []uint64) (exit bool, code uint32)

// HostFunction is one import with its signature.
type HostFunction struct {
	Name    string
	Params  []ValueType
	Results []ValueType
	Func    HostFunc
}

// HostModule is a named set of imports, e.g. "xf" or "clip".
type HostModule struct {
	Name      string
	Functions []HostFunction
}

// Config configures an engine.
type Config struct {
	// HostModules are available to every module the engine runs.
	HostModules []HostModule
	// MemoryLimitPages caps each instance's linear memory (64 KiB pages);
	// 0 means the Wasm maximum of 65536 pages (4 GiB).
	MemoryLimitPages uint32
	// CacheDir, if set, persists compiled code across processes.
	CacheDir string
}

// Mount exposes a directory tree to the guest.
type Mount struct {
	GuestPath string
	// Exactly one of FS (read-only, served as given) and HostDir (jailed to
	// that directory) is set.
	FS       fs.FS
	HostDir  string
	ReadOnly bool
	// QuotaBytes bounds the bytes of files under a writable HostDir (0: no
	// quota); writes beyond it fail (wazero reports EIO to the guest, as its
	// errno set has no ENOSPC).
	QuotaBytes int64
}

// RunConfig configures one instance.
type RunConfig struct {
	// MemoryLimitBytes caps this instance's linear memory below the
	// engine's limit; 0 means the engine's limit.
	MemoryLimitBytes uint64
	Args             []string
	Stdout           io.Writer
	Stderr           io.Writer
	Mounts           []Mount
	// Fuel, if non-zero, bounds the Wasm instructions the instance may
	// execute (about one unit each); a guest that uses it all stops with a
	// *TrapError wrapping ErrFuelExhausted. Engines that cannot meter fail
	// such a run with an error wrapping ErrFuelUnsupported rather than run
	// it unmetered.
	Fuel uint64
}

// Engine compiles and runs modules.
type Engine interface {
	// Compile compiles a module, reusing a cached compilation of the same
	// bytes (keyed by their sha256) when there is one.
	Compile(ctx context.Context, wasm []byte) (Module, error)
	// Name is the engine's name, e.g. "wazero".
	Name() string
	Close(ctx context.Context) error
}

// Module is a compiled module.
type Module interface {
	// Run instantiates a fresh instance and runs its _start function to
	// the end. It returns nil when _start returns or the guest exits with
	// code 0, an *ExitError for another exit code, a *TrapError when the
	// guest traps, and ctx's error when ctx ends first.
	Run(ctx context.Context, cfg RunConfig) error
}

// ExitError reports a guest that exited with a non-zero code.
type ExitError struct{ Code uint32 }

func (e *ExitError) Error() string { return fmt.Sprintf("guest exited with code %d", e.Code) }

// TrapError reports a guest trap (unreachable, out-of-bounds access, stack
// overflow, ...) or another failure inside the instance.
type TrapError struct {
	Message string
	// Err, if set, is the cause that callers may test for with errors.Is,
	// e.g. ErrFuelExhausted.
	Err error
}

func (e *TrapError) Error() string { return "guest trapped: " + e.Message }

func (e *TrapError) Unwrap() error { return e.Err }

// Errors about fuel metering (RunConfig.Fuel).
var (
	// ErrFuelExhausted is the cause of the *TrapError of a guest that used
	// all of its fuel.
	ErrFuelExhausted = errors.New("fuel exhausted")
	// ErrFuelUnsupported is wrapped by the error of a run that asks an
	// engine without fuel metering for a fuel budget.
	ErrFuelUnsupported = errors.New("fuel metering is not supported")
)

// IsExit reports whether err is an exit with the given code.
func IsExit(err error, code uint32) bool {
	var e *ExitError
	return errors.As(err, &e) && e.Code == code
}
