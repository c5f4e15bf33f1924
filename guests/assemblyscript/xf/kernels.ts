// Kernels run natively on the host on all cores; images stay on the host.
// Each function maps one import of the clip module (abi/ABI.md); a kernel
// that fails ends the job with the Go SDK's message, such as
// "clip.minmax: NOT_FOUND".

import {
  Status,
  clip_arith,
  clip_arith_scalar,
  clip_bounding_box,
  clip_bvtv,
  clip_component_sizes,
  clip_convert,
  clip_crop,
  clip_distance_transform,
  clip_gaussian,
  clip_histogram,
  clip_keep_largest,
  clip_label,
  clip_mask,
  clip_median,
  clip_minmax,
  clip_morphology,
  clip_remove_small,
  clip_resample,
  clip_stats,
  clip_threshold,
  clip_threshold_multi,
} from "./abi_gen";
import { addr, CallBuffer, check, outBuffer } from "./host";
import { Box, Image, newImage } from "./image";
import { Value } from "./value";

function handleOf(image: Image | null): u32 {
  return image === null ? 0 : image.handle;
}

/** Wraps the handle of a kernel's new image, which h points to. */
function created(op: string, status: i32, h: ArrayBuffer): Image {
  check(op, "", status);
  return newImage(op, load<u32>(addr(h)));
}

/** The smallest and largest raw voxel values. */
export class MinMax {
  constructor(
    public min: f64,
    public max: f64,
  ) {}
}

/** The smallest and largest raw voxel values, only where mask is non-zero if it is not null. NaN voxels are ignored. */
export function minMax(image: Image, mask: Image | null): MinMax {
  const out = outBuffer(16);
  check("clip.minmax", "", clip_minmax(image.handle, handleOf(mask), addr(out), addr(out) + 8));
  return new MinMax(load<f64>(addr(out)), load<f64>(addr(out), 8));
}

/** A uint8 segmentation: 1 where lower <= v <= upper, else 0. A null bound is unbounded. */
export function threshold(image: Image, lower: Value<f64> | null, upper: Value<f64> | null): Image {
  let lo: f64 = 0;
  let hi: f64 = 0;
  let flags: u32 = 0;
  if (lower !== null) {
    lo = lower.value;
    flags |= 1;
  }
  if (upper !== null) {
    hi = upper.value;
    flags |= 2;
  }
  const h = outBuffer(4);
  return created("clip.threshold", clip_threshold(image.handle, lo, hi, flags, addr(h)), h);
}

/** Statistics of raw voxel values. */
export class Stats {
  min: f64 = 0;
  max: f64 = 0;
  sum: f64 = 0;
  mean: f64 = 0;
  /** Population standard deviation. */
  std: f64 = 0;
  count: u64 = 0;
}

/** Min, max, sum, mean, population standard deviation and count of the voxels (under mask if not null). */
export function statistics(image: Image, mask: Image | null): Stats {
  const out = outBuffer(48);
  const p = addr(out);
  check("clip.stats", "", clip_stats(image.handle, handleOf(mask), p));
  const s = new Stats();
  s.min = load<f64>(p);
  s.max = load<f64>(p, 8);
  s.sum = load<f64>(p, 16);
  s.mean = load<f64>(p, 24);
  s.std = load<f64>(p, 32);
  s.count = load<u64>(p, 40);
  return s;
}

/** One histogram bin: the columns x0, pdf, distr and count of XamFlow's HistogramPlot. */
export class Bin {
  centre: f64 = 0;
  pdf: f64 = 0;
  cdf: f64 = 0;
  count: u64 = 0;
}

/**
 * How to bin a histogram: bins equal bins over [lower, upper] if hasRange,
 * else over the data's range; or one bin per integer value.
 */
export class HistogramOptions {
  bins: u32 = 0;
  lower: f64 = 0;
  upper: f64 = 0;
  hasRange: bool = false;
  integerBins: bool = false;
}

/** The histogram of the voxels (under mask if not null). */
export function histogram(image: Image, mask: Image | null, opt: HistogramOptions): Array<Bin> {
  let flags: u32 = 0;
  if (opt.hasRange) flags |= 1;
  if (opt.integerBins) flags |= 2;
  const out = new CallBuffer();
  let st: i32;
  do st = clip_histogram(image.handle, handleOf(mask), opt.bins, opt.lower, opt.upper, flags, out.ptr, out.cap, out.lenPtr);
  while (out.retry(st));
  check("clip.histogram", "", st);
  const p = out.ptr;
  const n = <i32>(out.length / 32);
  const bins = new Array<Bin>(n);
  for (let i = 0; i < n; i++) {
    const r = p + <usize>(32 * i);
    const b = new Bin();
    b.centre = load<f64>(r);
    b.pdf = load<f64>(r, 8);
    b.cdf = load<f64>(r, 16);
    b.count = load<u64>(r, 24);
    bins[i] = b;
  }
  return bins;
}

/** A label image: the number of levels (ascending) not above each voxel's value. */
export function thresholdMulti(image: Image, levels: Array<f64>): Image {
  const buf = outBuffer(levels.length * 8);
  for (let i = 0; i < levels.length; i++) store<f64>(addr(buf) + <usize>(8 * i), levels[i]);
  const h = outBuffer(4);
  return created("clip.threshold_multi", clip_threshold_multi(image.handle, addr(buf), <u32>levels.length, addr(h)), h);
}

/** A copy of image that is 0 where maskImage is 0. */
export function mask(image: Image, maskImage: Image): Image {
  const h = outBuffer(4);
  return created("clip.mask", clip_mask(image.handle, maskImage.handle, addr(h)), h);
}

