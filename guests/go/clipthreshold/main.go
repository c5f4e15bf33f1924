//go:build wasip1

// Command clipthreshold is Lucid.CLIP.Threshold: a segmentation of the
// voxels within inclusive raw bounds, either of which may be null.
package main

import "github.com/xfhost/xfhost/guests/go/xf"

func main() {
	xf.Run(func(job *xf.Job) error {
		lower, err := job.Inputs().OptionalFloat("threshold_lower0")
		if err != nil {
			return err
		}
		upper, err := job.Inputs().OptionalFloat("threshold_upper0")
		if err != nil {
			return err
		}
		image, err := job.OpenImage("image")
		if err != nil {
			return err
		}
		segments, err := xf.Threshold(image, lower, upper)
		if err != nil {
			return err
		}
		return job.SetOutputImage("segments", segments)
	})
}
