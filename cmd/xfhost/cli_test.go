package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/internal/guestbuild"
)

// xfhost runs the CLI in-process the way main does and returns what it
// wrote to stdout and stderr.
func xfhost(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	app := newApp()
	var out, errOut bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errOut
	// urfave/cli's default handler would os.Exit on a cli.ExitCoder.
	app.ExitErrHandler = func(*cli.Context, error) {}
	err = app.RunContext(t.Context(), hoistFlags(app, append([]string{"xfhost"}, args...)))
	return out.String(), errOut.String(), err
}

func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var ex cli.ExitCoder
	if errors.As(err, &ex) {
		return ex.ExitCode()
	}
	return 1
}

// synthImage writes a small synthetic volume to dir/x.omni and returns
// its value range as image info prints it.
func synthImage(t *testing.T, dir string) (lo, hi float64) {
	t.Helper()
	if _, _, err := xfhost(t, "image", "synth", filepath.Join(dir, "x.omni"), "--size", "12,10,8"); err != nil {
		t.Fatalf("image synth: %v", err)
	}
	out, _, err := xfhost(t, "image", "info", filepath.Join(dir, "x.omni"))
	if err != nil {
		t.Fatalf("image info: %v", err)
	}
	if !strings.Contains(out, "12x10x8 uint16") {
		t.Errorf("image info does not print the size and type:\n%s", out)
	}
	m := regexp.MustCompile(`values (\S+)\.\.(\S+)\n`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("image info prints no value range:\n%s", out)
	}
	if _, err := fmt.Sscan(m[1]+" "+m[2], &lo, &hi); err != nil {
		t.Fatalf("image info value range %q..%q: %v", m[1], m[2], err)
	}
	if lo >= hi {
		t.Fatalf("synthetic volume has a flat value range %v..%v", lo, hi)
	}
	return lo, hi
}

func TestImageSynthAndInfo(t *testing.T) {
	synthImage(t, t.TempDir())
}

