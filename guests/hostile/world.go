//go:build !wasip1

package hostile

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/guestscript"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/omni/synth"
	"github.com/xfhost/xfhost/policy"
	"github.com/xfhost/xfhost/taskmodule"
)

// Options configure a World.
type Options struct {
	// Engine runs every job; it must have been created with host.Imports().
	Engine engine.Engine
	// Neighbour is the task module of the normal job that runs beside each
	// case: Lucid.CLIP.StatMinMax or anything with its interface (input
	// image, optional calibration; outputs min and max). Nil selects a
	// small generated module that needs no toolchain.
	Neighbour []byte
	// Secrets must never appear in a job's result, e.g. credentials in the
	// host process's environment.
	Secrets []string
	// DurationScale multiplies every max_duration (0 means 1), for slow
	// builds such as the race detector's.
	DurationScale int
	// KnownIssues runs the cases with a known issue too.
	KnownIssues bool
	// Logger receives the hosts' logs; none if nil.
	Logger *slog.Logger
}

// World is what all cases share: an engine, a file store holding a small
// volume, and the normal job that runs next to each hostile one.
type World struct {
	opt        Options
	dir        string // holds the store and every scratch directory
	store      *fss.Dir
	volume     json.RawMessage
	neighbour  []byte
	lo, hi     float64
	passwdLine string // a line of the host's /etc/passwd, if readable
}

