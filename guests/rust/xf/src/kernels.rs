//! Kernels run natively on the host, on all cores, over image handles; the
//! voxels never enter the guest. Each function maps one import of the clip
//! module (abi/ABI.md; semantics in clip/KERNELS.md).

use crate::abi_gen::*;
use crate::error::Error;
use crate::hostcall::{check, fetch, out};
use crate::image::Image;
use crate::info::{DataType, Region};

fn handle_of(image: Option<&Image>) -> u32 {
    image.map_or(0, Image::handle)
}

/// Turns the handle of a kernel's new image into an Image.
fn created(op: &'static str, code: u32, handle: u32) -> Result<Image, Error> {
    check(op, "", code)?;
    Image::from_handle(op, handle)
}

fn f64_at(b: &[u8], i: usize) -> f64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[8 * i..8 * i + 8]);
    f64::from_le_bytes(w)
}

fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[8 * i..8 * i + 8]);
    u64::from_le_bytes(w)
}

/// The smallest and largest raw voxel values, only where mask is non-zero
/// if a mask is given. NaN voxels are ignored.
pub fn minmax(image: &Image, mask: Option<&Image>) -> Result<(f64, f64), Error> {
    let (mut lo, mut hi) = (0f64, 0f64);
    check("clip.minmax", "", unsafe { clip_minmax(image.handle(), handle_of(mask), out(&mut lo), out(&mut hi)) })?;
    Ok((lo, hi))
}

/// A uint8 segmentation: 1 where lower <= v <= upper, else 0. A missing
/// bound is unbounded.
pub fn threshold(image: &Image, lower: Option<f64>, upper: Option<f64>) -> Result<Image, Error> {
    let mut flags = 0u32;
    if lower.is_some() {
        flags |= 1;
    }
    if upper.is_some() {
        flags |= 2;
    }
    let mut h = 0u32;
    let code = unsafe { clip_threshold(image.handle(), lower.unwrap_or(0.0), upper.unwrap_or(0.0), flags, out(&mut h)) };
    created("clip.threshold", code, h)
}

/// Statistics of raw voxel values.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Stats {
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub mean: f64,
    /// The population standard deviation.
    pub std: f64,
    pub count: u64,
}

/// Min, max, sum, mean, standard deviation and count of the voxels (under
/// mask if given).
pub fn stats(image: &Image, mask: Option<&Image>) -> Result<Stats, Error> {
    let mut b = [0u8; 48];
    check("clip.stats", "", unsafe { clip_stats(image.handle(), handle_of(mask), b.as_mut_ptr()) })?;
    Ok(Stats { min: f64_at(&b, 0), max: f64_at(&b, 1), sum: f64_at(&b, 2), mean: f64_at(&b, 3), std: f64_at(&b, 4), count: u64_at(&b, 5) })
}

/// One histogram bin: the columns x0, pdf, distr and count of XamFlow's
/// HistogramPlot.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Bin {
    pub centre: f64,
    pub pdf: f64,
    pub cdf: f64,
    pub count: u64,
}

/// How to bin a histogram: `bins` equal bins over `range` (lower, upper),
/// or over the data's range when it is `None`; or, with `integer_bins`, one
/// bin per integer value.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HistogramOptions {
    pub bins: u32,
    pub range: Option<(f64, f64)>,
    pub integer_bins: bool,
}

/// The histogram of the voxels (under mask if given).
pub fn histogram(image: &Image, mask: Option<&Image>, opt: &HistogramOptions) -> Result<Vec<Bin>, Error> {
    let mut flags = 0u32;
    if opt.range.is_some() {
        flags |= 1;
    }
    if opt.integer_bins {
        flags |= 2;
    }
    let (lower, upper) = opt.range.unwrap_or((0.0, 0.0));
    let (h, m) = (image.handle(), handle_of(mask));
    let raw = fetch("clip.histogram", "", |buf, cap, len_out| unsafe { clip_histogram(h, m, opt.bins, lower, upper, flags, buf, cap, len_out) })?;
    Ok(raw
        .chunks_exact(32)
        .map(|r| Bin { centre: f64_at(r, 0), pdf: f64_at(r, 1), cdf: f64_at(r, 2), count: u64_at(r, 3) })
        .collect())
}

/// A label image: the number of levels (ascending) not above each voxel's
/// value.
pub fn threshold_multi(image: &Image, levels: &[f64]) -> Result<Image, Error> {
    let mut h = 0u32;
    let code = unsafe { clip_threshold_multi(image.handle(), levels.as_ptr() as *mut u8, levels.len() as u32, out(&mut h)) };
    created("clip.threshold_multi", code, h)
}

/// A copy of image that is 0 where mask is 0.
pub fn mask(image: &Image, mask: &Image) -> Result<Image, Error> {
    let mut h = 0u32;
    created("clip.mask", unsafe { clip_mask(image.handle(), mask.handle(), out(&mut h)) }, h)
}

/// A copy in another data type, rounding half to even and saturating.
pub fn convert(image: &Image, data_type: DataType) -> Result<Image, Error> {
    let mut h = 0u32;
    created("clip.convert", unsafe { clip_convert(image.handle(), data_type.code(), out(&mut h)) }, h)
}

