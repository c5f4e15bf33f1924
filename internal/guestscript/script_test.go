package guestscript

import (
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/testenv"
	"github.com/xfhost/xfhost/internal/wasmfile"
)

var spec = abi.MustLoad()

const iface = `{"inputs":[{"key":"n","type":"Int","supported_modes":["fixed"]}],"outputs":[{"key":"ref","type":"String"}]}`

func steps(t *testing.T, js string) []Step {
	t.Helper()
	var s []Step
	dec := json.NewDecoder(strings.NewReader(js))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("script: %v", err)
	}
	return s
}

func compile(t *testing.T, s []Step) []byte {
	t.Helper()
	wasm, err := Compile(s, Options{Spec: spec, Marker: "xf_abi_version_1_1",
		Metadata: []byte(`{"package_format":"XFP-TT1.0","name":"Test.Script","version":"1.0.0.0"}`), Interface: []byte(iface)})
	if err != nil {
		t.Fatal(err)
	}
	return wasm
}

// run runs a script on a real host and engine and returns the result and
// the trace of import calls.
func run(t *testing.T, s []Step) (*host.Result, []host.Call) {
	t.Helper()
	e := testenv.New(t, testenv.SharedWazero(t))
	var trace []host.Call
	res := e.Run(t, compile(t, s), map[string]any{"n": 7}, host.RunOptions{OnCall: func(c host.Call) { trace = append(trace, c) }})
	return res, trace
}

func traceOf(calls []host.Call) []ExpectedCall {
	var out []ExpectedCall
	for _, c := range calls {
		e := ExpectedCall{Import: c.Import, Status: c.Status, Stopped: c.Stopped}
		if c.Stopped {
			e.Status = 0
		}
		out = append(out, e)
	}
	return out
}

func TestScriptRunsAsWritten(t *testing.T) {
	s := steps(t, `[
	  {"call": "xf.inputs_get", "args": [{"buf": 4, "name": "in"}, {"out": "n"}], "expect": "BUFFER_TOO_SMALL"},
	  {"check": "n", "i32": 7},
	  {"check": "n", "hex": "07000000"},
	  {"call": "xf.inputs_get", "args": [{"buf": 64, "name": "in2"}, {"out": "n"}], "expect": "OK"},
	  {"check": "in2", "text": "{\"n\":7}"},
	  {"call": "xf.progress_set", "args": [12.5], "expect": "OK"},
	  {"call": "xf.progress_set", "args": ["nan"], "expect": "BAD_ARGUMENT"},
	  {"call": "xf.log", "args": [1, {"hex": "6869"}], "expect": "OK", "repeat": 3},
	  {"call": "xf.log", "args": [1, 4294967295, 4], "expect": "INVALID_MEMORY_ACCESS"},
	  {"call": "xf.log", "args": [1, {"mem_end": 2}, 2], "expect": "OK"},
	  {"call": "xf.log", "args": [1, {"mem_end": 2}, 3], "expect": "INVALID_MEMORY_ACCESS"},
	  {"write_fd": 1, "text": "to stdout\n"},
	  {"write_file": "t.csv", "text": "a,b\n1,2\n"},
	  {"call": "xf.output_file_upload", "args": [{"str": "/scratch/t.csv"}, {"buf": 128, "name": "ref"}, {"out": "reflen"}], "expect": "OK"},
	  {"check": "ref", "text": "jobs/"},
	  {"call": "xf.log", "args": [1, {"slice": "ref", "len": "reflen"}], "expect": "OK"},
	  {"call": "xf.output_set", "args": [{"str": "ref"}, {"str": "\"x\""}], "expect": "OK"},
	  {"call": "xf.finish", "expect": "OK"},
	  {"call": "xf.fail", "args": [{"str": "late"}], "expect": "INVALID_STATE"}
	]`)
	res, trace := run(t, s)
	if res.State != host.Done {
		t.Fatalf("state %s, error %q", res.State, res.Error)
	}
	want, err := ExpectedCalls(spec, s)
	if err != nil {
		t.Fatal(err)
	}
	if got := traceOf(trace); !slices.Equal(got, want) {
		t.Errorf("trace %v\nwant  %v", got, want)
	}
	if len(want) != 15 {
		t.Errorf("%d expected calls, want 15 (a repeat of 3)", len(want))
	}
	var lines []string
	for _, l := range res.Log {
		lines = append(lines, l.Source+": "+l.Message)
	}
	if n := strings.Count(strings.Join(lines, "\n"), "guest: hi"); n != 3 {
		t.Errorf("%d lines \"hi\", want 3: %q", n, lines)
	}
	if !slices.Contains(lines, "stdout: to stdout") {
		t.Errorf("write_fd 1 did not reach the log as stdout: %q", lines)
	}
	if !slices.ContainsFunc(lines, regexp.MustCompile(`^guest: jobs/[0-9a-f]+/t\.csv$`).MatchString) {
		t.Errorf("the uploaded file's reference was not logged through a slice: %q", lines)
	}
	if len(res.Progress) != 1 || res.Progress[0].Percent != 12.5 {
		t.Errorf("progress %+v, want one report of 12.5", res.Progress)
	}
}

