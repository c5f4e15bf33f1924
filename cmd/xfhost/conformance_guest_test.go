package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/xfhost/xfhost/conformance/guestcheck"
	"github.com/xfhost/xfhost/taskmodule"
)

// conformanceGuest runs `xfhost conformance guest ARGS` in-process with
// the command under test, whatever else the conformance command holds.
func conformanceGuest(t *testing.T, args ...string) (stdout string, err error) {
	t.Helper()
	app := &cli.App{
		Name:           "xfhost",
		Commands:       []*cli.Command{{Name: "conformance", Subcommands: []*cli.Command{conformanceGuestCommand()}}},
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   usageError,
	}
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	err = app.RunContext(t.Context(), hoistFlags(app, append([]string{"xfhost", "conformance", "guest"}, args...)))
	return out.String(), err
}

// fixtureModule packs a guest of the guestcheck fixtures with an interface
// of one nullable Float input x and one Float output value.
func fixtureModule(t *testing.T, fixture string) string {
	t.Helper()
	wasm, err := os.ReadFile(filepath.Join("..", "..", "conformance", "guestcheck", "testdata", fixture, "case.wasm"))
	if err != nil {
		t.Fatal(err)
	}
	wasm, err = taskmodule.Pack(wasm,
		[]byte(`{"package_format": "XFP-TT1.0", "name": "Conformance.Cli", "version": "1.0.0.0"}`),
		[]byte(`{"inputs": [{"key": "x", "type": "Float", "supported_modes": ["none", "fixed"]}], "outputs": [{"key": "value", "type": "Float"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "task.wasm")
	if err := os.WriteFile(path, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestConformanceGuestPasses(t *testing.T) {
	task := fixtureModule(t, "ok/minimal")
	out, err := conformanceGuest(t, task, "--input", "x=2.5", "--compile-cache", t.TempDir())
	if err != nil {
		t.Fatalf("exit %d: %v\n%s", exitCode(err), err, out)
	}
	for _, want := range []string{"conformance of " + task + " (Conformance.Cli 1.0.0.0) on wazero", "PASS  run.all-inputs", "PASS  run.null.x", "\nPASS: 17 passed, 0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestConformanceGuestFailsJSON(t *testing.T) {
	task := fixtureModule(t, "broken/wrong-type-output")
	out, err := conformanceGuest(t, "--json", task, "--compile-cache", "off")
	if code := exitCode(err); code != 1 {
		t.Fatalf("exit %d (%v), want 1", code, err)
	}
	var r guestcheck.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("output is not a JSON report: %v\n%s", err, out)
	}
	c, ok := r.Check("outputs.types")
	if r.Passed || !ok || c.Status != guestcheck.Fail || !strings.Contains(c.Message, `output "value": declared Float, received "text"`) {
		t.Errorf("report: passed %v, outputs.types %+v", r.Passed, c)
	}
	if r.Schema != guestcheck.Schema || r.Module != task || r.Engine != "wazero" {
		t.Errorf("report header: %q %q %q", r.Schema, r.Module, r.Engine)
	}
}

func TestConformanceGuestUsageErrors(t *testing.T) {
	task := fixtureModule(t, "ok/minimal")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "want exactly one TASK.wasm argument"},
		{[]string{task, task}, "want exactly one TASK.wasm argument"},
		{[]string{task, "--engine", "v8"}, `unknown engine "v8"`},
		{[]string{task, "--input", "x"}, `--input "x": want KEY=JSON`},
		{[]string{task, "--input", "x={"}, `--input "x={": want KEY=JSON`},
	} {
		_, err := conformanceGuest(t, tc.args...)
		if code := exitCode(err); code != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: exit %d (%v), want 2 and %q", tc.args, code, err, tc.want)
		}
	}
	if _, err := conformanceGuest(t, filepath.Join(t.TempDir(), "missing.wasm")); exitCode(err) != 1 {
		t.Errorf("missing file: exit %d (%v), want 1", exitCode(err), err)
	}
}