// NewWorld creates the store and the neighbour job in a temporary
// directory that Close removes.
func NewWorld(ctx context.Context, opt Options) (w *World, err error) {
	if opt.Engine == nil {
		return nil, errors.New("hostile: no engine")
	}
	if opt.DurationScale < 1 {
		opt.DurationScale = 1
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	dir, err := os.MkdirTemp("", "xfhost-hostile-")
	if err != nil {
		return nil, fmt.Errorf("hostile: %w", err)
	}
	w = &World{opt: opt, dir: dir}
	defer func() {
		if err != nil {
			w.Close()
		}
	}()
	storeDir := filepath.Join(dir, "store")
	scans := filepath.Join(storeDir, "scans")
	if err := os.MkdirAll(scans, 0o755); err != nil {
		return nil, fmt.Errorf("hostile: %w", err)
	}
	if w.store, err = fss.OpenDir(storeDir); err != nil {
		return nil, fmt.Errorf("hostile: %w", err)
	}
	size := [3]int{24, 20, 16}
	img, err := synth.Volume(ctx, synth.Options{Size: size, Seed: 11})
	if err != nil {
		return nil, fmt.Errorf("hostile: synthetic volume: %w", err)
	}
	defer img.Close()
	if err := omni.Write(scans, "bone", img); err != nil {
		return nil, fmt.Errorf("hostile: write volume: %w", err)
	}
	w.volume, _ = json.Marshal(map[string]any{"type": "Image", "filename": "scans/bone.omni", "size": size,
		"filenames": []string{"scans/bone.raw"}})
	// The normal job's expected result, from the raw file.
	raw, err := os.ReadFile(filepath.Join(scans, "bone.raw"))
	if err != nil {
		return nil, fmt.Errorf("hostile: %w", err)
	}
	lo, hi := uint16(0xffff), uint16(0)
	for i := 0; i+1 < len(raw); i += 2 {
		v := binary.LittleEndian.Uint16(raw[i:])
		lo, hi = min(lo, v), max(hi, v)
	}
	w.lo, w.hi = float64(lo), float64(hi)
	w.neighbour = opt.Neighbour
	if w.neighbour == nil {
		if w.neighbour, err = neighbourModule(w.lo, w.hi); err != nil {
			return nil, err
		}
	}
	if passwd, err := os.ReadFile("/etc/passwd"); err == nil {
		w.passwdLine, _, _ = strings.Cut(string(passwd), "\n")
	}
	return w, nil
}

// Close removes the world's files.
func (w *World) Close() error {
	var errs []error
	if w.store != nil {
		errs = append(errs, w.store.Close())
	}
	return errors.Join(append(errs, os.RemoveAll(w.dir))...)
}

// neighbourModule is a minimal StatMinMax: it opens the image, runs
// clip.minmax and, if the values are the expected ones, sets them as its
// outputs; otherwise its own checks fail the job.
func neighbourModule(lo, hi float64) ([]byte, error) {
	num := func(v float64) json.RawMessage { return json.RawMessage(strconv.FormatFloat(v, 'g', -1, 64)) }
	str := func(s string) json.RawMessage { b, _ := json.Marshal(map[string]string{"str": s}); return b }
	steps := []guestscript.Step{
		{Call: "xf.image_open", Args: []json.RawMessage{str("image"), json.RawMessage(`{"out": "image"}`)}, Expect: "OK"},
		{Call: "clip.minmax", Args: []json.RawMessage{json.RawMessage(`{"var": "image"}`), json.RawMessage("0"),
			json.RawMessage(`{"out": "min"}`), json.RawMessage(`{"out": "max"}`)}, Expect: "OK"},
		{Check: "min", F64: num(lo)},
		{Check: "max", F64: num(hi)},
		{Call: "xf.output_set", Args: []json.RawMessage{str("min"), str(string(num(lo)))}, Expect: "OK"},
		{Call: "xf.output_set", Args: []json.RawMessage{str("max"), str(string(num(hi)))}, Expect: "OK"},
		{Call: "xf.finish", Expect: "OK"},
	}
	spec := abi.MustLoad()
	wasm, err := guestscript.Compile(steps, guestscript.Options{Spec: spec, Marker: spec.Marker(spec.Version),
		Metadata: []byte(`{"package_format":"XFP-TT1.0","name":"Hostile.Neighbour","version":"1.0.0.0"}`),
		Interface: []byte(`{"inputs":[{"key":"image","type":"Image","supported_modes":["fixed"]},
			{"key":"calibration","type":"String","supported_modes":["none","fixed"]}],
			"outputs":[{"key":"min","type":"Float"},{"key":"max","type":"Float"}]}`)})
	if err != nil {
		return nil, fmt.Errorf("hostile: neighbour job: %w", err)
	}
	return wasm, nil
}

// Outcome is how one case went.
type Outcome struct {
	// Skipped says why the case did not run; empty if it ran.
	Skipped string
	// Problems lists every way the outcome differs from the expectation.
	Problems []string
	// Notes describe what happened, for verbose output.
	Notes    []string
	Duration time.Duration
}

func (o *Outcome) problem(format string, args ...any) {
	o.Problems = append(o.Problems, fmt.Sprintf(format, args...))
}

func (o *Outcome) note(format string, args ...any) {
	o.Notes = append(o.Notes, fmt.Sprintf(format, args...))
}

// Run runs a case's module, with the normal job beside it on the same
// host at the same time, and checks the outcome.
func (w *World) Run(ctx context.Context, c *Case, wasm []byte) *Outcome {
	start := time.Now()
	o := &Outcome{}
	defer func() { o.Duration = time.Since(start) }()
	if c.KnownIssue != "" && !w.opt.KnownIssues {
		o.Skipped = "known issue: " + c.KnownIssue
		return o
	}
	if len(c.Engines) > 0 && !slices.Contains(c.Engines, w.opt.Engine.Name()) {
		o.Skipped = "applies to " + strings.Join(c.Engines, ", ") + " only"
		return o
	}
	taskType := DefaultTaskType(c.Name)
	if mod, err := taskmodule.Parse(wasm); err == nil {
		taskType = mod.Metadata.Name
	}
	scratch, err := os.MkdirTemp(w.dir, "scratch-")
	if err != nil {
		o.problem("scratch parent: %v", err)
		return o
	}
	defer os.RemoveAll(scratch)
	h, limits, err := w.newHost(taskType, c.Policy, scratch)
	if err != nil {
		o.problem("%v", err)
		return o
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	var neighbour []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		neighbour = w.checkNeighbour(ctx, h)
	}()
	w.runHostile(ctx, o, h, c, wasm, limits)
	<-done
	for _, p := range neighbour {
		o.problem("normal job: %s", p)
	}
	// Every scratch directory is emptied, and nothing a guest did lands
	// next to them.
	for _, p := range checkScratchParent(scratch) {
		o.problem("%s", p)
	}
	return o
}

// newHost makes a host whose policy is the defaults with the case's
// overrides for its task type only, so the normal job keeps the defaults.
func (w *World) newHost(taskType string, override json.RawMessage, scratch string) (*host.Host, policy.Limits, error) {
	cfg := policy.Defaults()
	if len(override) > 0 {
		var l policy.Limits
		dec := json.NewDecoder(bytes.NewReader(override))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, policy.Limits{}, fmt.Errorf("case policy: %w", err)
		}
		cfg.TaskTypes = map[string]policy.Limits{taskType: l}
	}
	h, err := host.New(host.Options{Engine: w.opt.Engine, Store: w.store, ScratchDir: scratch, Policy: &cfg, Logger: w.opt.Logger})
	if err != nil {
		return nil, policy.Limits{}, err
	}
	return h, cfg.For(taskType), nil
}

// inputs substitutes the volume for "$volume" in a case's inputs.
func (w *World) inputs(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 {
		return json.RawMessage(`{}`), nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("case inputs: %w", err)
	}
	for k, v := range m {
		if string(v) == `"$volume"` {
			m[k] = w.volume
		}
	}
	return json.Marshal(m)
}

