package clip

import (
	"context"
	"sync"
	"testing"

	"github.com/xfhost/xfhost/omni"
)

// The streaming benchmarks run on a 256³ uint16 volume and report the
// input bytes per second; BenchmarkCopy is the memory-bandwidth reference
// and the *Scalar variants force the scalar loops.

var streamVolume = sync.OnceValue(func() *omni.Image {
	h := &omni.Header{FormatVersion: omni.CurrentFormatVersion, Axes: "XYZ", Size: [3]int{256, 256, 256},
		DataType: omni.Uint16, ByteOrder: omni.NativeByteOrder(), Spacing: [3]float64{1, 1, 1}}
	img, err := omni.New(h)
	if err != nil {
		panic(err)
	}
	// A multiplicative hash spreads the values over the whole range.
	v := voxels[uint16](img.Pixels())
	for i := range v {
		v[i] = uint16(uint32(i) * 2654435761 >> 16)
	}
	return img
})

func benchStream(b *testing.B, run func(ctx context.Context, img *omni.Image) (*omni.Image, error)) {
	img := streamVolume()
	ctx := context.Background()
	b.SetBytes(int64(len(img.Pixels())))
	b.ResetTimer()
	for range b.N {
		out, err := run(ctx, img)
		if err != nil {
			b.Fatal(err)
		}
		if out != nil {
			out.Close()
		}
	}
}

func BenchmarkCopy(b *testing.B) {
	src := streamVolume().Pixels()
	dst := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for range b.N {
		copy(dst, src)
	}
}

func BenchmarkMinMax(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		_, _, err := minMax(ctx, img, nil, vectorPath)
		return nil, err
	})
}

func BenchmarkMinMaxScalar(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		_, _, err := minMax(ctx, img, nil, scalarPath)
		return nil, err
	})
}

var benchBounds = Bounds{Lower: 1000, Upper: 40000, HasLower: true, HasUpper: true}

func BenchmarkThreshold(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		return threshold(ctx, img, benchBounds, vectorPath)
	})
}

func BenchmarkThresholdScalar(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		return threshold(ctx, img, benchBounds, scalarPath)
	})
}

func BenchmarkStatistics(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		_, err := statistics(ctx, img, nil, vectorPath)
		return nil, err
	})
}

func BenchmarkStatisticsScalar(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		_, err := statistics(ctx, img, nil, scalarPath)
		return nil, err
	})
}

func BenchmarkHistogram(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		_, err := Histogram(ctx, img, nil, HistogramOptions{Bins: 256})
		return nil, err
	})
}

func BenchmarkMultiThreshold(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		return MultiThreshold(ctx, img, []float64{8000, 20000, 50000})
	})
}

// streamMask is a uint8 segmentation of streamVolume, the usual mask.
var streamMask = sync.OnceValue(func() *omni.Image {
	seg, err := Threshold(context.Background(), streamVolume(), benchBounds)
	if err != nil {
		panic(err)
	}
	return seg
})

func BenchmarkMask(b *testing.B) {
	mask := streamMask()
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		return maskImage(ctx, img, mask, vectorPath)
	})
}

func BenchmarkMaskScalar(b *testing.B) {
	mask := streamMask()
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		return maskImage(ctx, img, mask, scalarPath)
	})
}

// BenchmarkNewImage is the cost every kernel with an image result pays
// before it starts: allocating (and the runtime zeroing) a 256³ uint8
// image, reported per byte of the uint16 input like the kernels.
func BenchmarkNewImage(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		return newImageLike(img, omni.Uint8)
	})
}

func BenchmarkConvert(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		return convert(ctx, img, omni.Float32, vectorPath)
	})
}

func BenchmarkConvertScalar(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		return convert(ctx, img, omni.Float32, scalarPath)
	})
}

func BenchmarkArithScalar(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		return arithScalar(ctx, img, Add, 100, vectorPath)
	})
}

func BenchmarkArithScalarScalar(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		return arithScalar(ctx, img, Add, 100, scalarPath)
	})
}

func BenchmarkArith(b *testing.B) {
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		return arith(ctx, img, img, Add, vectorPath)
	})
}

func BenchmarkStatisticsMasked(b *testing.B) {
	mask := streamMask()
	benchStream(b, func(ctx context.Context, img *omni.Image) (*omni.Image, error) {
		_, err := statistics(ctx, img, mask, vectorPath)
		return nil, err
	})
}