func TestRunStatMinMax(t *testing.T) {
	work := t.TempDir()
	wasm, err := guestbuild.Go(t.Context(), t.TempDir(), "statminmax")
	if err != nil {
		t.Fatal(err)
	}
	task := filepath.Join(work, "statminmax.wasm")
	if err := os.WriteFile(task, wasm, 0o644); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(work, "fss")
	lo, hi := synthImage(t, store)
	run := func(t *testing.T, extra ...string) (string, error) {
		t.Helper()
		args := append([]string{"run", task, "--fss", store, "--image", "image=x.omni", "--compile-cache", "off"}, extra...)
		out, _, err := xfhost(t, args...)
		return out, err
	}

	t.Run("raw", func(t *testing.T) {
		outFile, resultFile := filepath.Join(work, "out.json"), filepath.Join(work, "result.json")
		out, err := run(t, "--input", "calibration=null", "--out", outFile, "--result", resultFile)
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		var outputs map[string]float64
		if err := json.Unmarshal([]byte(out), &outputs); err != nil {
			t.Fatalf("stdout is not an outputs object: %v\n%s", err, out)
		}
		if outputs["min"] != lo || outputs["max"] != hi || len(outputs) != 2 {
			t.Errorf("outputs %v, want min %v and max %v as image info reports", outputs, lo, hi)
		}
		if data, err := os.ReadFile(outFile); err != nil || string(data) != out {
			t.Errorf("--out file = %q, %v; want stdout %q", data, err, out)
		}
		data, err := os.ReadFile(resultFile)
		if err != nil {
			t.Fatal(err)
		}
		var result struct{ State string }
		if err := json.Unmarshal(data, &result); err != nil || result.State != "done" {
			t.Errorf("--result file has state %q (%v), want done:\n%s", result.State, err, data)
		}
	})
	t.Run("calibrated", func(t *testing.T) {
		out, err := run(t, "--input", `calibration="dens"`)
		if err != nil {
			t.Fatalf("run: %v", err)
		}
		var outputs map[string]float64
		if err := json.Unmarshal([]byte(out), &outputs); err != nil {
			t.Fatalf("stdout is not an outputs object: %v\n%s", err, out)
		}
		// The synthetic volume's dens calibration is 0.25*raw - 400.
		if want := 0.25*lo - 400; outputs["min"] != want {
			t.Errorf("calibrated min %v, want %v", outputs["min"], want)
		}
		if want := 0.25*hi - 400; outputs["max"] != want {
			t.Errorf("calibrated max %v, want %v", outputs["max"], want)
		}
	})
	t.Run("failed job", func(t *testing.T) {
		outFile := filepath.Join(work, "failed-out.json")
		out, err := run(t, "--input", `calibration="linatt"`, "--out", outFile)
		var ex cli.ExitCoder
		if !errors.As(err, &ex) || ex.ExitCode() != 1 {
			t.Fatalf("run = %v, want a cli.ExitCoder with code 1", err)
		}
		if want := "Image is missing calibration metadata of type linatt"; !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
		if out != "" {
			t.Errorf("a failed job printed outputs: %q", out)
		}
		if _, err := os.Stat(outFile); !os.IsNotExist(err) {
			t.Errorf("a failed job wrote --out (stat: %v)", err)
		}
	})
	t.Run("inspect", func(t *testing.T) {
		out, _, err := xfhost(t, "inspect", task)
		if err != nil {
			t.Fatalf("inspect: %v", err)
		}
		// The guest SDK declares the ABI version this host implements (1.0
		// when this test was written).
		abiLine := "\nabi         " + abi.MustLoad().Version.String() + "\n"
		for _, want := range []string{"Lucid.CLIP.StatMinMax", abiLine} {
			if !strings.Contains(out, want) {
				t.Errorf("inspect output lacks %q:\n%s", want, out)
			}
		}
		if !regexp.MustCompile(`(?m)^\s+xf\.inputs_get`).MatchString(out) {
			t.Errorf("inspect lists no xf.inputs_get import:\n%s", out)
		}
	})
	t.Run("inspect json", func(t *testing.T) {
		out, _, err := xfhost(t, "inspect", "--json", task)
		if err != nil {
			t.Fatalf("inspect --json: %v", err)
		}
		var info struct {
			SHA256   string
			Size     int
			Metadata struct{ Name string }
			Imports  []string
		}
		if err := json.Unmarshal([]byte(out), &info); err != nil {
			t.Fatalf("inspect --json output is not JSON: %v\n%s", err, out)
		}
		sum := sha256.Sum256(wasm)
		if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(info.SHA256) || info.SHA256 != hex.EncodeToString(sum[:]) {
			t.Errorf("sha256 %q, want %x", info.SHA256, sum)
		}
		if info.Size != len(wasm) || info.Metadata.Name != "Lucid.CLIP.StatMinMax" || len(info.Imports) == 0 {
			t.Errorf("inspect --json = size %d, name %q, %d imports; want %d, Lucid.CLIP.StatMinMax, some",
				info.Size, info.Metadata.Name, len(info.Imports), len(wasm))
		}
	})
}

// wasmHeader is the smallest valid module.
var wasmHeader = []byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00}

// markedModule is a module whose only content is an empty function
// exported as the given ABI version marker.
func markedModule(marker string) []byte {
	exports := append([]byte{0x02, byte(len(marker))}, marker...)
	exports = append(exports, 0x00, 0x00)                                     // function 0
	exports = append(exports, 0x06, 'm', 'e', 'm', 'o', 'r', 'y', 0x02, 0x00) // memory 0
	m := append([]byte{}, wasmHeader...)
	m = append(m, 0x01, 0x04, 0x01, 0x60, 0x00, 0x00) // types: () -> ()
	m = append(m, 0x03, 0x02, 0x01, 0x00)             // functions: one of type 0
	m = append(m, 0x05, 0x03, 0x01, 0x00, 0x01)       // memory: min 1 page
	m = append(m, 0x07, byte(len(exports)))
	m = append(m, exports...)
	return append(m, 0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b) // code: no locals, end
}

