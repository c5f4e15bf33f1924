package clip

import (
	"context"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// TestCropMatchesVoxelLoop crops boxes that take parts of rows, whole rows
// and whole planes, and compares each voxel with the input's.
func TestCropMatchesVoxelLoop(t *testing.T) {
	size := [3]int{9, 7, 5}
	n := size[0] * size[1] * size[2]
	for _, dt := range []omni.DataType{omni.Uint8, omni.Int16, omni.Float64} {
		vals := make([]float64, n)
		for i := range vals {
			vals[i] = float64(i%97 + 1)
		}
		img := newImage(t, dt, size, vals)
		for _, box := range [][2][3]int{
			{{2, 1, 1}, {5, 3, 2}},
			{{0, 2, 1}, {9, 4, 3}}, // whole rows
			{{0, 0, 2}, {9, 7, 3}}, // whole planes
			{{8, 6, 4}, {1, 1, 1}},
			{{0, 0, 0}, size},
		} {
			pos, bs := box[0], box[1]
			out, err := Crop(context.Background(), img, pos, bs)
			if err != nil {
				t.Fatalf("%v crop %v: %v", dt, box, err)
			}
			got := imageValues(t, out)
			for z := range bs[2] {
				for y := range bs[1] {
					for x := range bs[0] {
						want := vals[((pos[2]+z)*size[1]+pos[1]+y)*size[0]+pos[0]+x]
						if g := got[(z*bs[1]+y)*bs[0]+x]; g != want {
							t.Fatalf("%v crop %v: voxel (%d, %d, %d) is %v, want %v", dt, box, x, y, z, g, want)
						}
					}
				}
			}
			out.Close()
		}
	}
}
