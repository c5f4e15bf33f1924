//go:build wasip1

// Command imagepixelsminmax is Lucid.Statistics.ImagePixelsMinMax: the
// minimum and maximum voxel value of an image, optionally only under a mask
// and in a calibrated unit.
package main

import (
	"errors"

	"github.com/xfhost/xfhost/guests/go/xf"
)

func main() {
	xf.Run(func(job *xf.Job) error {
		in := job.Inputs()
		calibration, calibrated, err := in.OptionalString("calibration")
		if err != nil {
			return err
		}
		image, err := job.OpenImage("image")
		if err != nil {
			return err
		}
		var mask *xf.Image
		if !in.IsNull("mask") {
			if mask, err = job.OpenImage("mask"); err != nil {
				return err
			}
			if mask.Info().Size != image.Info().Size {
				job.Failf("Mask size %v differs from image size %v", mask.Info().Size, image.Info().Size)
			}
		}
		lo, hi, err := xf.MinMax(image, mask)
		if errors.Is(err, xf.StatusNotFound) {
			job.Failf("Mask selects no voxel")
		} else if err != nil {
			return err
		}
		if calibrated {
			cals := image.Info().CalibrationsOfUnitType(calibration)
			if len(cals) == 0 {
				job.Failf("Image is missing calibration metadata of type %s", calibration)
			}
			lo, hi = cals[0].RawToCalibrated(lo), cals[0].RawToCalibrated(hi)
			if lo > hi { // a negative slope
				lo, hi = hi, lo
			}
		}
		if err := job.SetOutput("min", lo); err != nil {
			return err
		}
		return job.SetOutput("max", hi)
	})
}