func TestPack(t *testing.T) {
	root, err := guestbuild.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	guest := filepath.Join(root, "guests", "go", "statminmax")
	meta, iface := filepath.Join(guest, "metadata.json"), filepath.Join(guest, "interface.json")
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	marked := write("marked.wasm", markedModule("xf_abi_version_1_0"))
	future := write("future.wasm", markedModule("xf_abi_version_9_0"))
	unmarked := write("unmarked.wasm", wasmHeader)
	badIface := write("bad-interface.json", []byte(`{"inputs": 5}`))

	for _, c := range []struct {
		name, in, iface, wantErr string
	}{
		{"bad interface", marked, badIface, "interface"},
		{"no ABI marker", unmarked, iface, "ABI version marker"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := filepath.Join(dir, "failed.wasm")
			_, _, err := xfhost(t, "pack", "--metadata", meta, "--interface", c.iface, "-o", out, c.in)
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("pack = %v, want an error mentioning %q", err, c.wantErr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("a failed pack left %s (stat: %v)", out, err)
			}
		})
	}
	t.Run("round trip", func(t *testing.T) {
		out := filepath.Join(dir, "task.wasm")
		if _, _, err := xfhost(t, "pack", "--metadata", meta, "--interface", iface, "-o", out, marked); err != nil {
			t.Fatalf("pack: %v", err)
		}
		stdout, _, err := xfhost(t, "inspect", out)
		if err != nil {
			t.Fatalf("inspect of the packed module: %v", err)
		}
		for _, want := range []string{"Lucid.CLIP.StatMinMax 1.0.0.0", "\nabi         1.0\n", "calibration"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("inspect of the packed module lacks %q:\n%s", want, stdout)
			}
		}
	})
	t.Run("future ABI", func(t *testing.T) {
		out := filepath.Join(dir, "future-task.wasm")
		if _, _, err := xfhost(t, "pack", "--metadata", meta, "--interface", iface, "-o", out, future); err != nil {
			t.Fatalf("pack: %v", err)
		}
		// inspect still shows the module, then says why it cannot run here.
		stdout, _, err := xfhost(t, "inspect", out)
		if !strings.Contains(stdout, "\nabi         9.0\n") {
			t.Errorf("inspect lacks the declared ABI 9.0:\n%s", stdout)
		}
		if exitCode(err) != 1 || !strings.Contains(fmt.Sprint(err), "cannot run") {
			t.Errorf("inspect of an ABI 9.0 module = %v, want exit code 1 saying this host cannot run it", err)
		}
	})
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	task := filepath.Join(dir, "t.wasm")
	if err := os.WriteFile(task, wasmHeader, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
	}{
		{"run without task", []string{"run", "--fss", dir}},
		{"run with two tasks", []string{"run", "--fss", dir, task, task}},
		{"run with bad log format", []string{"run", "--fss", dir, "--log-format", "xml", task}},
		{"run with bad input", []string{"run", "--fss", dir, "--input", "calibration", task}},
		{"run with bad input JSON", []string{"run", "--fss", dir, "--input", "calibration=dens", task}},
		{"inspect without task", []string{"inspect"}},
		{"pack without input", []string{"pack", "--metadata", "m", "--interface", "i", "-o", "o"}},
		{"synth with two sizes", []string{"image", "synth", "--size", "4,4", filepath.Join(dir, "x.omni")}},
		{"synth to a non-omni file", []string{"image", "synth", filepath.Join(dir, "x.raw")}},
		{"info without file", []string{"image", "info"}},
		{"run without --fss", []string{"run", task}},
		{"run with an unknown flag", []string{"run", "--fss", dir, "--colour", task}},
		{"pack without -o", []string{"pack", "--metadata", "m", "--interface", "i", task}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := xfhost(t, c.args...)
			if got := exitCode(err); got != 2 {
				t.Errorf("xfhost %q = %v (exit code %d), want exit code 2", c.args, err, got)
			}
		})
	}
}
