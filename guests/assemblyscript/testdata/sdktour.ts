// A test guest that calls most of the SDK and reports what each call
// returned in its outputs, which as_test.go checks against values computed
// independently from the image file.

import {
  Box,
  HistogramOptions,
  ImageSpec,
  Job,
  Level,
  Value,
  boundingBox,
  formatJSONFloat,
  bvtv,
  componentSizes,
  convert,
  crop,
  histogram,
  label,
  run,
  statistics,
  threshold,
} from "../xf";

export * from "../xf/exports_gen";

function triple(v: StaticArray<f64>): string {
  return formatJSONFloat(v[0]) + "," + formatJSONFloat(v[1]) + "," + formatJSONFloat(v[2]);
}

run((job: Job): void => {
  const lower = job.inputs.float("lower");
  const bins = job.inputs.int("bins");
  job.log(Level.Info, "tour started");
  job.progress(10);

  const image = job.openImage("image");
  const stats = statistics(image, null);
  job.setOutputFloat("min", stats.min);
  job.setOutputFloat("max", stats.max);
  job.setOutputFloat("sum", stats.sum);
  job.setOutputFloat("mean", stats.mean);
  job.setOutputFloat("std", stats.std);
  job.setOutputInt("count", <i64>stats.count);

  const seg = threshold(image, new Value<f64>(lower), null);
  job.setOutputImage("segments", seg);
  const segStats = statistics(seg, null);
  job.setOutputInt("segmented", <i64>segStats.sum);
  const labels = label(seg, 6);
  job.setOutputInt("components", <i64>labels.count);
  const sizes = componentSizes(labels.image);
  let voxels: u64 = 0;
  for (let i = 0; i < sizes.length; i++) voxels += sizes[i];
  job.setOutputInt("component_voxels", <i64>voxels);
  // The brightest voxels only, for a box smaller than the image.
  const box = boundingBox(threshold(image, new Value<f64>(stats.max - 50), null));
  job.setOutputString(
    "bounding_box",
    box === null
      ? "none"
      : [box.x, box.y, box.z, box.sizeX, box.sizeY, box.sizeZ].map<string>((v: u32): string => v.toString()).join(","),
  );

  const opt = new HistogramOptions();
  opt.bins = <u32>bins;
  const hist = histogram(image, seg, opt);
  let histCount: u64 = 0;
  for (let i = 0; i < hist.length; i++) histCount += hist[i].count;
  job.setOutputString("histogram", hist.length.toString() + " bins, " + histCount.toString() + " voxels, cdf " + formatJSONFloat(hist[hist.length - 1].cdf));
  job.setOutputFloat("bvtv", bvtv(seg, null));

  const part = crop(image, new Box(1, 2, 3, 4, 5, 6));
  job.setOutputString("crop", part.info.size.join(",") + " at " + triple(part.info.origin));

  const spec = new ImageSpec();
  spec.size = [2, 2, 1];
  spec.dataType = "uint16";
  const made = job.createImage(spec);
  const data = new Uint8Array(8);
  for (let i = 0; i < 4; i++) store<u16>(data.dataStart + <usize>(2 * i), <u16>(1000 * (i + 1) + 7));
  made.write(new Box(0, 0, 0, 2, 2, 1), data);
  const back = new Uint8Array(8);
  made.read(new Box(0, 0, 0, 2, 2, 1), back);
  const values = new Array<string>();
  for (let i = 0; i < 4; i++) values.push(load<u16>(back.dataStart + <usize>(2 * i)).toString());
  job.setOutputString("roundtrip", values.join(","));
  made.close();

  job.setOutputString("converted", convert(image, "float32").info.dataType);
  const info = image.info;
  const dens = info.calibrationsOfUnitType("dens");
  job.setOutputString(
    "info",
    info.size.join(",") + " " + info.dataType + " spacing " + triple(info.spacing) + " origin " + triple(info.origin) +
      " " + info.calibrations.length.toString() + " calibrations, default " + info.defaultUnitType +
      ", dens(1000) = " + formatJSONFloat(dens[0].rawToCalibrated(1000)) + " " + dens[0].unitName,
  );
  job.setOutputString("job", job.info.taskTypeName + " " + job.info.taskTypeVersion + " abi " + job.info.abiVersion);

  job.setOutputString("name", job.inputs.string("name"));
  job.setOutputBool("flag", job.inputs.bool("flag"));
  job.setOutputBool("missing_is_null", job.inputs.optionalFloat("missing") === null && job.inputs.isNull("missing"));
  const units = new Map<string, string>();
  units.set("min", "raw");
  units.set("bvtv", "1");
  job.setOutputUnits(units);
  job.progress(100);
  if (!job.finish()) job.fail("finish refused");
});
