"""Shared helpers for the scripts that write the clip kernels' golden files.

Every gen_<family>.py script builds small odd-sized volumes with numpy's
seeded generator, runs the reference function from numpy/scipy on them and
saves inputs and expected outputs with save_case(). The Go tests read them
back (clip/golden_test.go) and compare.

Layout: <family>/<case>.json names the reference function and its
parameters and lists arrays; each array is <family>/<case>.<name>.bin.gz,
little-endian, C order of the numpy shape (z, y, x), so x varies fastest as
in OMNI images.

Run with Debian's python3-numpy and python3-scipy:
    /usr/bin/python3 clip/testdata/golden/make_golden.py
"""

import gzip
import json
import os

import numpy as np

ROOT = os.path.dirname(os.path.abspath(__file__))

# The data types of OMNI images, by their OMNI names.
DTYPES = {
    "uint8": np.uint8, "int8": np.int8, "uint16": np.uint16, "int16": np.int16,
    "uint32": np.uint32, "int32": np.int32, "float32": np.float32, "float64": np.float64,
}

SHAPE = (29, 23, 17)  # (z, y, x): odd and different on every axis


def volume(rng, dtype, shape=SHAPE, kind="random"):
    """A test volume of the OMNI data type: "random" spans the type's range
    (a float range of +-1e3), "smooth" is a blurred field for filters,
    "binary" is a 0/1 blob structure for morphology and labelling."""
    dt = np.dtype(DTYPES[dtype])
    if kind == "binary":
        from scipy import ndimage
        field = ndimage.gaussian_filter(rng.standard_normal(shape), 1.5)
        return (field > 0.05).astype(dt)
    if kind == "smooth":
        from scipy import ndimage
        field = ndimage.gaussian_filter(rng.standard_normal(shape), 2.0)
        field = (field - field.min()) / (field.max() - field.min())
        if dt.kind == "f":
            return (field * 1000 - 200).astype(dt)
        info = np.iinfo(dt)
        lo, hi = max(info.min, -20000), min(info.max, 40000)
        return np.rint(lo + field * (hi - lo)).astype(dt)
    if dt.kind == "f":
        return (rng.standard_normal(shape) * 1e3).astype(dt)
    info = np.iinfo(dt)
    return rng.integers(info.min, info.max, size=shape, endpoint=True, dtype=dt)


def _dtype_name(a):
    for name, t in DTYPES.items():
        if a.dtype == np.dtype(t):
            return name
    if a.dtype == np.dtype(np.int64):
        return "int64"
    if a.dtype == np.dtype(np.uint64):
        return "uint64"
    raise ValueError(f"unsupported dtype {a.dtype}")


def save_case(family, name, function, params, arrays, tolerance=0.0, note=""):
    """Write one golden case.

    function: the reference, e.g. "scipy.ndimage.gaussian_filter".
    params: the parameters the Go kernel gets (JSON-serialisable).
    arrays: name -> numpy array (inputs and expected outputs alike).
    tolerance: absolute tolerance for float outputs (0 = exact).
    """
    d = os.path.join(ROOT, family)
    os.makedirs(d, exist_ok=True)
    entries = {}
    for key, a in arrays.items():
        a = np.asarray(a)
        file = f"{name}.{key}.bin.gz"
        # mtime=0 keeps the files byte-identical between runs.
        with gzip.GzipFile(os.path.join(d, file), "wb", mtime=0) as f:
            f.write(a.astype(a.dtype.newbyteorder("<")).tobytes(order="C"))
        entries[key] = {"file": file, "dtype": _dtype_name(a), "shape": list(a.shape)}
    doc = {"function": function, "params": params, "arrays": entries, "tolerance": tolerance}
    if note:
        doc["note"] = note
    with open(os.path.join(d, name + ".json"), "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")
