// Lucid.CLIP.Threshold: a segmentation of the voxels within inclusive raw
// bounds, either of which may be null. A port of guests/go/clipthreshold
// with the same outputs and failure messages.

import { Job, run, threshold } from "../xf";

export * from "../xf/exports_gen";

run((job: Job): void => {
  const lower = job.inputs.optionalFloat("threshold_lower0");
  const upper = job.inputs.optionalFloat("threshold_upper0");
  const image = job.openImage("image");
  const segments = threshold(image, lower, upper);
  job.setOutputImage("segments", segments);
});
