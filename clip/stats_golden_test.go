package clip

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// TestStatsGolden checks Statistics and Histogram against numpy
// (testdata/golden/gen_stats.py) on both kernel paths.
func TestStatsGolden(t *testing.T) {
	for _, c := range goldenCases(t, "stats") {
		var kind string
		c.Param(t, "kind", &kind)
		for _, p := range []path{vectorPath, scalarPath} {
			switch kind {
			case "statistics":
				checkStatisticsCase(t, c, p)
			case "histogram":
				checkHistogramCase(t, c, p)
			default:
				t.Fatalf("%s: unknown kind %q", c.Name, kind)
			}
		}
	}
}

func checkStatisticsCase(t *testing.T, c *goldenCase, p path) {
	img := c.Image(t, "image", [3]float64{1, 1, 1})
	runs := []string{""}
	if _, ok := c.Arrays["mask"]; ok {
		runs = append(runs, "_masked")
	}
	for _, suffix := range runs {
		what := c.Name + suffix
		var mask *omni.Image
		if suffix != "" {
			mask = c.Image(t, "mask", [3]float64{1, 1, 1})
		}
		got, err := statistics(context.Background(), img, mask, p)
		if c.HasParam("error" + suffix) {
			if !errors.Is(err, ErrEmpty) {
				t.Errorf("%s: error %v, want ErrEmpty", what, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		want := c.Values(t, "expected"+suffix)
		scale := math.Max(math.Abs(want[0]), math.Abs(want[1]))
		for i, g := range []float64{got.Min, got.Max, got.Sum, got.Mean, got.Std, float64(got.Count)} {
			tol := c.Tolerance * math.Max(math.Abs(want[i]), scale)
			if i == 2 {
				tol *= want[5] // a sum's error scales with the count
			}
			if math.Abs(g-want[i]) > tol {
				t.Errorf("%s (path %d): %s = %v, want %v", what, p, []string{"min", "max", "sum", "mean", "std", "count"}[i], g, want[i])
			}
		}
	}
}

type histogramRun struct {
	Label       string     `json:"label"`
	Bins        int        `json:"bins"`
	Range       *[]float64 `json:"range"`
	IntegerBins bool       `json:"integer_bins"`
	Masked      bool       `json:"masked"`
	Error       string     `json:"error"`
}

func checkHistogramCase(t *testing.T, c *goldenCase, p path) {
	img := c.Image(t, "image", [3]float64{1, 1, 1})
	var runs []histogramRun
	c.Param(t, "runs", &runs)
	for _, r := range runs {
		what := c.Name + "/" + r.Label
		opt := HistogramOptions{Bins: r.Bins, IntegerBins: r.IntegerBins}
		if r.Range != nil {
			opt.Min, opt.Max, opt.HasRange = (*r.Range)[0], (*r.Range)[1], true
		}
		var mask *omni.Image
		if r.Masked {
			mask = c.Image(t, "mask", [3]float64{1, 1, 1})
		}
		bins, err := histogram(context.Background(), img, mask, opt, p)
		if r.Error != "" {
			if !errors.Is(err, ErrEmpty) {
				t.Errorf("%s: error %v, want ErrEmpty", what, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", what, err)
			continue
		}
		var centre, pdf, cdf, count []float64
		for _, b := range bins {
			centre = append(centre, b.Centre)
			pdf = append(pdf, b.PDF)
			cdf = append(cdf, b.CDF)
			count = append(count, float64(b.Count))
		}
		compareValues(t, what+" count", count, c.Values(t, r.Label+"_count"), 0)
		wantCentre := c.Values(t, r.Label+"_centre")
		compareValues(t, what+" centre", centre, wantCentre, c.Tolerance*(math.Abs(wantCentre[0])+math.Abs(wantCentre[len(wantCentre)-1])))
		wantPDF := c.Values(t, r.Label+"_pdf")
		compareValues(t, what+" pdf", pdf, wantPDF, c.Tolerance*maxAbs(wantPDF))
		compareValues(t, what+" cdf", cdf, c.Values(t, r.Label+"_cdf"), c.Tolerance)
	}
}

func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}
