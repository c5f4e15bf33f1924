"""Golden cases of the "streaming" family: Threshold, MultiThreshold, Mask,
Convert, ArithScalar and Arith.

params.kind names the kernel. Cases that run a kernel several times list the
runs in params.runs, each naming its expected array. Integer results are
compared exactly, float results too (tolerance 0): the kernels compute in
the same precision as the references.
"""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden  # noqa: E402
from golden import DTYPES, SHAPE, save_case, volume  # noqa: E402

FAMILY = "streaming"


def info(name):
    dt = np.dtype(DTYPES[name])
    if dt.kind == "f":
        return dt, -np.inf, np.inf
    i = np.iinfo(dt)
    return dt, float(i.min), float(i.max)


def saturate(x, name):
    """The reference of saturating conversion: rint, clip, NaN -> 0."""
    dt, lo, hi = info(name)
    x = np.asarray(x, np.float64)
    if dt.kind == "f":
        return x.astype(dt)
    y = np.clip(np.rint(x), lo, hi)
    return np.where(np.isnan(y), 0, y).astype(dt)


def test_volume(rng, name, shape=SHAPE):
    """A random volume with NaN, ±Inf, halves and extreme values for floats."""
    a = volume(rng, name, shape=shape)
    dt = a.dtype
    if dt.kind == "f" and a.size > 20:
        # Magnitudes from 1 to 1e10 so conversions saturate every type, and
        # exact halves so rounding half to even matters.
        mag = 10.0 ** rng.uniform(0, 10, a.size)
        # 12 significant bits keep the files compressible.
        m, e = np.frexp(rng.standard_normal(a.size) * mag)
        a = np.ldexp(np.round(m * 4096) / 4096, e).reshape(a.shape).astype(dt)
        a.flat[:40] = (np.arange(40) - 20 + 0.5).astype(dt)
        a.flat[40:44] = [np.nan, np.inf, -np.inf, -0.0]
    elif a.size > 4:
        i = np.iinfo(dt)
        a.flat[:4] = [i.min, i.max, 0, i.min + 1]
    return a


def threshold_cases(rng, name):
    a = test_volume(rng, name)
    dt, lo, hi = info(name)
    q = np.nanquantile(a[np.isfinite(a)].astype(np.float64), [0.25, 0.6])
    runs = []
    arrays = {"image": a}
    for label, lower, upper in [("both", q[0] + 0.5, q[1] - 0.25), ("lower", q[0], None), ("upper", None, q[1]),
                                ("none", None, None), ("empty", q[1], q[0])]:
        x = a.astype(np.float64)
        keep = np.ones(a.shape, bool)
        if lower is not None:
            keep &= x >= lower
        if upper is not None:
            keep &= x <= upper
        keep &= ~np.isnan(x)
        arrays[label] = keep.astype(np.uint8)
        runs.append({"expected": label, "lower": None if lower is None else float(lower),
                     "upper": None if upper is None else float(upper)})
    save_case(FAMILY, f"threshold_{name}", "(lower <= a) & (a <= upper), NaN outside, as uint8",
              {"kind": "threshold", "runs": runs}, arrays)


def multithreshold_cases(rng, name):
    a = test_volume(rng, name)
    x = a.astype(np.float64)
    finite = x[np.isfinite(x)]
    arrays = {"image": a}
    runs = []
    level_sets = [("three", np.unique(np.quantile(finite, [0.2, 0.5, 0.8]) + 0.5)),
                  ("one", np.array([float(np.median(finite))])),
                  ("many", np.unique(np.quantile(finite, np.linspace(0, 1, 300))))]
    for label, levels in level_sets:
        want = np.digitize(x, levels, right=False)
        want[np.isnan(x)] = 0
        arrays[label] = want.astype(np.uint8 if len(levels) <= 255 else np.uint16)
        runs.append({"expected": label, "levels": [float(v) for v in levels]})
    save_case(FAMILY, f"multithreshold_{name}", "numpy.digitize(a, levels, right=False), NaN -> 0",
              {"kind": "multithreshold", "runs": runs}, arrays)


def mask_cases(rng, name, blob):
    a = test_volume(rng, name)
    m = blob.astype(np.float32) * rng.uniform(-2, 2, blob.shape).astype(np.float32)
    save_case(FAMILY, f"mask_{name}", "numpy.where(mask != 0, a, 0)", {"kind": "mask"},
              {"image": a, "mask": m, "expected": np.where(m != 0, a, 0).astype(a.dtype)})


