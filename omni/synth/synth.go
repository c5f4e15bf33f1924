// Package synth generates synthetic micro-CT volumes that look roughly like
// trabecular bone, so that task types and the host can be tested and
// benchmarked without real (and large, and often confidential) scans.
//
// The structure is a sheet gyroid, a triply periodic surface whose
// thickened sheets resemble interconnected trabecular plates. A second,
// finer gyroid thins the sheets in places until they perforate into rods
// and holes, and smooth low-frequency fields warp the phase and vary the
// thickness so the result is not visibly periodic. A partial-volume edge and
// Gaussian noise complete the micro-CT look. Output is deterministic for a
// given seed.
package synth

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/xfhost/xfhost/omni"
)

// Raw grey levels of the generated volume. Bone voxels scatter around
// BoneRaw and marrow voxels around MarrowRaw, both with standard deviation
// NoiseSigmaRaw, so (MarrowRaw+BoneRaw)/2 is a natural segmentation
// threshold.
const (
	MarrowRaw     = 1600
	BoneRaw       = 5200
	NoiseSigmaRaw = 250
)

// Calibrations attached to every volume. They map MarrowRaw to 0 mg HA/ccm
// and 0 HU, and BoneRaw to 900 mg HA/ccm and 1800 HU, values typical of
// trabecular bone tissue.
var (
	densCalibration = omni.Calibration{Kind: omni.KindSlopeIntercept, UnitType: "dens", UnitName: "mg HA/ccm", Slope: 0.25, Intercept: -400}
	huCalibration   = omni.Calibration{Kind: omni.KindSlopeIntercept, UnitType: "hu", UnitName: "HU", Slope: 0.5, Intercept: -800}
)

// Defaults and limits for Options.
const (
	DefaultSpacing = 0.03 // mm, a common micro-CT voxel size
	DefaultPeriod  = 1.4  // mm; sheets are half a period apart, like human trabeculae
	// MaxVoxels bounds the volume so a typo cannot allocate terabytes.
	MaxVoxels = 1 << 30
	// minPeriodVoxels keeps the structure from aliasing into noise.
	minPeriodVoxels = 4
)

// Shape constants, tuned by eye on slices and so that about 15-20 % of the
// voxels are bone, a typical trabecular bone volume fraction.
const (
	structureStream = 0x7ab_ec01a // PCG stream for structure parameters
	perforation     = 0.2         // weight of the finer gyroid in the sheet thickness
	edgeWidth       = 0.09        // partial-volume ramp width in gyroid units
	thickTerms      = 3           // separable terms in the thickness field
)

// Options configure Volume. The zero value of every field except Size
// selects a sensible default.
type Options struct {
	// Size is the number of voxels along x, y and z; each at least 1.
	Size [3]int
	// Seed selects the structure and the noise.
	Seed int64
	// Spacing is the isotropic voxel size in mm (default DefaultSpacing).
	Spacing float64
	// Period is the repeat length of the structure in mm before warping
	// (default DefaultPeriod); it must span at least 4 voxels.
	Period float64
	// Workers bounds the number of goroutines (default GOMAXPROCS). The
	// output does not depend on it.
	Workers int
}

