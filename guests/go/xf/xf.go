// Package xf is the Go guest SDK of xfhost: it lets a XamFlow task type
// written in Go (GOOS=wasip1) read its inputs, process images with the
// host's native kernels and store its outputs, through the xfhost ABI.
//
// A task type reads like its Python original:
//
//	func main() {
//		xf.Run(func(job *xf.Job) error {
//			img, err := job.OpenImage("image")
//			...
//			return job.SetOutput("min", lo)
//		})
//	}
package xf

import (
	"encoding/json"
	"fmt"
)

// Status is the result code of a host call (see abi/ABI.md). It is an
// error; StatusOK is never returned as one.
type Status uint32

func (s Status) Error() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return fmt.Sprintf("STATUS_%d", uint32(s))
}

// CallError is a failed host call.
type CallError struct {
	Op     string // the import, e.g. "xf.output_set"
	Arg    string // what it was called on, if anything
	Status Status
}

func (e *CallError) Error() string {
	if e.Arg != "" {
		return fmt.Sprintf("%s %q: %v", e.Op, e.Arg, e.Status)
	}
	return fmt.Sprintf("%s: %v", e.Op, e.Status)
}

func (e *CallError) Unwrap() error { return e.Status }

// Level is a log level.
type Level int32

// Log levels.
const (
	Debug Level = iota
	Info
	Warning
	Error
)

// JobInfo describes the running job.
type JobInfo struct {
	JobID      string `json:"job_id"`
	JobSerial  int64  `json:"job_serial"`
	ABIVersion string `json:"abi_version"`
	TaskType   struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"task_type"`
}

// Calibration converts raw voxel values to calibrated units and back:
// calibrated = Slope*raw + Intercept.
type Calibration struct {
	Type      string  `json:"type"`
	UnitType  string  `json:"unit_type"`
	UnitName  string  `json:"unit_name,omitempty"`
	Slope     float64 `json:"slope"`
	Intercept float64 `json:"intercept"`
}

// RawToCalibrated converts a raw value to calibrated units.
func (c Calibration) RawToCalibrated(raw float64) float64 { return c.Slope*raw + c.Intercept }

// CalibratedToRaw converts a calibrated value to raw units.
func (c Calibration) CalibratedToRaw(v float64) float64 { return (v - c.Intercept) / c.Slope }

// ImageInfo is an image's metadata.
type ImageInfo struct {
	Size            [3]int        `json:"size"`
	DataType        string        `json:"data_type"`
	Spacing         [3]float64    `json:"spacing_mm"`
	Origin          [3]float64    `json:"origin_mm"`
	Calibrations    []Calibration `json:"calibrations"`
	DefaultUnitType string        `json:"default_unit_type,omitempty"`
}

// CalibrationsOfUnitType returns the calibrations with the unit type.
func (i ImageInfo) CalibrationsOfUnitType(unitType string) []Calibration {
	var out []Calibration
	for _, c := range i.Calibrations {
		if c.UnitType == unitType {
			out = append(out, c)
		}
	}
	return out
}

// Box is a block of voxels: Pos is its first corner, Size its extent.
type Box struct{ Pos, Size [3]int }

// Inputs is the job's inputs as raw JSON values.
type Inputs map[string]json.RawMessage

// IsNull reports whether the input is null (given in mode none) or absent.
func (in Inputs) IsNull(key string) bool {
	v, ok := in[key]
	return !ok || string(v) == "null"
}

// Decode unmarshals one input into v.
func (in Inputs) Decode(key string, v any) error {
	raw, ok := in[key]
	if !ok {
		return fmt.Errorf("input %q does not exist", key)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("input %q: %w", key, err)
	}
	return nil
}

// OptionalFloat returns a Float input, or nil when it is null.
func (in Inputs) OptionalFloat(key string) (*float64, error) {
	if in.IsNull(key) {
		return nil, nil
	}
	var f float64
	if err := in.Decode(key, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// OptionalString returns a String input, or "" and false when it is null.
func (in Inputs) OptionalString(key string) (string, bool, error) {
	if in.IsNull(key) {
		return "", false, nil
	}
	var s string
	if err := in.Decode(key, &s); err != nil {
		return "", false, err
	}
	return s, true, nil
}
