//go:build wasip1

// Command image-memory creates a 128 KiB image and thresholds it again and
// again without closing the results, under a policy allowing 1 MiB of
// images: the kernel must refuse with LIMIT_EXCEEDED once the images would
// pass it. Closing them frees the budget again.
package main

import (
	"errors"

	"github.com/xfhost/xfhost/guests/go/xf"
)

func main() {
	xf.Run(func(job *xf.Job) error {
		size := [3]int{64, 64, 32}
		src, err := job.CreateImage(xf.ImageSpec{Size: &size, DataType: "uint8"})
		if err != nil {
			return err
		}
		var kept []*xf.Image
		lower := 1.0
		for {
			seg, err := xf.Threshold(src, &lower, nil)
			if errors.Is(err, xf.StatusLimitExceeded) {
				_ = job.Logf(xf.Info, "status threshold: %v", xf.StatusLimitExceeded)
				break
			} else if err != nil {
				return err
			}
			kept = append(kept, seg)
		}
		_ = job.Logf(xf.Info, "kept %d thresholds", len(kept))
		for _, im := range kept {
			if err := im.Close(); err != nil {
				return err
			}
		}
		seg, err := xf.Threshold(src, &lower, nil)
		if err != nil {
			return err
		}
		_ = job.Logf(xf.Info, "status threshold-after-close: OK")
		if err := seg.Close(); err != nil {
			return err
		}
		return job.SetOutput("kept", len(kept))
	})
}
