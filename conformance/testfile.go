package conformance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/internal/guestscript"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/taskmodule"
)

// Test is one expectation file, tests/<name>.json; README.md documents
// the format.
type Test struct {
	// Name is the file's base name without .json.
	Name        string `json:"-"`
	Description string `json:"description"`
	// ABI is the version marker the guest exports ("1.1"), "none" for no
	// marker; the host's version by default.
	ABI string `json:"abi,omitempty"`
	// Metadata and Interface go into the guest; by default the task type
	// is Conformance.<CamelName> with no inputs and no outputs.
	Metadata  json.RawMessage `json:"metadata,omitempty"`
	Interface json.RawMessage `json:"interface,omitempty"`
	// Files are staged on the job's file store, by reference.
	Files map[string]File `json:"files,omitempty"`
	// Inputs are the job's inputs; a value "$image:REF" stands for the
	// Image value of the staged image REF.
	Inputs json.RawMessage `json:"inputs,omitempty"`
	// Policy overrides policy.Limits for the test's task type.
	Policy json.RawMessage `json:"policy,omitempty"`
	// StoreFaults make file store operations fail.
	StoreFaults []StoreFault `json:"store_faults,omitempty"`
	// Calls is the guest's script: the import calls it makes, each with
	// the status it must get.
	Calls  []guestscript.Step `json:"calls"`
	Expect Expect             `json:"expect"`
}

// File is a file staged on the store: exactly one of Text and Image.
type File struct {
	Text  *string    `json:"text,omitempty"`
	Image *ImageSpec `json:"image,omitempty"`
}

// ImageSpec describes a synthesized OMNI image, staged as REF (which ends
// in .omni) and its pixel file (.raw next to it).
type ImageSpec struct {
	Size     [3]int `json:"size"`
	DataType string `json:"data_type"`
	// Fill is "zero" (default), "index" (voxel i holds i, saturated),
	// "synth" (the micro-CT-like volume of omni/synth, uint16 only, with
	// its dens and hu calibrations) or a number for every voxel.
	Fill json.RawMessage `json:"fill,omitempty"`
	// Values lists every voxel instead (x fastest).
	Values          []float64         `json:"values,omitempty"`
	Seed            int64             `json:"seed,omitempty"`
	Spacing         *[3]float64       `json:"spacing_mm,omitempty"`
	Origin          *[3]float64       `json:"origin_mm,omitempty"`
	Calibrations    []CalibrationSpec `json:"calibrations,omitempty"`
	DefaultUnitType string            `json:"default_unit_type,omitempty"`
	// OmitPixels leaves out the pixel file, so opening the image fails.
	OmitPixels bool `json:"omit_pixels,omitempty"`
}

// CalibrationSpec is a slope/intercept calibration of a staged image.
type CalibrationSpec struct {
	UnitType  string  `json:"unit_type"`
	UnitName  string  `json:"unit_name,omitempty"`
	Slope     float64 `json:"slope"`
	Intercept float64 `json:"intercept"`
}

// StoreFault makes the file store fail an operation: Op "fetch" or "put"
// on refs matching Ref (a path.Match pattern), with Effect "error" (an
// I/O error) or "panic" (a bug in the store, which the host must contain).
type StoreFault struct {
	Op     string `json:"op"`
	Ref    string `json:"ref"`
	Effect string `json:"effect"`
}

// Expect is how the job must end. Regular expressions match anywhere
// unless anchored.
type Expect struct {
	// LoadError: the module must be refused at load with a matching
	// error; the calls never run. Otherwise State is "done" or "failed".
	LoadError string `json:"load_error,omitempty"`
	State     string `json:"state,omitempty"`
	// Error matches the job's error; a done job must have none.
	Error string `json:"error,omitempty"`
	// ErrorMessage matches the message set with xf.error_set.
	ErrorMessage *string `json:"error_message,omitempty"`
	// Log and Activity: each expression must match some line, written
	// "source: message" and "level: title".
	Log      []string `json:"log,omitempty"`
	Activity []string `json:"activity,omitempty"`
	// Outputs match each named output's JSON; OutputImages check the
	// images stored for Image outputs.
	Outputs      map[string]string      `json:"outputs,omitempty"`
	OutputImages map[string]ImageExpect `json:"output_images,omitempty"`
	Units        map[string]string      `json:"units,omitempty"`
	// Progress lists the reported percentages in order.
	Progress []float64 `json:"progress,omitempty"`
	// EstimatedDurationS is the last estimated duration in seconds.
	EstimatedDurationS *float64 `json:"estimated_duration_s,omitempty"`
}

// ImageExpect is what a stored output image must be.
type ImageExpect struct {
	Size     [3]int    `json:"size"`
	DataType string    `json:"data_type"`
	Values   []float64 `json:"values,omitempty"`
}

var testName = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// LoadTests reads every tests/*.json of fsys, sorted by name.
func LoadTests(fsys fs.FS) ([]*Test, error) {
	paths, err := fs.Glob(fsys, "tests/*.json")
	if err != nil {
		return nil, fmt.Errorf("conformance: list tests: %w", err)
	}
	if len(paths) == 0 {
		return nil, errors.New("conformance: no tests/*.json")
	}
	slices.Sort(paths)
	var tests []*Test
	for _, p := range paths {
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("conformance: %w", err)
		}
		t, err := ParseTest(strings.TrimSuffix(path.Base(p), ".json"), data)
		if err != nil {
			return nil, err
		}
		tests = append(tests, t)
	}
	return tests, nil
}

