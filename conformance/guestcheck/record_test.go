package guestcheck

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/taskmodule"
)

func TestCallLogBounds(t *testing.T) {
	var l callLog
	if l.reserve(maxKeptValue + 1) {
		t.Error("kept a value over maxKeptValue")
	}
	n := 0
	for l.reserve(maxKeptValue) {
		n++
	}
	if n != maxKeptBytes/maxKeptValue {
		t.Errorf("kept %d values of %d bytes, want %d", n, maxKeptValue, maxKeptBytes/maxKeptValue)
	}
	for range maxRecordedCalls + 5 {
		l.addOutput(outputCall{key: "k"})
	}
	if got := len(l.snapshot().outputs); got != maxRecordedCalls {
		t.Errorf("recorded %d calls, want %d", got, maxRecordedCalls)
	}
}

// TestCheckOutputsAttribution feeds recorded calls to checkOutputs and
// checks that each defect lands in exactly one check.
func TestCheckOutputsAttribution(t *testing.T) {
	it, err := taskmodule.ParseInterface([]byte(`{"inputs": [], "outputs": [
		{"key": "count", "type": "Int"}, {"key": "seg", "type": "Image"}, {"key": "table", "type": "CSV"}, {"key": "mean", "type": "Float"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	set := func(key, value string, st abi.Status) outputCall {
		return outputCall{imp: "xf.output_set", key: key, value: []byte(value), kept: true, size: len(value), st: st}
	}
	run := outcome{
		name: "all-inputs",
		res:  &host.Result{State: host.Failed, Error: "finish called without required outputs: count, table, mean", Outputs: map[string]json.RawMessage{}},
		calls: calls{finished: true, outputs: []outputCall{
			set("count", `2.5`, abi.TypeMismatch),
			{imp: "xf.output_image_set", key: "mean", st: abi.TypeMismatch},
			{imp: "xf.output_image_set", key: "seg", st: abi.OK},
			set("table", `{"type": "CSV", "filename": "elsewhere.csv"}`, abi.Denied),
			{imp: "xf.output_set", key: "count", size: 2 << 20, st: abi.LimitExceeded},
			set("extra", `1`, abi.NotFound),
		}},
	}
	r := &Report{}
	checkOutputs(r, it, []outcome{run})
	want := map[string][]string{
		checkDeclared:   nil,
		checkUndeclared: {`output "extra" is not declared by the interface (set with xf.output_set; the host answered NOT_FOUND) (in run.all-inputs)`},
		checkTypes: {
			`output "count": declared Int, received 2.5: Int expected, got 2.5 (`,
			`output "mean": declared Float, received an image (xf.output_image_set) (in run.all-inputs)`,
		},
		checkAccepted: {
			`output "count": the host refused xf.output_set with LIMIT_EXCEEDED (the value of 2097152 bytes exceeds the output limit) (in run.all-inputs)`,
			`output "table": the host refused xf.output_set with DENIED (the value references files the job neither uploaded nor received as inputs) (in run.all-inputs)`,
		},
	}
	for name, problems := range want {
		c, ok := r.Check(name)
		if !ok {
			t.Fatalf("no check %s", name)
		}
		if (c.Status == Fail) != (len(problems) > 0) || len(c.Problems) != len(problems) {
			t.Errorf("%s: %s %q, want problems %q", name, c.Status, c.Problems, problems)
			continue
		}
		for i, p := range problems {
			if !strings.HasPrefix(c.Problems[i], p) {
				t.Errorf("%s problem %d: %q, want prefix %q", name, i, c.Problems[i], p)
			}
		}
	}
}

// TestCheckOutputsNoFinish covers the verdicts when no job reached finish.
func TestCheckOutputsNoFinish(t *testing.T) {
	it, err := taskmodule.ParseInterface([]byte(`{"inputs": [], "outputs": [{"key": "v", "type": "Float"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	clean := outcome{name: "all-inputs", res: &host.Result{State: host.Failed, Error: "no calibration hu"},
		calls: calls{failed: true, failMsg: "no calibration hu"}}
	crashed := outcome{name: "null.x", res: &host.Result{State: host.Failed, Error: "guest trapped: unreachable"}}
	for _, tc := range []struct {
		runs []outcome
		want Status
	}{
		{[]outcome{clean}, Fail},          // every run refused cleanly: nothing was checked
		{[]outcome{clean, crashed}, Skip}, // the crash is run.null.x's failure
		{nil, Skip},                       // no job ran at all
	} {
		r := &Report{}
		checkOutputs(r, it, tc.runs)
		if c, _ := r.Check(checkDeclared); c.Status != tc.want {
			t.Errorf("%d runs: outputs.declared %s (%s), want %s", len(tc.runs), c.Status, c.Message, tc.want)
		}
	}
}
