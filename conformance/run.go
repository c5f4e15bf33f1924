// Package conformance is the conformance suite for xfhost hosts and
// engines: declarative tests, each an expectation file and a prebuilt
// guest (tests/<name>.json and .wasm), plus the hostile-guest corpus,
// run on a named engine and compared with what the ABI requires.
//
// A test's guest makes a script of import calls; the host reports every
// call it serves through host.RunOptions.OnCall, and the suite compares
// that trace, engine-neutrally, with the status each call must return.
// The guest checks every status and value it receives too, so an engine
// that mangles them on the way is caught as well. deviations/<engine>.json
// lists the tests an engine is known to fail, with the reason. README.md
// describes the format and how to add a test.
package conformance

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/engines"
	"github.com/xfhost/xfhost/guests/hostile"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/guestbuild"
)

//go:generate go run ./internal/gen

// suite is the test files compiled into the binary.
//
//go:embed tests deviations uncoverable.json
var suite embed.FS

// Suite returns the suite compiled into the binary: tests/,
// deviations/ and uncoverable.json.
func Suite() fs.FS { return suite }

// HostilePrefix starts the names of the hostile corpus's cases in results.
const HostilePrefix = "hostile/"

// Options select what Run runs.
type Options struct {
	// Engine names the engine Run uses (engines.Names()); "" is the
	// default. Runner.Run takes the engine as an argument instead.
	Engine string
	// Filter, if set, runs only the tests whose names it matches
	// (hostile cases are named "hostile/<case>").
	Filter *regexp.Regexp
	// NoHostile leaves out the hostile corpus.
	NoHostile bool
	// NoGo leaves out the hostile cases written in Go, which need the
	// source tree and a Go toolchain to build. Without NoGo they are
	// built when both are found from the working directory and skipped
	// with a note otherwise.
	NoGo bool
	// Secrets must never appear in a hostile job's result.
	Secrets []string
	// Suite overrides the suite compiled into the binary.
	Suite fs.FS
	// Logger receives the hosts' logs; none if nil.
	Logger *slog.Logger
}

// Result is the outcome of one test on one engine.
type Result struct {
	Name   string `json:"name"`
	Engine string `json:"engine"`
	// Pass: the test ran and everything matched. A skipped test has
	// Pass false and says why in Skipped.
	Pass    bool   `json:"pass"`
	Skipped string `json:"skipped,omitempty"`
	// Detail says what differed from the expectation.
	Detail string `json:"detail,omitempty"`
	// Deviation is the reason the engine's deviations file gives for
	// failing this test; such a failure is expected.
	Deviation string        `json:"deviation,omitempty"`
	Duration  time.Duration `json:"duration_ns"`
}

// Expected reports whether the outcome is the one the suite expects: a
// pass, a skip, or a failure listed as a deviation.
func (r Result) Expected() bool {
	if r.Skipped != "" {
		return true
	}
	return r.Pass == (r.Deviation == "")
}

// Runner runs the suite on one engine after another, preparing what does
// not depend on the engine (test files, hostile modules, Go builds) once.
type Runner struct {
	opt Options
	// all are every test of the suite, tests those the filter selects;
	// cases are every hostile case.
	all, tests []*Test
	cases      []*hostile.Case
	// modules are the selected hostile cases' modules; buildErrs says why
	// others are missing, noGo why Go cases are.
	modules   map[string][]byte
	buildErrs map[string]error
	noGo      string
	neighbour []byte
}

