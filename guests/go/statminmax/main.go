//go:build wasip1

// Command statminmax is Lucid.CLIP.StatMinMax: the minimum and maximum
// voxel value of an image, optionally converted to a calibrated unit.
package main

import "github.com/xfhost/xfhost/guests/go/xf"

func main() {
	xf.Run(func(job *xf.Job) error {
		calibration, calibrated, err := job.Inputs().OptionalString("calibration")
		if err != nil {
			return err
		}
		image, err := job.OpenImage("image")
		if err != nil {
			return err
		}
		lo, hi, err := xf.MinMax(image, nil)
		if err != nil {
			return err
		}
		if calibrated {
			cals := image.Info().CalibrationsOfUnitType(calibration)
			if len(cals) == 0 {
				job.Failf("Image is missing calibration metadata of type %s", calibration)
			}
			lo, hi = cals[0].RawToCalibrated(lo), cals[0].RawToCalibrated(hi)
		}
		if err := job.SetOutput("min", lo); err != nil {
			return err
		}
		return job.SetOutput("max", hi)
	})
}
