"""Golden cases for clip.Label, ComponentSizes, KeepLargest and RemoveSmall:
scipy.ndimage.label with generate_binary_structure(3, c) (also on 2D
(1, y, x) images, where it acts in-plane), component sizes by
numpy.bincount, and the kept components selected with numpy."""

import numpy as np
from scipy import ndimage

import golden

FAMILY = "label"
RANK = {6: 1, 18: 2, 26: 3}


def label(x, conn):
    lab, n = ndimage.label(x != 0, structure=ndimage.generate_binary_structure(3, RANK[conn]))
    return lab.astype(np.uint32), n


def sizes_of(lab, n):
    return np.bincount(lab.ravel(), minlength=n + 1)[1:].astype(np.int64)


def label_case(name, x, conn, note=""):
    lab, n = label(x, conn)
    golden.save_case(FAMILY, name, "scipy.ndimage.label", {"connectivity": conn, "count": n},
                     {"input": x, "labels": lab, "sizes": sizes_of(lab, n)}, note=note)
    return n


def keep_largest_case(name, x, conn, n):
    lab, count = label(x, conn)
    sizes = sizes_of(lab, count)
    ids = np.arange(1, count + 1)
    order = np.lexsort((ids, -sizes))  # larger first, then lower label
    keep = np.zeros(count + 1, bool)
    keep[ids[order[:n]]] = True
    golden.save_case(FAMILY, name, "numpy (scipy.ndimage.label, keep the n largest)",
                     {"connectivity": conn, "n": n},
                     {"input": x, "expected": keep[lab].astype(np.uint8)},
                     note="ties go to the lower label")


def remove_small_case(name, x, conn, min_size):
    lab, count = label(x, conn)
    keep = np.zeros(count + 1, bool)
    keep[1:] = sizes_of(lab, count) >= min_size
    golden.save_case(FAMILY, name, "numpy (scipy.ndimage.label, drop components below min_size)",
                     {"connectivity": conn, "min_size": min_size},
                     {"input": x, "expected": keep[lab].astype(np.uint8)})


def speckled(rng, shape=golden.SHAPE):
    """Blobs with random voxels flipped: many components, many of them
    touching only along edges or corners, so 6, 18 and 26 differ."""
    vol = golden.volume(rng, "uint8", shape=shape, kind="binary")
    flip = rng.random(shape) < 0.06
    return (vol ^ flip).astype(np.uint8)


def typed(rng, binary, dtype):
    dt = np.dtype(golden.DTYPES[dtype])
    vals = golden.volume(rng, dtype, shape=binary.shape)
    vals[vals == 0] = 1
    if dt.kind == "f":
        vals.ravel()[::41] = np.nan
    return np.where(binary != 0, vals, np.zeros((), dt)).astype(dt)


def main():
    rng = np.random.default_rng(424242)
    vol = speckled(rng)
    counts = [label_case(f"c{c}", vol, c) for c in (6, 18, 26)]
    assert counts[0] > counts[1] > counts[2] > 20, counts
    sparse = (rng.random(golden.SHAPE) < 0.2).astype(np.uint8)
    for c in (6, 18, 26):
        label_case(f"sparse_c{c}", sparse, c, note="random 20% voxels: thousands of components")
    for i, dtype in enumerate(golden.DTYPES):
        label_case(f"dtype_{dtype}", typed(rng, vol, dtype), (6, 18, 26)[i % 3],
                   note="non-zero values are foreground, NaN included")
    plane = speckled(rng, (1, 23, 17))
    for c in (6, 18, 26):
        label_case(f"2d_c{c}", plane, c)
    wide = speckled(rng, (4, 5, 150))
    for c in (6, 18, 26):
        label_case(f"wide_c{c}", wide, c, note="rows longer than one 64-voxel word")
    label_case("empty", np.zeros(golden.SHAPE, np.uint8), 26)
    label_case("full", np.ones(golden.SHAPE, np.float64), 6)
    label_case("one_voxel", np.ones((1, 1, 1), np.uint16), 6)
    label_case("one_voxel_background", np.zeros((1, 1, 1), np.int8), 18)
    # U shapes and combs whose arms meet only late in raster order: their
    # arms start as separate runs that must merge into the first one.
    u = np.zeros((3, 9, 9), np.uint8)
    u[0, :, 0] = 1
    u[0, :, 8] = 1
    u[0, 8, :] = 1
    u[1, 0, 4] = 1
    u[2, 0:9:2, 2] = 1
    u[2, :, 6] = 1
    u[1, 8, 6] = 1
    label_case("u_shapes", u, 6)

    for c, n in ((6, 1), (26, 3), (18, 10**6)):
        keep_largest_case(f"keep_largest_c{c}_n{min(n, 999)}", vol, c, n)
    # Cut the sparse volume's components inside a run of equal sizes.
    lab, count = label(sparse, 6)
    sizes = np.sort(sizes_of(lab, count))[::-1]
    n = next(i for i in range(1, count) if sizes[i - 1] == sizes[i] and sizes[i] > 1)
    keep_largest_case("keep_largest_ties", sparse, 6, n)
    keep_largest_case("keep_largest_empty", np.zeros(golden.SHAPE, np.uint8), 6, 2)
    for c, m in ((6, 1), (6, 5), (26, 50), (18, 0)):
        remove_small_case(f"remove_small_c{c}_min{m}", vol, c, m)


if __name__ == "__main__":
    main()
