//go:build !wasip1

// Package hostile_test runs the hostile-guest corpus: one directory per
// case, each with a guest program and a declarative case.json saying what
// the guest does and how the host must end its job. See README.md.
package hostile_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wazeroengine"
	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/guestbuild"
	"github.com/xfhost/xfhost/internal/wasmfile"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/omni/synth"
	"github.com/xfhost/xfhost/policy"
	"github.com/xfhost/xfhost/taskmodule"
)

// caseFile is a case.json.
type caseFile struct {
	Description string `json:"description"`
	// Source is "go" (a wasip1 main package in the case directory), "wasm"
	// (a committed module, built from the .wat next to it) or "generated"
	// (a module too big to commit, assembled by the named generator).
	Source    string `json:"source"`
	Wasm      string `json:"wasm"`
	Generator string `json:"generator"`
	// Metadata and Interface are inline JSON objects or names of files in
	// the case directory; by default the task type is Hostile.<CaseName>
	// with no inputs or outputs.
	Metadata  json.RawMessage `json:"metadata"`
	Interface json.RawMessage `json:"interface"`
	// Inputs are the job's inputs; the string "$volume" stands for the
	// Image input of a small synthetic volume.
	Inputs json.RawMessage `json:"inputs"`
	// Policy overrides policy.Limits for this task type.
	Policy json.RawMessage `json:"policy"`
	// KnownIssue, when set, says why the host does not meet the
	// expectation yet; the case is skipped unless knownIssuesEnv is set.
	KnownIssue string      `json:"known_issue"`
	Expect     expectation `json:"expect"`
}

// knownIssuesEnv, when set, runs the cases with a known issue too.
const knownIssuesEnv = "XF_HOSTILE_KNOWN_ISSUES"

// expectation is how the job must end. Regular expressions match
// anywhere unless anchored.
type expectation struct {
	// LoadError: the module must be refused at load with a matching error.
	LoadError string `json:"load_error"`
	// State "done" or "failed"; Error matches the job's error (must be
	// empty when done).
	State string `json:"state"`
	Error string `json:"error"`
	// Log: each expression must match some log line, written
	// "source: message".
	Log []string `json:"log"`
	// Statuses maps labels to the status (or errno) the guest reported
	// in a log line "status <label>: <STATUS>".
	Statuses map[string]string `json:"statuses"`
	// Outputs match each output's JSON.
	Outputs map[string]string `json:"outputs"`
	// MaxDuration bounds the job's wall-clock time, load included.
	MaxDuration policy.Duration `json:"max_duration"`
	// AbsentHostPaths must not exist on the host after the job.
	AbsentHostPaths []string `json:"absent_host_paths"`
}

// fssToken is set in the test process's environment, where a host's file
// store credentials would be; no guest may ever see it.
const fssToken = "XF_FSS_TOKEN=hostile-corpus-secret-7d1f"

func TestHostileGuests(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the hostile guests")
	}
	name, value, _ := strings.Cut(fssToken, "=")
	t.Setenv(name, value)

	dirs, err := filepath.Glob("*/case.json")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	cases := map[string]*caseFile{}
	var names []string
	for _, p := range dirs {
		dir := filepath.Dir(p)
		c, err := readCase(dir)
		if err != nil {
			t.Fatal(err)
		}
		cases[dir] = c
		names = append(names, dir)
	}
	slices.Sort(names)

	w := newWorld(t)
	modules := buildModules(t, cases)
	for _, dir := range names {
		t.Run(dir, func(t *testing.T) {
			w.runCase(t, dir, cases[dir], modules[dir])
		})
	}
}

func readCase(dir string) (*caseFile, error) {
	data, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		return nil, err
	}
	var c caseFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s/case.json: %w", dir, err)
	}
	if c.Description == "" {
		return nil, fmt.Errorf("%s/case.json: no description", dir)
	}
	e := c.Expect
	if (e.LoadError == "") == (e.State == "") {
		return nil, fmt.Errorf("%s/case.json: expect needs exactly one of load_error and state", dir)
	}
	if e.State != "" && e.State != string(host.Done) && e.State != string(host.Failed) {
		return nil, fmt.Errorf("%s/case.json: expect.state %q is neither done nor failed", dir, e.State)
	}
	if e.State == string(host.Failed) && e.Error == "" {
		return nil, fmt.Errorf("%s/case.json: a failed job needs an expected error message", dir)
	}
	return &c, nil
}

