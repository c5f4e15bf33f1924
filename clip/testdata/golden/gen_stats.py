"""Golden cases of the "stats" family: Statistics and Histogram.

The references are numpy's min, max, sum, mean, std (ddof=0) and histogram
of the selected, non-NaN voxels converted to float64 (so float32 images are
binned with float64 edges, as the Go kernel does). Every case has
params.kind = "statistics" or "histogram"; params.error names the error the
kernel must return instead of a result ("empty").
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402
from golden import DTYPES, SHAPE, save_case, volume  # noqa: E402

FAMILY = "stats"
STATS_REF = "numpy min/max/sum/mean/std(ddof=0) of the selected non-NaN voxels as float64"
HIST_REF = "numpy.histogram(density=False and True) of the selected non-NaN voxels as float64"


def selected(a, mask):
    keep = np.ones(a.shape, bool) if mask is None else (mask != 0)
    v = a[keep].astype(np.float64)
    return v[~np.isnan(v)]


def stats_case(name, a, mask=None, note=""):
    """Statistics of a, and of a under mask if one is given (array
    expected_masked), or params.error / params.error_masked."""
    arrays = {"image": a}
    params = {"kind": "statistics"}
    for suffix, m in [("", None)] + ([("_masked", mask)] if mask is not None else []):
        v = selected(a, m)
        if v.size == 0:
            params["error" + suffix] = "empty"
        else:
            arrays["expected" + suffix] = np.array([v.min(), v.max(), v.sum(), v.mean(), v.std(), v.size], np.float64)
    if mask is not None:
        arrays["mask"] = mask
    save_case(FAMILY, name, STATS_REF, params, arrays, tolerance=1e-12,
              note=note or "expected = [min, max, sum, mean, std, count]; the tolerance is relative to the "
              "larger of the value and the data's magnitude")


def histogram(v, bins, rng, integer):
    if integer:
        lo, hi = (v.min(), v.max()) if rng is None else rng
        lo, hi = int(np.floor(lo)), int(np.ceil(hi))
        edges = np.arange(lo, hi + 2, dtype=np.float64) - 0.5
        counts, _ = np.histogram(v, bins=edges)
        centre = np.arange(lo, hi + 1, dtype=np.float64)
    else:
        counts, edges = np.histogram(v, bins=bins, range=rng)
        centre = (edges[:-1] + edges[1:]) / 2
    if counts.sum() == 0:
        return None
    pdf, _ = np.histogram(v, bins=edges, density=True)
    return {"centre": centre, "pdf": pdf, "cdf": np.cumsum(counts) / counts.sum(), "count": counts.astype(np.int64)}


def hist_case(name, a, mask, runs, note=""):
    """Histograms of a under several options. runs: (label, bins, range,
    integer_bins, masked); each run's arrays are <label>_centre, _pdf, _cdf
    and _count, or the run has "error": "empty"."""
    arrays = {"image": a}
    if mask is not None:
        arrays["mask"] = mask
    params = {"kind": "histogram", "runs": []}
    for label, bins, rng, integer, masked in runs:
        run = {"label": label, "bins": bins, "range": None if rng is None else [float(rng[0]), float(rng[1])],
               "integer_bins": integer, "masked": masked}
        h = histogram(selected(a, mask if masked else None), bins, rng, integer)
        if h is None:
            run["error"] = "empty"
        else:
            for k, x in h.items():
                arrays[f"{label}_{k}"] = x
        params["runs"].append(run)
    save_case(FAMILY, name, HIST_REF, params, arrays, tolerance=1e-12, note=note)


def extremes(dtype, shape=SHAPE):
    """Alternating type minimum and maximum (±1e30 for floats)."""
    dt = np.dtype(DTYPES[dtype])
    lo, hi = (-1e30, 1e30) if dt.kind == "f" else (np.iinfo(dt).min, np.iinfo(dt).max)
    a = np.full(shape, lo, dt)
    a.flat[::2] = hi
    return a


def main():
    rng = np.random.default_rng(20240611)
    blob = volume(rng, "uint8", kind="binary")
    small = (1, 23, 17)
    for name in DTYPES:
        dt = np.dtype(DTYPES[name])
        a = volume(rng, name)
        if dt.kind == "f":
            a.flat[rng.choice(a.size, 300, replace=False)] = np.nan
        stats_case(f"statistics_{name}", a, blob)
        stats_case(f"statistics_{name}_extremes", extremes(name))
        stats_case(f"statistics_{name}_one_voxel", volume(rng, name, shape=(1, 1, 1)))
        stats_case(f"statistics_{name}_2d", volume(rng, name, shape=small), volume(rng, "int16", shape=small),
                   note="a 2D image under an int16 mask")
        stats_case(f"statistics_{name}_empty_mask", volume(rng, name, shape=small), np.zeros(small, np.float32))

        smooth = volume(rng, name, kind="smooth")
        if dt.kind == "f":
            smooth.flat[rng.choice(smooth.size, 100, replace=False)] = np.nan
        lo, hi = np.nanquantile(smooth.astype(np.float64), [0.2, 0.7])
        hist_case(f"histogram_{name}", smooth, blob.astype(np.float32), [
            ("auto", 16, None, False, False),
            ("range", 7, (lo, hi), False, False),
            ("masked", 33, None, False, True),
        ])
        hist_case(f"histogram_{name}_constant", np.full(small, 3, dt), np.zeros(small, np.int16), [
            ("widened", 5, None, False, False),
            ("empty", 4, None, False, True),
        ], note="min == max: numpy widens the range by 0.5 each side; nothing selected: ErrEmpty")
        if dt.kind != "f":
            ints = rng.integers(max(np.iinfo(dt).min, -40), min(np.iinfo(dt).max, 60), size=SHAPE,
                                endpoint=True).astype(dt)
            hist_case(f"histogram_{name}_integer", ints, blob, [
                ("all", 0, None, True, False),
                ("range", 0, (-3.5, 20.2), True, True),
            ], note="one bin per integer")

    # Accuracy: float images far from zero with a small spread.
    far = (1e6 + rng.standard_normal(SHAPE)).astype(np.float64)
    stats_case("statistics_float64_offset", far, note="mean 1e6, std 1: a naive sum of squares loses the std")
    far32 = (3e4 + rng.standard_normal(SHAPE)).astype(np.float32)
    stats_case("statistics_float32_offset", far32)
    # Values on and next to bin edges, where numpy corrects its scaled index.
    edges = np.linspace(-1, 1, 11)
    on = np.concatenate([edges, np.nextafter(edges, -2), np.nextafter(edges, 2)]).reshape(1, 3, 11)
    hist_case("histogram_float64_edges", on, None, [("edges", 10, (-1, 1), False, False)])


if __name__ == "__main__":
    main()
