// Package host is xfhost's job runtime: it loads a task module, resolves a
// job's inputs, runs the guest in a fresh instance on an engine, serves the
// xf and clip imports, validates and stores the outputs and returns the
// job's result. It is engine-neutral; engines implement engine.Engine.
package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/internal/wasmfile"
	"github.com/xfhost/xfhost/policy"
	"github.com/xfhost/xfhost/taskmodule"
)

// Options configure a Host.
type Options struct {
	Engine engine.Engine
	Store  fss.Store
	// ScratchDir is where per-job scratch directories are created; the
	// system temp dir if empty.
	ScratchDir string
	// Policy sets limits and capabilities per task type; policy.Defaults()
	// if nil.
	Policy *policy.Config
	Logger *slog.Logger
}

// Host runs jobs. It is safe for concurrent use.
type Host struct {
	engine  engine.Engine
	store   fss.Store
	scratch *scratchPool
	// handleGen numbers handles across all jobs; see handleTable.
	handleGen atomic.Uint32
	// slots bounds the jobs running at once (max_concurrent_jobs).
	slots  chan struct{}
	policy *policy.Config
	log    *slog.Logger
	// codeShapes memoises wasmfile.MeasureCode by module sha256: decoding
	// every instruction of a Go guest takes ~15 ms, which repeated loads of
	// the same module (one per job for RunModule) need not pay again. It
	// grows like the engine's compile cache, by one small entry per module.
	codeShapes sync.Map // [32]byte -> wasmfile.CodeShape
}

// New creates a host. The engine must have been created with Imports().
func New(opt Options) (*Host, error) {
	if opt.Engine == nil || opt.Store == nil {
		return nil, errors.New("host: an engine and a file store are required")
	}
	if opt.ScratchDir == "" {
		opt.ScratchDir = os.TempDir()
	}
	if opt.Policy == nil {
		p := policy.Defaults()
		opt.Policy = &p
	}
	if err := opt.Policy.Validate(); err != nil {
		return nil, fmt.Errorf("host: policy: %w", err)
	}
	h := &Host{engine: opt.Engine, store: opt.Store, scratch: &scratchPool{parent: opt.ScratchDir}, policy: opt.Policy, log: opt.Logger,
		slots: make(chan struct{}, opt.Policy.MaxConcurrentJobs)}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	return h, nil
}

// Close removes the idle scratch directories the host keeps for reuse. It
// does not close the engine or the store, which the caller owns.
func (h *Host) Close() error { return h.scratch.close() }

// Task is a loaded, checked and compiled task module.
type Task struct {
	Module   *taskmodule.Module
	compiled engine.Module
	limits   policy.Limits
}

// Name is the task type's name, e.g. Lucid.CLIP.Threshold.
func (t *Task) Name() string { return t.Module.Metadata.Name }

// Load parses a task module, checks its ABI version and imports, and
// compiles it (or fetches the compiled code from the engine's cache).
func (h *Host) Load(ctx context.Context, wasm []byte) (*Task, error) {
	if max := h.policy.Default.Module.MaxBytes; int64(len(wasm)) > max {
		return nil, fmt.Errorf("task module is %d bytes, the policy allows %d", len(wasm), max)
	}
	mod, err := taskmodule.Parse(wasm)
	if err != nil {
		return nil, err
	}
	limits := h.policy.For(mod.Metadata.Name)
	code, err := h.measureCode(mod)
	if err != nil {
		return nil, fmt.Errorf("task %s: %w", mod.Metadata.Name, err)
	}
	if err := limits.Module.CheckShape(mod.Wasm, code, int64(len(wasm))); err != nil {
		return nil, fmt.Errorf("task %s: %w", mod.Metadata.Name, err)
	}
	if err := CheckModule(mod); err != nil {
		return nil, err
	}
	if err := checkCapabilities(mod, limits); err != nil {
		return nil, fmt.Errorf("task %s: %w", mod.Metadata.Name, err)
	}
	// Compilation cannot be interrupted; the budget bounds the caller's
	// wait, and a compile that overruns still finishes into the cache.
	cctx, cancel := context.WithTimeout(ctx, time.Duration(limits.CompileTimeout))
	defer cancel()
	compiled, err := h.engine.Compile(cctx, wasm)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return nil, fmt.Errorf("task %s: compiling took longer than the policy's %s", mod.Metadata.Name, time.Duration(limits.CompileTimeout))
	} else if err != nil {
		return nil, fmt.Errorf("task %s: %w", mod.Metadata.Name, err)
	}
	return &Task{Module: mod, compiled: compiled, limits: limits}, nil
}

