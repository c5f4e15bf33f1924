package guestcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/omni/synth"
	"github.com/xfhost/xfhost/params"
	"github.com/xfhost/xfhost/taskmodule"
)

// The synthetic volume every Image value refers to: uint16 like most
// micro-CT scans, small enough that every kernel finishes in milliseconds,
// with three different edge lengths so that a guest mixing up axes shows,
// and a spacing at which the trabecular structure repeats inside it. It
// carries "dens" (default) and "hu" calibrations.
var (
	volumeSize    = [3]int{32, 28, 20}
	volumeSpacing = 0.05 // mm
)

// Files staged on the temporary file store, relative to its root.
const (
	stageDir     = "conformance"
	volumeName   = "volume" // volume.omni and volume.raw
	csvFile      = stageDir + "/table.csv"
	bitmapFile   = stageDir + "/picture.png"
	htmlFile     = stageDir + "/report.html"
	snapshotFile = stageDir + "/snapshot.json"
	videoFile    = stageDir + "/animation.gif"
	meshFile     = stageDir + "/mesh.stl"
	contourFile  = stageDir + "/contours.json"
	foreignFile  = stageDir + "/notes.txt"
)

// unconstrainedString is given to String inputs that declare no default,
// enum or format. The interface cannot say what such a string means; in
// image task types it most often names a calibration unit type, and "dens"
// is one the synthetic volume has. A guest that needs something else fails
// cleanly (a warning), and the user can supply a value with Options.Inputs.
const unconstrainedString = "dens"

// dateTime is the value of String inputs with format date-time.
const dateTime = "2024-05-01T12:00:00Z"

// entityUUID identifies the Entity value.
const entityUUID = "7f3c2a10-5b6d-4e8f-9a01-23456789abcd"

// stage writes the files that generated composite values reference into
// the file store directory root.
func stage(ctx context.Context, root string) error {
	dir := filepath.Join(root, stageDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("guestcheck: stage inputs: %w", err)
	}
	img, err := synth.Volume(ctx, synth.Options{Size: volumeSize, Seed: 1, Spacing: volumeSpacing})
	if err != nil {
		return fmt.Errorf("guestcheck: stage inputs: %w", err)
	}
	defer img.Close()
	if err := omni.Write(dir, volumeName, img); err != nil {
		return fmt.Errorf("guestcheck: stage inputs: %w", err)
	}
	pic, anim, err := pictures()
	if err != nil {
		return fmt.Errorf("guestcheck: stage inputs: %w", err)
	}
	files := map[string][]byte{
		csvFile:      []byte("x,y\n1,2\n3,4\n"),
		bitmapFile:   pic,
		htmlFile:     []byte("<!DOCTYPE html>\n<html><head><title>Conformance</title></head><body><p>Generated input.</p></body></html>\n"),
		snapshotFile: []byte(`{"camera": {"position_mm": [0, 0, 10], "focus_mm": [0, 0, 0], "up": [0, 1, 0]}}` + "\n"),
		videoFile:    anim,
		meshFile:     []byte(tetrahedronSTL),
		contourFile:  []byte(`{"contours": [{"z": 10, "points_mm": [[0.2, 0.2], [1.0, 0.2], [1.0, 1.0]]}]}` + "\n"),
		foreignFile:  []byte("A file whose format XamFlow does not interpret.\n"),
	}
	for ref, data := range files {
		if err := os.WriteFile(filepath.Join(root, filepath.FromSlash(ref)), data, 0o644); err != nil {
			return fmt.Errorf("guestcheck: stage inputs: %w", err)
		}
	}
	return nil
}

// tetrahedronSTL is a closed ASCII STL mesh of four triangles.
const tetrahedronSTL = `solid conformance
facet normal 0 0 -1
 outer loop
  vertex 0 0 0
  vertex 0 1 0
  vertex 1 0 0
 endloop
endfacet
facet normal 0 -1 0
 outer loop
  vertex 0 0 0
  vertex 1 0 0
  vertex 0 0 1
 endloop
endfacet
facet normal -1 0 0
 outer loop
  vertex 0 0 0
  vertex 0 0 1
  vertex 0 1 0
 endloop
endfacet
facet normal 0.57735 0.57735 0.57735
 outer loop
  vertex 1 0 0
  vertex 0 1 0
  vertex 0 0 1
 endloop
endfacet
endsolid conformance
`

// pictures encodes an 8x8 PNG (the Bitmap) and a two-frame GIF animation
// (the Video: the standard library encodes no other moving-picture format).
func pictures() (pic, anim []byte, err error) {
	rgba := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for y := range 8 {
		for x := range 8 {
			rgba.Set(x, y, color.RGBA{R: uint8(32 * x), G: uint8(32 * y), B: 128, A: 255})
		}
	}
	var p bytes.Buffer
	if err := png.Encode(&p, rgba); err != nil {
		return nil, nil, err
	}
	pal := color.Palette{color.Black, color.White}
	frames := make([]*image.Paletted, 2)
	for i := range frames {
		frames[i] = image.NewPaletted(image.Rect(0, 0, 8, 8), pal)
		frames[i].SetColorIndex(i*4, i*4, 1)
	}
	var g bytes.Buffer
	if err := gif.EncodeAll(&g, &gif.GIF{Image: frames, Delay: []int{10, 10}}); err != nil {
		return nil, nil, err
	}
	return p.Bytes(), g.Bytes(), nil
}