/// An arithmetic operation of `arith` and `arith_scalar`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithOp {
    Add = 0,
    Subtract = 1,
    Multiply = 2,
    Minimum = 3,
    Maximum = 4,
}

/// image op value, in the image's data type, saturating for integers.
pub fn arith_scalar(image: &Image, op: ArithOp, value: f64) -> Result<Image, Error> {
    let mut h = 0u32;
    created("clip.arith_scalar", unsafe { clip_arith_scalar(image.handle(), op as u32, value, out(&mut h)) }, h)
}

/// a op b voxel by voxel, for images of one size and data type.
pub fn arith(a: &Image, b: &Image, op: ArithOp) -> Result<Image, Error> {
    let mut h = 0u32;
    created("clip.arith", unsafe { clip_arith(a.handle(), b.handle(), op as u32, out(&mut h)) }, h)
}

/// A Gaussian-filtered float image; sigma is in mm.
pub fn gaussian(image: &Image, sigma_mm: f64) -> Result<Image, Error> {
    let mut h = 0u32;
    created("clip.gaussian", unsafe { clip_gaussian(image.handle(), sigma_mm, out(&mut h)) }, h)
}

/// A median-filtered image over a box of (2 radius + 1) voxels per axis.
pub fn median(image: &Image, radius: u32) -> Result<Image, Error> {
    let mut h = 0u32;
    created("clip.median", unsafe { clip_median(image.handle(), radius, out(&mut h)) }, h)
}

/// A binary morphology operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MorphOp {
    Erode = 0,
    Dilate = 1,
    Open = 2,
    Close = 3,
}

/// Applies a binary operation with the 6-, 18- or 26-neighbourhood radius
/// times.
pub fn morphology(image: &Image, op: MorphOp, connectivity: u32, radius: u32) -> Result<Image, Error> {
    let mut h = 0u32;
    created("clip.morphology", unsafe { clip_morphology(image.handle(), op as u32, connectivity, radius, out(&mut h)) }, h)
}

/// Labels the connected components of the non-zero voxels: the uint32
/// label image and the number of components.
pub fn label(image: &Image, connectivity: u32) -> Result<(Image, u32), Error> {
    let (mut h, mut n) = (0u32, 0u32);
    let labels = created("clip.label", unsafe { clip_label(image.handle(), connectivity, out(&mut h), out(&mut n)) }, h)?;
    Ok((labels, n))
}

/// The voxel count of labels 1..n of a uint32 label image.
pub fn component_sizes(labels: &Image) -> Result<Vec<u64>, Error> {
    let h = labels.handle();
    let raw = fetch("clip.component_sizes", "", |buf, cap, len_out| unsafe { clip_component_sizes(h, buf, cap, len_out) })?;
    Ok(raw.chunks_exact(8).map(|c| u64_at(c, 0)).collect())
}

/// Keeps the n largest connected components.
pub fn keep_largest(image: &Image, connectivity: u32, n: u32) -> Result<Image, Error> {
    let mut h = 0u32;
    created("clip.keep_largest", unsafe { clip_keep_largest(image.handle(), connectivity, n, out(&mut h)) }, h)
}

/// Removes connected components of fewer than min_size voxels.
pub fn remove_small(image: &Image, connectivity: u32, min_size: u64) -> Result<Image, Error> {
    let mut h = 0u32;
    created("clip.remove_small", unsafe { clip_remove_small(image.handle(), connectivity, min_size, out(&mut h)) }, h)
}

/// Each non-zero voxel's distance in mm to the nearest zero voxel.
pub fn distance_transform(image: &Image) -> Result<Image, Error> {
    let mut h = 0u32;
    created("clip.distance_transform", unsafe { clip_distance_transform(image.handle(), out(&mut h)) }, h)
}

/// The bone volume fraction of a segmentation within mask (the whole image
/// without one).
pub fn bvtv(segmentation: &Image, mask: Option<&Image>) -> Result<f64, Error> {
    let mut v = 0f64;
    check("clip.bvtv", "", unsafe { clip_bvtv(segmentation.handle(), handle_of(mask), out(&mut v)) })?;
    Ok(v)
}

/// A box of the image as a new image.
pub fn crop(image: &Image, region: Region) -> Result<Image, Error> {
    let [x, y, z] = region.pos;
    let [sx, sy, sz] = region.size;
    let mut h = 0u32;
    created("clip.crop", unsafe { clip_crop(image.handle(), x, y, z, sx, sy, sz, out(&mut h)) }, h)
}

/// The box of the non-zero voxels.
pub fn bounding_box(image: &Image) -> Result<Region, Error> {
    let mut v = [0u32; 6];
    check("clip.bounding_box", "", unsafe { clip_bounding_box(image.handle(), v.as_mut_ptr().cast()) })?;
    Ok(Region { pos: [v[0], v[1], v[2]], size: [v[3], v[4], v[5]] })
}

/// A resampling method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interpolation {
    /// For labels and segmentations.
    Nearest = 0,
    Linear = 1,
}

/// The image resampled by a factor per axis.
pub fn resample(image: &Image, factor: [f64; 3], interpolation: Interpolation) -> Result<Image, Error> {
    let mut h = 0u32;
    let code = unsafe { clip_resample(image.handle(), factor[0], factor[1], factor[2], interpolation as u32, out(&mut h)) };
    created("clip.resample", code, h)
}
