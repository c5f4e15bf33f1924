"""Golden cases for clip.DistanceTransform and clip.BVTV.

DistanceTransform: scipy.ndimage.distance_transform_edt(x != 0,
sampling=(sz, sy, sx)), except that an image without background is +Inf
everywhere by definition (scipy returns distances to index (-1, 0, 0)
there, an artefact). BVTV: numpy counts."""

import numpy as np
from scipy import ndimage

import golden

FAMILY = "edt"
TOL = 1e-4  # mm; the Go test also allows 1e-4 relative


def edt_case(name, x, spacing, note=""):
    """spacing is (x, y, z) in mm, as in OMNI headers."""
    sx, sy, sz = spacing
    fg = x != 0
    if fg.all():
        want = np.full(x.shape, np.inf, np.float32)
        function = "defined: +Inf without background"
    else:
        want = ndimage.distance_transform_edt(fg, sampling=(sz, sy, sx)).astype(np.float32)
        function = "scipy.ndimage.distance_transform_edt"
    golden.save_case(FAMILY, name, function, {"spacing": [sx, sy, sz]},
                     {"input": x, "expected": want}, tolerance=TOL, note=note)


def bvtv_case(name, seg, mask):
    arrays = {"seg": seg}
    if mask is None:
        want = np.count_nonzero(seg) / seg.size
    else:
        arrays["mask"] = mask
        want = np.count_nonzero((seg != 0) & (mask != 0)) / np.count_nonzero(mask)
    arrays["expected"] = np.array([want], np.float64)
    golden.save_case(FAMILY, name, "numpy: count(seg != 0 & mask != 0) / count(mask != 0)",
                     {"masked": mask is not None}, arrays, tolerance=1e-12)


def typed(rng, binary, dtype):
    dt = np.dtype(golden.DTYPES[dtype])
    vals = golden.volume(rng, dtype, shape=binary.shape)
    vals[vals == 0] = 1
    if dt.kind == "f":
        vals.ravel()[::29] = np.nan
    return np.where(binary != 0, vals, np.zeros((), dt)).astype(dt)


def main():
    rng = np.random.default_rng(31337)
    vol = golden.volume(rng, "uint8", kind="binary")
    edt_case("isotropic", vol, (1.0, 1.0, 1.0))
    edt_case("anisotropic", vol, (0.7, 1.3, 2.1))
    edt_case("isotropic_fine", vol, (0.0125, 0.0125, 0.0125), note="micro-CT voxel size")
    for i, dtype in enumerate(golden.DTYPES):
        edt_case(f"dtype_{dtype}", typed(rng, vol, dtype), (0.5 + 0.1 * i, 0.9, 1.2),
                 note="non-zero values are foreground, NaN included")
    plane = golden.volume(rng, "uint8", shape=(1, 23, 17), kind="binary")
    edt_case("2d", plane, (0.8, 1.7, 3.0))
    one_bg = np.ones(golden.SHAPE, np.int16)
    one_bg[3, 20, 5] = 0
    edt_case("one_background_voxel", one_bg, (0.9, 1.1, 1.6))
    corner = np.ones((40, 3, 70), np.uint8)
    corner[0, 0, 0] = 0
    edt_case("long_lines", corner, (1.0, 2.0, 0.5), note="distances far beyond the lines' first passes")
    line = np.ones((1, 1, 31), np.float32)
    line[0, 0, 10] = 0
    edt_case("row", line, (0.25, 1.0, 1.0))
    column = np.ones((13, 1, 1), np.uint8)
    column[12] = 0
    edt_case("column", column, (1.0, 1.0, 0.3))
    edt_case("empty", np.zeros(golden.SHAPE, np.uint8), (1.0, 1.0, 1.0))
    edt_case("full", np.ones(golden.SHAPE, np.uint8), (1.0, 1.0, 1.0),
             note="no background: +Inf by definition")
    edt_case("one_voxel_foreground", np.ones((1, 1, 1), np.uint8), (1.0, 1.0, 1.0),
             note="no background: +Inf by definition")
    edt_case("one_voxel_background", np.zeros((1, 1, 1), np.float64), (1.0, 1.0, 1.0))

    seg = golden.volume(rng, "uint8", kind="binary")
    mask = golden.volume(rng, "uint8", kind="binary")
    bvtv_case("bvtv_whole", typed(rng, seg, "int16"), None)
    bvtv_case("bvtv_masked", seg, mask * 7)
    bvtv_case("bvtv_float_mask", typed(rng, seg, "float32"), typed(rng, mask, "float64"))
    bvtv_case("bvtv_full", np.ones(golden.SHAPE, np.uint16), None)


if __name__ == "__main__":
    main()