// A status, a value or a file the guest does not get as the script says
// fails the job with a message naming the step.
func TestGuestReportsMismatches(t *testing.T) {
	for _, c := range []struct{ name, script, message string }{
		{"status", `[{"call": "xf.log", "args": [9, {"str": "x"}], "expect": "OK"}]`,
			`^conformance guest: step 1 \(xf\.log\): got status 02, want 0 \(OK\)$`},
		{"i32 value", `[{"call": "xf.inputs_get", "args": [{"buf": 0}, {"out": "n"}], "expect": "BUFFER_TOO_SMALL"}, {"check": "n", "i32": 9}]`,
			`^conformance guest: step 2: n is not 9$`},
		{"text", `[{"call": "xf.inputs_get", "args": [{"buf": 16, "name": "b"}, {"out": "n"}], "expect": "OK"}, {"check": "b", "text": "{\"n\":8}"}]`,
			`^conformance guest: step 2: b does not start with`},
		{"stop", `[{"call": "xf.finish", "expect": "INVALID_STATE"}, {"call": "xf.fail", "args": [{"str": "x"}], "stops": true}]`,
			`^finish called without required outputs: ref$`},
		{"write", `[{"write_file": "a/b", "text": "x"}]`,
			`^conformance guest: step 1: write_file a/b: path_open errno 44$`},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, _ := run(t, steps(t, c.script))
			if res.State != host.Failed || !regexp.MustCompile(c.message).MatchString(res.Error) {
				t.Errorf("state %s, error %q; want failed with %q", res.State, res.Error, c.message)
			}
		})
	}
}

func TestExitAndTrap(t *testing.T) {
	res, trace := run(t, steps(t, `[{"call": "xf.error_clear", "expect": "OK"}, {"exit": 3}, {"call": "xf.error_clear", "expect": "OK"}]`))
	if res.Error != "guest exited with code 3" || len(trace) != 1 {
		t.Errorf("exit: error %q after %d calls", res.Error, len(trace))
	}
	res, _ = run(t, steps(t, `[{"trap": true}]`))
	if !strings.HasPrefix(res.Error, "guest trapped: ") {
		t.Errorf("trap: error %q", res.Error)
	}
}

func TestModuleShape(t *testing.T) {
	wasm := compile(t, steps(t, `[{"call": "clip.remove_small", "args": [1, 6, 18446744073709551615, {"out": "h"}], "expect": "INVALID_HANDLE"},
		{"call": "clip.threshold", "args": [1, 0.5, "-inf", 3, {"out": "h"}], "expect": "INVALID_HANDLE"}]`))
	mod, err := wasmfile.Parse(wasm)
	if err != nil {
		t.Fatal(err)
	}
	var imports, exports []string
	for _, im := range mod.Imports {
		imports = append(imports, im.Module+"."+im.Name+" "+im.Type.String())
	}
	for _, e := range mod.Exports {
		exports = append(exports, e.Name)
	}
	wantImports := []string{"xf.fail (i32, i32) -> (i32)", "clip.remove_small (i32, i32, i64, i32) -> (i32)",
		"clip.threshold (i32, f64, f64, i32, i32) -> (i32)"}
	if !slices.Equal(imports, wantImports) {
		t.Errorf("imports %q\nwant    %q", imports, wantImports)
	}
	if !slices.Equal(exports, []string{"memory", "_start", "xf_abi_version_1_1"}) {
		t.Errorf("exports %q", exports)
	}
	if again := compile(t, steps(t, `[{"call": "clip.remove_small", "args": [1, 6, 18446744073709551615, {"out": "h"}], "expect": "INVALID_HANDLE"},
		{"call": "clip.threshold", "args": [1, 0.5, "-inf", 3, {"out": "h"}], "expect": "INVALID_HANDLE"}]`)); string(again) != string(wasm) {
		t.Error("compiling twice gives different bytes")
	}
}

func TestBadScripts(t *testing.T) {
	for _, c := range []struct{ script, err string }{
		{`[{"call": "xf.nope", "expect": "OK"}]`, "not an import of ABI"},
		{`[{"call": "xf.log", "args": [1], "expect": "OK"}]`, "fill 1 of its 3 parameters"},
		{`[{"call": "xf.log", "args": [1, {"str": "a"}, 3], "expect": "OK"}]`, "more than its 3 parameters"},
		{`[{"call": "xf.log", "args": [1, {"str": "a"}], "expect": "FINE"}]`, `unknown status "FINE"`},
		{`[{"call": "xf.log", "args": [1, {"str": "a"}]}]`, "exactly one of expect and stops"},
		{`[{"call": "xf.progress_set", "args": ["lots"], "expect": "OK"}]`, "is not a float"},
		{`[{"call": "xf.progress_set", "args": [{"str": "a"}], "expect": "OK"}]`, "more than its 1 parameters"},
		{`[{"call": "xf.log", "args": [1.5, {"str": "a"}], "expect": "OK"}]`, "not a 32-bit integer"},
		{`[{"call": "xf.log", "args": [1, {"slice": "b", "len": "n"}], "expect": "OK"}]`, `"b" is not an out slot or buffer`},
		{`[{"call": "xf.log", "args": [1, {"str": "a", "hex": "00"}], "expect": "OK"}]`, "exactly one of str, hex"},
		{`[{"call": "xf.log", "args": [1, {"hex": "0"}], "expect": "OK"}]`, "odd number of digits"},
		{`[{"check": "x", "i32": 1}]`, `"x" is not an out slot`},
		{`[{"check": "x"}]`, "exactly one of i32, i64, f64, text and hex"},
		{`[{"trap": true, "exit": 1}]`, "exactly one of call, check, write_file, write_fd, exit and trap"},
		{`[{"write_file": "a"}]`, "needs text"},
		{`[{"call": "xf.fail", "args": [{"str": "a"}], "stops": true, "repeat": 2}]`, "cannot repeat"},
	} {
		var s []Step
		if err := json.Unmarshal([]byte(c.script), &s); err != nil {
			t.Fatal(err)
		}
		_, err := Compile(s, Options{Spec: spec, Marker: "xf_abi_version_1_1"})
		if err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: error %v, want one containing %q", c.script, err, c.err)
		}
	}
}
