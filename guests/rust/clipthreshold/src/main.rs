//! Lucid.CLIP.Threshold: a segmentation of the voxels within inclusive raw
//! bounds, either of which may be null. A port of guests/go/clipthreshold
//! with the same outputs and failure messages.

fn main() {
    xf::run(|job| {
        let lower = job.inputs().optional_f64("threshold_lower0")?;
        let upper = job.inputs().optional_f64("threshold_upper0")?;
        let image = job.open_image("image")?;
        let segments = xf::threshold(&image, lower, upper)?;
        job.set_output_image("segments", &segments)
    })
}
