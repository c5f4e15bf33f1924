package testenv

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/host"
	"github.com/xfhost/xfhost/internal/guestbuild"
	"github.com/xfhost/xfhost/omni"
)

// TestImageRoundTrip writes a synthetic volume and reads it back through
// the plain readers, checking them against the omni package.
func TestImageRoundTrip(t *testing.T) {
	e := New(t, SharedWazero(t))
	size := [3]int{5, 4, 3}
	v := e.WriteVolume(t, "bone", size, 1)
	var value struct {
		Type      string   `json:"type"`
		Filename  string   `json:"filename"`
		Size      [3]int   `json:"size"`
		Filenames []string `json:"filenames"`
	}
	if err := json.Unmarshal(v, &value); err != nil {
		t.Fatal(err)
	}
	if value.Type != "Image" || value.Filename != "scans/bone.omni" || value.Size != size ||
		!slices.Equal(value.Filenames, []string{"scans/bone.raw"}) {
		t.Errorf("input value %s", v)
	}
	img, err := omni.Open(filepath.Join(e.Dir, "scans", "bone.omni"))
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	pixels := e.Uint16Pixels(t, "scans/bone.raw")
	if len(pixels) != 5*4*3 {
		t.Fatalf("%d pixels, want %d", len(pixels), 5*4*3)
	}
	for i, p := range pixels {
		if want := binary.NativeEndian.Uint16(img.Pixels()[2*i:]); p != want { // Pixels is in native order
			t.Fatalf("pixel %d = %d, want %d", i, p, want)
		}
	}
	for _, c := range img.Header().Calibrations {
		slope, intercept, ok := e.Calibration(t, "scans/bone.omni", c.UnitType)
		if !ok || slope != c.Slope || intercept != c.Intercept {
			t.Errorf("calibration %s = %v, %v, %v; want %v, %v", c.UnitType, slope, intercept, ok, c.Slope, c.Intercept)
		}
	}
	if _, _, ok := e.Calibration(t, "scans/bone.omni", "no such unit"); ok {
		t.Error("Calibration found a unit type the header lacks")
	}
}

// TestRunAndOutputImage runs a real task type and reads its Image output.
func TestRunAndOutputImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go guest")
	}
	wasm, err := guestbuild.Go(context.Background(), t.TempDir(), "clipthreshold")
	if err != nil {
		t.Fatal(err)
	}
	e := New(t, SharedWazero(t))
	size := [3]int{6, 5, 4}
	img := e.WriteVolume(t, "bone", size, 2)
	res := e.Run(t, wasm, map[string]any{"image": img, "threshold_lower0": nil, "threshold_upper0": nil}, host.RunOptions{})
	WantDone(t, res)
	out := e.OutputImage(t, res, "segments")
	if out.Size != size || len(out.Pixels) != 6*5*4 {
		t.Errorf("output size %v, %d pixels; want %v, %d", out.Size, len(out.Pixels), size, 6*5*4)
	}
	for i, p := range out.Pixels {
		if p != 1 {
			t.Fatalf("voxel %d = %d without bounds, want 1", i, p)
		}
	}
	if !strings.HasSuffix(out.Header, ".omni") {
		t.Errorf("header reference %q", out.Header)
	}
}

// TestOnlyTestsImportIt keeps the package out of the binaries: no
// non-test Go file of the module may import it.
func TestOnlyTestsImportIt(t *testing.T) {
	root, err := guestbuild.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	const self = "github.com/xfhost/xfhost/internal/testenv"
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == self {
				t.Errorf("%s imports %s, which is for tests only", path, self)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
