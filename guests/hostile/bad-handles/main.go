//go:build wasip1

// Command bad-handles uses image handles it was never given: zero, all
// ones, its own handle with another generation or slot (forged, as a guest
// guessing at another job's images would), and its handle after closing
// it. It logs "status <label>: <STATUS>" for each call and finishes; every
// one must be INVALID_HANDLE. The normal job running next to it on the
// same host holds handles the forged ones may collide with.
package main

import (
	"fmt"
	"unsafe"

	"github.com/xfhost/xfhost/guests/go/xf"
)

//go:wasmimport xf image_info_get
func imageInfoGet(image uint32, buf unsafe.Pointer, bufCap uint32, lenOut unsafe.Pointer) xf.Status

//go:wasmimport xf image_close
func imageClose(image uint32) xf.Status

//go:wasmimport xf image_open
func imageOpen(key unsafe.Pointer, keyLen uint32, handleOut unsafe.Pointer) xf.Status

//go:wasmimport clip minmax
func minmax(image, mask uint32, minOut, maxOut unsafe.Pointer) xf.Status

func main() {
	xf.Run(func(job *xf.Job) error {
		key := []byte("image")
		var h uint32
		if st := imageOpen(unsafe.Pointer(&key[0]), uint32(len(key)), unsafe.Pointer(&h)); st != 0 {
			return fmt.Errorf("image_open: %v", st)
		}
		report(job, h, "own", h)
		const genShift, slotMask = 16, 1<<16 - 1
		for _, c := range []struct {
			label  string
			handle uint32
		}{
			{"zero", 0},
			{"all-ones", 0xffffffff},
			{"max-int", 0x7fffffff},
			{"other-slot", h + 1},
			{"slot-65535", h | slotMask},
			{"other-generation", h + 1<<genShift},
			{"other-generation-below", h - 1<<genShift},
			{"other-kind", h ^ 1<<28},
		} {
			report(job, h, c.label, c.handle)
		}
		// Every generation of its own slot but the right one.
		forged := 0
		for gen := uint32(0); gen < 1<<12; gen++ {
			cand := h&^(0xfff<<genShift) | gen<<genShift
			if cand != h && info(cand) != xf.StatusInvalidHandle {
				forged++
			}
		}
		_ = job.Logf(xf.Info, "forged generations accepted: %d", forged)
		if st := imageClose(h); st != 0 {
			return fmt.Errorf("image_close: %v", st)
		}
		report(job, 0, "closed", h)
		_ = job.Logf(xf.Info, "status close-again: %v", imageClose(h))
		return nil
	})
}

// report logs what image_info_get and clip.minmax say about handle, and
// about it as the mask of the guest's own image while that is open.
func report(job *xf.Job, own uint32, label string, handle uint32) {
	var lo, hi float64
	_ = job.Logf(xf.Info, "status %s info: %v", label, info(handle))
	_ = job.Logf(xf.Info, "status %s minmax: %v", label, minmax(handle, 0, unsafe.Pointer(&lo), unsafe.Pointer(&hi)))
	if own != 0 && handle != own {
		_ = job.Logf(xf.Info, "status %s as-mask: %v", label, minmax(own, handle, unsafe.Pointer(&lo), unsafe.Pointer(&hi)))
	}
}

func info(handle uint32) xf.Status {
	buf := make([]byte, 1024)
	var n uint32
	return imageInfoGet(handle, unsafe.Pointer(&buf[0]), uint32(len(buf)), unsafe.Pointer(&n))
}