// compositeValue returns a valid value of composite type typ that refers
// only to staged files.
func compositeValue(typ string) (any, error) {
	img := map[string]any{
		"type": "Image", "filename": stageDir + "/" + volumeName + ".omni", "size": volumeSize,
		"filenames": []string{stageDir + "/" + volumeName + ".raw"},
	}
	file := func(t, ref string) map[string]any { return map[string]any{"type": t, "filename": ref} }
	bitmap := file("Bitmap", bitmapFile)
	snapshot := map[string]any{"type": "Snapshot", "bitmap": bitmap, "image": img, "metadata": file("SnapshotMetadata", snapshotFile)}
	half := [3]int{volumeSize[0] / 2, volumeSize[1] / 2, volumeSize[2] / 2}
	switch typ {
	case "Image":
		return img, nil
	case "CSV":
		return file(typ, csvFile), nil
	case "Bitmap":
		return bitmap, nil
	case "HTMLDocument":
		return file(typ, htmlFile), nil
	case "SnapshotMetadata":
		return file(typ, snapshotFile), nil
	case "Video":
		return map[string]any{"type": typ, "filename": videoFile, "bitmap": bitmap}, nil
	case "ForeignFile":
		return file(typ, foreignFile), nil
	case "Mesh":
		return file(typ, meshFile), nil
	case "Contours":
		return map[string]any{"type": typ, "filename": contourFile, "image": img}, nil
	case "Entity":
		return map[string]any{"type": typ, "uuid": entityUUID, "name": "Conformance sample"}, nil
	case "ImageVOI":
		return map[string]any{"type": typ, "pos": [3]int{4, 4, 2}, "size": half, "image": img, "name": "conformance"}, nil
	case "RotatedImageVOI":
		mm := func(n int) float64 { return float64(n) * volumeSpacing }
		return map[string]any{"type": typ, "pos_mm": [3]float64{mm(4), mm(4), mm(2)},
			"size_mm": [3]float64{mm(half[0]), mm(half[1]), mm(half[2])}, "size": half,
			"rotation": [9]float64{1, 0, 0, 0, 1, 0, 0, 0, 1}, "image": img, "name": "conformance"}, nil
	case "ImagePairList":
		return map[string]any{"type": typ, "pairs": [][2]any{{img, img}}}, nil
	case "RegistrationResult":
		return map[string]any{"type": typ, "transform": [16]float64{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1},
			"image1": img, "image2": img}, nil
	case "Snapshot":
		return snapshot, nil
	case "Spectra":
		return map[string]any{"type": typ, "amplitudes_image": img, "wavelength_image": img}, nil
	case "GIResult":
		return map[string]any{"type": typ, "snapshot": snapshot, "gi_image": img}, nil
	}
	return nil, fmt.Errorf("no generator for parameter type %q", typ)
}

// inputValue returns a valid value for in: its default if it has one,
// else a value of its type within its constraints.
func inputValue(in *taskmodule.Input) (json.RawMessage, error) {
	if in.Default != nil {
		return in.Default, nil
	}
	var v any
	var err error
	switch in.Type {
	case params.TypeInt:
		v, err = intValue(in)
	case params.TypeFloat:
		v, err = floatValue(in)
	case params.TypeString:
		v = stringValue(in)
	case params.TypeBool:
		v = false
	default:
		v, err = compositeValue(in.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("input %q: %w", in.Key, err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("input %q: %w", in.Key, err)
	}
	return data, nil
}

// intValue is 1 moved into [minimum, maximum]: a count, radius or index
// that every kernel accepts, unless the bounds say otherwise.
func intValue(in *taskmodule.Input) (json.RawMessage, error) {
	v := int64(1)
	if in.Minimum != "" {
		lo, err := params.IntValue(json.RawMessage(in.Minimum))
		if err != nil {
			return nil, fmt.Errorf("minimum: %w", err)
		}
		v = max(v, lo)
	}
	if in.Maximum != "" {
		hi, err := params.IntValue(json.RawMessage(in.Maximum))
		if err != nil {
			return nil, fmt.Errorf("maximum: %w", err)
		}
		v = min(v, hi)
	}
	return json.RawMessage(strconv.FormatInt(v, 10)), nil
}

// floatValue is 1 moved into [minimum, maximum] and onto a multiple of
// multipleOf when the input has one.
func floatValue(in *taskmodule.Input) (json.RawMessage, error) {
	bound := func(name string, lit json.Number) (float64, bool, error) {
		if lit == "" {
			return 0, false, nil
		}
		f, err := params.FloatValue(json.RawMessage(lit))
		if err != nil {
			return 0, false, fmt.Errorf("%s: %w", name, err)
		}
		return f, true, nil
	}
	lo, hasLo, err := bound("minimum", in.Minimum)
	if err != nil {
		return nil, err
	}
	hi, hasHi, err := bound("maximum", in.Maximum)
	if err != nil {
		return nil, err
	}
	step, hasStep, err := bound("multipleOf", in.MultipleOf)
	if err != nil {
		return nil, err
	}
	v := 1.0
	if hasLo {
		v = math.Max(v, lo)
	}
	if hasHi {
		v = math.Min(v, hi)
	}
	if hasStep && step > 0 {
		v = math.Round(v/step) * step
		if hasLo && v < lo {
			v += step
		}
		if hasHi && v > hi {
			v -= step
		}
		if (hasLo && v < lo) || (hasHi && v > hi) {
			return nil, fmt.Errorf("no multiple of %s lies between minimum %s and maximum %s", in.MultipleOf, in.Minimum, in.Maximum)
		}
	}
	return json.RawMessage(strconv.FormatFloat(v, 'g', -1, 64)), nil
}

func stringValue(in *taskmodule.Input) string {
	switch {
	case len(in.Enum) > 0:
		return in.Enum[0]
	case in.Format == taskmodule.FormatDateTime:
		return dateTime
	}
	return unconstrainedString
}
