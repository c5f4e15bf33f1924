package host

import (
	"sort"
	"testing"

	"github.com/xfhost/xfhost/abi"
)

// FuzzImports calls every import with fuzzed guest memory and arguments in
// a fresh job. A host function must return a status the spec documents for
// it, never INTERNAL (a host bug) and never panic. Small argument values
// are replaced by live handles so the fuzzer reaches past handle checks.
func FuzzImports(f *testing.F) {
	h := newHarness(f)
	names := make([]string, 0, len(implementations))
	for name := range implementations {
		names = append(names, name)
	}
	sort.Strings(names)
	f.Add(uint16(0), []byte("hello"), uint64(0), uint64(5), uint64(0x2000), uint64(64), uint64(0x3000), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Add(uint16(7), []byte(`{"size":[2,2,2],"data_type":"uint8"}`), uint64(1), uint64(2), uint64(0), uint64(1), uint64(1), uint64(1), uint64(1), uint64(0x100), uint64(8))
	f.Add(uint16(30), []byte{0xff, 0xfe}, uint64(1), uint64(3), uint64(0xffffffff), uint64(0x80000000), uint64(1<<63), uint64(0), uint64(0), uint64(0), uint64(0))
	f.Fuzz(func(t *testing.T, which uint16, mem []byte, a0, a1, a2, a3, a4, a5, a6, a7, a8 uint64) {
		h.t = t
		old := h.j
		h.j = h.newJob(old.h, old.task)
		defer h.j.close()
		h.c.exited = false
		clear(h.c.mem)
		copy(h.c.mem, mem)
		// Live handles: an input image and a created uint8 image.
		k, kn := h.str(0xF000, "image")
		h.call("xf.image_open", k, kn, 0xF100)
		s, sn := h.str(0xF200, `{"size":[4,3,2],"data_type":"uint8"}`)
		h.call("xf.image_create", s, sn, 0xF104)
		live := []uint64{uint64(h.u32(0xF100)), uint64(h.u32(0xF104))}

		name := names[int(which)%len(names)]
		spec, _ := spec.Function(splitName(name))
		args := []uint64{a0, a1, a2, a3, a4, a5, a6, a7, a8}[:len(spec.Params)]
		for i, p := range spec.Params {
			if p.Type == "handle" && args[i] < uint64(len(live)) {
				args[i] = live[args[i]]
			}
		}
		if st := h.call(name, args...); st == abi.Internal {
			t.Errorf("%s%v returned INTERNAL", name, args)
		}
	})
}

func splitName(q string) (string, string) {
	for i := range q {
		if q[i] == '.' {
			return q[:i], q[i+1:]
		}
	}
	return q, ""
}
