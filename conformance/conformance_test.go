package conformance

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/xfhost/xfhost/engine/engines"
)

// TestGuestsUpToDate checks that every committed tests/<name>.wasm is what
// its expectation file generates, and that no guest lacks a test.
func TestGuestsUpToDate(t *testing.T) {
	tests, err := LoadTests(os.DirFS("."))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, tc := range tests {
		names[tc.Name] = true
		want, err := tc.Guest()
		if err != nil {
			t.Error(err)
			continue
		}
		got, err := os.ReadFile("tests/" + tc.Name + ".wasm")
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("tests/%s.wasm is missing or stale: go generate ./conformance", tc.Name)
		}
	}
	wasms, _ := fs.Glob(os.DirFS("."), "tests/*.wasm")
	for _, p := range wasms {
		if name := strings.TrimSuffix(path.Base(p), ".wasm"); !names[name] {
			t.Errorf("%s has no expectation file: go generate ./conformance removes it", p)
		}
	}
}

// TestCoverage is the suite's promise: every import of abi.json is called
// by some test, every status abi.json lists for it is expected by some
// test unless uncoverable.json says why it cannot be provoked, and every
// status code appears.
func TestCoverage(t *testing.T) {
	tests, err := LoadTests(Suite())
	if err != nil {
		t.Fatal(err)
	}
	uncoverable, err := LoadUncoverable(Suite())
	if err != nil {
		t.Fatal(err)
	}
	for _, gap := range CheckCoverage(spec, tests, uncoverable) {
		t.Error(gap)
	}
}