// buildModules builds every case's task module, Go guests in parallel.
func buildModules(t *testing.T, cases map[string]*caseFile) map[string][]byte {
	t.Helper()
	out := t.TempDir()
	var mu sync.Mutex
	modules := map[string][]byte{}
	errs := map[string]error{}
	var wg sync.WaitGroup
	for dir, c := range cases {
		wg.Go(func() {
			wasm, err := buildModule(out, dir, c)
			mu.Lock()
			defer mu.Unlock()
			modules[dir], errs[dir] = wasm, err
		})
	}
	wg.Wait()
	for dir, err := range errs {
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
	}
	return modules
}

func buildModule(outDir, dir string, c *caseFile) ([]byte, error) {
	var wasm []byte
	var err error
	switch c.Source {
	case "go":
		abs, _ := filepath.Abs(dir)
		wasm, err = guestbuild.Package(context.Background(), outDir, abs)
	case "wasm":
		wasm, err = os.ReadFile(filepath.Join(dir, c.Wasm))
	case "generated":
		gen, ok := generators[c.Generator]
		if !ok {
			return nil, fmt.Errorf("unknown generator %q", c.Generator)
		}
		wasm = gen()
	default:
		return nil, fmt.Errorf("unknown source %q", c.Source)
	}
	if err != nil {
		return nil, err
	}
	meta, err := document(dir, c.Metadata, fmt.Sprintf(`{"package_format":"XFP-TT1.0","name":%q,"version":"1.0.0.0"}`, taskTypeName(dir)))
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	iface, err := document(dir, c.Interface, `{"inputs":[],"outputs":[]}`)
	if err != nil {
		return nil, fmt.Errorf("interface: %w", err)
	}
	if packed, err := taskmodule.Pack(wasm, meta, iface); err == nil {
		return packed, nil
	}
	// Pack refuses modules that are not valid task modules, which some
	// cases are on purpose; their documents go in unchecked.
	if wasm, err = wasmfile.SetCustomSection(wasm, taskmodule.MetadataSection, meta); err != nil {
		return nil, err
	}
	return wasmfile.SetCustomSection(wasm, taskmodule.InterfaceSection, iface)
}

// document returns an inline JSON object, the contents of the file a JSON
// string names, or def.
func document(dir string, raw json.RawMessage, def string) ([]byte, error) {
	var name string
	switch {
	case len(raw) == 0:
		return []byte(def), nil
	case json.Unmarshal(raw, &name) == nil:
		return os.ReadFile(filepath.Join(dir, name))
	}
	return raw, nil
}

