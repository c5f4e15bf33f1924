//! Test.Rust.SDKCheck: calls every part of the xf crate against a real
//! host and checks the results for consistency, failing with a message
//! naming the first call that disagrees. guests/rust/rust_test.go runs it
//! and checks its outputs against values computed from the image file.
//!
//! Input mode: "check" runs the checks; "panic" panics after writing to
//! stdout; "error" returns an error from the task.

use std::fs;

use xf::{ArithOp, DataType, Error, FileOutput, HistogramOptions, Image, ImageSpec, Interpolation, Job, Level, MorphOp, Region, Status};

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::new(format!("sdk check: {}", what())))
    }
}

fn range(image: &Image) -> Result<(f64, f64), Error> {
    xf::minmax(image, None)
}

fn main() {
    xf::run(|job| {
        let mode = job.inputs().string("mode")?;
        match mode.as_str() {
            "panic" => {
                println!("before the panic");
                let empty: Vec<u32> = Vec::new();
                let i = empty.len() + 3;
                ensure(empty[i] == 0, || "unreachable".into())
            }
            "error" => Err(Error::new("task error")),
            _ => check(job),
        }
    })
}

fn check(job: &Job) -> Result<(), Error> {
    let info = job.info();
    ensure(info.task_type_name == "Test.Rust.SDKCheck" && info.abi_version == xf::ABI_VERSION, || format!("job info {:?}", info))?;
    let lower = job.inputs().f64("lower")?;
    ensure(job.inputs().optional_f64("missing")?.is_none(), || "a missing input is not None".into())?;

    // Errors carry the import, the key and the status.
    let e = job.open_image("nope").unwrap_err();
    ensure(e.status() == Some(Status::NotFound) && e.to_string() == "xf.image_open \"nope\": NOT_FOUND", || format!("open_image(nope): {}", e))?;
    let e = job.set_output("nope", &1).unwrap_err();
    ensure(e.to_string() == "xf.output_set \"nope\": NOT_FOUND", || format!("set_output(nope): {}", e))?;

    let image = job.open_image("image")?;
    let size = image.info().size;
    let voxels = image.info().voxels();
    ensure(image.info().data_type == "uint16", || format!("data type {}", image.info().data_type))?;
    let (lo, hi) = range(&image)?;

    let stats = xf::stats(&image, None)?;
    ensure(stats.min == lo && stats.max == hi && stats.count == voxels, || format!("stats {:?}", stats))?;
    ensure(stats.mean >= lo && stats.mean <= hi && stats.std > 0.0, || format!("stats {:?}", stats))?;

    let bins = xf::histogram(&image, None, &HistogramOptions { bins: 16, range: None, integer_bins: false })?;
    let counted: u64 = bins.iter().map(|b| b.count).sum();
    ensure(bins.len() == 16 && counted == voxels && bins[15].cdf == 1.0, || format!("histogram {:?}", bins))?;
    let bins = xf::histogram(&image, None, &HistogramOptions { bins: 0, range: Some((lo, hi)), integer_bins: true })?;
    ensure(bins.iter().map(|b| b.count).sum::<u64>() == voxels, || "integer histogram count".into())?;

    let segments = xf::threshold(&image, Some(lower), None)?;
    ensure(segments.info().data_type == "uint8" && segments.info().size == size, || format!("segments {:?}", segments.info()))?;
    let bone = xf::stats(&segments, None)?.sum;
    let bvtv = xf::bvtv(&segments, None)?;
    ensure(bvtv == bone / voxels as f64, || format!("bvtv {} for {} of {} voxels", bvtv, bone, voxels))?;
    ensure(xf::bvtv(&xf::threshold(&image, None, None)?, None)? == 1.0, || "unbounded threshold".into())?;

    ensure(range(&xf::threshold_multi(&image, &[lower, hi + 1.0])?)? == (0.0, 1.0), || "threshold_multi".into())?;
    let masked = xf::mask(&image, &segments)?;
    ensure(range(&masked)?.1 == hi, || "mask".into())?;
    let converted = xf::convert(&image, DataType::Float32)?;
    ensure(converted.info().data_type == "float32" && range(&converted)? == (lo, hi), || "convert".into())?;
    ensure(range(&xf::arith_scalar(&image, ArithOp::Add, 1.0)?)? == (lo + 1.0, hi + 1.0), || "arith_scalar".into())?;
    ensure(range(&xf::arith(&image, &image, ArithOp::Add)?)? == (2.0 * lo, 2.0 * hi), || "arith".into())?;
    ensure(xf::gaussian(&image, 0.05)?.info().data_type == "float32", || "gaussian".into())?;
    ensure(xf::median(&image, 1)?.info().data_type == "uint16", || "median".into())?;
    ensure(xf::morphology(&segments, MorphOp::Open, 6, 1)?.info().data_type == "uint8", || "morphology".into())?;

    let (labels, n) = xf::label(&segments, 26)?;
    let sizes = xf::component_sizes(&labels)?;
    ensure(sizes.len() == n as usize && sizes.iter().sum::<u64>() as f64 == bone, || format!("{} labels, sizes {:?}", n, sizes))?;
    let largest = sizes.iter().copied().max().unwrap_or(0);
    ensure(xf::stats(&xf::keep_largest(&segments, 26, 1)?, None)?.sum == largest as f64, || "keep_largest".into())?;
    let big: u64 = sizes.iter().filter(|&&s| s >= 2).sum();
    ensure(xf::stats(&xf::remove_small(&segments, 26, 2)?, None)?.sum == big as f64, || "remove_small".into())?;
    let distances = xf::distance_transform(&segments)?;
    ensure(distances.info().data_type == "float32" && range(&distances)?.0 == 0.0, || "distance_transform".into())?;
    let bbox = xf::bounding_box(&segments)?;
    ensure((0..3).all(|i| bbox.pos[i] + bbox.size[i] <= size[i]), || format!("bounding box {:?}", bbox))?;
    let half = xf::resample(&image, [0.5, 0.5, 0.5], Interpolation::Linear)?;
    ensure(half.info().size == size.map(|n| ((n as f64) * 0.5).round() as u32), || format!("resample {:?}", half.info().size))?;

    // Boxes read from a crop and from the image agree.
    let region = Region { pos: [1, 1, 1], size: [4, 3, 2] };
    let cropped = xf::crop(&image, region)?;
    ensure(cropped.info().size == [4, 3, 2], || "crop".into())?;
    let (mut a, mut b) = (vec![0u8; 48], vec![0u8; 48]);
    image.read(region, &mut a)?;
    cropped.read(Region { pos: [0, 0, 0], size: [4, 3, 2] }, &mut b)?;
    ensure(a == b && a.iter().any(|&x| x != 0), || "crop contents".into())?;

    let created = job.create_image(&ImageSpec { size: Some([3, 2, 1]), data_type: Some(DataType::Uint16), ..Default::default() })?;
    let pixels: Vec<u8> = (1..=12).collect();
    let all = Region { pos: [0, 0, 0], size: [3, 2, 1] };
    created.write(all, &pixels)?;
    let mut back = vec![0u8; 12];
    created.read(all, &mut back)?;
    ensure(back == pixels, || format!("image write/read {:?}", back))?;
    let e = image.write(all, &pixels).unwrap_err();
    ensure(e.status() == Some(Status::Denied), || format!("writing an input image: {}", e))?;
    created.close()?;
    let like = job.create_image(&ImageSpec { like: Some(image.handle()), ..Default::default() })?;
    ensure(like.info().size == size && like.info().spacing_mm == image.info().spacing_mm, || format!("like {:?}", like.info()))?;

    let path = job.temp_path("table.csv")?;
    ensure(path.starts_with("/scratch/") && path.ends_with("table.csv"), || format!("temp path {}", path))?;
    fs::write(&path, "a,b\n1,2\n").map_err(|e| Error::new(format!("write {}: {}", path, e)))?;
    let reference = job.upload_file(&path)?;
    let related = job.related_path("/inputs/x/scan.omni", "_seg.omni")?;
    ensure(related.ends_with("scan_seg.omni"), || format!("related path {}", related))?;

    job.log(Level::Info, "sdk check log line")?;
    job.activity_log(Level::Warning, "sdk check activity")?;
    job.progress(50.0)?;
    job.set_estimated_duration(10.0)?;
    job.set_error_message("transient")?;
    job.clear_error_message()?;
    job.set_output_units(&[("min", "raw"), ("max", "raw")])?;

    job.set_output("min", &lo)?;
    job.set_output("max", &hi)?;
    job.set_output("voxels", &voxels)?;
    job.set_output("bvtv", &bvtv)?;
    job.set_output("table", &FileOutput::csv(&reference))?;
    job.set_output_image("segments", &segments)?;
    // run's own finish then meets INVALID_STATE, which it ignores.
    job.finish()
}
