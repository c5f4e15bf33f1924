package omni

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// Format versions. Readers accept any minor version of SupportedMajorVersion;
// Encode always writes FormatVersion as given in the header, and New/Write
// use CurrentFormatVersion when it is empty.
const (
	CurrentFormatVersion  = "1.0"
	SupportedMajorVersion = 1
)

// Limits that keep a hostile or corrupt header from causing huge allocations.
const (
	// MaxPixelBytes caps the size of a pixel file (1 TiB).
	MaxPixelBytes int64 = 1 << 40
	// MaxPixelFiles caps the number of entries in PixelFiles.
	MaxPixelFiles = 64
	// MaxCalibrations caps the number of entries in Calibrations.
	MaxCalibrations = 64
	// maxFileNameLen is the common file-system limit for one path element.
	maxFileNameLen = 255
)

// validAxes lists the axis letters: X, Y, Z spatial, C colour channel,
// W wavelength, F frequency, T time.
const validAxes = "XYZCWFT"

// Header is the metadata of an OMNI image: everything in the .omni file.
type Header struct {
	// FormatVersion is "major.minor"; only major version 1 is understood.
	FormatVersion string
	// Axes names the three dimensions in storage order, fastest first;
	// "XYZ" for volumes.
	Axes string
	// Size is the number of pixels along each axis.
	Size [3]int
	// DataType is the pixel value type.
	DataType DataType
	// ByteOrder is the order of multi-byte values in the pixel file.
	ByteOrder ByteOrder
	// Spacing is the pixel size along each axis in mm.
	Spacing [3]float64
	// Origin is the position of the centre of pixel (0,0,0) in mm.
	Origin [3]float64
	// PixelFiles are base names of files in the header's directory; the
	// first holds the pixels, first axis fastest. It may be empty for an
	// image that only exists in memory, but Open then fails.
	PixelFiles []string
	// Calibrations map pixel values to physical units.
	Calibrations []Calibration
	// DefaultUnitType optionally names the unit type of Calibrations that
	// tools should show by default.
	DefaultUnitType string
}

// FieldError reports a header field that is missing or invalid. Field uses
// the JSON key names, with indexes for array elements, e.g.
// "calibrations[1].slope" or "size[2]".
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string {
	return e.Field + ": " + e.Problem
}

