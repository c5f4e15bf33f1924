package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/xfhost/xfhost/clip"
	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/engines"
	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/testenv"
	"github.com/xfhost/xfhost/omni"
)

// port is one implementation of a task type.
type port struct {
	lang string // "go", "c", "rust", "assemblyscript"
	wasm []byte
}

// ports returns every implementation of the task type: the Go original,
// built now, and each committed guests/<lang>/<task>/<task>.wasm.
func ports(t *testing.T, task string) []port {
	t.Helper()
	ps := []port{{"go", guest(t, task)}}
	paths, err := filepath.Glob(filepath.Join("..", "guests", "*", task, task+".wasm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range paths {
		wasm, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, port{filepath.Base(filepath.Dir(filepath.Dir(p))), wasm})
	}
	return ps
}

// matrixHost is a host on one engine over a store shared by all engines.
func matrixHost(t *testing.T, name string, store fss.Store) *host.Host {
	t.Helper()
	ctx := context.Background()
	eng, err := engines.New(ctx, name, engine.Config{HostModules: host.Imports()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close(ctx) })
	return testenv.NewHost(t, eng, store)
}

// outcome is what must be identical across ports and engines: the final
// state, the error message and the outputs, with each Image output
// replaced by its header (minus file names) and a digest of its pixels.
type outcome struct {
	State   host.State
	Error   string
	Outputs map[string]string
}

func (e *env) outcome(t *testing.T, res *host.Result) outcome {
	t.Helper()
	o := outcome{State: res.State, Error: res.Error, Outputs: map[string]string{}}
	for key, raw := range res.Outputs {
		var img struct {
			Type      string   `json:"type"`
			Filename  string   `json:"filename"`
			Filenames []string `json:"filenames"`
			Size      [3]int   `json:"size"`
		}
		if json.Unmarshal(raw, &img) != nil || img.Type != "Image" {
			o.Outputs[key] = string(raw)
			continue
		}
		opened, err := omni.Open(filepath.Join(e.Dir, filepath.FromSlash(img.Filename)))
		if err != nil {
			t.Fatalf("output %s: %v", key, err)
		}
		hdr := opened.Header()
		opened.Close()
		hdr.PixelFiles = nil
		pixels, err := os.ReadFile(filepath.Join(e.Dir, filepath.FromSlash(img.Filenames[0])))
		if err != nil {
			t.Fatalf("output %s: %v", key, err)
		}
		o.Outputs[key] = fmt.Sprintf("Image size %v header %+v pixels %d bytes, sha %x", img.Size, hdr, len(pixels), sha256.Sum256(pixels))
	}
	return o
}

// TestMatrix runs every port of every task type on every engine with the
// same inputs and requires identical outcomes: the same outputs bit for
// bit, or the same failure message.
func TestMatrix(t *testing.T) {
	e := newEnv(t)
	vol := e.volume("bone", [3]int{29, 23, 17})
	// A float32 image with values whose shortest decimal forms are long,
	// tiny and huge, to compare how each language formats float64.
	tiny := e.scaledFloat32(t, "bone", "tiny", 1.0/3e7)
	huge := e.scaledFloat32(t, "bone", "huge", 7.1e18)

	hosts := map[string]*host.Host{}
	for _, name := range engines.Names() {
		hosts[name] = matrixHost(t, name, e.Store)
	}
	type scenario struct {
		name   string
		inputs map[string]any
	}
	for _, task := range []struct {
		name      string
		scenarios []scenario
	}{
		{"statminmax", []scenario{
			{"raw", map[string]any{"image": vol, "calibration": nil}},
			{"dens", map[string]any{"image": vol, "calibration": "dens"}},
			{"hu", map[string]any{"image": vol, "calibration": "hu"}},
			{"missing calibration", map[string]any{"image": vol, "calibration": "linatt"}},
			{"tiny floats", map[string]any{"image": tiny, "calibration": nil}},
			{"huge floats", map[string]any{"image": huge, "calibration": nil}},
		}},
		{"clipthreshold", []scenario{
			{"both bounds", map[string]any{"image": vol, "threshold_lower0": 3000.5, "threshold_upper0": 9000}},
			{"lower only", map[string]any{"image": vol, "threshold_lower0": 3400, "threshold_upper0": nil}},
			{"upper only", map[string]any{"image": vol, "threshold_lower0": nil, "threshold_upper0": 2500}},
			{"no bounds", map[string]any{"image": vol, "threshold_lower0": nil, "threshold_upper0": nil}},
			{"float image", map[string]any{"image": tiny, "threshold_lower0": 1e-4, "threshold_upper0": nil}},
		}},
	} {
		ps := ports(t, task.name)
		t.Logf("%s: ports %v on engines %v", task.name, langs(ps), engines.Names())
		for _, sc := range task.scenarios {
			t.Run(task.name+"/"+sc.name, func(t *testing.T) {
				in, err := json.Marshal(sc.inputs)
				if err != nil {
					t.Fatal(err)
				}
				var ref outcome
				var refName string
				for _, eng := range engines.Names() {
					for _, p := range ps {
						res, err := hosts[eng].RunModule(context.Background(), p.wasm, in, host.RunOptions{})
						if err != nil {
							t.Fatal(err)
						}
						got := e.outcome(t, res)
						name := p.lang + " on " + eng
						if refName == "" {
							ref, refName = got, name
							t.Logf("%s: %+v", name, got)
							continue
						}
						if !reflect.DeepEqual(got, ref) {
							t.Errorf("%s differs from %s:\n got %+v\nwant %+v", name, refName, got, ref)
						}
					}
				}
			})
		}
	}
}

func langs(ps []port) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.lang)
	}
	return out
}

// scaledFloat32 writes scans/<name>.omni: the volume src converted to
// float32 and multiplied by factor.
func (e *env) scaledFloat32(t *testing.T, src, name string, factor float64) json.RawMessage {
	t.Helper()
	ctx := context.Background()
	img, err := omni.Open(filepath.Join(e.Dir, "scans", src+".omni"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	f, err := clip.Convert(ctx, img, omni.Float32)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	scaled, err := clip.ArithScalar(ctx, f, clip.Multiply, factor)
	if err != nil {
		t.Fatal(err)
	}
	defer scaled.Close()
	return e.WriteImage(t, name, scaled)
}
