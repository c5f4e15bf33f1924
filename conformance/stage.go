package conformance

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/omni/synth"
)

// stage writes a test's files into the store directory dir and returns
// the Image value of each staged image, by reference.
func stage(ctx context.Context, dir string, files map[string]File) (map[string]json.RawMessage, error) {
	images := map[string]json.RawMessage{}
	for ref, f := range files {
		if err := fss.ValidRef(ref); err != nil {
			return nil, err
		}
		p := filepath.Join(dir, filepath.FromSlash(ref))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, fmt.Errorf("stage %s: %w", ref, err)
		}
		if f.Text != nil {
			if err := os.WriteFile(p, []byte(*f.Text), 0o644); err != nil {
				return nil, fmt.Errorf("stage %s: %w", ref, err)
			}
			continue
		}
		v, err := stageImage(ctx, filepath.Dir(p), ref, f.Image)
		if err != nil {
			return nil, fmt.Errorf("stage image %s: %w", ref, err)
		}
		images[ref] = v
	}
	return images, nil
}

func stageImage(ctx context.Context, dir, ref string, spec *ImageSpec) (json.RawMessage, error) {
	base := strings.TrimSuffix(path.Base(ref), ".omni")
	img, err := synthesize(ctx, spec)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	if err := omni.Write(dir, base, img); err != nil {
		return nil, err
	}
	raw := path.Join(path.Dir(ref), base+".raw")
	if spec.OmitPixels {
		if err := os.Remove(filepath.Join(dir, base+".raw")); err != nil {
			return nil, err
		}
	}
	return json.Marshal(map[string]any{"type": "Image", "filename": ref, "size": spec.Size, "filenames": []string{raw}})
}

// synthesize makes the image a spec describes.
func synthesize(ctx context.Context, spec *ImageSpec) (*omni.Image, error) {
	dt, err := omni.ParseDataType(spec.DataType)
	if err != nil {
		return nil, err
	}
	var fill string
	var constant float64
	if len(spec.Fill) > 0 {
		if json.Unmarshal(spec.Fill, &constant) != nil {
			if err := json.Unmarshal(spec.Fill, &fill); err != nil {
				return nil, fmt.Errorf("fill %s: want a number or a string", spec.Fill)
			}
		}
	}
	var img *omni.Image
	if fill == "synth" {
		if dt != omni.Uint16 {
			return nil, fmt.Errorf("fill synth makes uint16 images, not %s", dt)
		}
		if img, err = synth.Volume(ctx, synth.Options{Size: spec.Size, Seed: spec.Seed}); err != nil {
			return nil, err
		}
	} else {
		h := &omni.Header{FormatVersion: omni.CurrentFormatVersion, Axes: "XYZ", Size: spec.Size, DataType: dt,
			ByteOrder: omni.NativeByteOrder(), Spacing: [3]float64{1, 1, 1}}
		if img, err = omni.New(h); err != nil {
			return nil, err
		}
		n := int(h.VoxelCount())
		if spec.Values != nil && len(spec.Values) != n {
			img.Close()
			return nil, fmt.Errorf("%d values for %d voxels", len(spec.Values), n)
		}
		var value func(i int) float64
		switch {
		case spec.Values != nil:
			value = func(i int) float64 { return spec.Values[i] }
		case fill == "index":
			value = func(i int) float64 { return float64(i) }
		case fill == "" || fill == "zero":
			value = func(int) float64 { return constant }
		default:
			img.Close()
			return nil, fmt.Errorf("fill %q: want zero, index, synth or a number", fill)
		}
		pix := img.Pixels()
		for i := range n {
			putVoxel(pix, dt, i, value(i))
		}
	}
	return withGeometry(img, spec)
}

// withGeometry applies the spec's spacing, origin and calibrations, which
// needs a new header: an image's header cannot be changed in place.
func withGeometry(img *omni.Image, spec *ImageSpec) (*omni.Image, error) {
	if spec.Spacing == nil && spec.Origin == nil && spec.Calibrations == nil && spec.DefaultUnitType == "" {
		return img, nil
	}
	defer img.Close()
	h := img.Header()
	if spec.Spacing != nil {
		h.Spacing = *spec.Spacing
	}
	if spec.Origin != nil {
		h.Origin = *spec.Origin
	}
	if spec.Calibrations != nil {
		h.Calibrations = nil
		for _, c := range spec.Calibrations {
			h.Calibrations = append(h.Calibrations, omni.Calibration{Kind: omni.KindSlopeIntercept, UnitType: c.UnitType,
				UnitName: c.UnitName, Slope: c.Slope, Intercept: c.Intercept})
		}
		h.DefaultUnitType = ""
	}
	if spec.DefaultUnitType != "" {
		h.DefaultUnitType = spec.DefaultUnitType
	}
	out, err := omni.New(h)
	if err != nil {
		return nil, err
	}
	copy(out.Pixels(), img.Pixels())
	return out, nil
}

