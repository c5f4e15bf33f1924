//! Lucid.CLIP.StatMinMax: the minimum and maximum voxel value of an image,
//! optionally converted to a calibrated unit. A port of
//! guests/go/statminmax with the same outputs and failure messages.

fn main() {
    xf::run(|job| {
        let calibration = job.inputs().optional_string("calibration")?;
        let image = job.open_image("image")?;
        let (mut lo, mut hi) = xf::minmax(&image, None)?;
        if let Some(unit) = calibration {
            let cals = image.info().calibrations_of_unit_type(&unit);
            let cal = match cals.first() {
                Some(&cal) => cal,
                None => job.fail(&format!("Image is missing calibration metadata of type {}", unit)),
            };
            lo = cal.raw_to_calibrated(lo);
            hi = cal.raw_to_calibrated(hi);
        }
        job.set_output("min", &lo)?;
        job.set_output("max", &hi)
    })
}
