"""Times numpy/scipy on the benchmark volume for xfhost's ratio table.

Usage: /usr/bin/python3 scipy_bench.py RAW X Y Z SX SY SZ
RAW is the little-endian uint16 pixel file of the volume (x fastest), X Y Z
its size and SX SY SZ its spacing in mm. Prints one JSON object mapping each
kernel name to its best time in seconds; the names match bench/kernels_test.go.
The operations mirror what the Go benchmarks run, on the same data.
"""

import json
import sys
import time

import numpy as np
from scipy import ndimage


def best(fn, repeat):
    t = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - start)
    return t


def main():
    raw = sys.argv[1]
    x, y, z = (int(v) for v in sys.argv[2:5])
    sx, sy, sz = (float(v) for v in sys.argv[5:8])
    vol = np.fromfile(raw, dtype="<u2").reshape(z, y, x)
    seg = ((vol >= 3400)).astype(np.uint8)
    other = vol[::-1].copy()
    sampling = (sz, sy, sx)
    st3 = {c: ndimage.generate_binary_structure(3, c) for c in (1, 2, 3)}
    out = {}

    def stats():
        v = vol
        return v.min(), v.max(), v.sum(dtype=np.float64), v.mean(dtype=np.float64), v.std(dtype=np.float64)

    fast = {
        "minmax": lambda: (vol.min(), vol.max()),
        "statistics": stats,
        "histogram": lambda: np.histogram(vol, bins=256),
        "threshold": lambda: ((vol >= 3400) & (vol <= 60000)).astype(np.uint8),
        "threshold_multi": lambda: np.digitize(vol, [2000.0, 3400.0, 5000.0]).astype(np.uint8),
        "mask": lambda: np.where(seg != 0, vol, 0).astype(np.uint16),
        "convert": lambda: vol.astype(np.float32),
        "arith_scalar": lambda: np.clip(vol.astype(np.int32) + 100, 0, 65535).astype(np.uint16),
        "arith": lambda: np.minimum(vol, other),
        "crop": lambda: vol[64:192, 64:192, 64:192].copy(),
        "bounding_box": lambda: ndimage.find_objects(seg)[0],
        "bvtv": lambda: np.count_nonzero(seg) / seg.size,
    }
    for name, fn in fast.items():
        out[name] = best(fn, 5)
    slow = {
        "gaussian": lambda: ndimage.gaussian_filter(vol, sigma=1.0, output=np.float32, mode="reflect", truncate=4.0),
        "median": lambda: ndimage.median_filter(vol, size=3, mode="reflect"),
        "erode26": lambda: ndimage.binary_erosion(seg, structure=st3[3], iterations=1),
        "dilate6": lambda: ndimage.binary_dilation(seg, structure=st3[1], iterations=1),
        "label26": lambda: ndimage.label(seg, structure=st3[3]),
        "distance_transform": lambda: ndimage.distance_transform_edt(seg, sampling=sampling),
        "resample": lambda: ndimage.zoom(vol, 0.5, order=1),
    }
    for name, fn in slow.items():
        out[name] = best(fn, 1)
    json.dump(out, sys.stdout)
    print()


if __name__ == "__main__":
    main()
