// Package guestcheck checks that a third-party task module follows the
// xfhost guest ABI (abi/ABI.md) and its own interface before anyone
// trusts it; `xfhost conformance guest TASK.wasm` is its command.
//
// The static checks read the binary without running it: it parses as
// WebAssembly; it exports exactly one ABI version marker, of a version this
// host supports; every import is one the host provides (modules xf, clip,
// wasi_snapshot_preview1) with the signature abi.json (or WASI preview 1)
// gives, and exists in the ABI version the module declares; it exports
// "memory" and _start; its xf.metadata and xf.interface sections are
// present and valid.
//
// When they all pass, the dynamic checks run the module on a real host
// (any engine of package engines) with a temporary file store. Every
// declared input gets a valid value of its type (see README.md), and jobs
// run in these scenarios: all inputs given, then each input whose
// supported_modes include "none" set to null. For each job, a run check
// judges how it ended; then four checks judge the outputs of all jobs: each
// declared output set, nothing undeclared set, every value of its declared
// type, nothing else refused by the host.
//
// Each check has a stable name and one of the outcomes pass, fail, warn and
// skip; its message names every defect found. The JSON report layout is
// documented in README.md next to this file.
package guestcheck

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xfhost/xfhost/engine/engines"
)

// DefaultDeadline bounds each job the checker runs. The generated inputs
// are small, so a conforming guest needs a fraction of it.
const DefaultDeadline = 30 * time.Second

// Options configure Run. The zero value checks on the default engine.
type Options struct {
	// Name is how the report names the module, e.g. its path.
	Name string
	// Engine names the engine to run on (engines.Names); "" is the default.
	Engine string
	// Deadline bounds each job; DefaultDeadline if zero.
	Deadline time.Duration
	// CacheDir, if set, keeps compiled code across runs (engine.Config).
	CacheDir string
	// Inputs replace the generated values of some inputs (key to JSON
	// value), for inputs whose meaning the interface cannot express, such
	// as a String that must name something the guest knows.
	Inputs map[string]json.RawMessage
}

// Run checks the task module wasm and reports every check. Defects of the
// module are findings in the report, never errors; an error means the
// check itself could not be done (an unknown engine, an invalid input
// override, no temporary directory, cancellation).
func Run(ctx context.Context, wasm []byte, opt Options) (*Report, error) {
	if opt.Engine == "" {
		opt.Engine = engines.Default
	}
	if !slices.Contains(engines.Names(), opt.Engine) {
		return nil, fmt.Errorf("guestcheck: unknown engine %q (this build has: %s)", opt.Engine, strings.Join(engines.Names(), ", "))
	}
	if opt.Deadline <= 0 {
		opt.Deadline = DefaultDeadline
	}
	for key, v := range opt.Inputs {
		if !json.Valid(v) {
			return nil, fmt.Errorf("guestcheck: input %q: the value is not valid JSON", key)
		}
	}
	sum := sha256.Sum256(wasm)
	r := &Report{
		Schema:         Schema,
		Module:         opt.Name,
		SHA256:         hex.EncodeToString(sum[:]),
		Size:           len(wasm),
		HostABIVersion: spec.Version.String(),
		Engine:         opt.Engine,
		Passed:         true,
		Checks:         []Check{},
		Scenarios:      []Scenario{},
	}
	st := checkStatic(r, wasm)
	if !st.ok {
		// A module the host would refuse never runs; the report still
		// lists the checks it could not do.
		const why = "static checks failed"
		r.add(Check{Name: checkLoad, Status: Skip, Message: why})
		var scens []scenario
		if st.iface != nil {
			scens, _ = scenarios(st.iface, nil)
		}
		skipRest(r, scens, why)
		return r, nil
	}
	if err := checkDynamic(ctx, r, wasm, st.iface, opt); err != nil {
		return nil, err
	}
	return r, nil
}
