// Lucid.CLIP.StatMinMax: the minimum and maximum voxel value of an image,
// optionally converted to a calibrated unit. A port of guests/go/statminmax
// with the same outputs and failure messages.

import { Job, minMax, run } from "../xf";

export * from "../xf/exports_gen";

run((job: Job): void => {
  const calibration = job.inputs.optionalString("calibration");
  const image = job.openImage("image"); // a host-side handle: no voxels copied
  const range = minMax(image, null); // a native kernel on the host
  let lo = range.min;
  let hi = range.max;
  if (calibration !== null) {
    const cals = image.info.calibrationsOfUnitType(calibration);
    if (cals.length == 0) job.fail("Image is missing calibration metadata of type " + calibration);
    lo = cals[0].rawToCalibrated(lo);
    hi = cals[0].rawToCalibrated(hi);
  }
  job.setOutputFloat("min", lo);
  job.setOutputFloat("max", hi);
});