// NewRunner loads the suite and builds the modules of the hostile cases
// the options select. It fails only when the suite cannot run at all.
func NewRunner(ctx context.Context, opt Options) (*Runner, error) {
	if opt.Suite == nil {
		opt.Suite = Suite()
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Runner{opt: opt}
	var err error
	if r.all, err = LoadTests(opt.Suite); err != nil {
		return nil, err
	}
	for _, t := range r.all {
		if opt.Filter == nil || opt.Filter.MatchString(t.Name) {
			r.tests = append(r.tests, t)
		}
	}
	if opt.NoHostile {
		return r, nil
	}
	cases, err := hostile.Load(hostile.Files())
	if err != nil {
		return nil, err
	}
	// Deviations may name any case, selected or not.
	r.cases = cases
	var selected []*hostile.Case
	for _, c := range cases {
		if opt.Filter == nil || opt.Filter.MatchString(HostilePrefix+c.Name) {
			selected = append(selected, c)
		}
	}
	if len(selected) == 0 {
		return r, nil
	}
	out, err := os.MkdirTemp("", "xfhost-conformance-go-")
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	defer os.RemoveAll(out)
	src := hostile.Sources{FS: hostile.Files(), OutDir: out}
	r.noGo = "left out (NoGo)"
	if !opt.NoGo {
		dir, err := hostile.GoSources()
		if err != nil {
			r.noGo = err.Error()
		} else {
			src.GoDir, r.noGo = dir, ""
		}
	}
	if src.GoDir != "" {
		if r.neighbour, err = guestbuild.Go(ctx, out, "statminmax"); err != nil {
			return nil, fmt.Errorf("conformance: the hostile corpus's normal job: %w", err)
		}
	}
	r.modules, r.buildErrs = hostile.BuildAll(ctx, selected, src)
	return r, nil
}

// Run runs the suite on one engine. It returns an error only when the
// suite cannot run at all (an unknown engine, a broken test file); every
// failure of a test is in its Result.
func Run(ctx context.Context, opt Options) ([]Result, error) {
	r, err := NewRunner(ctx, opt)
	if err != nil {
		return nil, err
	}
	return r.Run(ctx, opt.Engine)
}

// Run runs the suite on the named engine ("" for the default).
func (r *Runner) Run(ctx context.Context, engineName string) ([]Result, error) {
	if engineName == "" {
		engineName = engines.Default
	}
	devs, err := LoadDeviations(r.opt.Suite, engineName)
	if err != nil {
		return nil, err
	}
	if err := devs.check(r.all, r.cases); err != nil {
		return nil, err
	}
	eng, err := engines.New(ctx, engineName, engine.Config{HostModules: host.Imports()})
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	defer eng.Close(context.WithoutCancel(ctx))

	var results []Result
	for _, t := range r.tests {
		start := time.Now()
		problems := runTest(ctx, eng, r.opt, t)
		results = append(results, result(engineName, t.Name, problems, start))
	}
	hr, err := r.runHostile(ctx, eng, engineName)
	if err != nil {
		return nil, err
	}
	results = append(results, hr...)
	for i := range results {
		results[i].Deviation = devs.reason(results[i].Name)
	}
	return results, nil
}

func result(engineName, name string, problems []string, start time.Time) Result {
	return Result{Name: name, Engine: engineName, Pass: len(problems) == 0, Detail: strings.Join(problems, "; "), Duration: time.Since(start)}
}

// runHostile runs the selected hostile cases.
func (r *Runner) runHostile(ctx context.Context, eng engine.Engine, engineName string) ([]Result, error) {
	if len(r.modules)+len(r.buildErrs) == 0 {
		return nil, nil
	}
	w, err := hostile.NewWorld(ctx, hostile.Options{Engine: eng, Neighbour: r.neighbour, Secrets: r.opt.Secrets, Logger: r.opt.Logger})
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	defer w.Close()
	var results []Result
	for _, c := range r.cases {
		name := HostilePrefix + c.Name
		wasm, built := r.modules[c.Name]
		err, failed := r.buildErrs[c.Name]
		switch {
		case failed && errors.Is(err, hostile.ErrNoGo):
			results = append(results, Result{Name: name, Engine: engineName, Skipped: "Go case: " + r.noGo})
		case failed:
			results = append(results, result(engineName, name, []string{"build: " + err.Error()}, time.Now()))
		case built:
			o := w.Run(ctx, c, wasm)
			res := result(engineName, name, o.Problems, time.Now())
			res.Duration = o.Duration
			if o.Skipped != "" {
				res.Pass, res.Skipped = false, o.Skipped
			}
			results = append(results, res)
		}
	}
	return results, nil
}