// putVoxel stores v, saturated to the data type, as voxel i.
func putVoxel(pix []byte, dt omni.DataType, i int, v float64) {
	sat := func(lo, hi float64) float64 { return math.Max(lo, math.Min(hi, math.Round(v))) }
	le := binary.LittleEndian
	switch dt {
	case omni.Uint8:
		pix[i] = uint8(sat(0, math.MaxUint8))
	case omni.Int8:
		pix[i] = uint8(int8(sat(math.MinInt8, math.MaxInt8)))
	case omni.Uint16:
		le.PutUint16(pix[2*i:], uint16(sat(0, math.MaxUint16)))
	case omni.Int16:
		le.PutUint16(pix[2*i:], uint16(int16(sat(math.MinInt16, math.MaxInt16))))
	case omni.Uint32:
		le.PutUint32(pix[4*i:], uint32(sat(0, math.MaxUint32)))
	case omni.Int32:
		le.PutUint32(pix[4*i:], uint32(int32(sat(math.MinInt32, math.MaxInt32))))
	case omni.Float32:
		le.PutUint32(pix[4*i:], math.Float32bits(float32(v)))
	case omni.Float64:
		le.PutUint64(pix[8*i:], math.Float64bits(v))
	}
}

// voxel reads voxel i as a float64.
func voxel(pix []byte, dt omni.DataType, i int) float64 {
	le := binary.LittleEndian
	switch dt {
	case omni.Uint8:
		return float64(pix[i])
	case omni.Int8:
		return float64(int8(pix[i]))
	case omni.Uint16:
		return float64(le.Uint16(pix[2*i:]))
	case omni.Int16:
		return float64(int16(le.Uint16(pix[2*i:])))
	case omni.Uint32:
		return float64(le.Uint32(pix[4*i:]))
	case omni.Int32:
		return float64(int32(le.Uint32(pix[4*i:])))
	case omni.Float32:
		return float64(math.Float32frombits(le.Uint32(pix[4*i:])))
	case omni.Float64:
		return math.Float64frombits(le.Uint64(pix[8*i:]))
	}
	return math.NaN()
}

// substituteImages replaces "$image:REF" input values by the Image value
// of the staged image REF.
func substituteImages(inputs json.RawMessage, images map[string]json.RawMessage) (json.RawMessage, error) {
	if len(inputs) == 0 {
		return json.RawMessage(`{}`), nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(inputs, &m); err != nil {
		return nil, fmt.Errorf("inputs: %w", err)
	}
	for k, v := range m {
		var s string
		if json.Unmarshal(v, &s) != nil {
			continue
		}
		if ref, ok := strings.CutPrefix(s, "$image:"); ok {
			img, ok := images[ref]
			if !ok {
				return nil, fmt.Errorf("input %s: no staged image %s", k, ref)
			}
			m[k] = img
		}
	}
	return json.Marshal(m)
}

// faultyStore is a file store whose operations on some refs fail, so that
// tests can provoke IO_ERROR and INTERNAL through a real store.
type faultyStore struct {
	fss.Store
	faults []StoreFault
}

func (s *faultyStore) fault(op, ref string) error {
	for _, f := range s.faults {
		if ok, _ := path.Match(f.Ref, ref); !ok || f.Op != op {
			continue
		}
		if f.Effect == "panic" {
			panic(fmt.Sprintf("conformance: injected store panic on %s %s", op, ref))
		}
		return fmt.Errorf("conformance: injected I/O error on %s %s", op, ref)
	}
	return nil
}

func (s *faultyStore) Fetch(ctx context.Context, ref string) (*os.File, error) {
	if err := s.fault("fetch", ref); err != nil {
		return nil, err
	}
	return s.Store.Fetch(ctx, ref)
}

func (s *faultyStore) Put(ctx context.Context, ref string, r io.Reader) (fss.Info, error) {
	if err := s.fault("put", ref); err != nil {
		return fss.Info{}, err
	}
	return s.Store.Put(ctx, ref, r)
}
