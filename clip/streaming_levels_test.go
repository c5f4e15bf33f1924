package clip

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// TestMultiThresholdComparedMatchesTable checks the comparison kernel of
// few levels (vector path) against the label table (scalar path), with
// levels below, inside, between and beyond each type's values.
func TestMultiThresholdComparedMatchesTable(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(9, 10))
	for _, dt := range []omni.DataType{omni.Uint8, omni.Int8, omni.Uint16, omni.Int16} {
		img, _ := awkwardImage(t, dt, r)
		lo, hi := ranges[dt][0], ranges[dt][1]
		mid := (lo + hi) / 2
		for _, levels := range [][]float64{
			{mid},
			{lo},
			{hi},
			{lo - 1000, lo + 0.5, mid},
			{lo + 1, mid - 0.25, mid, hi - 1, hi, hi + 0.5},
			{-0.5, 0, 0.5, 1},
			{lo - 2, lo - 1, hi + 1, hi + 2},
			{lo + 10, lo + 20, lo + 30, lo + 40, mid, hi - 40, hi - 30, hi - 20},          // 8: compared
			{lo + 10, lo + 20, lo + 30, lo + 40, mid, hi - 40, hi - 30, hi - 20, hi - 10}, // 9: table
		} {
			v, verr := multiThreshold(ctx, img, levels, vectorPath)
			s, serr := multiThreshold(ctx, img, levels, scalarPath)
			if verr != nil || serr != nil {
				t.Fatalf("%v %v: %v, %v", dt, levels, verr, serr)
			}
			if !bytes.Equal(v.Pixels(), s.Pixels()) {
				i := firstDifference(v.Pixels(), s.Pixels())
				t.Errorf("%v %v: voxel %d labelled %d by comparison, %d by table", dt, levels, i, v.Pixels()[i], s.Pixels()[i])
			}
			v.Close()
			s.Close()
		}
	}
}
