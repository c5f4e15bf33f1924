//go:build wasip1

// Command guestloop runs a streaming kernel as a plain loop inside the
// guest, over the whole image copied into guest memory: the reference the
// host kernels are compared with. The loop runs `repeat` times, so the
// benchmark can subtract the cost of the copy and the job.
package main

import (
	"fmt"
	"unsafe"

	"github.com/xfhost/xfhost/guests/go/xf"
)

func main() {
	xf.Run(func(job *xf.Job) error {
		in := job.Inputs()
		var op string
		var repeat int
		if err := in.Decode("op", &op); err != nil {
			return err
		}
		if err := in.Decode("repeat", &repeat); err != nil {
			return err
		}
		img, err := job.OpenImage("image")
		if err != nil {
			return err
		}
		info := img.Info()
		if info.DataType != "uint16" {
			return fmt.Errorf("want a uint16 image, got %s", info.DataType)
		}
		n := info.Size[0] * info.Size[1] * info.Size[2]
		raw := make([]byte, 2*n)
		if err := img.Read(xf.Box{Size: info.Size}, raw); err != nil {
			return err
		}
		v := unsafe.Slice((*uint16)(unsafe.Pointer(&raw[0])), n)
		var check float64
		for r := 0; r < repeat; r++ {
			check += run(op, v)
		}
		return job.SetOutput("checksum", check)
	})
}

func run(op string, v []uint16) float64 {
	switch op {
	case "minmax":
		lo, hi := v[0], v[0]
		for _, x := range v {
			lo, hi = min(lo, x), max(hi, x)
		}
		return float64(lo) + float64(hi)
	case "statistics":
		lo, hi := v[0], v[0]
		var sum, sq float64
		for _, x := range v {
			lo, hi = min(lo, x), max(hi, x)
			f := float64(x)
			sum += f
			sq += f * f
		}
		return float64(lo) + float64(hi) + sum + sq
	case "threshold":
		out := make([]uint8, len(v))
		for i, x := range v {
			if x >= 3400 && x <= 60000 {
				out[i] = 1
			}
		}
		return float64(out[len(out)/2])
	case "convert":
		out := make([]float32, len(v))
		for i, x := range v {
			out[i] = float32(x)
		}
		return float64(out[len(out)/2])
	case "arith_scalar":
		out := make([]uint16, len(v))
		for i, x := range v {
			out[i] = uint16(min(uint32(x)+100, 65535))
		}
		return float64(out[len(out)/2])
	}
	panic("unknown op " + op)
}