// Volume generates a uint16 volume with "dens" and "hu" calibrations,
// "dens" being the default unit type. The image is writable and held in
// memory; its header has no pixel files until it is written.
//
// Work is split into z slices processed by a bounded set of goroutines;
// cancelling ctx stops the work after the slices in progress and returns
// ctx's error.
func Volume(ctx context.Context, opt Options) (*omni.Image, error) {
	p, err := newParams(opt)
	if err != nil {
		return nil, fmt.Errorf("synth: volume: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("synth: volume: %w", err)
	}
	img, err := omni.New(&omni.Header{
		FormatVersion:   omni.CurrentFormatVersion,
		Axes:            "XYZ",
		Size:            opt.Size,
		DataType:        omni.Uint16,
		ByteOrder:       omni.NativeByteOrder(),
		Spacing:         [3]float64{p.spacing, p.spacing, p.spacing},
		Calibrations:    []omni.Calibration{densCalibration, huCalibration},
		DefaultUnitType: "dens",
	})
	if err != nil {
		return nil, fmt.Errorf("synth: volume: %w", err)
	}
	if err := p.fill(ctx, img.Pixels(), opt.Workers); err != nil {
		img.Close()
		return nil, err
	}
	return img, nil
}

// params holds everything derived from Options and the seed; it is
// read-only while slices are generated.
type params struct {
	size    [3]int
	spacing float64
	seed    uint64

	// Per-axis sine and cosine of the gyroid phase.
	sinX, cosX, sinY, cosY []float64
	freqZ, phaseZ          float64

	// A second, finer gyroid that locally thins sheets until they break
	// into rods and holes, and thickens them elsewhere into plates.
	sinX2, cosX2, sinY2, cosY2 []float64
	freqZ2, phaseZ2            float64

	// Low-frequency fields: phase warps of x and z, constant along each
	// x row so they cost nothing per voxel, and sheet thickness modulation.
	warpX    lowFreq
	warpZ    lowFreq
	thick    [thickTerms]lowFreq
	thickX   [thickTerms][]float64 // thickness factors along x, precomputed
	thickMid float64
}

// lowFreq is a smooth separable field amp*cos(fx*x+px)*cos(fy*y+py)*cos(fz*z+pz).
type lowFreq struct {
	amp        float64
	fx, fy, fz float64
	px, py, pz float64
}

func (l lowFreq) yz(y, z int) float64 {
	return l.amp * math.Cos(l.fy*float64(y)+l.py) * math.Cos(l.fz*float64(z)+l.pz)
}

func (l lowFreq) xs(n int) []float64 {
	out := make([]float64, n)
	for x := range out {
		out[x] = math.Cos(l.fx*float64(x) + l.px)
	}
	return out
}

func newParams(opt Options) (*params, error) {
	total := int64(1)
	for i, n := range opt.Size {
		if n < 1 {
			return nil, fmt.Errorf("size[%d] must be at least 1, got %d", i, n)
		}
		if n > MaxVoxels || total*int64(n) > MaxVoxels {
			return nil, fmt.Errorf("size %d x %d x %d exceeds %d voxels", opt.Size[0], opt.Size[1], opt.Size[2], MaxVoxels)
		}
		total *= int64(n)
	}
	spacing := opt.Spacing
	if spacing == 0 {
		spacing = DefaultSpacing
	}
	if spacing < 0 || math.IsNaN(spacing) || math.IsInf(spacing, 0) {
		return nil, fmt.Errorf("spacing must be positive and finite, got %v", opt.Spacing)
	}
	period := opt.Period
	if period == 0 {
		period = DefaultPeriod
	}
	if period < 0 || math.IsNaN(period) || math.IsInf(period, 0) {
		return nil, fmt.Errorf("period must be positive and finite, got %v", opt.Period)
	}
	pv := period / spacing
	if pv < minPeriodVoxels {
		return nil, fmt.Errorf("period %v mm is only %.2g voxels of %v mm; it must span at least %d", period, pv, spacing, minPeriodVoxels)
	}
	if opt.Workers < 0 {
		return nil, fmt.Errorf("workers must not be negative, got %d", opt.Workers)
	}

	seed := uint64(opt.Seed)
	r := rand.New(rand.NewPCG(seed, structureStream))
	phase := func() float64 { return r.Float64() * 2 * math.Pi }
	uniform := func(lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

	// Trabeculae align with the main load direction, here z, so cells are
	// elongated along it.
	fx := 2 * math.Pi / (pv * uniform(0.9, 1.1))
	fy := 2 * math.Pi / (pv * uniform(0.9, 1.1))
	fz := 2 * math.Pi / (pv * uniform(1.2, 1.5))
	p := &params{
		size:     opt.Size,
		spacing:  spacing,
		seed:     seed,
		freqZ:    fz,
		phaseZ:   phase(),
		thickMid: uniform(0.22, 0.25),
	}
	p.sinX, p.cosX = sinCosTable(opt.Size[0], fx, phase())
	p.sinY, p.cosY = sinCosTable(opt.Size[1], fy, phase())
	fine := func(f float64) float64 { return f * uniform(1.5, 1.8) }
	p.sinX2, p.cosX2 = sinCosTable(opt.Size[0], fine(fx), phase())
	p.sinY2, p.cosY2 = sinCosTable(opt.Size[1], fine(fy), phase())
	p.freqZ2, p.phaseZ2 = fine(fz), phase()

	// Low-frequency fields vary over several cells.
	low := func(amp float64) lowFreq {
		f := func() float64 { return 2 * math.Pi / (pv * uniform(3, 7)) }
		return lowFreq{amp: amp, fx: f(), fy: f(), fz: f(), px: phase(), py: phase(), pz: phase()}
	}
	p.warpX = low(0.9)
	p.warpZ = low(0.7)
	for k := range p.thick {
		p.thick[k] = low(0.07)
		p.thickX[k] = p.thick[k].xs(opt.Size[0])
	}
	return p, nil
}

func sinCosTable(n int, freq, phase float64) (sin, cos []float64) {
	sin = make([]float64, n)
	cos = make([]float64, n)
	for i := range n {
		sin[i], cos[i] = math.Sincos(freq*float64(i) + phase)
	}
	return sin, cos
}

// fill generates every z slice of pix (native-order uint16) using at most
// workers goroutines.
func (p *params) fill(ctx context.Context, pix []byte, workers int) error {
	nz := p.size[2]
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, nz)
	sliceBytes := 2 * p.size[0] * p.size[1]

	var next atomic.Int64
	var stopped atomic.Bool
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			thick := make([]float64, p.size[0])
			for {
				z := int(next.Add(1) - 1)
				if z >= nz {
					return
				}
				if ctx.Err() != nil {
					stopped.Store(true)
					return
				}
				p.slice(z, pix[z*sliceBytes:(z+1)*sliceBytes], thick)
			}
		}()
	}
	wg.Wait()
	if stopped.Load() {
		return fmt.Errorf("synth: volume: %w", ctx.Err())
	}
	return nil
}

