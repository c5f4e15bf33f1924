//go:build wasip1

// Command histogramplot is Lucid.Core.HistogramPlot: the histogram of an
// image's voxel values as a table with the columns x0 (bin centre), pdf,
// distr (cumulative distribution) and count.
package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"

	"github.com/xfhost/xfhost/guests/go/xf"
)

func main() {
	xf.Run(func(job *xf.Job) error {
		in := job.Inputs()
		var bins int
		if err := in.Decode("bins", &bins); err != nil {
			return err
		}
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
		}
		hist, err := xf.Histogram(image, mask, xf.HistogramOptions{Bins: bins})
		if errors.Is(err, xf.StatusNotFound) {
			job.Failf("Mask selects no voxel")
		} else if err != nil {
			return err
		}
		toUnit := func(x float64) float64 { return x }
		density := 1.0
		if calibrated {
			cals := image.Info().CalibrationsOfUnitType(calibration)
			if len(cals) == 0 {
				job.Failf("Image is missing calibration metadata of type %s", calibration)
			}
			toUnit = cals[0].RawToCalibrated
			density = 1 / math.Abs(cals[0].Slope) // a density per calibrated unit
		}
		path, err := job.TempPath("histogram.csv")
		if err != nil {
			return err
		}
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		fmt.Fprintln(f, "x0,pdf,distr,count")
		for _, b := range hist {
			fmt.Fprintf(f, "%s,%s,%s,%d\n", num(toUnit(b.Centre)), num(b.PDF*density), num(b.CDF), b.Count)
		}
		if err := f.Close(); err != nil {
			return err
		}
		ref, err := job.UploadFile(path)
		if err != nil {
			return err
		}
		return job.SetOutput("histogram", xf.CSV(ref))
	})
}

func num(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
