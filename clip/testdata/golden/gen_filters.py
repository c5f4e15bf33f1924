"""Golden cases for clip.Gaussian and clip.Median.

Gaussian: scipy.ndimage.gaussian_filter(x.astype(float64),
sigma=(sz, sy, sx), mode='reflect', truncate=4.0) with s = sigma_mm/spacing
per axis, stored as float32 (float64 for float64 input). The tolerance is
absolute, scaled to the data's magnitude, because clip computes in float32.

Median: scipy.ndimage.median_filter(x, size=2r+1, mode='reflect'), exact.
For NaN, where scipy's order is undefined, clip treats NaN as larger than
every number; the reference is then np.sort over each window (NaN last)
through scipy.ndimage.generic_filter.
"""

import numpy as np
from scipy import ndimage

import golden

FAMILY = "filters"


def gaussian_case(name, x, sigma_mm, spacing, note=""):
    """spacing is (x, y, z) in mm, as in OMNI headers."""
    sx, sy, sz = spacing
    sigma = (sigma_mm / sz, sigma_mm / sy, sigma_mm / sx)
    want = ndimage.gaussian_filter(x.astype(np.float64), sigma=sigma, mode="reflect", truncate=4.0)
    finite = np.abs(x[np.isfinite(x)].astype(np.float64))
    scale = max(1.0, finite.max()) if finite.size else 1.0
    if x.dtype == np.float64:
        tol = 1e-12 * scale
    else:
        want = want.astype(np.float32)
        tol = 5e-7 * scale
    golden.save_case(FAMILY, "gaussian_" + name, "scipy.ndimage.gaussian_filter",
                     {"sigma_mm": sigma_mm, "spacing": [sx, sy, sz], "sigma_voxels_zyx": list(sigma),
                      "mode": "reflect", "truncate": 4.0},
                     {"input": x, "expected": want}, tolerance=tol, note=note)


def nan_last_median(x, size):
    mid = size ** 3 // 2
    return ndimage.generic_filter(x, lambda w: np.sort(w)[mid], size=size, mode="reflect")


def median_case(name, x, radii, note=""):
    arrays = {"input": x}
    nan = x.dtype.kind == "f" and np.isnan(x).any()
    for r in radii:
        size = 2 * r + 1
        if nan:
            arrays[f"r{r}"] = nan_last_median(x, size)
        else:
            arrays[f"r{r}"] = ndimage.median_filter(x, size=size, mode="reflect")
    function = "scipy.ndimage.generic_filter(np.sort(w)[mid])" if nan else "scipy.ndimage.median_filter"
    golden.save_case(FAMILY, "median_" + name, function, {"radii": list(radii), "mode": "reflect"},
                     arrays, note=note)


def main():
    rng = np.random.default_rng(20240611)
    aniso = (1.0, 0.8, 1.5)
    for dtype in golden.DTYPES:
        gaussian_case(dtype, golden.volume(rng, dtype), 1.2, aniso,
                      note="random values over the type's range, anisotropic spacing")
    smooth = golden.volume(rng, "uint16", kind="smooth")
    gaussian_case("small_sigma_identity", smooth, 0.1, (1.0, 1.0, 1.0), note="radius int(0.4+0.5) = 0")
    gaussian_case("small_sigma", smooth, 0.3, (1.0, 1.0, 1.0), note="radius 1")
    gaussian_case("large_sigma", golden.volume(rng, "float32"), 6.0, (1.0, 1.0, 1.0),
                  note="radius 24 reaches past every edge: repeated reflection")
    gaussian_case("fine_spacing", smooth, 0.025, (0.0125, 0.01, 0.02), note="micro-CT voxel sizes")
    gaussian_case("2d", golden.volume(rng, "int16", shape=(1, 23, 17)), 2.0, (1.0, 1.0, 1.0),
                  note="one slice: z is left alone")
    gaussian_case("thin", golden.volume(rng, "uint8", shape=(2, 3, 17)), 1.5, (1.0, 1.0, 1.0))
    gaussian_case("one_voxel", np.array([[[7.5]]], np.float32), 1.0, (1.0, 1.0, 1.0))
    ext = np.zeros(golden.SHAPE, np.uint32)
    ext[::2] = np.iinfo(np.uint32).max
    gaussian_case("extreme_uint32", ext, 1.0, (1.0, 1.0, 1.0))
    ext = np.full(golden.SHAPE, np.iinfo(np.int32).min, np.int32)
    ext[:, ::3] = np.iinfo(np.int32).max
    gaussian_case("extreme_int32", ext, 1.0, (1.0, 1.0, 1.0))
    nan = golden.volume(rng, "float32")
    nan[3, 4, 5] = np.nan
    nan[20, 10, 2] = np.inf
    nan[20, 10, 9] = -np.inf
    nan[25, 20, 15] = np.inf
    gaussian_case("nan_inf_float32", nan, 0.6, (1.0, 1.0, 1.0), note="NaN spreads; Inf and -Inf meet as NaN")
    nan = golden.volume(rng, "float64")
    nan[0, 0, 0] = np.nan
    gaussian_case("nan_float64", nan, 1.0, (1.0, 1.0, 1.0))
    gaussian_case("zeros", np.zeros(golden.SHAPE, np.uint8), 1.0, (1.0, 1.0, 1.0))

    for dtype in golden.DTYPES:
        median_case(dtype, golden.volume(rng, dtype), (1, 2), note="random values over the type's range")
    few = rng.integers(0, 4, size=golden.SHAPE).astype(np.uint8)
    median_case("ties", few, (1, 2, 3), note="values 0..3: many ties")
    median_case("2d", golden.volume(rng, "uint16", shape=(1, 23, 17)), (1, 2),
                note="one slice: the box repeats it along z")
    median_case("thin", golden.volume(rng, "int16", shape=(2, 3, 17)), (1, 2, 4),
                note="windows wider than the image: repeated reflection")
    median_case("large_radius", golden.volume(rng, "float32", shape=(5, 6, 7)), (10,))
    median_case("one_voxel", np.array([[[-3]]], np.int8), (1,))
    median_case("smooth", golden.volume(rng, "uint16", kind="smooth"), (1, 3))
    ext = golden.volume(rng, "int32")
    ext.ravel()[::3] = np.iinfo(np.int32).min
    ext.ravel()[1::5] = np.iinfo(np.int32).max
    median_case("extreme_int32", ext, (1,))
    for dtype in ("float32", "float64"):
        x = golden.volume(rng, dtype)
        x.ravel()[::7] = np.nan
        x.ravel()[3::11] = np.inf
        x.ravel()[5::13] = -np.inf
        x.ravel()[6::17] = -0.0
        median_case("nan_" + dtype, x, (1,), note="NaN sorts after +Inf")


if __name__ == "__main__":
    main()
