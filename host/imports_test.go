package host

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xfhost/xfhost/abi"
	"github.com/xfhost/xfhost/engine"
	"github.com/xfhost/xfhost/fss"
	"github.com/xfhost/xfhost/omni"
	"github.com/xfhost/xfhost/taskmodule"
)

// fakeCaller is a guest with 64 KiB of memory that records exits.
type fakeCaller struct {
	mem    []byte
	exited bool
}

type fakeMemory struct{ c *fakeCaller }

func (m fakeMemory) Read(off, n uint32) ([]byte, bool) {
	if uint64(off)+uint64(n) > uint64(len(m.c.mem)) {
		return nil, false
	}
	return m.c.mem[off : off+n], true
}

func (m fakeMemory) Write(off uint32, b []byte) bool {
	if uint64(off)+uint64(len(b)) > uint64(len(m.c.mem)) {
		return false
	}
	copy(m.c.mem[off:], b)
	return true
}

// Guest memory layout used by the tests.
const (
	strAt  = 0x0000 // strings passed to the host
	str2At = 0x1000
	outAt  = 0x2000 // 8-byte out values
	out2At = 0x2010
	bufAt  = 0x3000 // result buffers
	bufCap = 0x8000
	bad    = 0xFFFFFFF0 // an offset far outside memory
)

type harness struct {
	t      testing.TB
	j      *job
	c      *fakeCaller
	dir    string
	called map[string]bool
}

const testInterface = `{
  "inputs": [
    {"key": "image", "type": "Image", "supported_modes": ["fixed"]},
    {"key": "mask", "type": "Image", "supported_modes": ["none", "fixed"]},
    {"key": "broken", "type": "Image", "supported_modes": ["none", "fixed"]},
    {"key": "calibration", "type": "String", "supported_modes": ["none", "fixed"]}
  ],
  "outputs": [
    {"key": "min", "type": "Float"},
    {"key": "segments", "type": "Image"},
    {"key": "table", "type": "CSV"}
  ]
}`

