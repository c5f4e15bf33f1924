package omni

import (
	"fmt"
	"math"
	"unicode/utf8"
)

// Calibration kinds.
const (
	// KindSlopeIntercept maps raw pixel values to calibrated values:
	// calibrated = Slope*raw + Intercept.
	KindSlopeIntercept = "slope_intercept"
	// KindIndirectSlopeIntercept maps values already calibrated in the unit
	// type BaseUnitType to this unit type:
	// calibrated = Slope*base + Intercept.
	KindIndirectSlopeIntercept = "indirect_slope_intercept"
)

// Limits on free-text calibration fields, so a hostile header cannot make
// every error message or log line enormous.
const (
	maxUnitTypeLen = 64
	maxUnitNameLen = 128
)

// Calibration is a linear mapping from stored pixel values to a physical
// unit, such as bone mineral density ("dens"), Hounsfield units ("hu") or
// linear attenuation ("linatt").
type Calibration struct {
	// Kind is KindSlopeIntercept or KindIndirectSlopeIntercept.
	Kind string
	// UnitType identifies the physical quantity, e.g. "dens". Several
	// calibrations may share a unit type if their UnitName differs.
	UnitType string
	// UnitName is the optional human-readable unit, e.g. "mg HA/ccm".
	UnitName string
	// BaseUnitType is the unit type whose calibrated values an indirect
	// calibration maps from. It must be empty for KindSlopeIntercept.
	BaseUnitType string
	Slope        float64
	Intercept    float64
}

// RawToCalibrated returns Slope*v + Intercept. For an indirect calibration
// v is a value in BaseUnitType rather than a raw pixel value; use
// Header.ResolveCalibration to get a calibration that starts from raw values.
func (c Calibration) RawToCalibrated(v float64) float64 {
	return c.Slope*v + c.Intercept
}

// CalibratedToRaw is the inverse of RawToCalibrated: (v - Intercept)/Slope.
func (c Calibration) CalibratedToRaw(v float64) float64 {
	return (v - c.Intercept) / c.Slope
}

// RawToCalibratedStdDev converts a standard deviation of raw values. The
// intercept cancels out and only the magnitude of the slope matters.
func (c Calibration) RawToCalibratedStdDev(sd float64) float64 {
	return sd * math.Abs(c.Slope)
}

// CalibratedToRawStdDev is the inverse of RawToCalibratedStdDev.
func (c Calibration) CalibratedToRawStdDev(sd float64) float64 {
	return sd / math.Abs(c.Slope)
}

// RawToCalibratedVariance converts a variance of raw values (scaled by Slope²).
func (c Calibration) RawToCalibratedVariance(v float64) float64 {
	return v * c.Slope * c.Slope
}

// CalibratedToRawVariance is the inverse of RawToCalibratedVariance.
func (c Calibration) CalibratedToRawVariance(v float64) float64 {
	return v / (c.Slope * c.Slope)
}

// Validate checks the calibration on its own. Whether BaseUnitType refers to
// an existing calibration can only be checked by Header.Validate.
func (c Calibration) Validate() error {
	if fe := c.check(""); fe != nil {
		return fmt.Errorf("omni: invalid calibration: %w", fe)
	}
	return nil
}

// check returns a FieldError whose Field is prefixed with prefix.
func (c Calibration) check(prefix string) *FieldError {
	switch c.Kind {
	case KindSlopeIntercept:
		if c.BaseUnitType != "" {
			return fieldErrorf(prefix+"base_unit_type", "must be empty for type %q", c.Kind)
		}
	case KindIndirectSlopeIntercept:
		if fe := checkLabel(prefix+"base_unit_type", c.BaseUnitType, maxUnitTypeLen, true); fe != nil {
			return fe
		}
		if c.BaseUnitType == c.UnitType {
			return fieldErrorf(prefix+"base_unit_type", "must differ from unit_type %q", c.UnitType)
		}
	case "":
		return fieldErrorf(prefix+"type", "missing (want %q or %q)", KindSlopeIntercept, KindIndirectSlopeIntercept)
	default:
		return fieldErrorf(prefix+"type", "unknown calibration type %q (want %q or %q)", c.Kind, KindSlopeIntercept, KindIndirectSlopeIntercept)
	}
	if fe := checkLabel(prefix+"unit_type", c.UnitType, maxUnitTypeLen, true); fe != nil {
		return fe
	}
	if fe := checkLabel(prefix+"unit_name", c.UnitName, maxUnitNameLen, false); fe != nil {
		return fe
	}
	if math.IsNaN(c.Slope) || math.IsInf(c.Slope, 0) {
		return fieldErrorf(prefix+"slope", "must be finite, got %v", c.Slope)
	}
	if c.Slope == 0 {
		return fieldErrorf(prefix+"slope", "must be non-zero, otherwise calibrated values cannot be converted back to raw values")
	}
	if math.IsNaN(c.Intercept) || math.IsInf(c.Intercept, 0) {
		return fieldErrorf(prefix+"intercept", "must be finite, got %v", c.Intercept)
	}
	return nil
}

// checkLabel validates a short free-text field: printable UTF-8 of bounded
// length, non-empty if required.
func checkLabel(field, s string, maxLen int, required bool) *FieldError {
	if s == "" {
		if required {
			return fieldErrorf(field, "missing or empty")
		}
		return nil
	}
	if len(s) > maxLen {
		return fieldErrorf(field, "longer than %d bytes", maxLen)
	}
	if !utf8.ValidString(s) {
		return fieldErrorf(field, "not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fieldErrorf(field, "contains control character %U", r)
		}
	}
	return nil
}