func (w *World) runHostile(ctx context.Context, o *Outcome, h *host.Host, c *Case, wasm []byte, limits policy.Limits) {
	start := time.Now()
	if c.Expect.LoadError != "" {
		_, err := h.Load(ctx, wasm)
		o.note("load error: %v (after %v)", err, time.Since(start))
		if err == nil {
			o.problem("module loaded; want a load error matching %q", c.Expect.LoadError)
			return
		}
		o.match("load error", c.Expect.LoadError, err.Error())
		w.checkDuration(o, c.Expect, time.Since(start))
		return
	}
	inputs, err := w.inputs(c.Inputs)
	if err != nil {
		o.problem("%v", err)
		return
	}
	res, err := h.RunModule(ctx, wasm, inputs, host.RunOptions{})
	elapsed := time.Since(start)
	if err != nil {
		o.problem("host error: %v", err)
		return
	}
	o.note("state %s after %v (load %v, run %v), error %q", res.State, elapsed, res.Timings.Load, res.Timings.Run, res.Error)
	for i, l := range res.Log {
		if i == 40 {
			o.note("log: %d more lines", len(res.Log)-i)
			break
		}
		o.note("log %s: %s", l.Source, l.Message)
	}
	w.checkResult(o, c.Expect, limits, res)
	w.checkDuration(o, c.Expect, elapsed)
}

// checkScratchParent checks that the directory the host makes scratch
// directories in holds nothing but them, emptied.
func checkScratchParent(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "xfhost-job-") {
			problems = append(problems, e.Name()+" appeared next to the scratch directories")
			continue
		}
		if inner, _ := os.ReadDir(filepath.Join(dir, e.Name())); len(inner) > 0 {
			problems = append(problems, fmt.Sprintf("scratch directory %s was not emptied: %d entries", e.Name(), len(inner)))
		}
	}
	return problems
}

func (w *World) checkDuration(o *Outcome, e Expectation, elapsed time.Duration) {
	if max := time.Duration(w.opt.DurationScale) * time.Duration(e.MaxDuration); max > 0 && elapsed > max {
		o.problem("job took %v, want at most %v", elapsed, max)
	}
}

func (w *World) checkResult(o *Outcome, e Expectation, limits policy.Limits, res *host.Result) {
	if string(res.State) != e.State {
		o.problem("state %s, want %s (error %q)", res.State, e.State, res.Error)
	}
	if e.Error != "" {
		o.match("error", e.Error, res.Error)
	} else if res.Error != "" {
		o.problem("unexpected error %q", res.Error)
	}
	lines := make([]string, len(res.Log))
	for i, l := range res.Log {
		lines[i] = l.Source + ": " + l.Message
	}
	for _, re := range e.Log {
		if !o.anyMatches(re, lines) {
			o.problem("no log line matches %q", re)
		}
	}
	for _, label := range sortedKeys(e.Statuses) {
		line := "guest: status " + label + ": " + e.Statuses[label]
		if !slices.Contains(lines, line) {
			o.problem("the guest did not report %q", line)
		}
	}
	for _, key := range sortedKeys(e.Outputs) {
		v, ok := res.Outputs[key]
		if !ok {
			o.problem("no output %s", key)
			continue
		}
		o.match("output "+key, e.Outputs[key], string(v))
	}
	for _, p := range e.AbsentHostPaths {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			o.problem("host path %s exists after the job (%v)", p, err)
		}
	}

	// What holds for every job, whatever the guest did.
	if max := limits.LogLines + 1; int64(len(res.Log)) > max {
		o.problem("log has %d lines, the policy allows %d plus the marker", len(res.Log), limits.LogLines)
	}
	everything, _ := json.Marshal(res)
	for _, secret := range w.opt.Secrets {
		if secret != "" && bytes.Contains(everything, []byte(secret)) {
			o.problem("the job result contains a secret of the host process")
		}
	}
	if w.passwdLine != "" && bytes.Contains(everything, []byte(w.passwdLine)) {
		o.problem("the job result contains the host's /etc/passwd")
	}
	for _, l := range lines {
		if strings.ContainsFunc(l, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) {
			o.problem("log line with a control character: %q", l)
		}
	}
}

// checkNeighbour runs the normal job and checks its result.
func (w *World) checkNeighbour(ctx context.Context, h *host.Host) []string {
	in, _ := json.Marshal(map[string]any{"image": w.volume, "calibration": nil})
	res, err := h.RunModule(ctx, w.neighbour, in, host.RunOptions{})
	if err != nil {
		return []string{"host error: " + err.Error()}
	}
	if res.State != host.Done {
		return []string{fmt.Sprintf("state %s, error %q", res.State, res.Error)}
	}
	var lo, hi float64
	if json.Unmarshal(res.Outputs["min"], &lo) != nil || json.Unmarshal(res.Outputs["max"], &hi) != nil || lo != w.lo || hi != w.hi {
		return []string{fmt.Sprintf("min %s max %s, want %v %v", res.Outputs["min"], res.Outputs["max"], w.lo, w.hi)}
	}
	return nil
}

func (o *Outcome) match(what, re, s string) {
	if !o.anyMatches(re, []string{s}) {
		o.problem("%s %q does not match %q", what, s, re)
	}
}

func (o *Outcome) anyMatches(re string, ss []string) bool {
	r, err := regexp.Compile(re)
	if err != nil {
		o.problem("bad expression %q: %v", re, err)
		return false
	}
	return slices.ContainsFunc(ss, r.MatchString)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