func newHarness(t testing.TB) *harness {
	t.Helper()
	dir := t.TempDir()
	store, err := fss.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	// A 4x3x2 uint16 image with values 0..23, a mask of another size, and
	// a malformed .omni.
	writeImage(t, dir, "img", [3]int{4, 3, 2}, omni.Uint16, func(i int) float64 { return float64(i) })
	writeImage(t, dir, "small", [3]int{2, 2, 2}, omni.Uint8, func(int) float64 { return 1 })
	if err := os.WriteFile(filepath.Join(dir, "broken.omni"), []byte(`{"size": "big"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	iface, err := taskmodule.ParseInterface([]byte(testInterface))
	if err != nil {
		t.Fatal(err)
	}
	meta, err := taskmodule.ParseMetadata([]byte(`{"package_format":"XFP-TT1.0","name":"Test.ABI","version":"1.0.0.0"}`))
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Options{Engine: nopEngine{}, Store: store, ScratchDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	task := &Task{Module: &taskmodule.Module{Metadata: meta, Interface: iface}, limits: h.policy.Default}
	hs := &harness{t: t, c: &fakeCaller{mem: make([]byte, 1<<16)}, dir: dir, called: map[string]bool{}}
	hs.j = hs.newJob(h, task)
	t.Cleanup(func() { hs.j.close() })
	return hs
}

// newJob starts a job of task with the harness's inputs.
func (hs *harness) newJob(h *Host, task *Task) *job {
	t := hs.t
	j, err := h.newJob(task, RunOptions{JobSerial: 42})
	if err != nil {
		t.Fatal(err)
	}
	inputs := `{"image": {"type":"Image","filename":"img.omni","size":[4,3,2],"filenames":["img.raw"]},
		"mask": {"type":"Image","filename":"small.omni","size":[2,2,2],"filenames":["small.raw"]},
		"broken": {"type":"Image","filename":"broken.omni","size":[1,1,1]},
		"calibration": null}`
	resolved, err := task.Module.Interface.ResolveInputs(json.RawMessage(inputs))
	if err != nil {
		t.Fatal(err)
	}
	if err := j.setInputs(resolved); err != nil {
		t.Fatal(err)
	}
	return j
}

func writeImage(t testing.TB, dir, name string, size [3]int, dt omni.DataType, value func(int) float64) {
	t.Helper()
	h := &omni.Header{FormatVersion: omni.CurrentFormatVersion, Axes: "XYZ", Size: size, DataType: dt,
		ByteOrder: omni.NativeByteOrder(), Spacing: [3]float64{0.5, 0.5, 0.5}}
	img, err := omni.New(h)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	p := img.Pixels()
	for i := 0; i < int(h.VoxelCount()); i++ {
		switch dt {
		case omni.Uint16:
			binary.LittleEndian.PutUint16(p[2*i:], uint16(value(i)))
		case omni.Uint8:
			p[i] = uint8(value(i))
		}
	}
	if err := omni.Write(dir, name, img); err != nil {
		t.Fatal(err)
	}
}

// str places s in guest memory at off and returns (ptr, len) arguments.
func (h *harness) str(off uint32, s string) (uint64, uint64) {
	copy(h.c.mem[off:], s)
	return uint64(off), uint64(len(s))
}

// call invokes an import the way an engine does and checks that the status
// is one the spec documents for it.
func (h *harness) call(name string, args ...uint64) abi.Status {
	h.t.Helper()
	mod, fn, _ := strings.Cut(name, ".")
	f, ok := spec.Function(mod, fn)
	if !ok {
		h.t.Fatalf("no import %s", name)
	}
	if len(args) != len(f.Params) {
		h.t.Fatalf("%s: %d arguments, want %d", name, len(args), len(f.Params))
	}
	h.called[name] = true
	stack := append([]uint64(nil), args...)
	if len(stack) == 0 {
		stack = make([]uint64, 1)
	}
	hostFn := serve(name, implementations[name])
	if exit, _ := hostFn(withJob(context.Background(), h.j), fakeMemory{h.c}, stack); exit {
		h.c.exited = true
		return stopGuest // the guest was stopped; no status reached it
	}
	st := abi.Status(stack[0])
	if !slices.Contains(f.Statuses, st.String()) && st != abi.Internal {
		h.t.Errorf("%s returned %s, which abi.json does not document for it", name, st)
	}
	return st
}

func (h *harness) want(want abi.Status, name string, args ...uint64) {
	h.t.Helper()
	if got := h.call(name, args...); got != want {
		h.t.Errorf("%s%v = %s, want %s", name, args, got, want)
	}
}

func (h *harness) u32(off uint32) uint32 { return binary.LittleEndian.Uint32(h.c.mem[off:]) }
func (h *harness) f64(off uint32) float64 {
	return math.Float64frombits(binary.LittleEndian.Uint64(h.c.mem[off:]))
}
func (h *harness) result() string { return string(h.c.mem[bufAt : bufAt+h.u32(outAt)]) }

func f(v float64) uint64 { return math.Float64bits(v) }

// checkBuffer runs the caller-buffer checks common to every import that
// returns variable-size data; args are the leading arguments.
func (h *harness) checkBuffer(name string, args ...uint64) {
	h.t.Helper()
	with := func(buf, capacity, lenOut uint64) []uint64 {
		return append(append([]uint64(nil), args...), buf, capacity, lenOut)
	}
	h.want(abi.BufferTooSmall, name, with(bufAt, 1, outAt)...)
	need := h.u32(outAt)
	if need <= 1 {
		h.t.Errorf("%s: required size %d not reported", name, need)
	}
	h.want(abi.InvalidMemoryAccess, name, with(bufAt, bufCap, bad)...)
	h.want(abi.InvalidMemoryAccess, name, with(bad, bufCap, outAt)...)
	h.want(abi.OK, name, with(bufAt, uint64(need), outAt)...)
	if h.u32(outAt) != need {
		h.t.Errorf("%s: length %d on success, %d when too small", name, h.u32(outAt), need)
	}
}

func TestImportStatuses(t *testing.T) {
	h := newHarness(t)

	t.Run("inputs and job info", func(t *testing.T) {
		h.t = t
		h.checkBuffer("xf.inputs_get")
		var in map[string]json.RawMessage
		if err := json.Unmarshal([]byte(h.result()), &in); err != nil || string(in["calibration"]) != "null" {
			t.Errorf("inputs = %s (%v)", h.result(), err)
		}
		h.checkBuffer("xf.job_info_get")
		if !strings.Contains(h.result(), `"job_serial":42`) || !strings.Contains(h.result(), `"Test.ABI"`) {
			t.Errorf("job info = %s", h.result())
		}
	})

	t.Run("log, progress, errors", func(t *testing.T) {
		h.t = t
		p, n := h.str(strAt, "hello \x1b[31mred")
		h.want(abi.OK, "xf.log", 1, p, n)
		h.want(abi.BadArgument, "xf.log", 9, p, n)
		h.want(abi.InvalidMemoryAccess, "xf.log", 1, bad, 4)
		h.want(abi.OK, "xf.activity_log", 2, p, n)
		h.want(abi.BadArgument, "xf.activity_log", math.MaxUint32, p, n)
		h.want(abi.InvalidMemoryAccess, "xf.activity_log", 1, p, 1<<20)
		last := h.j.res.Log[len(h.j.res.Log)-1].Message
		if strings.ContainsRune(last, 0x1b) {
			t.Errorf("escape sequence reached the log: %q", last)
		}
		h.want(abi.OK, "xf.progress_set", f(50))
		for _, v := range []float64{-1, 101, math.NaN(), math.Inf(1)} {
			h.want(abi.BadArgument, "xf.progress_set", f(v))
		}
		h.want(abi.OK, "xf.estimated_duration_set", f(12))
		for _, v := range []float64{-1, math.NaN(), math.Inf(1)} {
			h.want(abi.BadArgument, "xf.estimated_duration_set", f(v))
		}
		h.want(abi.OK, "xf.error_set", p, n)
		h.want(abi.InvalidMemoryAccess, "xf.error_set", bad, 1)
		if h.j.res.ErrorNote == "" {
			t.Error("error_set did not record the message")
		}
		h.want(abi.OK, "xf.error_clear")
		if h.j.res.ErrorNote != "" {
			t.Error("error_clear did not clear the message")
		}
	})

	t.Run("paths", func(t *testing.T) {
		h.t = t
		p, n := h.str(strAt, "table.csv")
		h.checkBuffer("xf.temp_path_create", p, n)
		first := h.result()
		h.want(abi.OK, "xf.temp_path_create", p, n, bufAt, bufCap, outAt)
		if first != "/scratch/table.csv" || h.result() == first {
			t.Errorf("temp paths %q then %q", first, h.result())
		}
		for _, name := range []string{"a/b", "..", ".", "", "x\x00y"} {
			p, n := h.str(strAt, name)
			h.want(abi.BadArgument, "xf.temp_path_create", p, n, bufAt, bufCap, outAt)
		}
		h.want(abi.InvalidMemoryAccess, "xf.temp_path_create", bad, 3, bufAt, bufCap, outAt)
		pp, pn := h.str(strAt, "/inputs/image/scan.omni")
		sp, sn := h.str(str2At, "_seg.omni")
		h.checkBuffer("xf.related_path_create", pp, pn, sp, sn)
		if h.result() != "/scratch/scan_seg.omni" {
			t.Errorf("related path = %q", h.result())
		}
		sp, sn = h.str(str2At, "/../x")
		h.want(abi.BadArgument, "xf.related_path_create", pp, pn, sp, sn, bufAt, bufCap, outAt)
		h.want(abi.InvalidMemoryAccess, "xf.related_path_create", pp, pn, bad, 2, bufAt, bufCap, outAt)
		// A guest that takes every candidate name gets IO_ERROR, not a
		// host that searches forever.
		for i := 1; i <= maxScratchNameTries+1; i++ {
			name := "full.csv"
			if i > 1 {
				name = fmt.Sprintf("full-%d.csv", i)
			}
			if err := os.WriteFile(filepath.Join(h.j.scratchDir, name), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		p, n = h.str(strAt, "full.csv")
		h.want(abi.IOError, "xf.temp_path_create", p, n, bufAt, bufCap, outAt)
		pp, pn = h.str(strAt, "/inputs/image/full.omni")
		sp, sn = h.str(str2At, ".csv")
		h.want(abi.IOError, "xf.related_path_create", pp, pn, sp, sn, bufAt, bufCap, outAt)
	})

	t.Run("files", func(t *testing.T) {
		h.t = t
		k, kn := h.str(strAt, "image")
		h.checkBuffer("xf.input_file_fetch", k, kn)
		if h.result() != "/inputs/image/img.omni" {
			t.Errorf("fetched path %q", h.result())
		}
		f, err := h.j.inputs.Open("image/img.raw")
		if err != nil {
			t.Errorf("pixel file not staged: %v", err)
		} else {
			f.Close()
		}
		k, kn = h.str(strAt, "calibration") // primitive
		h.want(abi.TypeMismatch, "xf.input_file_fetch", k, kn, bufAt, bufCap, outAt)
		k, kn = h.str(strAt, "nope")
		h.want(abi.NotFound, "xf.input_file_fetch", k, kn, bufAt, bufCap, outAt)
		os.Remove(filepath.Join(h.dir, "small.raw"))
		k, kn = h.str(strAt, "mask")
		h.want(abi.IOError, "xf.input_file_fetch", k, kn, bufAt, bufCap, outAt)
		writeImage(t, h.dir, "small", [3]int{2, 2, 2}, omni.Uint8, func(int) float64 { return 1 })

		if err := os.WriteFile(filepath.Join(h.j.scratchDir, "t.csv"), []byte("a,b\n1,2\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		p, n := h.str(strAt, "/scratch/t.csv")
		h.checkBuffer("xf.output_file_upload", p, n)
		ref := h.result()
		if !strings.HasPrefix(ref, "jobs/") || !strings.HasSuffix(ref, ".csv") {
			t.Errorf("upload ref %q", ref)
		}
		p, n = h.str(strAt, "/scratch/none.csv")
		h.want(abi.NotFound, "xf.output_file_upload", p, n, bufAt, bufCap, outAt)
		for _, outside := range []string{"/etc/passwd", "/scratch/../etc/passwd", "/inputs/image/img.omni", "relative.csv"} {
			p, n = h.str(strAt, outside)
			h.want(abi.BadArgument, "xf.output_file_upload", p, n, bufAt, bufCap, outAt)
		}
		if err := os.Symlink("/etc/passwd", filepath.Join(h.j.scratchDir, "link")); err != nil {
			t.Fatal(err)
		}
		p, n = h.str(strAt, "/scratch/link")
		h.want(abi.BadArgument, "xf.output_file_upload", p, n, bufAt, bufCap, outAt)

		// A CSV output may reference the uploaded file but not another one.
		key, kl := h.str(strAt, "table")
		v, vl := h.str(str2At, `{"type":"CSV","filename":"`+ref+`"}`)
		h.want(abi.OK, "xf.output_set", key, kl, v, vl)
		v, vl = h.str(str2At, `{"type":"CSV","filename":"secrets/other.csv"}`)
		h.want(abi.Denied, "xf.output_set", key, kl, v, vl)
	})

	t.Run("outputs", func(t *testing.T) {
		h.t = t
		key, kl := h.str(strAt, "min")
		v, vl := h.str(str2At, `1.5`)
		h.want(abi.OK, "xf.output_set", key, kl, v, vl)
		v, vl = h.str(str2At, `{`)
		h.want(abi.InvalidJSON, "xf.output_set", key, kl, v, vl)
		v, vl = h.str(str2At, `"text"`)
		h.want(abi.TypeMismatch, "xf.output_set", key, kl, v, vl)
		v, vl = h.str(str2At, `{"type":"CSV","filename":"x.csv"}`)
		h.want(abi.TypeMismatch, "xf.output_set", key, kl, v, vl)
		nk, nkl := h.str(strAt, "unknown")
		h.want(abi.NotFound, "xf.output_set", nk, nkl, v, vl)
		h.want(abi.InvalidMemoryAccess, "xf.output_set", bad, 3, v, vl)
		h.want(abi.InvalidMemoryAccess, "xf.output_set", key, kl, v, 1<<20)

		u, ul := h.str(str2At, `{"min":"mg HA/ccm"}`)
		h.want(abi.OK, "xf.output_units_set", u, ul)
		u, ul = h.str(str2At, `{"nope":"mm"}`)
		h.want(abi.NotFound, "xf.output_units_set", u, ul)
		u, ul = h.str(str2At, `{"min":3}`)
		h.want(abi.TypeMismatch, "xf.output_units_set", u, ul)
		u, ul = h.str(str2At, `[`)
		h.want(abi.InvalidJSON, "xf.output_units_set", u, ul)
		h.want(abi.InvalidMemoryAccess, "xf.output_units_set", bad, 2)
	})

	var input, created, seg uint32
	t.Run("images", func(t *testing.T) {
		h.t = t
		k, kn := h.str(strAt, "image")
		h.want(abi.OK, "xf.image_open", k, kn, outAt)
		input = h.u32(outAt)
		h.want(abi.InvalidMemoryAccess, "xf.image_open", k, kn, bad)
		h.want(abi.InvalidMemoryAccess, "xf.image_open", bad, 4, outAt)
		for key, st := range map[string]abi.Status{"calibration": abi.TypeMismatch, "nope": abi.NotFound, "broken": abi.BadArgument} {
			k, kn := h.str(strAt, key)
			h.want(st, "xf.image_open", k, kn, outAt)
		}

		h.checkBuffer("xf.image_info_get", uint64(input))
		var info map[string]any
		if err := json.Unmarshal([]byte(h.result()), &info); err != nil || info["data_type"] != "uint16" {
			t.Errorf("image info %s (%v)", h.result(), err)
		}
		for _, hd := range []uint32{0, 1, input ^ 1<<16, 0xFFFFFFFF} {
			h.want(abi.InvalidHandle, "xf.image_info_get", uint64(hd), bufAt, bufCap, outAt)
		}

		// Read the box x 1..2, y 1..2, z 1: voxel values are their index.
		h.want(abi.OK, "xf.image_read", uint64(input), 1, 1, 1, 2, 2, 1, bufAt, 8)
		var got []uint16
		for i := 0; i < 4; i++ {
			got = append(got, binary.LittleEndian.Uint16(h.c.mem[bufAt+2*i:]))
		}
		if want := []uint16{17, 18, 21, 22}; !slices.Equal(got, want) {
			t.Errorf("box = %v, want %v", got, want)
		}
		h.want(abi.BufferTooSmall, "xf.image_read", uint64(input), 1, 1, 1, 2, 2, 1, bufAt, 7)
		h.want(abi.BadArgument, "xf.image_read", uint64(input), 3, 0, 0, 2, 1, 1, bufAt, bufCap)
		h.want(abi.BadArgument, "xf.image_read", uint64(input), 0, 0, math.MaxUint32, 1, 1, 2, bufAt, bufCap)
		h.want(abi.InvalidMemoryAccess, "xf.image_read", uint64(input), 0, 0, 0, 1, 1, 1, bad, 8)
		h.want(abi.InvalidHandle, "xf.image_read", 7, 0, 0, 0, 1, 1, 1, bufAt, 8)
		h.want(abi.Denied, "xf.image_write", uint64(input), 0, 0, 0, 1, 1, 1, bufAt, 8)

		s, sn := h.str(str2At, `{"size":[3,2,1],"data_type":"float32"}`)
		h.want(abi.OK, "xf.image_create", s, sn, outAt)
		created = h.u32(outAt)
		s, sn = h.str(str2At, `{"like":`+itoa(input)+`}`)
		h.want(abi.OK, "xf.image_create", s, sn, outAt)
		h.want(abi.OK, "xf.image_close", uint64(h.u32(outAt)))
		for spec, st := range map[string]abi.Status{
			`{"size":[3,2`:                                    abi.InvalidJSON,
			`{"size":[0,2,1],"data_type":"uint8"}`:            abi.BadArgument,
			`{"size":[1,1,1],"data_type":"complex"}`:          abi.BadArgument,
			`{"size":[1,1,1],"colour":"red"}`:                 abi.BadArgument,
			`{"like":12345}`:                                  abi.InvalidHandle,
			`{"size":[2048,2048,2048],"data_type":"float64"}`: abi.LimitExceeded,
		} {
			s, sn := h.str(str2At, spec)
			h.want(st, "xf.image_create", s, sn, outAt)
		}
		h.want(abi.InvalidMemoryAccess, "xf.image_create", bad, 2, outAt)

		binary.LittleEndian.PutUint32(h.c.mem[bufAt:], math.Float32bits(2.5))
		h.want(abi.OK, "xf.image_write", uint64(created), 2, 1, 0, 1, 1, 1, bufAt, 4)
		h.want(abi.BadArgument, "xf.image_write", uint64(created), 3, 0, 0, 1, 1, 1, bufAt, 4)
		h.want(abi.BufferTooSmall, "xf.image_write", uint64(created), 0, 0, 0, 3, 2, 1, bufAt, 23)
		h.want(abi.InvalidMemoryAccess, "xf.image_write", uint64(created), 0, 0, 0, 1, 1, 1, bad, 4)
		h.want(abi.InvalidHandle, "xf.image_write", 0, 0, 0, 0, 1, 1, 1, bufAt, 4)
		h.want(abi.OK, "xf.image_read", uint64(created), 0, 0, 0, 3, 2, 1, bufAt, 24)
		if v := math.Float32frombits(binary.LittleEndian.Uint32(h.c.mem[bufAt+4*5:])); v != 2.5 {
			t.Errorf("written voxel reads back %v", v)
		}
	})

	t.Run("kernels", func(t *testing.T) {
		h.t = t
		h.want(abi.OK, "clip.minmax", uint64(input), 0, outAt, out2At)
		if h.f64(outAt) != 0 || h.f64(out2At) != 23 {
			t.Errorf("minmax = %v, %v", h.f64(outAt), h.f64(out2At))
		}
		h.want(abi.InvalidMemoryAccess, "clip.minmax", uint64(input), 0, bad, out2At)
		h.want(abi.InvalidHandle, "clip.minmax", 99, 0, outAt, out2At)
		h.want(abi.InvalidHandle, "clip.minmax", uint64(input), 99, outAt, out2At)
		k, kn := h.str(strAt, "mask")
		h.want(abi.OK, "xf.image_open", k, kn, outAt)
		small := h.u32(outAt)
		h.want(abi.BadArgument, "clip.minmax", uint64(input), uint64(small), outAt, out2At)

		h.want(abi.OK, "clip.threshold", uint64(input), f(5), f(9), 3, outAt)
		seg = h.u32(outAt)
		h.want(abi.OK, "clip.minmax", uint64(input), uint64(seg), outAt, out2At)
		if h.f64(outAt) != 5 || h.f64(out2At) != 9 {
			t.Errorf("masked minmax = %v, %v, want 5, 9", h.f64(outAt), h.f64(out2At))
		}
		h.want(abi.OK, "clip.threshold", uint64(input), f(100), 0, 1, outAt)
		empty := h.u32(outAt)
		h.want(abi.NotFound, "clip.minmax", uint64(input), uint64(empty), outAt, out2At)
		h.want(abi.BadArgument, "clip.threshold", uint64(input), f(1), f(2), 4, outAt)
		h.want(abi.BadArgument, "clip.threshold", uint64(input), f(math.NaN()), f(2), 1, outAt)
		h.want(abi.InvalidHandle, "clip.threshold", 3, f(1), f(2), 3, outAt)
		h.want(abi.InvalidMemoryAccess, "clip.threshold", uint64(input), f(1), f(2), 3, bad)
	})

	t.Run("kernels of ABI 1.1", func(t *testing.T) {
		h.t = t
		in, sg := uint64(input), uint64(seg)
		k, kn := h.str(strAt, "mask")
		h.want(abi.OK, "xf.image_open", k, kn, outAt)
		small := uint64(h.u32(outAt))
		h.want(abi.OK, "clip.threshold", in, f(100), 0, 1, outAt)
		empty := uint64(h.u32(outAt))
		newImage := func(name string, args ...uint64) uint64 {
			t.Helper()
			h.want(abi.OK, name, append(args, outAt)...)
			return uint64(h.u32(outAt))
		}

		h.want(abi.OK, "clip.stats", in, 0, bufAt)
		if mn, mx, mean, n := h.f64(bufAt), h.f64(bufAt+8), h.f64(bufAt+24), binary.LittleEndian.Uint64(h.c.mem[bufAt+40:]); mn != 0 || mx != 23 || mean != 11.5 || n != 24 {
			t.Errorf("stats = %v %v %v %v", mn, mx, mean, n)
		}
		h.want(abi.OK, "clip.stats", in, sg, bufAt)
		if n := binary.LittleEndian.Uint64(h.c.mem[bufAt+40:]); n != 5 {
			t.Errorf("masked count = %d, want 5", n)
		}
		h.want(abi.BadArgument, "clip.stats", in, small, bufAt)
		h.want(abi.NotFound, "clip.stats", in, empty, bufAt)
		h.want(abi.InvalidMemoryAccess, "clip.stats", in, 0, bad)
		h.want(abi.InvalidHandle, "clip.stats", 77, 0, bufAt)

		h.checkBuffer("clip.histogram", in, 0, 4, 0, 0, 0)
		if h.u32(outAt) != 4*32 {
			t.Errorf("4 bins take %d bytes", h.u32(outAt))
		}
		if count := binary.LittleEndian.Uint64(h.c.mem[bufAt+24:]); count != 6 {
			t.Errorf("first bin count = %d, want 6", count)
		}
		h.want(abi.OK, "clip.histogram", in, 0, 0, 0, 0, 2, bufAt, bufCap, outAt)
		if h.u32(outAt) != 24*32 {
			t.Errorf("integer bins take %d bytes, want 24 bins", h.u32(outAt))
		}
		h.want(abi.BadArgument, "clip.histogram", in, 0, 4, 0, 0, 4, bufAt, bufCap, outAt)
		h.want(abi.NotFound, "clip.histogram", in, empty, 4, 0, 0, 0, bufAt, bufCap, outAt)
		h.want(abi.InvalidHandle, "clip.histogram", in, 99, 4, 0, 0, 0, bufAt, bufCap, outAt)

		binary.LittleEndian.PutUint64(h.c.mem[str2At:], math.Float64bits(5))
		binary.LittleEndian.PutUint64(h.c.mem[str2At+8:], math.Float64bits(10))
		labels := newImage("clip.threshold_multi", in, str2At, 2)
		h.want(abi.OK, "clip.minmax", labels, 0, out2At, out2At+8)
		if h.f64(out2At) != 0 || h.f64(out2At+8) != 2 {
			t.Errorf("multi-threshold labels %v..%v, want 0..2", h.f64(out2At), h.f64(out2At+8))
		}
		h.want(abi.BadArgument, "clip.threshold_multi", in, str2At, 0, outAt)
		h.want(abi.InvalidMemoryAccess, "clip.threshold_multi", in, bad, 2, outAt)

		newImage("clip.mask", in, sg)
		h.want(abi.BadArgument, "clip.mask", in, small, outAt)
		h.want(abi.InvalidHandle, "clip.mask", in, 0, outAt)

		newImage("clip.convert", in, 7)
		h.want(abi.BadArgument, "clip.convert", in, 0, outAt)
		h.want(abi.BadArgument, "clip.convert", in, 9, outAt)
		h.want(abi.InvalidMemoryAccess, "clip.convert", in, 1, bad)

		newImage("clip.arith_scalar", in, 0, f(1))
		h.want(abi.BadArgument, "clip.arith_scalar", in, 9, f(1), outAt)
		h.want(abi.BadArgument, "clip.arith_scalar", in, 0, f(math.NaN()), outAt)
		newImage("clip.arith", in, in, 4)
		h.want(abi.BadArgument, "clip.arith", in, small, 0, outAt)
		h.want(abi.BadArgument, "clip.arith", in, in, 5, outAt)

		newImage("clip.gaussian", in, f(0.5))
		h.want(abi.BadArgument, "clip.gaussian", in, f(-1), outAt)
		newImage("clip.median", in, 1)
		h.want(abi.BadArgument, "clip.median", in, 0, outAt)

		newImage("clip.morphology", sg, 0, 6, 1)
		h.want(abi.BadArgument, "clip.morphology", sg, 0, 7, 1, outAt)
		h.want(abi.BadArgument, "clip.morphology", sg, 9, 6, 1, outAt)
		h.want(abi.BadArgument, "clip.morphology", sg, 0, 6, 0, outAt)

		h.want(abi.OK, "clip.label", sg, 26, outAt, out2At)
		lab := uint64(h.u32(outAt))
		if n := h.u32(out2At); n != 1 {
			t.Errorf("label count = %d, want 1", n)
		}
		h.want(abi.InvalidMemoryAccess, "clip.label", sg, 26, outAt, bad)
		h.want(abi.BadArgument, "clip.label", sg, 5, outAt, out2At)
		h.checkBuffer("clip.component_sizes", lab)
		if n := binary.LittleEndian.Uint64(h.c.mem[bufAt:]); h.u32(outAt) != 8 || n != 5 {
			t.Errorf("component sizes: %d bytes, first %d", h.u32(outAt), n)
		}
		h.want(abi.TypeMismatch, "clip.component_sizes", in, bufAt, bufCap, outAt)

		newImage("clip.keep_largest", sg, 6, 1)
		h.want(abi.BadArgument, "clip.keep_largest", sg, 6, 0, outAt)
		newImage("clip.remove_small", sg, 6, 2)
		h.want(abi.BadArgument, "clip.remove_small", sg, 0, 2, outAt)

		newImage("clip.distance_transform", sg)
		h.want(abi.InvalidHandle, "clip.distance_transform", 0, outAt)

		h.want(abi.OK, "clip.bvtv", sg, 0, out2At)
		if v := h.f64(out2At); v != 5.0/24 {
			t.Errorf("bvtv = %v, want 5/24", v)
		}
		h.want(abi.NotFound, "clip.bvtv", sg, empty, out2At)
		h.want(abi.BadArgument, "clip.bvtv", sg, small, out2At)

		newImage("clip.crop", in, 1, 1, 0, 2, 2, 2)
		h.want(abi.BadArgument, "clip.crop", in, 3, 0, 0, 2, 1, 1, outAt)
		h.want(abi.BadArgument, "clip.crop", in, 0, 0, 0, 0, 1, 1, outAt)

		h.want(abi.OK, "clip.bounding_box", sg, bufAt)
		if x, sx := h.u32(bufAt), h.u32(bufAt+12); x != 0 || sx != 4 {
			t.Errorf("bounding box x %d size %d", x, sx)
		}
		h.want(abi.NotFound, "clip.bounding_box", empty, bufAt)
		h.want(abi.InvalidMemoryAccess, "clip.bounding_box", sg, bad)

		newImage("clip.resample", in, f(2), f(2), f(1), 1)
		h.want(abi.BadArgument, "clip.resample", in, f(0), f(1), f(1), 0, outAt)
		h.want(abi.BadArgument, "clip.resample", in, f(1), f(1), f(1), 5, outAt)

		limit := h.j.limits.ImageBytes
		h.j.limits.ImageBytes = h.j.imageBytes + 10
		h.want(abi.LimitExceeded, "clip.gaussian", in, f(1), outAt)
		h.want(abi.LimitExceeded, "clip.resample", in, f(2), f(2), f(2), 1, outAt)
		h.j.limits.ImageBytes = limit
	})

	t.Run("image outputs and close", func(t *testing.T) {
		h.t = t
		k, kn := h.str(strAt, "min")
		h.want(abi.TypeMismatch, "xf.output_image_set", k, kn, uint64(seg))
		k, kn = h.str(strAt, "nope")
		h.want(abi.NotFound, "xf.output_image_set", k, kn, uint64(seg))
		k, kn = h.str(strAt, "segments")
		h.want(abi.InvalidHandle, "xf.output_image_set", k, kn, 5)
		h.want(abi.InvalidMemoryAccess, "xf.output_image_set", bad, kn, uint64(seg))
		h.want(abi.OK, "xf.output_image_set", k, kn, uint64(seg))
		var out struct{ Filename string }
		if err := json.Unmarshal(h.j.res.Outputs["segments"], &out); err != nil {
			t.Fatal(err)
		}
		img, err := omni.Open(filepath.Join(h.dir, filepath.FromSlash(out.Filename)))
		if err != nil {
			t.Fatalf("stored segmentation: %v", err)
		}
		if img.Header().DataType != omni.Uint8 || img.Header().VoxelCount() != 24 {
			t.Errorf("stored segmentation header %+v", img.Header())
		}
		img.Close()

		h.want(abi.OK, "xf.image_close", uint64(created))
		h.want(abi.InvalidHandle, "xf.image_close", uint64(created))
		h.want(abi.InvalidHandle, "xf.image_info_get", uint64(created), bufAt, bufCap, outAt)
		h.want(abi.InvalidHandle, "xf.image_close", 0)
	})

	t.Run("finish and after", func(t *testing.T) {
		h.t = t
		// min, segments and table are set by now.
		h.want(abi.OK, "xf.finish")
		h.want(abi.InvalidState, "xf.finish")
		key, kl := h.str(strAt, "min")
		v, vl := h.str(str2At, `2`)
		h.want(abi.InvalidState, "xf.output_set", key, kl, v, vl)
		u, ul := h.str(str2At, `{"min":"mm"}`)
		h.want(abi.InvalidState, "xf.output_units_set", u, ul)
		p, n := h.str(strAt, "/scratch/t.csv")
		h.want(abi.InvalidState, "xf.output_file_upload", p, n, bufAt, bufCap, outAt)
		k, kn := h.str(strAt, "segments")
		h.want(abi.InvalidState, "xf.output_image_set", k, kn, uint64(seg))
		m, mn := h.str(strAt, "too late")
		h.want(abi.InvalidState, "xf.fail", m, mn)
		if h.c.exited {
			t.Error("fail after finish stopped the guest")
		}
		h.j.end(nil)
		if h.j.res.State != Done {
			t.Errorf("state %s after finish and clean exit", h.j.res.State)
		}
	})

	// Every import of the spec must have been exercised above.
	for i := range spec.Functions {
		if q := spec.Functions[i].QualifiedName(); !h.called[q] && q != "xf.fail" {
			t.Errorf("import %s has no status test", q)
		}
	}
}

func TestFinishWithoutOutputsFails(t *testing.T) {
	h := newHarness(t)
	h.want(abi.InvalidState, "xf.finish")
	if h.j.res.State != Failed || !strings.Contains(h.j.res.Error, "min, segments, table") {
		t.Errorf("state %s, error %q", h.j.res.State, h.j.res.Error)
	}
}

func TestFailStopsTheGuest(t *testing.T) {
	h := newHarness(t)
	m, n := h.str(strAt, "Image is broken")
	h.call("xf.fail", m, n)
	if !h.c.exited {
		t.Fatal("fail did not stop the guest")
	}
	h.j.end(&engine.ExitError{Code: 1})
	if h.j.res.State != Failed || h.j.res.Error != "Image is broken" {
		t.Errorf("state %s, error %q", h.j.res.State, h.j.res.Error)
	}
	h.c.exited = false
	h.want(abi.InvalidState, "xf.fail", m, n)

	h2 := newHarness(t)
	h2.call("xf.fail", bad, 10)
	if !h2.c.exited || !strings.Contains(h2.j.res.Error, "outside its memory") {
		t.Errorf("fail with a bad pointer: exited %v, error %q", h2.c.exited, h2.j.res.Error)
	}
}

func TestOutputAndLogLimits(t *testing.T) {
	h := newHarness(t)
	h.j.limits.OutputJSONBytes = 16
	h.j.limits.LogBytes = 10
	key, kl := h.str(strAt, "min")
	v, vl := h.str(str2At, `1.000000000000000000001`)
	h.want(abi.LimitExceeded, "xf.output_set", key, kl, v, vl)
	p, n := h.str(strAt, "0123456789ABCDEF")
	h.want(abi.LimitExceeded, "xf.log", 1, p, n)
	h.want(abi.LimitExceeded, "xf.activity_log", 1, p, n)
	h.want(abi.LimitExceeded, "xf.error_set", p, n)

	h.j.limits.OutputFiles = 1
	for _, name := range []string{"a.csv", "b.csv"} {
		if err := os.WriteFile(filepath.Join(h.j.scratchDir, name), []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	a, an := h.str(strAt, "/scratch/a.csv")
	h.want(abi.OK, "xf.output_file_upload", a, an, bufAt, bufCap, outAt)
	b, bn := h.str(strAt, "/scratch/b.csv")
	h.want(abi.LimitExceeded, "xf.output_file_upload", b, bn, bufAt, bufCap, outAt)
	h.j.limits.OutputFiles, h.j.limits.OutputFileBytes = 10, 1
	h.want(abi.LimitExceeded, "xf.output_file_upload", b, bn, bufAt, bufCap, outAt)
}

// TestRegistrationMatchesSpec proves that the host registers exactly the
// imports of abi.json, with the signatures abi.json gives them.
func TestRegistrationMatchesSpec(t *testing.T) {
	registered := map[string]engine.HostFunction{}
	for _, m := range Imports() {
		for _, f := range m.Functions {
			registered[m.Name+"."+f.Name] = f
		}
	}
	for i := range spec.Functions {
		f := &spec.Functions[i]
		r, ok := registered[f.QualifiedName()]
		if !ok {
			t.Errorf("%s is in abi.json but not registered", f.QualifiedName())
			continue
		}
		want := spec.WasmParams(f)
		var got []string
		for _, p := range r.Params {
			got = append(got, p.String())
		}
		if !slices.Equal(got, want) || len(r.Results) != 1 || r.Results[0] != engine.I32 {
			t.Errorf("%s registered as %v -> %v, spec says %v -> [i32]", f.QualifiedName(), got, r.Results, want)
		}
		delete(registered, f.QualifiedName())
	}
	for name := range registered {
		t.Errorf("%s is registered but not in abi.json", name)
	}
	for name := range implementations {
		mod, fn, _ := strings.Cut(name, ".")
		if _, ok := spec.Function(mod, fn); !ok {
			t.Errorf("implementation %s has no abi.json entry", name)
		}
	}
}

func itoa(u uint32) string { b, _ := json.Marshal(u); return string(b) }

type nopEngine struct{}

func (nopEngine) Compile(context.Context, []byte) (engine.Module, error) { return nil, nil }
func (nopEngine) Name() string                                           { return "none" }
func (nopEngine) Close(context.Context) error                            { return nil }