/** The clip.convert code of a data type name; 0 (refused by the host) for an unknown one. */
export function dataTypeCode(dataType: string): u32 {
  if (dataType == "uint8") return 1;
  if (dataType == "int8") return 2;
  if (dataType == "uint16") return 3;
  if (dataType == "int16") return 4;
  if (dataType == "uint32") return 5;
  if (dataType == "int32") return 6;
  if (dataType == "float32") return 7;
  if (dataType == "float64") return 8;
  return 0;
}

/** A copy in another data type ("uint8", ..., "float64"), rounding half to even and saturating. */
export function convert(image: Image, dataType: string): Image {
  const h = outBuffer(4);
  return created("clip.convert", clip_convert(image.handle, dataTypeCode(dataType), addr(h)), h);
}

/** An arithmetic operation. */
export enum ArithOp {
  Add = 0,
  Subtract = 1,
  Multiply = 2,
  Minimum = 3,
  Maximum = 4,
}

/** image op value, saturating for integer images. */
export function arithScalar(image: Image, op: ArithOp, value: f64): Image {
  const h = outBuffer(4);
  return created("clip.arith_scalar", clip_arith_scalar(image.handle, <u32>op, value, addr(h)), h);
}

/** a op b for images of one size and data type. */
export function arith(a: Image, b: Image, op: ArithOp): Image {
  const h = outBuffer(4);
  return created("clip.arith", clip_arith(a.handle, b.handle, <u32>op, addr(h)), h);
}

/** A Gaussian-filtered float image; sigma is in mm. */
export function gaussian(image: Image, sigmaMM: f64): Image {
  const h = outBuffer(4);
  return created("clip.gaussian", clip_gaussian(image.handle, sigmaMM, addr(h)), h);
}

/** A median-filtered image over a box of (2 radius + 1) voxels per axis. */
export function median(image: Image, radius: u32): Image {
  const h = outBuffer(4);
  return created("clip.median", clip_median(image.handle, radius, addr(h)), h);
}

/** A binary morphology operation. */
export enum MorphOp {
  Erode = 0,
  Dilate = 1,
  Open = 2,
  Close = 3,
}

/** Applies a binary operation with the 6-, 18- or 26-neighbourhood radius times. */
export function morphology(image: Image, op: MorphOp, connectivity: u32, radius: u32): Image {
  const h = outBuffer(4);
  return created("clip.morphology", clip_morphology(image.handle, <u32>op, connectivity, radius, addr(h)), h);
}

/** A uint32 label image and the number of its components. */
export class Labels {
  constructor(
    public image: Image,
    public count: u32,
  ) {}
}

/** Labels the connected components of the non-zero voxels. */
export function label(image: Image, connectivity: u32): Labels {
  const out = outBuffer(8);
  const p = addr(out);
  check("clip.label", "", clip_label(image.handle, connectivity, p, p + 4));
  return new Labels(newImage("clip.label", load<u32>(p)), load<u32>(p, 4));
}

/** The voxel count of labels 1..n of a label image. */
export function componentSizes(labels: Image): Array<u64> {
  const out = new CallBuffer();
  let st: i32;
  do st = clip_component_sizes(labels.handle, out.ptr, out.cap, out.lenPtr);
  while (out.retry(st));
  check("clip.component_sizes", "", st);
  const n = <i32>(out.length / 8);
  const sizes = new Array<u64>(n);
  for (let i = 0; i < n; i++) sizes[i] = load<u64>(out.ptr + <usize>(8 * i));
  return sizes;
}

/** Keeps the n largest connected components. */
export function keepLargest(image: Image, connectivity: u32, n: u32): Image {
  const h = outBuffer(4);
  return created("clip.keep_largest", clip_keep_largest(image.handle, connectivity, n, addr(h)), h);
}

/** Removes connected components of fewer than minSize voxels. */
export function removeSmall(image: Image, connectivity: u32, minSize: u64): Image {
  const h = outBuffer(4);
  return created("clip.remove_small", clip_remove_small(image.handle, connectivity, minSize, addr(h)), h);
}

/** Each non-zero voxel's distance in mm to the nearest zero voxel. */
export function distanceTransform(image: Image): Image {
  const h = outBuffer(4);
  return created("clip.distance_transform", clip_distance_transform(image.handle, addr(h)), h);
}

/** The bone volume fraction of a segmentation within mask (the whole image if mask is null). */
export function bvtv(segmentation: Image, mask: Image | null): f64 {
  const out = outBuffer(8);
  check("clip.bvtv", "", clip_bvtv(segmentation.handle, handleOf(mask), addr(out)));
  return load<f64>(addr(out));
}

/** A box of the image as a new image. */
export function crop(image: Image, box: Box): Image {
  const h = outBuffer(4);
  const st = clip_crop(image.handle, box.x, box.y, box.z, box.sizeX, box.sizeY, box.sizeZ, addr(h));
  return created("clip.crop", st, h);
}

/** The box of the non-zero voxels, or null if there are none. */
export function boundingBox(image: Image): Box | null {
  const out = outBuffer(24);
  const p = addr(out);
  const st = clip_bounding_box(image.handle, p);
  if (st == Status.NOT_FOUND) return null;
  check("clip.bounding_box", "", st);
  return new Box(load<u32>(p), load<u32>(p, 4), load<u32>(p, 8), load<u32>(p, 12), load<u32>(p, 16), load<u32>(p, 20));
}

/** A resampling method. */
export enum Interpolation {
  /** For labels and segmentations. */
  Nearest = 0,
  Linear = 1,
}

/** The image resampled by a factor per axis. */
export function resample(image: Image, factorX: f64, factorY: f64, factorZ: f64, interpolation: Interpolation): Image {
  const h = outBuffer(4);
  return created("clip.resample", clip_resample(image.handle, factorX, factorY, factorZ, <u32>interpolation, addr(h)), h);
}
