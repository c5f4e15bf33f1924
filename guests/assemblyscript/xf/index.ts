// Package xf is the AssemblyScript guest SDK of xfhost: it lets a XamFlow
// task type written in AssemblyScript read its inputs, process images with
// the host's native kernels and store its outputs, through the xfhost ABI
// (abi/ABI.md). Its API follows the Go SDK (guests/go/xf):
//
//   import { Job, minMax, run } from "../xf";
//   export * from "../xf/exports_gen"; // the ABI version marker
//
//   run((job: Job): void => {
//     const image = job.openImage("image");
//     const range = minMax(image, null);
//     job.setOutputFloat("min", range.min);
//     job.setOutputFloat("max", range.max);
//   });
//
// Build task modules with build.sh, which compiles with --exportStart
// _start (the entry file's top level becomes the WASI entry point the host
// runs) and --use abort=xf/abort/abortJob.
//
// AssemblyScript has no exceptions: an SDK call whose host call fails ends
// the job with the message the Go SDK's error would carry. Statuses that
// are ordinary outcomes are returned instead (Job.finish, Job.log,
// boundingBox). For full control, call the raw imports of abi_gen.ts.

import "./abort"; // the handler the build points abort at

export { ABI_VERSION, Status, statusName } from "./abi_gen";
export { Level, Inputs, JobInfo, Job, run, start } from "./job";
export { Value } from "./value";
export { Calibration, ImageInfo, Box, Image, ImageSpec } from "./image";
export {
  MinMax,
  minMax,
  threshold,
  Stats,
  statistics,
  Bin,
  HistogramOptions,
  histogram,
  thresholdMulti,
  mask,
  dataTypeCode,
  convert,
  ArithOp,
  arithScalar,
  arith,
  gaussian,
  median,
  MorphOp,
  morphology,
  Labels,
  label,
  componentSizes,
  keepLargest,
  removeSmall,
  distanceTransform,
  bvtv,
  crop,
  boundingBox,
  Interpolation,
  resample,
} from "./kernels";
export { JsonKind, JsonValue, JsonResult, parseJSON, jsonString, jsonFloat } from "./json";
export { formatJSONFloat, parseFloatLiteral, parseInt64Literal } from "./strconv";
export { csvOutput, bitmapOutput, htmlDocumentOutput, foreignFileOutput, snapshotMetadataOutput, entityOutput } from "./outputs";