def convert_cases(rng, name, shape=SHAPE, suffix="", targets=DTYPES):
    a = test_volume(rng, name, shape)
    arrays = {"image": a}
    runs = []
    for dst in targets:
        # Converting to the same type is a copy: expected is the image.
        expected = "image" if dst == name else dst
        if dst != name:
            arrays[dst] = saturate(a, dst)
        runs.append({"expected": expected, "data_type": dst})
    save_case(FAMILY, f"convert_{name}{suffix}", "numpy.clip(numpy.rint(a), lo, hi).astype(dtype), NaN -> 0; "
              "a.astype(dtype) to float types", {"kind": "convert", "runs": runs}, arrays)


def scalar_operands(name):
    dt, lo, hi = info(name)
    span = 2000.0 if dt.kind == "f" else hi - lo
    mid = 0.0 if dt.kind == "f" else (lo + hi) / 2
    return [("add", span * 0.3 + 0.5), ("add", -5.0), ("subtract", 17.0), ("subtract", -span * 0.21 - 0.25),
            ("multiply", 1.5), ("multiply", 3.0), ("multiply", -0.5),
            ("minimum", mid + 0.7), ("maximum", mid - 100.5), ("minimum", -1e30), ("maximum", 1e30)]


def apply(op, x, y):
    return {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
            "minimum": np.minimum, "maximum": np.maximum}[op](x, y)


def arith_scalar_cases(rng, name, shape=SHAPE, suffix="", which=None):
    a = test_volume(rng, name, shape)
    dt, _, _ = info(name)
    arrays = {"image": a}
    runs = []
    for i, (op, v) in enumerate(scalar_operands(name)):
        if which is not None and i not in which:
            continue
        if dt.kind == "f":
            with np.errstate(all="ignore"):
                want = apply(op, a, dt.type(v)).astype(dt)
        else:
            with np.errstate(all="ignore"):
                want = saturate(apply(op, a.astype(np.float64), v), name)
        arrays[f"run{i}"] = want
        runs.append({"expected": f"run{i}", "op": op, "value": v})
    save_case(FAMILY, f"arithscalar_{name}{suffix}",
              "numpy.clip(numpy.rint(a.astype(float64) op v), lo, hi).astype(dtype) for integers; "
              "a op dtype(v) for floats", {"kind": "arithscalar", "runs": runs}, arrays)


def arith_cases(rng, name, shape=SHAPE, suffix="", ops=("add", "subtract", "multiply", "minimum", "maximum")):
    a, b = test_volume(rng, name, shape), test_volume(rng, name, shape)
    b = np.roll(b, 7)  # keep the special values apart from a's
    dt, _, _ = info(name)
    arrays = {"a": a, "b": b}
    runs = []
    for op in ops:
        with np.errstate(all="ignore"):
            if dt.kind == "f":
                want = apply(op, a, b).astype(dt)
            else:
                want = saturate(apply(op, a.astype(np.float64), b.astype(np.float64)), name)
        arrays[op] = want
        runs.append({"expected": op, "op": op})
    save_case(FAMILY, f"arith_{name}{suffix}", "numpy.clip(numpy.rint(a op b), lo, hi).astype(dtype) in float64 for "
              "integers; a op b for floats", {"kind": "arith", "runs": runs}, arrays)


def main():
    # Every kernel runs on a SHAPE volume of every type; the full sets of
    # target types and operations run on a small 2D image to keep the files
    # small.
    rng = np.random.default_rng(20240612)
    blob = volume(rng, "uint8", kind="binary")
    small = (1, 23, 17)
    for name in DTYPES:
        threshold_cases(rng, name)
        multithreshold_cases(rng, name)
        mask_cases(rng, name, blob)
        convert_cases(rng, name, targets=[d for d in ("uint8", "uint16", "float32") if d != name] or ["int16"])
        convert_cases(rng, name, shape=small, suffix="_2d")
        convert_cases(rng, name, shape=(1, 1, 1), suffix="_one_voxel")
        arith_scalar_cases(rng, name, which={0, 5, 7})
        arith_scalar_cases(rng, name, shape=small, suffix="_2d")
        arith_cases(rng, name, ops=("add", "multiply"))
        arith_cases(rng, name, shape=small, suffix="_2d")


if __name__ == "__main__":
    main()
