package guestcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/xfhost/xfhost/engine/engines"
	"github.com/xfhost/xfhost/internal/guestbuild"
	"github.com/xfhost/xfhost/internal/testenv"
	"github.com/xfhost/xfhost/internal/wasmfile"
	"github.com/xfhost/xfhost/taskmodule"
)

// fixtureCase is a testdata/{ok,broken}/<name>/case.json. The module is
// case.wasm (built from case.wat) with the sections added at test time.
type fixtureCase struct {
	Description string `json:"description"`
	// Metadata and Interface are the section contents: absent means the
	// defaults below, null means no section, a JSON string is the raw
	// section text, and anything else is the document itself.
	Metadata  json.RawMessage `json:"metadata"`
	Interface json.RawMessage `json:"interface"`
	// Deadline bounds each job ("300ms").
	Deadline string `json:"deadline"`
	// Fail and Warn map exactly the checks that must fail (warn) to a
	// regexp their message must match. Every other check must pass or be
	// skipped.
	Fail map[string]string `json:"fail"`
	Warn map[string]string `json:"warn"`
}

const (
	defaultMetadata  = `{"package_format": "XFP-TT1.0", "name": "Conformance.Fixture", "version": "1.0.0.0"}`
	defaultInterface = `{"inputs": [{"key": "x", "type": "Float", "supported_modes": ["none", "fixed"]}], "outputs": [{"key": "value", "type": "Float"}]}`
)

// fixture reads a case and assembles its module.
func fixture(t *testing.T, dir string) (*fixtureCase, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	var c fixtureCase
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		t.Fatalf("%s/case.json: %v", dir, err)
	}
	wasm, err := os.ReadFile(filepath.Join(dir, "case.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		name string
		doc  json.RawMessage
		def  string
	}{{taskmodule.MetadataSection, c.Metadata, defaultMetadata}, {taskmodule.InterfaceSection, c.Interface, defaultInterface}} {
		var content []byte
		switch {
		case s.doc == nil:
			content = []byte(s.def)
		case string(s.doc) == "null":
			continue
		case s.doc[0] == '"':
			var raw string
			if err := json.Unmarshal(s.doc, &raw); err != nil {
				t.Fatal(err)
			}
			content = []byte(raw)
		default:
			content = s.doc
		}
		if wasm, err = wasmfile.SetCustomSection(wasm, s.name, content); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
	}
	return &c, wasm
}

