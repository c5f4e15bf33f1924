"""Golden cases for clip.Morphology: scipy.ndimage binary erosion, dilation,
opening and closing with generate_binary_structure(3, c), iterations =
radius and border_value = 0; 2D images use the structure's middle plane."""

import numpy as np
from scipy import ndimage

import golden

FAMILY = "morphology"
OPS = {
    "erode": ndimage.binary_erosion,
    "dilate": ndimage.binary_dilation,
    "open": ndimage.binary_opening,
    "close": ndimage.binary_closing,
}
RANK = {6: 1, 18: 2, 26: 3}


def structure(conn, planar):
    s = ndimage.generate_binary_structure(3, RANK[conn])
    return s[1:2] if planar else s


def expected(x, op, conn, radius):
    s = structure(conn, x.shape[0] == 1)
    out = OPS[op](x != 0, structure=s, iterations=radius, border_value=0)
    return out.astype(np.uint8)


def case(name, x, op, conn, radius, note=""):
    golden.save_case(FAMILY, name, "scipy.ndimage." + OPS[op].__name__,
                     {"op": op, "connectivity": conn, "radius": radius},
                     {"input": x, "expected": expected(x, op, conn, radius)}, note=note)


def typed(rng, binary, dtype):
    """binary's foreground as non-zero values of dtype (negative ones too),
    for floats with NaN voxels (foreground) and -0.0 (background)."""
    dt = np.dtype(golden.DTYPES[dtype])
    vals = golden.volume(rng, dtype, shape=binary.shape)
    if dt.kind == "f":
        vals[vals == 0] = 1
        vals.ravel()[::37] = np.nan
    else:
        vals[vals == 0] = 1
    out = np.where(binary != 0, vals, np.zeros((), dt)).astype(dt)
    if dt.kind == "f":
        bg = np.flatnonzero(binary.ravel() == 0)[::5]
        out.ravel()[bg] = -0.0
    return out


def main():
    rng = np.random.default_rng(20240611)
    vol = golden.volume(rng, "uint8", kind="binary")
    for op in OPS:
        for conn in (6, 18, 26):
            for radius in (1, 2):
                case(f"{op}_c{conn}_r{radius}", vol, op, conn, radius)
    ops = list(OPS)
    for i, dtype in enumerate(golden.DTYPES):
        x = typed(rng, vol, dtype)
        case(f"dtype_{dtype}", x, ops[i % 4], (6, 18, 26)[i % 3], 1 + i % 2,
             note="non-zero values of the type are foreground; NaN is foreground, -0.0 background")
    plane = golden.volume(rng, "uint8", shape=(1, 23, 17), kind="binary")
    for op in OPS:
        for conn in (6, 18, 26):
            case(f"2d_{op}_c{conn}", plane, op, conn, 2,
                 note="2D: structure generate_binary_structure(3, c)[1:2] (in-plane)")
    empty = np.zeros(golden.SHAPE, np.uint8)
    full = np.ones(golden.SHAPE, np.int16)
    for op in OPS:
        case(f"empty_{op}", empty, op, 26, 1)
        case(f"full_{op}", full, op, 6, 2, note="border_value 0: erosion and closing eat the border")
    case("one_voxel_dilate", np.ones((1, 1, 1), np.uint8), "dilate", 26, 3)
    case("one_voxel_erode", np.ones((1, 1, 1), np.float32), "erode", 6, 1)
    thin = (rng.random((7, 1, 9)) > 0.3).astype(np.uint8)
    case("thin_y_erode", thin, "erode", 26, 1, note="a 3D image one voxel thick in y erodes away")
    case("thin_y_dilate", thin, "dilate", 18, 1)
    wide = golden.volume(rng, "uint8", shape=(5, 6, 130), kind="binary")
    for op in OPS:
        case(f"wide_{op}", wide, op, 18, 3, note="rows longer than one 64-voxel word")


if __name__ == "__main__":
    main()
