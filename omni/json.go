package omni

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// MaxHeaderBytes caps the size of a .omni file; real headers are a few
// hundred bytes.
const MaxHeaderBytes = 1 << 20

// headerJSON is the on-disk form of Header. Arrays are slices so that a
// wrong number of elements is detected rather than silently padded or
// truncated, and calibration numbers are pointers so that a missing value
// is not mistaken for zero.
type headerJSON struct {
	FormatVersion   string            `json:"format_version"`
	Axes            string            `json:"axes"`
	Size            []int             `json:"size"`
	DataType        string            `json:"data_type"`
	ByteOrder       string            `json:"byte_order"`
	Spacing         []float64         `json:"spacing_mm"`
	Origin          []float64         `json:"origin_mm"`
	PixelFiles      []string          `json:"pixel_files"`
	Calibrations    []calibrationJSON `json:"calibrations"`
	DefaultUnitType string            `json:"default_unit_type,omitempty"`
}

type calibrationJSON struct {
	Type         string   `json:"type"`
	UnitType     string   `json:"unit_type"`
	UnitName     string   `json:"unit_name,omitempty"`
	BaseUnitType string   `json:"base_unit_type,omitempty"`
	Slope        *float64 `json:"slope"`
	Intercept    *float64 `json:"intercept"`
}

var (
	headerKeys      = []string{"format_version", "axes", "size", "data_type", "byte_order", "spacing_mm", "origin_mm", "pixel_files", "calibrations", "default_unit_type"}
	calibrationKeys = []string{"type", "unit_type", "unit_name", "base_unit_type", "slope", "intercept"}
)

// ParseHeader decodes and validates a .omni header. Unknown keys, repeated
// keys, keys in the wrong case, trailing data and arrays of the wrong length
// are errors. Errors wrap a *FieldError when a specific field is at fault.
func ParseHeader(data []byte) (*Header, error) {
	h, err := parseHeader(data)
	if err != nil {
		return nil, fmt.Errorf("omni: parse header: %w", err)
	}
	return h, nil
}

func parseHeader(data []byte) (*Header, error) {
	if len(data) > MaxHeaderBytes {
		return nil, fmt.Errorf("header is %d bytes, more than the limit of %d", len(data), MaxHeaderBytes)
	}
	// encoding/json tolerates duplicate keys and matches keys
	// case-insensitively; a structural pass first rejects both.
	if err := checkKeys(data); err != nil {
		// A file from a future major version should be reported as such,
		// not as whatever field that version added or renamed.
		var v struct {
			FormatVersion string `json:"format_version"`
		}
		if json.Unmarshal(data, &v) == nil && v.FormatVersion != "" {
			if fe := checkFormatVersion(v.FormatVersion); fe != nil {
				return nil, fe
			}
		}
		return nil, err
	}
	var w headerJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return nil, describeJSONError(err)
	}
	h, fe := w.toHeader()
	if fe == nil {
		fe = h.check()
	}
	if fe != nil {
		return nil, fe
	}
	return h, nil
}

func describeJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "(header)"
		}
		return fieldErrorf(field, "cannot use JSON %s as %s", te.Value, te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("invalid JSON at byte %d: %w", se.Offset, err)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("invalid JSON: unexpected end of input")
	}
	return fmt.Errorf("invalid JSON: %w", err)
}

// checkKeys walks the JSON tokens and rejects anything that is not a single
// object with known, unique keys (and likewise for calibration objects).
// Value types are left to the decoder, which reports them with field names.
func checkKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return describeJSONError(err)
	}
	if tok != json.Delim('{') {
		return fmt.Errorf("header must be a JSON object")
	}
	err = walkObject(dec, "", headerKeys, func(key, path string) error {
		if key == "calibrations" {
			return walkCalibrations(dec, path)
		}
		return skipValue(dec)
	})
	if err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("unexpected data after the header object")
	}
	return nil
}

// walkObject consumes the members of an object whose '{' has been read,
// calling value for each key so that it consumes the member's value.
func walkObject(dec *json.Decoder, prefix string, allowed []string, value func(key, path string) error) error {
	var seen []string
	for {
		tok, err := dec.Token()
		if err != nil {
			return describeJSONError(err)
		}
		if tok == json.Delim('}') {
			return nil
		}
		key, ok := tok.(string)
		if !ok {
			return fmt.Errorf("invalid JSON object key %v", tok)
		}
		path := prefix + key
		if !slices.Contains(allowed, key) {
			return fieldErrorf(path, "unknown field (key names are case-sensitive)")
		}
		if slices.Contains(seen, key) {
			return fieldErrorf(path, "field appears more than once")
		}
		seen = append(seen, key)
		if err := value(key, path); err != nil {
			return err
		}
	}
}