// slice writes z slice z, using thick as scratch space of one x row. Its
// noise comes from a generator seeded by the seed and z alone, so the output
// does not depend on which goroutine runs it.
func (p *params) slice(z int, out []byte, thick []float64) {
	nx, ny := p.size[0], p.size[1]
	rng := rand.New(rand.NewPCG(mix(p.seed), mix(uint64(z))))
	const contrast = BoneRaw - MarrowRaw
	for y := range ny {
		// Per-row terms: everything that does not depend on x.
		dx := p.warpX.yz(y, z)
		sinD, cosD := math.Sincos(dx)
		sz, cz := math.Sincos(p.freqZ*float64(z) + p.phaseZ + p.warpZ.yz(y, z))
		sy, cy := p.sinY[y], p.cosY[y]
		syCz := sy * cz
		sz2, cz2 := math.Sincos(p.freqZ2*float64(z) + p.phaseZ2)
		sy2, cy2 := p.sinY2[y], p.cosY2[y]
		syCz2 := sy2 * cz2
		for x := range nx {
			thick[x] = p.thickMid
		}
		for k := range p.thick {
			m := p.thick[k].yz(y, z)
			tx := p.thickX[k]
			for x := range nx {
				thick[x] += m * tx[x]
			}
		}
		o := out[2*y*nx : 2*(y+1)*nx]
		for x := range nx {
			// sin/cos of (phase_x + dx) by the angle-addition formulas,
			// avoiding a per-voxel Sincos.
			s0, c0 := p.sinX[x], p.cosX[x]
			sx := s0*cosD + c0*sinD
			cx := c0*cosD - s0*sinD
			g := sx*cy + syCz + sz*cx
			g2 := p.sinX2[x]*cy2 + syCz2 + sz2*p.cosX2[x]
			f := (thick[x]+perforation*g2-math.Abs(g))/edgeWidth + 0.5
			f = min(max(f, 0), 1)
			v := MarrowRaw + contrast*f + NoiseSigmaRaw*rng.NormFloat64()
			v = min(max(math.Round(v), 0), math.MaxUint16)
			binary.NativeEndian.PutUint16(o[2*x:], uint16(v))
		}
	}
}

// mix is the SplitMix64 finaliser; it turns nearby inputs (consecutive z,
// small seeds) into unrelated generator states.
func mix(v uint64) uint64 {
	v += 0x9e3779b97f4a7c15
	v = (v ^ (v >> 30)) * 0xbf58476d1ce4e5b9
	v = (v ^ (v >> 27)) * 0x94d049bb133111eb
	return v ^ (v >> 31)
}