func (h *Host) measureCode(mod *taskmodule.Module) (wasmfile.CodeShape, error) {
	if v, ok := h.codeShapes.Load(mod.SHA256); ok {
		return v.(wasmfile.CodeShape), nil
	}
	code, err := wasmfile.MeasureCode(mod.Wasm, mod.Binary)
	if err != nil {
		return code, err
	}
	h.codeShapes.Store(mod.SHA256, code)
	return code, nil
}

// CheckModule refuses a module whose ABI version this host does not
// support or that imports functions the ABI does not define (or with the
// wrong signature), listing every offending import.
func CheckModule(mod *taskmodule.Module) error {
	gv := abi.Version{Major: mod.ABIVersion.Major, Minor: mod.ABIVersion.Minor}
	if !spec.Version.Supports(gv) {
		return fmt.Errorf("task module is built for ABI %s, this host implements ABI %s", gv, spec.Version)
	}
	if !exportsMemory(mod) {
		return errors.New(`task module does not export its linear memory as "memory"`)
	}
	var bad []string
	for _, im := range mod.Imports {
		q := im.Module + "." + im.Name
		switch im.Module {
		case "xf", "clip":
		case "wasi_snapshot_preview1":
			continue // the engine checks names and signatures when linking
		default:
			bad = append(bad, q+" (module "+strconv.Quote(im.Module)+" is not provided by this host)")
			continue
		}
		f, ok := spec.Function(im.Module, im.Name)
		if !ok {
			bad = append(bad, q+" (not defined by ABI "+spec.Version.String()+")")
			continue
		}
		sv, _ := abi.ParseVersion(f.Since)
		if !gv.Supports(sv) {
			bad = append(bad, fmt.Sprintf("%s (since ABI %s, module declares %s)", q, sv, gv))
			continue
		}
		if got, want := importSignature(im), specSignature(f); got != want {
			bad = append(bad, fmt.Sprintf("%s (signature %s, want %s)", q, got, want))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("task module has invalid imports: %s", strings.Join(bad, "; "))
	}
	return nil
}

// RunOptions configure one job.
type RunOptions struct {
	JobSerial int64
	// OnProgress, if set, is called for each progress report.
	OnProgress func(Progress)
	// OnLog, if set, is called for each log line as it arrives.
	OnLog func(LogLine)
	// KeepScratch keeps the scratch directory of a failed job for diagnosis.
	KeepScratch bool
	// OnCall, if set, is called after each xf or clip import call of the
	// guest, in order, with what the guest got back: the conformance suite
	// compares this trace with the statuses a test expects.
	OnCall func(Call)
}

// Call is one import call of a job's guest.
type Call struct {
	Import string     // "module.name"
	Status abi.Status // the status returned; meaningless if Stopped
	// Stopped: the call did not return, it stopped the guest (xf.fail, or
	// a call after the job's deadline or cancellation).
	Stopped bool
}

// RunModule loads and runs a module in one step. A module that cannot be
// loaded yields a failed job, not an error, so callers report it like any
// other job failure.
func (h *Host) RunModule(ctx context.Context, wasm []byte, inputs json.RawMessage, opt RunOptions) (*Result, error) {
	start := time.Now()
	task, err := h.Load(ctx, wasm)
	if err != nil {
		return &Result{JobID: newJobID(), State: Failed, Error: err.Error(), Outputs: map[string]json.RawMessage{},
			Timings: Timings{Load: time.Since(start), Total: time.Since(start)}}, nil
	}
	res, err := h.Run(ctx, task, inputs, opt)
	if res != nil {
		res.Timings.Load = time.Since(start) - res.Timings.Total
		res.Timings.Total = time.Since(start)
	}
	return res, err
}

// Run runs one job of task. It returns an error only when the host itself
// fails (e.g. it cannot create a scratch directory); every failure of the
// job is reported in the Result.
func (h *Host) Run(ctx context.Context, task *Task, inputs json.RawMessage, opt RunOptions) (*Result, error) {
	select {
	case h.slots <- struct{}{}:
		defer func() { <-h.slots }()
	case <-ctx.Done():
		return nil, fmt.Errorf("host: waiting for a job slot: %w", ctx.Err())
	}
	start := time.Now()
	j, err := h.newJob(task, opt)
	if err != nil {
		return nil, err
	}
	defer j.close()

	resolved, err := task.Module.Interface.ResolveInputs(inputs)
	j.res.Timings.Resolve = time.Since(start)
	if err != nil {
		j.failf("invalid inputs: %v", err)
		return j.result(start), nil
	}
	if err := j.setInputs(resolved); err != nil {
		j.failf("invalid inputs: %v", err)
		return j.result(start), nil
	}

	var cancel context.CancelFunc
	ctx, cancel = context.WithTimeout(ctx, time.Duration(j.limits.Deadline))
	defer cancel()
	stdout, stderr := j.streamWriter("stdout", Info), j.streamWriter("stderr", Warning)
	runStart := time.Now()
	runErr := task.compiled.Run(withJob(ctx, j), engine.RunConfig{
		Args:             []string{task.Name()},
		Stdout:           stdout,
		Stderr:           stderr,
		MemoryLimitBytes: uint64(j.limits.MemoryMiB) << 20,
		Fuel:             j.limits.Fuel,
		Mounts: []engine.Mount{
			{GuestPath: "/inputs", FS: j.inputs},
			{GuestPath: "/scratch", HostDir: j.scratchDir, QuotaBytes: j.limits.ScratchBytes},
		},
	})
	stdout.Flush()
	stderr.Flush()
	j.res.Timings.Run = time.Since(runStart)
	j.mu.Lock()
	finished := j.finished
	j.mu.Unlock()
	if ctx.Err() != nil && (runErr != nil || !finished) {
		// The deadline ended the job, however the engine reports how the
		// guest stopped: serve stops it with an exit at its next host call,
		// and a guest that never passes one of the engine's checks may even
		// return normally.
		runErr = ctx.Err()
	}
	j.end(runErr)
	return j.result(start), nil
}

func newJobID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// importSignature renders an import's signature; a non-function import of
// an ABI module never matches.
func importSignature(im wasmfile.Import) string {
	if im.Kind != wasmfile.ExternFunc {
		return im.Kind.String()
	}
	return im.Type.String()
}

// specSignature renders an ABI function's signature the same way.
func specSignature(f *abi.Function) string {
	ft := wasmfile.FuncType{Results: []wasmfile.ValType{wasmfile.I32}}
	for _, w := range spec.WasmParams(f) {
		switch w {
		case "i32":
			ft.Params = append(ft.Params, wasmfile.I32)
		case "i64":
			ft.Params = append(ft.Params, wasmfile.I64)
		case "f32":
			ft.Params = append(ft.Params, wasmfile.F32)
		case "f64":
			ft.Params = append(ft.Params, wasmfile.F64)
		}
	}
	return ft.String()
}

func exportsMemory(mod *taskmodule.Module) bool {
	for _, e := range mod.Exports {
		if e.Name == "memory" && e.Kind == wasmfile.ExternMemory {
			return true
		}
	}
	return false
}

// checkCapabilities refuses a module that imports functions of capabilities
// its policy does not grant, listing them.
func checkCapabilities(mod *taskmodule.Module, limits policy.Limits) error {
	var denied []string
	for _, im := range mod.Imports {
		f, ok := spec.Function(im.Module, im.Name)
		if ok && !limits.Grants(f.Capability) {
			denied = append(denied, fmt.Sprintf("%s.%s (capability %s)", im.Module, im.Name, f.Capability))
		}
	}
	if len(denied) > 0 {
		return fmt.Errorf("the policy denies imports: %s", strings.Join(denied, ", "))
	}
	return nil
}