// ParseTest parses and checks one expectation file.
func ParseTest(name string, data []byte) (*Test, error) {
	if !testName.MatchString(name) {
		return nil, fmt.Errorf("conformance: test name %q: want lowercase words joined by '-'", name)
	}
	t := &Test{Name: name}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(t); err != nil {
		return nil, fmt.Errorf("conformance: tests/%s.json: %w", name, err)
	}
	if err := t.check(); err != nil {
		return nil, fmt.Errorf("conformance: tests/%s.json: %w", name, err)
	}
	return t, nil
}

func (t *Test) check() error {
	if t.Description == "" {
		return errors.New("no description")
	}
	if len(t.Calls) == 0 {
		return errors.New("no calls")
	}
	e := t.Expect
	if (e.LoadError == "") == (e.State == "") {
		return errors.New("expect needs exactly one of load_error and state")
	}
	if e.State != "" && e.State != "done" && e.State != "failed" {
		return fmt.Errorf("expect.state %q is neither done nor failed", e.State)
	}
	if e.State == "failed" && e.Error == "" {
		return errors.New("a failed job needs an expected error")
	}
	res := append(append([]string{e.LoadError, e.Error}, e.Log...), e.Activity...)
	for _, re := range t.Expect.Outputs {
		res = append(res, re)
	}
	if e.ErrorMessage != nil {
		res = append(res, *e.ErrorMessage)
	}
	for _, re := range res {
		if _, err := regexp.Compile(re); err != nil {
			return fmt.Errorf("expect: %w", err)
		}
	}
	for ref, f := range t.Files {
		if err := checkFile(ref, f); err != nil {
			return err
		}
	}
	for _, f := range t.StoreFaults {
		if f.Op != "fetch" && f.Op != "put" {
			return fmt.Errorf("store fault op %q: want fetch or put", f.Op)
		}
		if f.Effect != "error" && f.Effect != "panic" {
			return fmt.Errorf("store fault effect %q: want error or panic", f.Effect)
		}
		if _, err := path.Match(f.Ref, ""); err != nil {
			return fmt.Errorf("store fault ref %q: %w", f.Ref, err)
		}
	}
	if _, err := guestscript.ExpectedCalls(spec, t.Calls); err != nil {
		return err
	}
	return nil
}

func checkFile(ref string, f File) error {
	if (f.Text == nil) == (f.Image == nil) {
		return fmt.Errorf("file %s: needs exactly one of text and image", ref)
	}
	if f.Image == nil {
		return nil
	}
	if !strings.HasSuffix(ref, ".omni") {
		return fmt.Errorf("image %s: its reference must end in .omni", ref)
	}
	im := f.Image
	if _, err := omni.ParseDataType(im.DataType); err != nil {
		return fmt.Errorf("image %s: %w", ref, err)
	}
	if im.Values != nil && len(im.Fill) > 0 {
		return fmt.Errorf("image %s: fill and values exclude each other", ref)
	}
	return nil
}

// spec is the ABI of this host; immutable after loading.
var spec = abi.MustLoad()

// TaskType is the test guest's task type name.
func (t *Test) TaskType() string {
	if len(t.Metadata) > 0 {
		var m struct {
			Name string `json:"name"`
		}
		if json.Unmarshal(t.Metadata, &m) == nil && m.Name != "" {
			return m.Name
		}
	}
	var b strings.Builder
	b.WriteString("Conformance.")
	for part := range strings.SplitSeq(t.Name, "-") {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

// Guest generates the test's guest module from its calls; the committed
// tests/<name>.wasm must be exactly this (go generate ./conformance).
func (t *Test) Guest() ([]byte, error) {
	marker := spec.Marker(spec.Version)
	switch t.ABI {
	case "":
	case "none":
		marker = ""
	default:
		v, err := abi.ParseVersion(t.ABI)
		if err != nil {
			return nil, fmt.Errorf("conformance: test %s: %w", t.Name, err)
		}
		marker = spec.Marker(v)
	}
	meta := []byte(t.Metadata)
	if len(meta) == 0 {
		meta = fmt.Appendf(nil, `{"package_format":"XFP-TT1.0","name":%q,"version":"1.0.0.0"}`, t.TaskType())
	}
	iface := []byte(t.Interface)
	if len(iface) == 0 {
		iface = []byte(`{"inputs":[],"outputs":[]}`)
	}
	// Validate here, so that a mistake in a test reads as one rather than
	// as a load error of the host.
	if _, err := taskmodule.ParseMetadata(meta); err != nil {
		return nil, fmt.Errorf("conformance: test %s: metadata: %w", t.Name, err)
	}
	if _, err := taskmodule.ParseInterface(iface); err != nil {
		return nil, fmt.Errorf("conformance: test %s: interface: %w", t.Name, err)
	}
	wasm, err := guestscript.Compile(t.Calls, guestscript.Options{Spec: spec, Marker: marker, Metadata: meta, Interface: iface})
	if err != nil {
		return nil, fmt.Errorf("conformance: test %s: %w", t.Name, err)
	}
	return wasm, nil
}