// TestFixtures checks on every engine that each broken guest fails
// exactly the checks its case names, with the message naming its defect,
// and that the guests in testdata/ok pass.
func TestFixtures(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/*/case.json")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, eng := range engines.Names() {
		for _, p := range dirs {
			dir := filepath.Dir(p)
			t.Run(eng+"/"+strings.TrimPrefix(dir, "testdata/"), func(t *testing.T) {
				t.Parallel()
				c, wasm := fixture(t, dir)
				if strings.HasPrefix(dir, "testdata/broken/") && len(c.Fail) == 0 {
					t.Fatal("a broken guest's case must name the checks it fails")
				}
				opt := Options{Name: dir, Engine: eng}
				if c.Deadline != "" {
					var err error
					if opt.Deadline, err = time.ParseDuration(c.Deadline); err != nil {
						t.Fatal(err)
					}
				}
				r, err := Run(t.Context(), wasm, opt)
				if err != nil {
					t.Fatal(err)
				}
				if r.Engine != eng {
					t.Errorf("report names engine %q", r.Engine)
				}
				expectOutcomes(t, r, c.Fail, c.Warn)
				if r.Passed != (len(c.Fail) == 0) {
					t.Errorf("Passed = %v with %d expected failures", r.Passed, len(c.Fail))
				}
			})
		}
	}
}

// expectOutcomes checks that exactly the checks in fail failed and exactly
// those in warn warned, with matching messages.
func expectOutcomes(t *testing.T, r *Report, fail, warn map[string]string) {
	t.Helper()
	var text bytes.Buffer
	_ = r.WriteText(&text)
	for _, c := range r.Checks {
		want := map[Status]map[string]string{Fail: fail, Warn: warn}[c.Status]
		if c.Status == Pass || c.Status == Skip {
			if _, ok := fail[c.Name]; ok {
				t.Errorf("check %s: %s (%s), want fail", c.Name, c.Status, c.Message)
			}
			if _, ok := warn[c.Name]; ok {
				t.Errorf("check %s: %s (%s), want warn", c.Name, c.Status, c.Message)
			}
			continue
		}
		pattern, ok := want[c.Name]
		if !ok {
			t.Errorf("check %s: unexpected %s: %s", c.Name, c.Status, c.Message)
			continue
		}
		if !regexp.MustCompile(pattern).MatchString(c.Message) {
			t.Errorf("check %s: message %q does not match %q", c.Name, c.Message, pattern)
		}
	}
	for _, m := range []map[string]string{fail, warn} {
		for name := range m {
			if _, ok := r.Check(name); !ok {
				t.Errorf("no check %s in the report", name)
			}
		}
	}
	if t.Failed() {
		t.Logf("report:\n%s", text.String())
	}
}

// TestWatMatchesWasm rebuilds every fixture's .wat with wabt's wat2wasm
// when it is installed and fails if the committed .wasm differs.
func TestWatMatchesWasm(t *testing.T) {
	testenv.WantWasmBuiltFromWat(t, "testdata/*/*/*.wat")
}

// shippedGuests lists the task modules the repository ships: every Go
// guest with a metadata.json (built now) and every committed port
// guests/<lang>/<task>/<task>.wasm.
func shippedGuests(t *testing.T) map[string]func() ([]byte, error) {
	root, err := guestbuild.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	guests := map[string]func() ([]byte, error){}
	metas, err := filepath.Glob(filepath.Join(root, "guests", "go", "*", "metadata.json"))
	if err != nil || len(metas) == 0 {
		t.Fatalf("no Go guests: %v", err)
	}
	outDir := t.TempDir()
	for _, m := range metas {
		name := filepath.Base(filepath.Dir(m))
		guests["go/"+name] = func() ([]byte, error) { return guestbuild.Go(t.Context(), outDir, name) }
	}
	ports, err := filepath.Glob(filepath.Join(root, "guests", "*", "*", "*.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		task, lang := filepath.Base(filepath.Dir(p)), filepath.Base(filepath.Dir(filepath.Dir(p)))
		if lang == "go" || lang == "hostile" || filepath.Base(p) != task+".wasm" {
			continue
		}
		guests[lang+"/"+task] = func() ([]byte, error) { return os.ReadFile(p) }
	}
	return guests
}

// TestShippedGuestsConform checks that every task module the repository
// ships passes on every engine with neither failures nor warnings.
func TestShippedGuestsConform(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and compiles every shipped guest")
	}
	guests := shippedGuests(t)
	names := make([]string, 0, len(guests))
	for n := range guests {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wasm, err := guests[name]()
			if err != nil {
				t.Fatal(err)
			}
			for _, eng := range engines.Names() {
				t.Run(eng, func(t *testing.T) {
					r, err := Run(t.Context(), wasm, Options{Name: name, Engine: eng})
					if err != nil {
						t.Fatal(err)
					}
					expectOutcomes(t, r, nil, nil)
					if len(r.Scenarios) == 0 {
						t.Error("no job ran")
					}
				})
			}
		})
	}
}

// TestStaticFailureSkipsDynamicChecks checks that a module refused
// statically is never run, and that the report still lists every check.
func TestStaticFailureSkipsDynamicChecks(t *testing.T) {
	_, wasm := fixture(t, "testdata/broken/unknown-import")
	r, err := Run(t.Context(), wasm, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Scenarios) != 0 {
		t.Errorf("ran %d jobs of a module that fails static checks", len(r.Scenarios))
	}
	for _, name := range append([]string{checkLoad, "run.all-inputs", "run.null.x"}, outputChecks...) {
		if c, ok := r.Check(name); !ok || c.Status != Skip {
			t.Errorf("check %s = %+v, want skip", name, c)
		}
	}
}

func TestNotWasm(t *testing.T) {
	r, err := Run(t.Context(), []byte("\x00asm\x02\x00\x00\x00"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Check(checkParse)
	if c.Status != Fail || !strings.Contains(c.Message, "not a valid WebAssembly module") {
		t.Errorf("wasm.parse = %+v", c)
	}
	if r.Summary.Fail != 1 || r.Summary.Pass != 0 || r.Passed {
		t.Errorf("summary %+v, passed %v: want one failure, the rest skipped", r.Summary, r.Passed)
	}
}

func TestInputOverrides(t *testing.T) {
	_, wasm := fixture(t, "testdata/ok/minimal")
	r, err := Run(t.Context(), wasm, Options{Inputs: map[string]json.RawMessage{"x": json.RawMessage("42.5")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Scenarios) == 0 || string(r.Scenarios[0].Inputs) != `{"x":42.5}` {
		t.Errorf("scenarios %+v: want the override in the first job's inputs", r.Scenarios)
	}
	for _, tc := range []struct {
		inputs map[string]json.RawMessage
		want   string
	}{
		{map[string]json.RawMessage{"y": json.RawMessage("1")}, `input "y" given for the run is not declared`},
		{map[string]json.RawMessage{"x": json.RawMessage("{")}, `input "x": the value is not valid JSON`},
	} {
		if _, err := Run(t.Context(), wasm, Options{Inputs: tc.inputs}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Run with inputs %s: err = %v, want %q", tc.inputs, err, tc.want)
		}
	}
	// A value of the wrong type is the user's mistake, reported per run.
	r, err = Run(t.Context(), wasm, Options{Inputs: map[string]json.RawMessage{"x": json.RawMessage(`"text"`)}})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := r.Check("run.all-inputs"); c.Status != Fail || !strings.Contains(c.Message, `input "x"`) {
		t.Errorf("run.all-inputs = %+v, want a failure naming the input", c)
	}
}

func TestUnknownEngine(t *testing.T) {
	_, err := Run(t.Context(), []byte{}, Options{Engine: "v8"})
	if err == nil || !strings.Contains(err.Error(), `unknown engine "v8"`) {
		t.Fatalf("err = %v", err)
	}
}

// TestJSONReport checks the documented top-level fields and that every
// check carries a known status.
func TestJSONReport(t *testing.T) {
	_, wasm := fixture(t, "testdata/broken/wrong-type-output")
	r, err := Run(t.Context(), wasm, Options{Name: "wrong.wasm"})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	want := []string{"abi_version", "checks", "engine", "host_abi_version", "module", "passed", "scenarios",
		"schema", "sha256", "size", "summary", "task_type", "task_type_version"}
	if !slices.Equal(keys, want) {
		t.Errorf("top-level keys %v, want %v", keys, want)
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Schema != Schema || back.Passed || back.Summary.Fail != 1 || back.Module != "wrong.wasm" {
		t.Errorf("decoded report: schema %q passed %v summary %+v module %q", back.Schema, back.Passed, back.Summary, back.Module)
	}
	for _, c := range back.Checks {
		if !slices.Contains([]Status{Pass, Fail, Warn, Skip}, c.Status) || c.Name == "" || c.Message == "" {
			t.Errorf("check %+v", c)
		}
	}
	types, _ := back.Check(checkTypes)
	if len(types.Problems) != 1 {
		t.Errorf("outputs.types problems %q, want one", types.Problems)
	}
	if len(back.Scenarios) != 2 || back.Scenarios[0].State != "failed" || back.Scenarios[0].Error == "" {
		t.Errorf("scenarios %+v", back.Scenarios)
	}
}

func TestWriteText(t *testing.T) {
	r := &Report{Module: "m.wasm", TaskType: "A.B", TaskVersion: "1.0.0.0", Engine: "wazero", HostABIVersion: "1.1", Passed: true}
	r.add(Check{Name: "wasm.parse", Status: Pass, Message: "fine"})
	r.add(Check{Name: "run.all-inputs", Status: Warn, Message: "the guest said \"bad\nthing\x1b[31m\""})
	r.add(Check{Name: "outputs.types", Status: Fail, Problems: []string{"one", "two"}})
	var buf bytes.Buffer
	if err := r.WriteText(&buf); err != nil {
		t.Fatal(err)
	}
	want := "conformance of m.wasm (A.B 1.0.0.0) on wazero, host ABI 1.1\n" +
		"PASS  wasm.parse      fine\n" +
		"WARN  run.all-inputs  the guest said \"bad thing[31m\"\n" +
		"FAIL  outputs.types   one; two\n" +
		"FAIL: 1 passed, 1 failed, 1 warnings, 0 skipped\n"
	if got := buf.String(); got != want {
		t.Errorf("text report:\n%s\nwant:\n%s", got, want)
	}
}

func ExampleReport_WriteText() {
	r := &Report{Module: "task.wasm", Engine: "wazero", HostABIVersion: "1.1", Passed: true}
	r.add(Check{Name: "abi.marker", Status: Pass, Message: "exports xf_abi_version_1_0"})
	r.add(Check{Name: "outputs.declared", Status: Fail, Problems: []string{`declared output "count" (Int) was never set (in run.all-inputs)`}})
	_ = r.WriteText(os.Stdout)
	fmt.Println(r.Passed)
	// Output:
	// conformance of task.wasm on wazero, host ABI 1.1
	// PASS  abi.marker        exports xf_abi_version_1_0
	// FAIL  outputs.declared  declared output "count" (Int) was never set (in run.all-inputs)
	// FAIL: 1 passed, 1 failed, 0 warnings, 0 skipped
	// false
}
