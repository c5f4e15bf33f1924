//go:build wasip1

// Command corethreshold is Lucid.Core.Threshold: like Lucid.CLIP.Threshold,
// but the bounds are given in a calibrated unit and converted to raw values.
package main

import "github.com/xfhost/xfhost/guests/go/xf"

func main() {
	xf.Run(func(job *xf.Job) error {
		in := job.Inputs()
		lower, err := in.OptionalFloat("threshold_lower0")
		if err != nil {
			return err
		}
		upper, err := in.OptionalFloat("threshold_upper0")
		if err != nil {
			return err
		}
		var unitType string
		if err := in.Decode("calibration", &unitType); err != nil {
			return err
		}
		image, err := job.OpenImage("image")
		if err != nil {
			return err
		}
		cals := image.Info().CalibrationsOfUnitType(unitType)
		if len(cals) == 0 {
			job.Failf("Image is missing calibration metadata of type %s", unitType)
		}
		cal := cals[0]
		lower, upper = toRaw(cal, lower), toRaw(cal, upper)
		if cal.Slope < 0 { // a negative slope swaps the bounds
			lower, upper = upper, lower
		}
		segments, err := xf.Threshold(image, lower, upper)
		if err != nil {
			return err
		}
		return job.SetOutputImage("segments", segments)
	})
}

func toRaw(cal xf.Calibration, v *float64) *float64 {
	if v == nil {
		return nil
	}
	raw := cal.CalibratedToRaw(*v)
	return &raw
}
