package clip

import (
	"bytes"
	"context"
	"testing"
	"unsafe"

	"github.com/xfhost/xfhost/omni"
)

// poison closes an image of n bytes filled with fill, so that omni's pool
// holds a dirty buffer of that length, and returns the buffer's address.
func poison(t *testing.T, n int, fill byte) *byte {
	t.Helper()
	img, err := omni.NewUninitialized(&omni.Header{Axes: "XYZ", Size: [3]int{1024, n / 1024, 1},
		DataType: omni.Uint8, Spacing: [3]float64{1, 1, 1}})
	if err != nil {
		t.Fatal(err)
	}
	px := img.Pixels()
	for i := range px {
		px[i] = fill
	}
	p := unsafe.SliceData(px)
	img.Close()
	return p
}

// TestOutputsOverwriteReusedPixels runs every kernel whose output is not
// zeroed (newOutputLike, omni.NewUninitialized) into pooled buffers
// filled with two different bytes: a voxel the kernel does not write would
// keep the fill and make the results differ from each other and from the
// result in fresh memory. The outputs are large enough to be pooled.
func TestOutputsOverwriteReusedPixels(t *testing.T) {
	size := [3]int{128, 128, 65} // 1 MiB and a bit, per byte of voxel
	n := size[0] * size[1] * size[2]
	vol := newImage(t, omni.Uint16, size, nil)
	v := voxels[uint16](vol.Pixels())
	for i := range v {
		v[i] = uint16(uint32(i) * 2654435761 >> 16)
	}
	small := newImage(t, omni.Uint8, size, nil) // values 0..99
	for i, x := range v {
		small.Pixels()[i] = uint8(x % 100)
	}
	other := newImage(t, omni.Uint16, size, nil)
	copy(other.Pixels()[2:], vol.Pixels())
	ctx := context.Background()
	seg, err := Threshold(ctx, vol, Bounds{Lower: 40000, HasLower: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	if n*2 < 1<<20 {
		t.Fatal("test image too small to be pooled")
	}

	kernels := []struct {
		name string
		run  func() (*omni.Image, error)
	}{
		{"threshold", func() (*omni.Image, error) {
			return Threshold(ctx, vol, Bounds{Lower: 1000, Upper: 30000, HasLower: true, HasUpper: true})
		}},
		{"threshold none inside", func() (*omni.Image, error) { return Threshold(ctx, small, Bounds{Lower: 300, HasLower: true}) }},
		{"multithreshold", func() (*omni.Image, error) { return MultiThreshold(ctx, vol, []float64{1000, 30000, 50000}) }},
		{"mask", func() (*omni.Image, error) { return Mask(ctx, vol, seg) }},
		{"convert float32", func() (*omni.Image, error) { return Convert(ctx, vol, omni.Float32) }},
		{"convert uint8", func() (*omni.Image, error) { return Convert(ctx, vol, omni.Uint8) }},
		{"convert float64", func() (*omni.Image, error) { return Convert(ctx, small, omni.Float64) }},
		{"add scalar", func() (*omni.Image, error) { return ArithScalar(ctx, vol, Add, 100) }},
		{"multiply scalar", func() (*omni.Image, error) { return ArithScalar(ctx, vol, Multiply, 1.5) }},
		{"minimum", func() (*omni.Image, error) { return Arith(ctx, vol, other, Minimum) }},
		{"subtract", func() (*omni.Image, error) { return Arith(ctx, vol, other, Subtract) }},
		{"erode", func() (*omni.Image, error) { return Morphology(ctx, seg, Erode, Conn6, 1) }},
		{"label", func() (*omni.Image, error) {
			out, _, err := Label(ctx, seg, Conn26)
			return out, err
		}},
		{"keep largest", func() (*omni.Image, error) { return KeepLargest(ctx, seg, Conn6, 3) }},
		{"remove small", func() (*omni.Image, error) { return RemoveSmall(ctx, seg, Conn6, 2) }},
		{"distance transform", func() (*omni.Image, error) { return DistanceTransform(ctx, seg) }},
		{"crop", func() (*omni.Image, error) { return Crop(ctx, small, [3]int{0, 0, 1}, [3]int{128, 128, 64}) }},
		{"resample nearest", func() (*omni.Image, error) { return Resample(ctx, small, [3]float64{1, 1, 1}, Nearest) }},
		{"resample linear", func() (*omni.Image, error) { return Resample(ctx, small, [3]float64{1, 1, 1}, Linear) }},
		{"median", func() (*omni.Image, error) { return Median(ctx, small, 1) }},
	}
	result := func(name string, run func() (*omni.Image, error), want *byte) []byte {
		t.Helper()
		out, err := run()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		defer out.Close()
		px := out.Pixels()
		if want != nil && unsafe.SliceData(px) != want {
			t.Fatalf("%s: the output did not reuse the poisoned buffer", name)
		}
		return bytes.Clone(px)
	}
	for _, k := range kernels {
		fresh := result(k.name, k.run, nil)
		for _, fill := range []byte{0xa5, 0x5a} {
			got := result(k.name, k.run, poison(t, len(fresh), fill))
			if i := firstDifference(got, fresh); i >= 0 {
				t.Errorf("%s: byte %d is %#x in reused memory filled with %#x, %#x in fresh memory", k.name, i, got[i], fill, fresh[i])
			}
		}
	}
}

func firstDifference(a, b []byte) int {
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}
