//go:build wasip1

// Command bad-pointers calls every import of the ABI (calls_gen.go,
// generated from abi.json) with each pointer parameter in turn out of
// bounds, and with each length running past the end of memory, all other
// arguments valid, and checks that every call returns
// INVALID_MEMORY_ACCESS. It logs each call that does not, sets the output
// "checked" to the number of calls and finishes, or fails naming the
// mismatches.
package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"unsafe"

	_ "github.com/xfhost/xfhost/guests/go/xf" // exports the ABI version marker
)

type param struct{ name, typ string }

type importFunc struct {
	name   string
	params []param
	call   func(a []uint64) uint32
}

const (
	statusOK                  = 0
	statusInvalidMemoryAccess = 3
	outOfBounds               = 0xfffffff0 // far past any memory a Go guest gets
	pastTheEnd                = 0xffffffff // a length no pointer can fit
)

// handles the calls need.
var image, labels uint32

func main() {
	if err := run(); err != nil {
		fail(err.Error())
	}
}

func run() error {
	if err := setup(); err != nil {
		return err
	}
	checked := 0
	var mismatches []string
	for _, f := range imports {
		if f.name == "xf.fail" {
			continue // it ends the job; fail-message-oob covers it
		}
		for k, p := range f.params {
			if p.typ != "ptr" {
				continue
			}
			variants := []string{"pointer"}
			if k+1 < len(f.params) && f.params[k+1].typ == "len" {
				variants = append(variants, "length")
			}
			for _, v := range variants {
				arena := make([]byte, 1<<16)
				args := validArgs(f, arena)
				if v == "pointer" {
					args[k] = outOfBounds
				} else {
					args[k+1] = pastTheEnd
				}
				st := f.call(args)
				runtime.KeepAlive(arena)
				checked++
				if st != statusInvalidMemoryAccess {
					m := fmt.Sprintf("%s %s %s: status %d", f.name, p.name, v, st)
					mismatches = append(mismatches, m)
					logf("MISMATCH %s", m)
				}
			}
		}
	}
	if len(mismatches) > 0 {
		return fmt.Errorf("%d of %d calls did not return INVALID_MEMORY_ACCESS: %s", len(mismatches), checked, strings.Join(mismatches, "; "))
	}
	logf("all %d calls returned INVALID_MEMORY_ACCESS", checked)
	value := []byte(fmt.Sprint(checked))
	if st := xfOutputSet(addr(key), uint32(len(key)), addr(value), uint32(len(value))); st != statusOK {
		return fmt.Errorf("output_set: status %d", st)
	}
	if st := xfFinish(); st != statusOK {
		return fmt.Errorf("finish: status %d", st)
	}
	return nil
}

var key = []byte("checked")

// setup makes the images and the scratch file the calls operate on: a
// uint8 image with one foreground voxel and its uint32 label image.
func setup() error {
	spec := []byte(`{"size":[4,4,4],"data_type":"uint8"}`)
	var h uint32
	if st := xfImageCreate(addr(spec), uint32(len(spec)), ptrTo(&h)); st != statusOK {
		return fmt.Errorf("image_create: status %d", st)
	}
	image = h
	one := []byte{1}
	if st := xfImageWrite(image, 1, 1, 1, 1, 1, 1, addr(one), 1); st != statusOK {
		return fmt.Errorf("image_write: status %d", st)
	}
	var count uint32
	if st := clipLabel(image, 6, ptrTo(&h), ptrTo(&count)); st != statusOK {
		return fmt.Errorf("label: status %d", st)
	}
	labels = h
	return os.WriteFile("/scratch/upload.txt", []byte("upload me"), 0o644)
}

// validArgs returns arguments that make the call succeed: strings a call
// accepts, buffers large enough, live handles, in-range scalars. Memory
// arguments point into arena.
func validArgs(f importFunc, arena []byte) []uint64 {
	args := make([]uint64, len(f.params))
	next := 0
	alloc := func(content []byte, size int) uint32 {
		copy(arena[next:], content)
		p := addr(arena[next:])
		next += max(size, len(content)) + 8
		return p
	}
	for k := 0; k < len(f.params); k++ {
		p := f.params[k]
		switch p.typ {
		case "ptr":
			if k+1 < len(f.params) && f.params[k+1].typ == "len" {
				content, size := memoryArg(f.name, p.name)
				args[k] = uint64(alloc(content, size))
				args[k+1] = uint64(max(len(content), size))
				k++
				continue
			}
			if p.name == "levels" {
				var b [8]byte
				binary.LittleEndian.PutUint64(b[:], math.Float64bits(0.5))
				args[k] = uint64(alloc(b[:], 8))
				continue
			}
			args[k] = uint64(alloc(nil, 64)) // an out-pointer
		case "handle":
			args[k] = uint64(handleArg(f.name, p.name))
		case "u32", "i32":
			args[k] = uint64(intArg(p.name))
		case "u64":
			args[k] = 1
		case "f64":
			args[k] = math.Float64bits(floatArg(p.name))
		}
	}
	return args
}

// memoryArg is the content (and room) of a (pointer, length) argument.
func memoryArg(fn, name string) ([]byte, int) {
	switch fn + " " + name {
	case "xf.output_set key":
		return key, 0
	case "xf.output_set value":
		return []byte("1"), 0
	case "xf.output_units_set units":
		return []byte(`{"checked":"calls"}`), 0
	case "xf.temp_path_create name":
		return []byte("out.txt"), 0
	case "xf.related_path_create path":
		return []byte("/inputs/image/bone.omni"), 0
	case "xf.related_path_create postfix":
		return []byte("_seg.omni"), 0
	case "xf.input_file_fetch key", "xf.image_open key":
		return []byte("image"), 0
	case "xf.output_file_upload path":
		return []byte("/scratch/upload.txt"), 0
	case "xf.image_create spec":
		return []byte(`{"size":[4,4,4],"data_type":"uint8"}`), 0
	case "xf.output_image_set key":
		return []byte("segmentation"), 0
	}
	switch name {
	case "buf":
		return nil, 4096 // a result buffer
	case "message", "title":
		return []byte("a message"), 0
	}
	return []byte("?"), 0
}

func handleArg(fn, name string) uint32 {
	switch {
	case name == "mask" && fn != "clip.mask":
		return 0 // none
	case name == "labels":
		return labels
	}
	return image
}

func intArg(name string) uint32 {
	switch name {
	case "size_x", "size_y", "size_z", "radius", "n", "levels_count":
		return 1
	case "connectivity":
		return 6
	case "bins":
		return 4
	case "data_type":
		return 1 // uint8
	case "level":
		return 1 // info
	}
	return 0 // x, y, z, flags, op, interpolation
}

func floatArg(name string) float64 {
	switch name {
	case "lower", "value":
		return 0
	case "percent":
		return 50
	}
	return 1 // upper, seconds, sigma_mm, factor_*
}

func addr(b []byte) uint32 { return uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b)))) }

func ptrTo(v *uint32) uint32 { return uint32(uintptr(unsafe.Pointer(v))) }

func logf(format string, args ...any) {
	msg := []byte(fmt.Sprintf(format, args...))
	xfLog(1, addr(msg), uint32(len(msg)))
}

func fail(msg string) {
	b := []byte(msg)
	xfFail(addr(b), uint32(len(b)))
	os.Exit(1)
}
