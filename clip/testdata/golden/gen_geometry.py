"""Golden cases for clip.Crop, clip.BoundingBox and clip.Resample.

Crop: numpy slicing x[z0:z0+sz, y0:y0+sy, x0:x0+sx].
BoundingBox: scipy.ndimage.find_objects((x != 0).astype(int32)); NaN is
non-zero, -0 is zero; no object means clip.ErrEmpty.
Resample: scipy.ndimage.zoom(x, (fz, fy, fx), order=0 (nearest) or 1
(linear), mode='nearest', grid_mode=False, prefilter=False), exact for every
type (clip reproduces zoom's float64 arithmetic); floats compare NaN to NaN.
Parameters and results are in (x, y, z) order, arrays in numpy's (z, y, x).
"""

import numpy as np
from scipy import ndimage

import golden

FAMILY = "geometry"
SMALL = (13, 11, 9)  # (z, y, x)


def crop_case(name, x, pos, size):
    (px, py, pz), (sx, sy, sz) = pos, size
    want = x[pz:pz + sz, py:py + sy, px:px + sx]
    golden.save_case(FAMILY, "crop_" + name, "numpy slicing", {"pos": list(pos), "size": list(size)},
                     {"input": x, "expected": want})


def bbox_case(name, x, note=""):
    objs = ndimage.find_objects((x != 0).astype(np.int32))
    params = {"empty": not objs}
    if objs:
        zs, ys, xs = objs[0]
        params["pos"] = [xs.start, ys.start, zs.start]
        params["size"] = [xs.stop - xs.start, ys.stop - ys.start, zs.stop - zs.start]
    golden.save_case(FAMILY, "bbox_" + name, "scipy.ndimage.find_objects", params, {"input": x}, note=note)


INTERP = {"nearest": 0, "linear": 1}


def resample_case(name, x, factors, note=""):
    """factors: list of (x, y, z) zoom factors; every one is run with both
    interpolations."""
    arrays = {"input": x}
    runs = []
    for i, (fx, fy, fz) in enumerate(factors):
        for interp, order in INTERP.items():
            key = f"f{i}_{interp}"
            arrays[key] = ndimage.zoom(x, (fz, fy, fx), order=order, mode="nearest", grid_mode=False,
                                       prefilter=False)
            runs.append({"factor": [fx, fy, fz], "interp": interp, "array": key})
    golden.save_case(FAMILY, "resample_" + name, "scipy.ndimage.zoom", {"runs": runs, "mode": "nearest"},
                     arrays, note=note)


def main():
    rng = np.random.default_rng(424242)
    for dtype in golden.DTYPES:
        crop_case(dtype, golden.volume(rng, dtype), (3, 5, 7), (9, 11, 13))
    x = golden.volume(rng, "uint16")
    crop_case("full", x, (0, 0, 0), (17, 23, 29))
    crop_case("one_voxel", x, (16, 22, 28), (1, 1, 1))
    crop_case("2d", golden.volume(rng, "float32", shape=(1, 23, 17)), (2, 3, 0), (10, 4, 1))

    for dtype in golden.DTYPES:
        x = np.zeros(golden.SHAPE, golden.DTYPES[dtype])
        x[4:9, 7:8, 2:15] = golden.volume(rng, dtype, shape=(5, 1, 13))
        x[x == 0] = 1
        x[20, 3, 16] = 1
        bbox_case(dtype, x)
    bbox_case("empty", np.zeros(golden.SHAPE, np.int16), note="every voxel zero: ErrEmpty")
    x = np.zeros(golden.SHAPE, np.float32)
    x[10, 11, 12] = np.nan
    x[11, 2, 3] = -0.0
    bbox_case("nan", x, note="NaN counts as non-zero, -0 as zero")
    x = np.full(golden.SHAPE, -0.0, np.float64)
    bbox_case("negative_zero", x, note="-0 is zero: ErrEmpty")
    bbox_case("full", np.ones(golden.SHAPE, np.uint8))
    bbox_case("one_voxel_image", np.full((1, 1, 1), 5, np.uint32))
    x = np.zeros(golden.SHAPE, np.int8)
    x[0, 0, 0] = -1
    x[28, 22, 16] = 1
    bbox_case("corners", x)

    factors = [(0.5, 0.5, 0.5), (2.0, 1.0, 0.5)]
    for dtype in golden.DTYPES:
        resample_case(dtype, golden.volume(rng, dtype), factors, note="random values over the type's range")
        resample_case(dtype + "_small", golden.volume(rng, dtype, shape=SMALL), [(1.7, 1.7, 1.7)])
    resample_case("smooth", golden.volume(rng, "uint16", kind="smooth"), [(0.37, 2.5, 1.3), (16.0, 0.1, 1.0)])
    resample_case("identity", golden.volume(rng, "int16", shape=SMALL), [(1.0, 1.0, 1.0)])
    resample_case("2d", golden.volume(rng, "uint8", shape=(1, 23, 17)), [(0.5, 1.5, 1.0), (2.0, 2.0, 2.0)],
                  note="a single slice; z zoomed to 2 slices maps both to it")
    resample_case("one_voxel", np.full((1, 1, 1), -7, np.int8), [(3.0, 3.0, 3.0)])
    x = np.zeros(SMALL, np.uint8)
    x[::2] = 255
    x[:, ::2] = 0
    resample_case("halves_uint8", x, [(2.0, 2.0, 2.0), (1.5, 1.5, 1.5)], note="ties round away from zero")
    x = np.full(SMALL, -128, np.int8)
    x[:, :, ::2] = 127
    x[::3] = -127
    resample_case("halves_int8", x, [(2.0, 2.0, 2.0), (1.5, 1.5, 1.5)], note="ties round away from zero")
    labels = rng.integers(0, 4, size=SMALL).astype(np.uint32) * 1000003
    resample_case("labels", labels, [(1.7, 0.6, 2.2)])
    x = golden.volume(rng, "float32", shape=SMALL)
    x[3, 4, 5] = np.nan
    x[6, 7, 8] = np.inf
    x[12, 10, 2] = -np.inf
    x[0, 10, 8] = np.inf
    resample_case("nan_inf_float32", x, [(1.7, 1.7, 1.7), (0.5, 0.5, 0.5)],
                  note="NaN and Inf spread as scipy's products give them")


if __name__ == "__main__":
    main()