// TestSuiteOnEveryEngine runs the whole suite, hostile corpus included, on
// every engine of this build; it fails on any result the engine's
// deviations file does not predict. With -short the hostile corpus's Go
// cases, which need a Go build each, are left out.
func TestSuiteOnEveryEngine(t *testing.T) {
	ctx := context.Background()
	runner, err := NewRunner(ctx, Options{NoGo: testing.Short()})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range engines.Names() {
		t.Run(name, func(t *testing.T) {
			results, err := runner.Run(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			s := Summarize(name, results)
			t.Log(s)
			for _, r := range results {
				if !r.Expected() {
					t.Errorf("%s %s: %s", r.Verdict(), r.Name, r.Detail)
				}
				if r.Skipped != "" && !testing.Short() {
					t.Logf("skipped %s: %s", r.Name, r.Skipped)
				}
			}
			if s.Total < 60 {
				t.Errorf("only %d results", s.Total)
			}
		})
	}
}

// TestDeviationFilesExist checks that each engine of this build has a
// deviations file and that every file is well-formed.
func TestDeviationFilesExist(t *testing.T) {
	tests, err := LoadTests(Suite())
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range engines.Names() {
		d, err := LoadDeviations(Suite(), name)
		if err != nil {
			t.Error(err)
			continue
		}
		if err := d.check(tests, nil); err != nil {
			t.Error(err)
		}
	}
	files, _ := fs.Glob(Suite(), "deviations/*.json")
	for _, f := range files {
		if _, err := LoadDeviations(Suite(), strings.TrimSuffix(path.Base(f), ".json")); err != nil {
			t.Error(err)
		}
	}
}

// miniSuite is a suite of one test with the given expectation file and
// the guest it generates, and a deviations file for wazero.
func miniSuite(t *testing.T, name, test, deviations string) fstest.MapFS {
	t.Helper()
	tc, err := ParseTest(name, []byte(test))
	if err != nil {
		t.Fatal(err)
	}
	wasm, err := tc.Guest()
	if err != nil {
		t.Fatal(err)
	}
	return fstest.MapFS{
		"tests/" + name + ".json":  {Data: []byte(test)},
		"tests/" + name + ".wasm":  {Data: wasm},
		"deviations/wazero.json":   {Data: []byte(deviations)},
		"uncoverable.json":         {Data: []byte("[]")},
		"deviations/unrelated.txt": {Data: []byte("ignored")},
	}
}

const noDeviations = `{"engine": "wazero", "deviations": []}`

func runMini(t *testing.T, suite fs.FS) Result {
	t.Helper()
	results, err := Run(context.Background(), Options{Engine: "wazero", Suite: suite, NoHostile: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 {
		t.Fatalf("%d results, want 1", len(results))
	}
	return results[0]
}

// The runner must notice every kind of difference; a suite that passes
// whatever the host does proves nothing.
func TestRunnerDetectsDifferences(t *testing.T) {
	for _, c := range []struct{ name, test, detail string }{
		{"wrong-status", `{"description": "d", "calls": [{"call": "xf.log", "args": [9, {"str": "x"}], "expect": "OK"}, {"call": "xf.finish", "expect": "OK"}],
			"expect": {"state": "done"}}`,
			`^import call 1: xf\.log returned BAD_ARGUMENT, want xf\.log returned OK; the guest's own check failed: step 1 \(xf\.log\): got status 02, want 0 \(OK\)`},
		{"wrong-state", `{"description": "d", "calls": [{"call": "xf.error_clear", "expect": "OK"}], "expect": {"state": "done"}}`,
			`^state failed, want done \(error "guest exited without calling finish"\)$`},
		{"wrong-error", `{"description": "d", "calls": [{"call": "xf.fail", "args": [{"str": "boom"}], "stops": true}], "expect": {"state": "failed", "error": "^bang$"}}`,
			`^error "boom" does not match "\^bang\$"$`},
		{"missing-call", `{"description": "d", "calls": [{"call": "xf.fail", "args": [{"str": "boom"}], "expect": "INVALID_STATE"}], "expect": {"state": "failed", "error": "boom"}}`,
			`^import call 1: xf\.fail stopped the guest, want xf\.fail returned INVALID_STATE$`},
		{"wrong-log", `{"description": "d", "calls": [{"call": "xf.log", "args": [1, {"str": "a"}], "expect": "OK"}, {"call": "xf.finish", "expect": "OK"}],
			"expect": {"state": "done", "log": ["^guest: b$"]}}`, `^no log line matches "\^guest: b\$"`},
		{"wrong-output", `{"description": "d", "interface": {"inputs": [], "outputs": [{"key": "v", "type": "Int"}]},
			"calls": [{"call": "xf.output_set", "args": [{"str": "v"}, {"str": "2"}], "expect": "OK"}, {"call": "xf.finish", "expect": "OK"}],
			"expect": {"state": "done", "outputs": {"v": "^3$"}}}`, `^output v "2" does not match "\^3\$"$`},
		{"wrong-progress", `{"description": "d", "calls": [{"call": "xf.progress_set", "args": [10], "expect": "OK"}, {"call": "xf.finish", "expect": "OK"}],
			"expect": {"state": "done", "progress": [11]}}`, `^progress \[10\], want \[11\]$`},
		{"wrong-load", `{"description": "d", "abi": "1.0", "calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {"load_error": "x"}}`,
			`^the module loaded; want a load error matching "x"$`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runMini(t, miniSuite(t, c.name, c.test, noDeviations))
			if r.Pass || !regexp.MustCompile(c.detail).MatchString(r.Detail) {
				t.Errorf("pass %v, detail %q; want a failure matching %q", r.Pass, r.Detail, c.detail)
			}
			if r.Verdict() != "FAIL" || r.Expected() {
				t.Errorf("verdict %s, expected %v", r.Verdict(), r.Expected())
			}
		})
	}
}

func TestDeviations(t *testing.T) {
	failing := `{"description": "d", "calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {"state": "failed", "error": "x"}}`
	passing := `{"description": "d", "calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {"state": "done"}}`
	listed := `{"engine": "wazero", "deviations": [{"test": "t", "reason": "known"}]}`

	r := runMini(t, miniSuite(t, "t", failing, listed))
	if r.Verdict() != "XFAIL" || !r.Expected() || r.Deviation != "known" {
		t.Errorf("a listed failure: verdict %s, expected %v, deviation %q", r.Verdict(), r.Expected(), r.Deviation)
	}
	r = runMini(t, miniSuite(t, "t", passing, listed))
	if r.Verdict() != "XPASS" || r.Expected() {
		t.Errorf("a listed test that passes: verdict %s, expected %v", r.Verdict(), r.Expected())
	}

	for _, c := range []struct{ deviations, err string }{
		{`{"engine": "wazero", "deviations": [{"test": "nope", "reason": "r"}]}`, `lists "nope", which is not a test`},
		{`{"engine": "wazero", "deviations": [{"test": "t", "reason": " "}]}`, "gives no reason"},
		{`{"engine": "wazero", "deviations": [{"test": "t", "reason": "a"}, {"test": "t", "reason": "b"}]}`, "listed twice"},
		{`{"engine": "wasmtime", "deviations": []}`, `is for engine "wasmtime"`},
		{`{"engine": "wazero"}`, "must be a list"},
		{`{"engine": "wazero", "deviations": [], "extra": 1}`, "unknown field"},
	} {
		_, err := Run(context.Background(), Options{Engine: "wazero", Suite: miniSuite(t, "t", passing, c.deviations), NoHostile: true})
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("deviations %s: error %v, want %q", c.deviations, err, c.err)
		}
	}
	suite := miniSuite(t, "t", passing, noDeviations)
	delete(suite, "deviations/wazero.json")
	if _, err := Run(context.Background(), Options{Engine: "wazero", Suite: suite, NoHostile: true}); err == nil || !strings.Contains(err.Error(), "has no deviations/wazero.json") {
		t.Errorf("no deviations file: %v", err)
	}
	if _, err := Run(context.Background(), Options{Engine: "v8", Suite: miniSuite(t, "t", passing, noDeviations), NoHostile: true}); err == nil {
		t.Error("an unknown engine ran")
	}
}

func TestFilterAndHostile(t *testing.T) {
	results, err := Run(context.Background(), Options{Filter: regexp.MustCompile(`^(log|hostile/finish-twice|hostile/env-probe)$`), NoGo: true})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range results {
		got = append(got, r.Verdict()+" "+r.Name)
	}
	want := []string{"PASS log", "SKIP hostile/env-probe", "PASS hostile/finish-twice"}
	if !slices.Equal(got, want) {
		t.Errorf("results %q, want %q", got, want)
	}
	var table bytes.Buffer
	if err := WriteTable(&table, "wazero", results); err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`(?m)^RESULT +TEST +TIME +DETAIL$`, `(?m)^SKIP +hostile/env-probe +0s +Go case: left out \(NoGo\)$`,
		`(?m)^wazero: 3 tests, 2 passed, 0 failed, 1 skipped, 0 expected failures, 0 unexpected passes$`} {
		if !regexp.MustCompile(re).MatchString(table.String()) {
			t.Errorf("table does not match %s:\n%s", re, table.String())
		}
	}
}