// taskTypeName turns a case directory like "log-spam" into Hostile.LogSpam.
func taskTypeName(dir string) string {
	var b strings.Builder
	b.WriteString("Hostile.")
	for part := range strings.SplitSeq(filepath.Base(dir), "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// world is what all cases share: an engine, a file store holding a small
// volume, and the normal job that runs next to each hostile one.
type world struct {
	engine     engine.Engine
	storeDir   string
	store      *fss.Dir
	volume     json.RawMessage
	normal     []byte // statminmax
	lo, hi     float64
	passwdLine string // a line of the host's /etc/passwd, if readable
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	eng, err := wazeroengine.New(ctx, engine.Config{HostModules: host.Imports()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(ctx) })
	w := &world{engine: eng, storeDir: t.TempDir()}
	if w.store, err = fss.OpenDir(w.storeDir); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.store.Close() })

	size := [3]int{24, 20, 16}
	img, err := synth.Volume(ctx, synth.Options{Size: size, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	scans := filepath.Join(w.storeDir, "scans")
	if err := os.MkdirAll(scans, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := omni.Write(scans, "bone", img); err != nil {
		t.Fatal(err)
	}
	w.volume, _ = json.Marshal(map[string]any{"type": "Image", "filename": "scans/bone.omni", "size": size,
		"filenames": []string{"scans/bone.raw"}})
	// The expected result of the normal job, from the raw file.
	raw, err := os.ReadFile(filepath.Join(scans, "bone.raw"))
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := uint16(0xffff), uint16(0)
	for i := 0; i+1 < len(raw); i += 2 {
		v := binary.LittleEndian.Uint16(raw[i:])
		lo, hi = min(lo, v), max(hi, v)
	}
	w.lo, w.hi = float64(lo), float64(hi)

	if w.normal, err = guestbuild.Go(ctx, t.TempDir(), "statminmax"); err != nil {
		t.Fatal(err)
	}
	if passwd, err := os.ReadFile("/etc/passwd"); err == nil {
		w.passwdLine, _, _ = strings.Cut(string(passwd), "\n")
	}
	return w
}

// newHost makes a host whose policy is the defaults with the case's
// overrides for its task type only, so the normal job keeps the defaults.
func (w *world) newHost(t *testing.T, taskType string, override json.RawMessage) (*host.Host, policy.Limits, string) {
	t.Helper()
	cfg := policy.Defaults()
	if len(override) > 0 {
		var l policy.Limits
		dec := json.NewDecoder(bytes.NewReader(override))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("case policy: %v", err)
		}
		cfg.TaskTypes = map[string]policy.Limits{taskType: l}
	}
	scratch := t.TempDir()
	h, err := host.New(host.Options{Engine: w.engine, Store: w.store, ScratchDir: scratch, Policy: &cfg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h, cfg.For(taskType), scratch
}

// inputs substitutes the volume for "$volume" in a case's inputs.
func (w *world) inputs(t *testing.T, raw json.RawMessage) json.RawMessage {
	t.Helper()
	if len(raw) == 0 {
		return json.RawMessage(`{}`)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("case inputs: %v", err)
	}
	for k, v := range m {
		if string(v) == `"$volume"` {
			m[k] = w.volume
		}
	}
	out, _ := json.Marshal(m)
	return out
}

func (w *world) runCase(t *testing.T, dir string, c *caseFile, wasm []byte) {
	t.Logf("%s", c.Description)
	if c.KnownIssue != "" && os.Getenv(knownIssuesEnv) == "" {
		t.Skipf("known issue: %s", c.KnownIssue)
	}
	mod, err := taskmodule.Parse(wasm)
	taskType := taskTypeName(dir)
	if err == nil {
		taskType = mod.Metadata.Name
	}
	h, limits, scratch := w.newHost(t, taskType, c.Policy)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The normal job runs on the same host at the same time.
	normalDone := make(chan struct{})
	go func() {
		defer close(normalDone)
		w.checkNormalJob(t, ctx, h)
	}()
	w.runHostileJob(t, ctx, h, c, wasm, limits)
	<-normalDone
	checkScratchParent(t, scratch)
}

func (w *world) runHostileJob(t *testing.T, ctx context.Context, h *host.Host, c *caseFile, wasm []byte, limits policy.Limits) {
	start := time.Now()
	if c.Expect.LoadError != "" {
		_, err := h.Load(ctx, wasm)
		t.Logf("load error: %v (after %v)", err, time.Since(start))
		if err == nil {
			t.Errorf("module loaded; want a load error matching %q", c.Expect.LoadError)
			return
		}
		matches(t, "load error", c.Expect.LoadError, err.Error())
		w.checkDuration(t, c.Expect, time.Since(start))
		return
	}
	res, err := h.RunModule(ctx, wasm, w.inputs(t, c.Inputs), host.RunOptions{})
	elapsed := time.Since(start)
	if err != nil {
		t.Errorf("host error: %v", err)
		return
	}
	t.Logf("state %s after %v (load %v, run %v), error %q", res.State, elapsed, res.Timings.Load, res.Timings.Run, res.Error)
	if testing.Verbose() {
		for i, l := range res.Log {
			if i == 40 {
				t.Logf("log: %d more lines", len(res.Log)-i)
				break
			}
			t.Logf("log %s: %s", l.Source, l.Message)
		}
	}
	w.checkResult(t, c.Expect, limits, res)
	w.checkDuration(t, c.Expect, elapsed)
}

// checkScratchParent checks that the directory the host makes scratch
// directories in holds nothing but them, emptied: nothing a guest did
// landed next to its scratch directory.
func checkScratchParent(t *testing.T, dir string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "xfhost-job-") {
			t.Errorf("%s appeared next to the scratch directories", e.Name())
			continue
		}
		if inner, _ := os.ReadDir(filepath.Join(dir, e.Name())); len(inner) > 0 {
			t.Errorf("scratch directory %s was not emptied: %d entries", e.Name(), len(inner))
		}
	}
}

func (w *world) checkDuration(t *testing.T, e expectation, elapsed time.Duration) {
	t.Helper()
	if max := durationScale * time.Duration(e.MaxDuration); max > 0 && elapsed > max {
		t.Errorf("job took %v, want at most %v", elapsed, max)
	}
}

func (w *world) checkResult(t *testing.T, e expectation, limits policy.Limits, res *host.Result) {
	t.Helper()
	if string(res.State) != e.State {
		t.Errorf("state %s, want %s (error %q)", res.State, e.State, res.Error)
	}
	if e.Error != "" {
		matches(t, "error", e.Error, res.Error)
	} else if res.Error != "" {
		t.Errorf("unexpected error %q", res.Error)
	}
	lines := make([]string, len(res.Log))
	for i, l := range res.Log {
		lines[i] = l.Source + ": " + l.Message
	}
	for _, re := range e.Log {
		if !anyMatches(t, re, lines) {
			t.Errorf("no log line matches %q", re)
		}
	}
	for label, want := range e.Statuses {
		line := "guest: status " + label + ": " + want
		if !slices.Contains(lines, line) {
			t.Errorf("the guest did not report %q", line)
		}
	}
	for key, re := range e.Outputs {
		v, ok := res.Outputs[key]
		if !ok {
			t.Errorf("no output %s", key)
			continue
		}
		matches(t, "output "+key, re, string(v))
	}
	for _, p := range e.AbsentHostPaths {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("host path %s exists after the job (%v)", p, err)
		}
	}

	// What holds for every job, whatever the guest did.
	if max := limits.LogLines + 1; int64(len(res.Log)) > max {
		t.Errorf("log has %d lines, the policy allows %d plus the marker", len(res.Log), limits.LogLines)
	}
	everything, _ := json.Marshal(res)
	_, secret, _ := strings.Cut(fssToken, "=")
	if bytes.Contains(everything, []byte(secret)) {
		t.Errorf("the job result contains the host's FSS token")
	}
	if w.passwdLine != "" && bytes.Contains(everything, []byte(w.passwdLine)) {
		t.Errorf("the job result contains the host's /etc/passwd")
	}
	for _, l := range lines {
		if strings.ContainsFunc(l, func(r rune) bool { return unicode.IsControl(r) && r != '\t' }) {
			t.Errorf("log line with a control character: %q", l)
		}
	}
}

// checkNormalJob runs StatMinMax next to the hostile job and checks its
// result.
func (w *world) checkNormalJob(t *testing.T, ctx context.Context, h *host.Host) {
	in, _ := json.Marshal(map[string]any{"image": w.volume, "calibration": nil})
	res, err := h.RunModule(ctx, w.normal, in, host.RunOptions{})
	if err != nil {
		t.Errorf("normal job: host error: %v", err)
		return
	}
	if res.State != host.Done {
		t.Errorf("normal job: state %s, error %q", res.State, res.Error)
		return
	}
	var lo, hi float64
	if json.Unmarshal(res.Outputs["min"], &lo) != nil || json.Unmarshal(res.Outputs["max"], &hi) != nil || lo != w.lo || hi != w.hi {
		t.Errorf("normal job: min %s max %s, want %v %v", res.Outputs["min"], res.Outputs["max"], w.lo, w.hi)
	}
}

func matches(t *testing.T, what, re, s string) {
	t.Helper()
	if !anyMatches(t, re, []string{s}) {
		t.Errorf("%s %q does not match %q", what, s, re)
	}
}

func anyMatches(t *testing.T, re string, ss []string) bool {
	t.Helper()
	r, err := regexp.Compile(re)
	if err != nil {
		t.Fatalf("bad expression %q: %v", re, err)
	}
	return slices.ContainsFunc(ss, r.MatchString)
}
