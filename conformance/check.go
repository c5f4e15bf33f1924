package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/guestscript"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/policy"
)

// testTimeout bounds one test's job; no test needs more than a fraction.
const testTimeout = time.Minute

// runTest runs one test on the engine and returns every way its outcome
// differs from the expectation.
func runTest(ctx context.Context, eng engine.Engine, opt Options, t *Test) []string {
	wasm, err := fs.ReadFile(opt.Suite, "tests/"+t.Name+".wasm")
	if err != nil {
		return []string{"no guest: " + err.Error() + " (go generate ./conformance)"}
	}
	dir, err := os.MkdirTemp("", "xfhost-conformance-")
	if err != nil {
		return []string{err.Error()}
	}
	defer os.RemoveAll(dir)
	storeDir, scratch := filepath.Join(dir, "store"), filepath.Join(dir, "scratch")
	for _, d := range []string{storeDir, scratch} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return []string{err.Error()}
		}
	}
	images, err := stage(ctx, storeDir, t.Files)
	if err != nil {
		return []string{"staging files: " + err.Error()}
	}
	inputs, err := substituteImages(t.Inputs, images)
	if err != nil {
		return []string{err.Error()}
	}
	dirStore, err := fss.OpenDir(storeDir)
	if err != nil {
		return []string{err.Error()}
	}
	defer dirStore.Close()
	var store fss.Store = dirStore
	if len(t.StoreFaults) > 0 {
		store = &faultyStore{Store: dirStore, faults: t.StoreFaults}
	}
	cfg := policy.Defaults()
	if len(t.Policy) > 0 {
		var l policy.Limits
		dec := json.NewDecoder(bytes.NewReader(t.Policy))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return []string{"policy: " + err.Error()}
		}
		cfg.TaskTypes = map[string]policy.Limits{t.TaskType(): l}
	}
	h, err := host.New(host.Options{Engine: eng, Store: store, ScratchDir: scratch, Policy: &cfg, Logger: opt.Logger})
	if err != nil {
		return []string{err.Error()}
	}
	defer h.Close()
	ctx, cancel := context.WithTimeout(ctx, testTimeout)
	defer cancel()

	if t.Expect.LoadError != "" {
		_, err := h.Load(ctx, wasm)
		if err == nil {
			return []string{fmt.Sprintf("the module loaded; want a load error matching %q", t.Expect.LoadError)}
		}
		var c checker
		c.match("load error", t.Expect.LoadError, err.Error())
		return c.problems
	}
	var trace []host.Call
	res, err := h.RunModule(ctx, wasm, inputs, host.RunOptions{OnCall: func(c host.Call) { trace = append(trace, c) }})
	if err != nil {
		return []string{"host error: " + err.Error()}
	}
	c := checker{storeDir: storeDir}
	c.trace(t, trace)
	c.result(t.Expect, res)
	return c.problems
}

// checker collects the differences between an outcome and a test's
// expectation.
type checker struct {
	storeDir string
	problems []string
}

func (c *checker) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

func (c *checker) match(what, re, s string) {
	if !regexp.MustCompile(re).MatchString(s) {
		c.problem("%s %q does not match %q", what, s, re)
	}
}

func describe(imp string, stopped bool, status fmt.Stringer) string {
	if stopped {
		return imp + " stopped the guest"
	}
	return imp + " returned " + status.String()
}

// trace compares the calls the host served with the script's
// expectation, reporting the first difference.
func (c *checker) trace(t *Test, got []host.Call) {
	want, err := guestscript.ExpectedCalls(spec, t.Calls)
	if err != nil {
		c.problem("%v", err)
		return
	}
	for i := range min(len(got), len(want)) {
		g, w := got[i], want[i]
		if g.Import != w.Import || g.Stopped != w.Stopped || (!g.Stopped && g.Status != w.Status) {
			c.problem("import call %d: %s, want %s", i+1, describe(g.Import, g.Stopped, g.Status), describe(w.Import, w.Stopped, w.Status))
			return
		}
	}
	switch {
	case len(got) > len(want):
		g := got[len(want)]
		c.problem("the guest made %d import calls, want %d; call %d: %s", len(got), len(want), len(want)+1, describe(g.Import, g.Stopped, g.Status))
	case len(got) < len(want):
		w := want[len(got)]
		c.problem("the guest made %d import calls, want %d; missing call %d: %s", len(got), len(want), len(got)+1, describe(w.Import, w.Stopped, w.Status))
	}
}