func fieldErrorf(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// Validate checks every field and the relations between fields. The error
// wraps a *FieldError naming the first invalid field.
func (h *Header) Validate() error {
	if fe := h.check(); fe != nil {
		return fmt.Errorf("omni: invalid header: %w", fe)
	}
	return nil
}

func (h *Header) check() *FieldError {
	if fe := checkFormatVersion(h.FormatVersion); fe != nil {
		return fe
	}
	if fe := checkAxes(h.Axes); fe != nil {
		return fe
	}
	for i, n := range h.Size {
		if n < 1 {
			return fieldErrorf(fmt.Sprintf("size[%d]", i), "must be at least 1, got %d", n)
		}
	}
	if !h.DataType.Valid() {
		return fieldErrorf("data_type", "invalid data type %s", h.DataType)
	}
	if _, ok := h.pixelBytes(); !ok {
		return fieldErrorf("size", "%d x %d x %d %s pixels exceed the limit of %d bytes",
			h.Size[0], h.Size[1], h.Size[2], h.DataType, MaxPixelBytes)
	}
	if !h.ByteOrder.Valid() {
		return fieldErrorf("byte_order", "got %q, want %q or %q", h.ByteOrder, LittleEndian, BigEndian)
	}
	for i, s := range h.Spacing {
		if math.IsNaN(s) || math.IsInf(s, 0) || s <= 0 {
			return fieldErrorf(fmt.Sprintf("spacing_mm[%d]", i), "must be positive and finite, got %v", s)
		}
	}
	for i, o := range h.Origin {
		if math.IsNaN(o) || math.IsInf(o, 0) {
			return fieldErrorf(fmt.Sprintf("origin_mm[%d]", i), "must be finite, got %v", o)
		}
	}
	if fe := checkPixelFiles(h.PixelFiles); fe != nil {
		return fe
	}
	return h.checkCalibrations()
}

func checkFormatVersion(v string) *FieldError {
	if v == "" {
		return fieldErrorf("format_version", "missing or empty")
	}
	major, minor, ok := strings.Cut(v, ".")
	if !ok || !isDecimal(major) || !isDecimal(minor) {
		return fieldErrorf("format_version", "got %q, want \"major.minor\" such as %q", v, CurrentFormatVersion)
	}
	if major != fmt.Sprint(SupportedMajorVersion) {
		return fieldErrorf("format_version", "unsupported major version in %q; this reader understands %d.x only", v, SupportedMajorVersion)
	}
	return nil
}

// isDecimal reports whether s is a short run of ASCII digits without a
// superfluous leading zero.
func isDecimal(s string) bool {
	if s == "" || len(s) > 6 || (len(s) > 1 && s[0] == '0') {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func checkAxes(axes string) *FieldError {
	if len(axes) != 3 {
		return fieldErrorf("axes", "got %q, want three letters such as \"XYZ\"", axes)
	}
	for i := 0; i < len(axes); i++ {
		if !strings.ContainsRune(validAxes, rune(axes[i])) {
			return fieldErrorf("axes", "invalid axis %q in %q (want letters from %s)", axes[i], axes, validAxes)
		}
		if strings.IndexByte(axes[:i], axes[i]) >= 0 {
			return fieldErrorf("axes", "axis %q repeated in %q", axes[i], axes)
		}
	}
	return nil
}

func checkPixelFiles(names []string) *FieldError {
	if len(names) > MaxPixelFiles {
		return fieldErrorf("pixel_files", "%d entries exceed the limit of %d", len(names), MaxPixelFiles)
	}
	for i, name := range names {
		field := fmt.Sprintf("pixel_files[%d]", i)
		if err := checkBaseName(name); err != "" {
			return fieldErrorf(field, "%s", err)
		}
		for j := range i {
			if names[j] == name {
				return fieldErrorf(field, "%q repeats pixel_files[%d]", name, j)
			}
		}
	}
	return nil
}

// checkBaseName returns why name is not a plain file name inside the
// header's directory, or "" if it is. Separators of every platform are
// refused so that a header written on one system cannot reach outside its
// directory on another.
func checkBaseName(name string) string {
	switch {
	case name == "":
		return "empty file name"
	case name == "." || name == "..":
		return fmt.Sprintf("%q is not a file name", name)
	case len(name) > maxFileNameLen:
		return fmt.Sprintf("file name longer than %d bytes", maxFileNameLen)
	case strings.ContainsAny(name, `/\:`):
		return fmt.Sprintf("file name %q must not contain '/', '\\' or ':'; pixel files live next to the header", name)
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return fmt.Sprintf("file name %q contains control character %U", name, r)
		}
	}
	return ""
}

func (h *Header) checkCalibrations() *FieldError {
	if len(h.Calibrations) > MaxCalibrations {
		return fieldErrorf("calibrations", "%d entries exceed the limit of %d", len(h.Calibrations), MaxCalibrations)
	}
	for i, c := range h.Calibrations {
		prefix := fmt.Sprintf("calibrations[%d].", i)
		if fe := c.check(prefix); fe != nil {
			return fe
		}
		for j, d := range h.Calibrations[:i] {
			if d.UnitType == c.UnitType && d.UnitName == c.UnitName {
				return fieldErrorf(prefix+"unit_type", "unit type %q with unit name %q repeats calibrations[%d]", c.UnitType, c.UnitName, j)
			}
		}
	}
	for i, c := range h.Calibrations {
		if c.Kind != KindIndirectSlopeIntercept {
			continue
		}
		if _, err := h.resolve(c); err != "" {
			return fieldErrorf(fmt.Sprintf("calibrations[%d].base_unit_type", i), "%s", err)
		}
	}
	if h.DefaultUnitType != "" && len(h.CalibrationsOfUnitType(h.DefaultUnitType)) == 0 {
		return fieldErrorf("default_unit_type", "%q is not the unit type of any calibration", h.DefaultUnitType)
	}
	return nil
}

// VoxelCount returns the number of pixels, or -1 if Size is invalid or the
// count overflows.
func (h *Header) VoxelCount() int64 {
	n, ok := h.voxelCount()
	if !ok {
		return -1
	}
	return n
}

// PixelBytes returns the size of the pixel file in bytes, or -1 if Size or
// DataType is invalid or the size exceeds MaxPixelBytes.
func (h *Header) PixelBytes() int64 {
	n, ok := h.pixelBytes()
	if !ok {
		return -1
	}
	return n
}

func (h *Header) voxelCount() (int64, bool) {
	n := uint64(1)
	for _, s := range h.Size {
		if s < 1 {
			return 0, false
		}
		hi, lo := bits.Mul64(n, uint64(s))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		n = lo
	}
	return int64(n), true
}

func (h *Header) pixelBytes() (int64, bool) {
	n, ok := h.voxelCount()
	size := int64(h.DataType.Size())
	if !ok || size == 0 || n > MaxPixelBytes/size {
		return 0, false
	}
	return n * size, true
}

// CalibrationsOfUnitType returns copies of the calibrations whose UnitType
// equals unitType, in header order.
func (h *Header) CalibrationsOfUnitType(unitType string) []Calibration {
	var out []Calibration
	for _, c := range h.Calibrations {
		if c.UnitType == unitType {
			out = append(out, c)
		}
	}
	return out
}

// DefaultCalibration returns the first calibration of DefaultUnitType, or
// false if DefaultUnitType is empty or unmatched.
func (h *Header) DefaultCalibration() (Calibration, bool) {
	if h.DefaultUnitType == "" {
		return Calibration{}, false
	}
	cs := h.CalibrationsOfUnitType(h.DefaultUnitType)
	if len(cs) == 0 {
		return Calibration{}, false
	}
	return cs[0], true
}

// ResolveCalibration returns a KindSlopeIntercept calibration that maps raw
// pixel values to c's unit. A direct calibration is returned unchanged; an
// indirect one is composed with the calibration of its BaseUnitType, which
// must be the only calibration of that unit type in h and must be direct.
func (h *Header) ResolveCalibration(c Calibration) (Calibration, error) {
	if fe := c.check(""); fe != nil {
		return Calibration{}, fmt.Errorf("omni: resolve calibration %q: %w", c.UnitType, fe)
	}
	r, err := h.resolve(c)
	if err != "" {
		return Calibration{}, fmt.Errorf("omni: resolve calibration %q: %s", c.UnitType, err)
	}
	return r, nil
}

func (h *Header) resolve(c Calibration) (Calibration, string) {
	if c.Kind != KindIndirectSlopeIntercept {
		return c, ""
	}
	bases := h.CalibrationsOfUnitType(c.BaseUnitType)
	switch {
	case len(bases) == 0:
		return Calibration{}, fmt.Sprintf("no calibration has base unit type %q", c.BaseUnitType)
	case len(bases) > 1:
		return Calibration{}, fmt.Sprintf("base unit type %q is ambiguous: %d calibrations have it", c.BaseUnitType, len(bases))
	case bases[0].Kind != KindSlopeIntercept:
		// Allowing chains would need cycle detection for no known use.
		return Calibration{}, fmt.Sprintf("base unit type %q is itself indirect; only one level of indirection is allowed", c.BaseUnitType)
	}
	b := bases[0]
	// c(b(raw)) = c.Slope*(b.Slope*raw + b.Intercept) + c.Intercept
	r := Calibration{
		Kind:      KindSlopeIntercept,
		UnitType:  c.UnitType,
		UnitName:  c.UnitName,
		Slope:     c.Slope * b.Slope,
		Intercept: c.Slope*b.Intercept + c.Intercept,
	}
	if r.Slope == 0 || math.IsInf(r.Slope, 0) || math.IsInf(r.Intercept, 0) || math.IsNaN(r.Intercept) {
		return Calibration{}, fmt.Sprintf("combined with base unit type %q the slope or intercept is out of range", c.BaseUnitType)
	}
	return r, ""
}

// Clone returns a deep copy of h.
func (h *Header) Clone() *Header {
	c := *h
	c.PixelFiles = append([]string(nil), h.PixelFiles...)
	c.Calibrations = append([]Calibration(nil), h.Calibrations...)
	return &c
}