func TestBadTestFiles(t *testing.T) {
	for _, c := range []struct{ name, test, err string }{
		{"Bad_Name", `{}`, "want lowercase words"},
		{"t", `{"description": "d", "calls": [], "expect": {"state": "done"}}`, "no calls"},
		{"t", `{"calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {"state": "done"}}`, "no description"},
		{"t", `{"description": "d", "calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {}}`, "exactly one of load_error and state"},
		{"t", `{"description": "d", "calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {"state": "failed"}}`, "needs an expected error"},
		{"t", `{"description": "d", "calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {"state": "gone"}}`, "neither done nor failed"},
		{"t", `{"description": "d", "calls": [{"call": "xf.finish", "expect": "WHAT"}], "expect": {"state": "done"}}`, `unknown status "WHAT"`},
		{"t", `{"description": "d", "calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {"state": "done", "log": ["("]}}`, "missing closing )"},
		{"t", `{"description": "d", "files": {"a.raw": {"image": {"size": [1,1,1], "data_type": "uint8"}}}, "calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {"state": "done"}}`, "must end in .omni"},
		{"t", `{"description": "d", "files": {"a": {}}, "calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {"state": "done"}}`, "exactly one of text and image"},
		{"t", `{"description": "d", "store_faults": [{"op": "delete", "ref": "*", "effect": "error"}], "calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {"state": "done"}}`, "want fetch or put"},
		{"t", `{"description": "d", "calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {"state": "done"}, "extra": 1}`, "unknown field"},
	} {
		if _, err := ParseTest(c.name, []byte(c.test)); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: error %v, want %q", c.test, err, c.err)
		}
	}
	tc, err := ParseTest("t", []byte(`{"description": "d", "interface": {"inputs": 3}, "calls": [{"call": "xf.finish", "expect": "OK"}], "expect": {"state": "done"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tc.Guest(); err == nil || !strings.Contains(err.Error(), "interface") {
		t.Errorf("a broken interface: %v", err)
	}
}

// TestCoverageFindsGaps checks the coverage rules on a suite that lacks
// most of the ABI.
func TestCoverageFindsGaps(t *testing.T) {
	tc, err := ParseTest("t", []byte(`{"description": "d", "calls": [
		{"call": "xf.error_clear", "expect": "OK"},
		{"call": "xf.progress_set", "args": [1], "expect": "INVALID_HANDLE"},
		{"call": "xf.finish", "expect": "OK"}], "expect": {"state": "done"}}`))
	if err != nil {
		t.Fatal(err)
	}
	gaps := CheckCoverage(spec, []*Test{tc}, []Uncoverable{
		{Import: "xf.finish", Status: "OK", Reason: "r"},
		{Import: "xf.log", Status: "DENIED", Reason: "r"},
		{Import: "xf.log", Status: "OK"},
	})
	all := strings.Join(gaps, "\n")
	for _, want := range []string{
		"no test calls clip.minmax",
		"no test expects BAD_ARGUMENT from xf.progress_set",
		"no test expects status IO_ERROR from any import",
		"t expects INVALID_HANDLE from xf.progress_set, which abi.json does not list for it",
		"uncoverable.json lists xf.finish OK, which a test covers",
		"uncoverable.json names xf.log DENIED, which abi.json does not list",
		"uncoverable.json gives no reason for xf.log OK",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("no gap %q in:\n%s", want, all)
		}
	}
	if strings.Contains(all, "no test calls xf.error_clear") || strings.Contains(all, "from xf.error_clear") {
		t.Errorf("xf.error_clear is covered, but:\n%s", all)
	}
}