func (c *checker) result(e Expect, res *host.Result) {
	guestFailed := strings.HasPrefix(res.Error, guestscript.FailurePrefix)
	if guestFailed && (e.Error == "" || !regexp.MustCompile(e.Error).MatchString(res.Error)) {
		c.problem("the guest's own check failed: %s", strings.TrimPrefix(res.Error, guestscript.FailurePrefix))
	} else if string(res.State) != e.State {
		c.problem("state %s, want %s (error %q)", res.State, e.State, res.Error)
	} else if e.Error != "" {
		c.match("error", e.Error, res.Error)
	} else if res.Error != "" {
		c.problem("unexpected error %q", res.Error)
	}
	if e.ErrorMessage != nil {
		c.match("error message", *e.ErrorMessage, res.ErrorNote)
	}
	lines := make([]string, len(res.Log))
	for i, l := range res.Log {
		lines[i] = l.Source + ": " + l.Message
	}
	for _, re := range e.Log {
		if !slices.ContainsFunc(lines, regexp.MustCompile(re).MatchString) {
			c.problem("no log line matches %q (log: %q)", re, lines)
		}
	}
	activity := make([]string, len(res.Activity))
	for i, a := range res.Activity {
		activity[i] = a.Level.String() + ": " + a.Title
	}
	for _, re := range e.Activity {
		if !slices.ContainsFunc(activity, regexp.MustCompile(re).MatchString) {
			c.problem("no activity message matches %q (activity: %q)", re, activity)
		}
	}
	for _, key := range slices.Sorted(maps.Keys(e.Outputs)) {
		v, ok := res.Outputs[key]
		if !ok {
			c.problem("no output %s", key)
			continue
		}
		c.match("output "+key, e.Outputs[key], string(v))
	}
	for _, key := range slices.Sorted(maps.Keys(e.OutputImages)) {
		c.outputImage(key, e.OutputImages[key], res.Outputs[key])
	}
	for _, key := range slices.Sorted(maps.Keys(e.Units)) {
		if got := res.Units[key]; got != e.Units[key] {
			c.problem("unit of %s is %q, want %q", key, got, e.Units[key])
		}
	}
	if e.Progress != nil {
		var got []float64
		for _, p := range res.Progress {
			got = append(got, p.Percent)
		}
		if !slices.Equal(got, e.Progress) {
			c.problem("progress %v, want %v", got, e.Progress)
		}
	}
	if e.EstimatedDurationS != nil {
		if want := time.Duration(*e.EstimatedDurationS * float64(time.Second)); res.EstimatedDuration != want {
			c.problem("estimated duration %v, want %v", res.EstimatedDuration, want)
		}
	}
}

// outputImage checks an Image output against the image the store holds.
func (c *checker) outputImage(key string, want ImageExpect, value json.RawMessage) {
	var ref struct {
		Filename string `json:"filename"`
	}
	if len(value) == 0 || json.Unmarshal(value, &ref) != nil || ref.Filename == "" {
		c.problem("output %s is not an Image value: %s", key, value)
		return
	}
	img, err := omni.Open(filepath.Join(c.storeDir, filepath.FromSlash(ref.Filename)))
	if err != nil {
		c.problem("output %s: stored image: %v", key, err)
		return
	}
	defer img.Close()
	h := img.Header()
	if h.Size != want.Size || h.DataType.String() != want.DataType {
		c.problem("output %s is a %v %s image, want %v %s", key, h.Size, h.DataType, want.Size, want.DataType)
		return
	}
	if want.Values == nil {
		return
	}
	n := int(h.VoxelCount())
	if len(want.Values) != n {
		c.problem("output %s: %d expected values for %d voxels", key, len(want.Values), n)
		return
	}
	pix := img.Pixels()
	for i := range n {
		if got := voxel(pix, h.DataType, i); got != want.Values[i] && !(math.IsNaN(got) && math.IsNaN(want.Values[i])) {
			c.problem("output %s: voxel %d is %v, want %v", key, i, got, want.Values[i])
			return
		}
	}
}
