package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/engine/engines"
)

func TestConformanceHost(t *testing.T) {
	out, _, err := xfhost(t, "conformance", "host", "--run", "^(log|finish|hostile/finish-twice)$")
	if err != nil {
		t.Fatalf("conformance host: %v\n%s", err, out)
	}
	for _, want := range []string{"engine wazero\n", "RESULT", "PASS    log ", "PASS    finish ", "PASS    hostile/finish-twice ",
		"wazero: 3 tests, 3 passed, 0 failed, 0 skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	out, _, err = xfhost(t, "conformance", "host", "--engine", "all", "--json", "--no-hostile", "--run", "^trap$")
	if err != nil {
		t.Fatalf("conformance host --json: %v\n%s", err, out)
	}
	var reports []struct {
		Engine  string
		OK      bool
		Results []struct {
			Name string
			Pass bool
		}
	}
	if err := json.Unmarshal([]byte(out), &reports); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	if len(reports) != len(engines.Names()) {
		t.Fatalf("%d reports for engines %v", len(reports), engines.Names())
	}
	for i, r := range reports {
		if r.Engine != engines.Names()[i] || !r.OK || len(r.Results) != 1 || r.Results[0].Name != "trap" || !r.Results[0].Pass {
			t.Errorf("report %+v", r)
		}
	}
}

func TestConformanceHostUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--engine", "v8"}, `unknown engine "v8"`},
		{[]string{"--run", "("}, "--run: error parsing regexp"},
		{[]string{"--run", "^no such test$"}, "selects no test"},
		{[]string{"extra"}, "takes no arguments"},
	} {
		_, _, err := xfhost(t, append([]string{"conformance", "host", "--no-hostile"}, c.args...)...)
		if exitCode(err) != 2 || err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%v: exit %d, error %v; want exit 2 with %q", c.args, exitCode(err), err, c.msg)
		}
	}
}
