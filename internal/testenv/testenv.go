// Package testenv sets up what the repository's tests run task modules in:
// a host on a real engine over a fresh local file store, synthetic volumes
// written into that store, and plain readers of the files jobs leave there.
//
// It is for tests only: no non-test code may import it. It fails the test
// on any error instead of returning one, and the readers decode pixel and
// header files without the omni package, so that tests of omni-based code
// check it against an independent reading.
package testenv

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"sync"
	"testing"

	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/engine/wazeroengine"
	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/omni/synth"
)

// imageDir is the folder of the store that Env.WriteImage writes into.
const imageDir = "scans"

// shared is the engine SharedWazero hands out. An engine holds no per-job
// state and compiling is what tests wait for most, so one engine (and its
// compilation cache) serves a whole test binary; it is never closed.
var shared struct {
	once sync.Once
	eng  engine.Engine
	err  error
}

// SharedWazero returns a wazero engine serving the host's imports, the
// same one for every caller in the test binary.
func SharedWazero(t testing.TB) engine.Engine {
	t.Helper()
	shared.once.Do(func() {
		shared.eng, shared.err = wazeroengine.New(context.Background(), engine.Config{HostModules: host.Imports()})
	})
	if shared.err != nil {
		t.Fatalf("wazero engine: %v", shared.err)
	}
	return shared.eng
}

// NewHost returns a host on eng over store with a scratch directory of
// its own, closed when the test ends.
func NewHost(t testing.TB, eng engine.Engine, store fss.Store) *host.Host {
	t.Helper()
	h, err := host.New(host.Options{Engine: eng, Store: store, ScratchDir: t.TempDir()})
	if err != nil {
		t.Fatalf("new host: %v", err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// Env is a host over a fresh local file store.
type Env struct {
	// Dir is the root of the store.
	Dir   string
	Store *fss.Dir
	Host  *host.Host
}

// New returns an Env whose host runs on eng over an empty store in a
// temporary directory.
func New(t testing.TB, eng engine.Engine) *Env {
	t.Helper()
	dir := t.TempDir()
	store, err := fss.OpenDir(dir)
	if err != nil {
		t.Fatalf("open store %s: %v", dir, err)
	}
	t.Cleanup(func() { store.Close() })
	return &Env{Dir: dir, Store: store, Host: NewHost(t, eng, store)}
}

// WriteImage writes img into the store as scans/<name>.omni with its
// pixel file and returns the Image input value that refers to it.
func (e *Env) WriteImage(t testing.TB, name string, img *omni.Image) json.RawMessage {
	t.Helper()
	v, err := WriteImage(e.Dir, imageDir, name, img)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// WriteVolume writes a synthetic uint16 micro-CT volume (with the dens and
// hu calibrations synth gives it) as WriteImage does.
func (e *Env) WriteVolume(t testing.TB, name string, size [3]int, seed int64) json.RawMessage {
	t.Helper()
	img, err := synth.Volume(context.Background(), synth.Options{Size: size, Seed: seed})
	if err != nil {
		t.Fatalf("synthetic volume %s: %v", name, err)
	}
	defer img.Close()
	return e.WriteImage(t, name, img)
}

// WriteImage writes img as <name>.omni and <name>.raw into the folder
// folder (slash-separated, "" for the root) of the store rooted at
// storeDir, and returns the Image input value that refers to them. It is
// the form of Env.WriteImage for set-ups that report errors themselves.
func WriteImage(storeDir, folder, name string, img *omni.Image) (json.RawMessage, error) {
	if err := os.MkdirAll(filepath.Join(storeDir, filepath.FromSlash(folder)), 0o755); err != nil {
		return nil, err
	}
	if err := omni.Write(filepath.Join(storeDir, filepath.FromSlash(folder)), name, img); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"type": "Image", "filename": path.Join(folder, name+".omni"),
		"size": img.Header().Size, "filenames": []string{path.Join(folder, name+".raw")}})
}

// Run runs one job of wasm with the given inputs and fails the test if
// the host could not run it at all; how the job ended is the result's.
func (e *Env) Run(t testing.TB, wasm []byte, inputs map[string]any, opt host.RunOptions) *host.Result {
	t.Helper()
	in, err := json.Marshal(inputs)
	if err != nil {
		t.Fatalf("job inputs: %v", err)
	}
	res, err := e.Host.RunModule(context.Background(), wasm, in, opt)
	if err != nil {
		t.Fatalf("run module: %v", err)
	}
	return res
}

// ReadFile returns the contents of the store's file ref.
func (e *Env) ReadFile(t testing.TB, ref string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.Dir, filepath.FromSlash(ref)))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Uint16Pixels decodes the store's little-endian uint16 pixel file ref.
func (e *Env) Uint16Pixels(t testing.TB, ref string) []uint16 {
	t.Helper()
	b := e.ReadFile(t, ref)
	v := make([]uint16, len(b)/2)
	for i := range v {
		v[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return v
}

// Calibration reads the calibration of unitType from the store's .omni
// header ref; ok is false if the header has none of that type.
func (e *Env) Calibration(t testing.TB, ref, unitType string) (slope, intercept float64, ok bool) {
	t.Helper()
	var h struct {
		Calibrations []struct {
			UnitType  string  `json:"unit_type"`
			Slope     float64 `json:"slope"`
			Intercept float64 `json:"intercept"`
		} `json:"calibrations"`
	}
	if err := json.Unmarshal(e.ReadFile(t, ref), &h); err != nil {
		t.Fatalf("header %s: %v", ref, err)
	}
	for _, c := range h.Calibrations {
		if c.UnitType == unitType {
			return c.Slope, c.Intercept, true
		}
	}
	return 0, 0, false
}

// OutputImage is an Image output of a job as it stands in the store.
type OutputImage struct {
	// Header is the store reference of the .omni header.
	Header string
	// Size is the size the output value states.
	Size [3]int
	// Pixels is the content of the output's one pixel file.
	Pixels []byte
}

// OutputImage reads the Image output key of res: it fails the test unless
// the output is an Image value with exactly one pixel file.
func (e *Env) OutputImage(t testing.TB, res *host.Result, key string) OutputImage {
	t.Helper()
	var out struct {
		Type      string   `json:"type"`
		Filename  string   `json:"filename"`
		Filenames []string `json:"filenames"`
		Size      [3]int   `json:"size"`
	}
	if err := json.Unmarshal(res.Outputs[key], &out); err != nil {
		t.Fatalf("output %s = %s: %v", key, res.Outputs[key], err)
	}
	if out.Type != "Image" || len(out.Filenames) != 1 {
		t.Fatalf("output %s = %s, want an Image with one pixel file", key, res.Outputs[key])
	}
	return OutputImage{Header: out.Filename, Size: out.Size, Pixels: e.ReadFile(t, out.Filenames[0])}
}

// WantDone fails the test unless the job ended done.
func WantDone(t testing.TB, res *host.Result) {
	t.Helper()
	if res.State != host.Done {
		t.Fatalf("state %s, error %q, log %v", res.State, res.Error, res.Log)
	}
}