func walkCalibrations(dec *json.Decoder, path string) error {
	tok, err := dec.Token()
	if err != nil {
		return describeJSONError(err)
	}
	if tok != json.Delim('[') {
		if d, ok := tok.(json.Delim); ok && d == '{' {
			return fieldErrorf(path, "must be an array of calibrations, got an object")
		}
		return nil // scalar or null: the decoder reports the type
	}
	for i := 0; ; i++ {
		tok, err := dec.Token()
		if err != nil {
			return describeJSONError(err)
		}
		if tok == json.Delim(']') {
			return nil
		}
		elem := fmt.Sprintf("%s[%d]", path, i)
		if tok != json.Delim('{') {
			if d, ok := tok.(json.Delim); ok && d == '[' {
				return fieldErrorf(elem, "must be an object, got an array")
			}
			continue
		}
		err = walkObject(dec, elem+".", calibrationKeys, func(string, string) error { return skipValue(dec) })
		if err != nil {
			return err
		}
	}
}

// skipValue consumes one complete JSON value.
func skipValue(dec *json.Decoder) error {
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return describeJSONError(err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

func (w *headerJSON) toHeader() (*Header, *FieldError) {
	h := &Header{
		FormatVersion:   w.FormatVersion,
		Axes:            w.Axes,
		PixelFiles:      w.PixelFiles,
		DefaultUnitType: w.DefaultUnitType,
	}
	if fe := checkFormatVersion(w.FormatVersion); fe != nil {
		return nil, fe
	}
	if fe := copy3("size", h.Size[:], w.Size); fe != nil {
		return nil, fe
	}
	if fe := copy3("spacing_mm", h.Spacing[:], w.Spacing); fe != nil {
		return nil, fe
	}
	if fe := copy3("origin_mm", h.Origin[:], w.Origin); fe != nil {
		return nil, fe
	}
	if w.DataType == "" {
		return nil, fieldErrorf("data_type", "missing or empty")
	}
	dt, err := ParseDataType(w.DataType)
	if err != nil {
		return nil, fieldErrorf("data_type", "unknown data type %q (want uint8, int8, uint16, int16, uint32, int32, float32 or float64)", w.DataType)
	}
	h.DataType = dt
	h.ByteOrder = ByteOrder(w.ByteOrder)
	if w.ByteOrder == "" {
		return nil, fieldErrorf("byte_order", "missing or empty")
	}
	for i, c := range w.Calibrations {
		prefix := fmt.Sprintf("calibrations[%d].", i)
		if c.Slope == nil {
			return nil, fieldErrorf(prefix+"slope", "missing")
		}
		if c.Intercept == nil {
			return nil, fieldErrorf(prefix+"intercept", "missing")
		}
		h.Calibrations = append(h.Calibrations, Calibration{
			Kind:         c.Type,
			UnitType:     c.UnitType,
			UnitName:     c.UnitName,
			BaseUnitType: c.BaseUnitType,
			Slope:        *c.Slope,
			Intercept:    *c.Intercept,
		})
	}
	return h, nil
}

func copy3[T any](field string, dst, src []T) *FieldError {
	if src == nil {
		return fieldErrorf(field, "missing")
	}
	if len(src) != len(dst) {
		return fieldErrorf(field, "must have %d elements, got %d", len(dst), len(src))
	}
	copy(dst, src)
	return nil
}

func (h *Header) toJSON() *headerJSON {
	w := &headerJSON{
		FormatVersion:   h.FormatVersion,
		Axes:            h.Axes,
		Size:            h.Size[:],
		DataType:        h.DataType.String(),
		ByteOrder:       string(h.ByteOrder),
		Spacing:         h.Spacing[:],
		Origin:          h.Origin[:],
		PixelFiles:      h.PixelFiles,
		Calibrations:    []calibrationJSON{},
		DefaultUnitType: h.DefaultUnitType,
	}
	if w.PixelFiles == nil {
		w.PixelFiles = []string{}
	}
	for _, c := range h.Calibrations {
		w.Calibrations = append(w.Calibrations, calibrationJSON{
			Type:         c.Kind,
			UnitType:     c.UnitType,
			UnitName:     c.UnitName,
			BaseUnitType: c.BaseUnitType,
			Slope:        &c.Slope,
			Intercept:    &c.Intercept,
		})
	}
	return w
}

// MarshalJSON returns the compact JSON form of a valid header, so a Header
// can be embedded in other JSON documents. Invalid headers are refused so
// that nothing unreadable is ever written.
func (h *Header) MarshalJSON() ([]byte, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return json.Marshal(h.toJSON())
}

// UnmarshalJSON parses with the same strictness as ParseHeader.
func (h *Header) UnmarshalJSON(data []byte) error {
	p, err := ParseHeader(data)
	if err != nil {
		return err
	}
	*h = *p
	return nil
}

// Encode returns the .omni file content of a valid header: indented JSON
// with keys in a fixed order and a trailing newline, so that equal headers
// produce identical bytes.
func (h *Header) Encode() ([]byte, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	b, err := json.MarshalIndent(h.toJSON(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("omni: encode header: %w", err)
	}
	return append(b, '\n'), nil
}

// WriteTo writes the encoded header to w, e.g. an upload to an object store.
func (h *Header) WriteTo(w io.Writer) (int64, error) {
	b, err := h.Encode()
	if err != nil {
		return 0, err
	}
	n, err := w.Write(b)
	if err != nil {
		return int64(n), fmt.Errorf("omni: write header: %w", err)
	}
	return int64(n), nil
}
