// Host-side images: their metadata, calibrations and voxel boxes.

import { Status, xf_image_close, xf_image_info_get, xf_image_read, xf_image_write } from "./abi_gen";
import { addr, CallBuffer, check, failJob } from "./host";
import { JsonKind, JsonValue, jsonFloat, jsonString, parseJSON } from "./json";
import { parseFloatLiteral, parseInt64Literal } from "./strconv";

/**
 * A calibration converts raw voxel values to calibrated units and back:
 * calibrated = slope × raw + intercept.
 */
export class Calibration {
  type: string = "";
  unitType: string = "";
  unitName: string = "";
  slope: f64 = 0;
  intercept: f64 = 0;

  /** Converts a raw value to calibrated units. */
  rawToCalibrated(raw: f64): f64 {
    return this.slope * raw + this.intercept;
  }

  /** Converts a calibrated value to raw units. */
  calibratedToRaw(value: f64): f64 {
    return (value - this.intercept) / this.slope;
  }

  /** The calibration as JSON, with the fields and order of the Go SDK's. */
  toJSON(): string {
    let s = "{\"type\":" + jsonString(this.type) + ",\"unit_type\":" + jsonString(this.unitType);
    if (this.unitName.length > 0) s += ",\"unit_name\":" + jsonString(this.unitName);
    return s + ",\"slope\":" + floatJSON(this.slope) + ",\"intercept\":" + floatJSON(this.intercept) + "}";
  }
}

function floatJSON(x: f64): string {
  const s = jsonFloat(x);
  if (s === null) failJob("json: unsupported value in image spec");
  return s!;
}

/** An image's metadata. */
export class ImageInfo {
  /** Voxels along x, y and z. */
  size: StaticArray<i32> = [0, 0, 0];
  /** uint8, int8, uint16, int16, uint32, int32, float32 or float64. */
  dataType: string = "";
  spacing: StaticArray<f64> = [0, 0, 0];
  origin: StaticArray<f64> = [0, 0, 0];
  calibrations: Array<Calibration> = [];
  defaultUnitType: string = "";

  /** The calibrations with the unit type, such as dens or hu. */
  calibrationsOfUnitType(unitType: string): Array<Calibration> {
    const out = new Array<Calibration>();
    for (let i = 0; i < this.calibrations.length; i++) {
      if (this.calibrations[i].unitType == unitType) out.push(this.calibrations[i]);
    }
    return out;
  }
}

/** A block of voxels: [x, x+sizeX) × [y, y+sizeY) × [z, z+sizeZ). */
export class Box {
  constructor(
    public x: u32,
    public y: u32,
    public z: u32,
    public sizeX: u32,
    public sizeY: u32,
    public sizeZ: u32,
  ) {}
}

/** Decoding of the image information, which reports the first problem. */
class InfoDecoder {
  error: string = "";

  private bad(field: string, want: string): void {
    if (this.error.length == 0) this.error = "field " + field + ": want " + want;
  }

  private num(v: JsonValue, field: string): f64 {
    if (v.kind != JsonKind.Number) {
      this.bad(field, "a number");
      return 0;
    }
    return parseFloatLiteral(v.text);
  }

  private int(v: JsonValue, field: string): i32 {
    const n = v.kind == JsonKind.Number ? parseInt64Literal(v.text) : null;
    if (n === null || n.value < 0 || n.value > i32.MAX_VALUE) {
      this.bad(field, "a non-negative integer");
      return 0;
    }
    return <i32>n.value;
  }

  private str(v: JsonValue | null, field: string): string {
    if (v === null || v.isNull) return "";
    if (v.kind != JsonKind.String) {
      this.bad(field, "a string");
      return "";
    }
    return v.text;
  }

  private triple(v: JsonValue | null, field: string): Array<JsonValue> {
    if (v === null || v.isNull) return [];
    if (v.kind != JsonKind.Array || v.items.length != 3) {
      this.bad(field, "an array of three numbers");
      return [];
    }
    return v.items;
  }

  private floats(v: JsonValue | null, field: string, out: StaticArray<f64>): void {
    const items = this.triple(v, field);
    for (let i = 0; i < items.length; i++) out[i] = this.num(items[i], field);
  }

  decode(v: JsonValue): ImageInfo {
    const info = new ImageInfo();
    if (v.kind != JsonKind.Object) {
      this.bad("(top level)", "an object");
      return info;
    }
    const size = this.triple(v.get("size"), "size");
    for (let i = 0; i < size.length; i++) info.size[i] = this.int(size[i], "size");
    info.dataType = this.str(v.get("data_type"), "data_type");
    this.floats(v.get("spacing_mm"), "spacing_mm", info.spacing);
    this.floats(v.get("origin_mm"), "origin_mm", info.origin);
    info.defaultUnitType = this.str(v.get("default_unit_type"), "default_unit_type");
    const cals = v.get("calibrations");
    if (cals !== null && !cals.isNull) {
      if (cals.kind != JsonKind.Array) {
        this.bad("calibrations", "an array");
        return info;
      }
      for (let i = 0; i < cals.items.length; i++) {
        const c = cals.items[i];
        if (c.kind != JsonKind.Object) {
          this.bad("calibrations", "an array of objects");
          continue;
        }
        const cal = new Calibration();
        cal.type = this.str(c.get("type"), "calibrations.type");
        cal.unitType = this.str(c.get("unit_type"), "calibrations.unit_type");
        cal.unitName = this.str(c.get("unit_name"), "calibrations.unit_name");
        const slope = c.get("slope");
        if (slope !== null && !slope.isNull) cal.slope = this.num(slope, "calibrations.slope");
        const intercept = c.get("intercept");
        if (intercept !== null && !intercept.isNull) cal.intercept = this.num(intercept, "calibrations.intercept");
        info.calibrations.push(cal);
      }
    }
    return info;
  }
}

/** A host-side image. Its voxels stay on the host unless read. */
export class Image {
  constructor(
    public readonly handle: u32,
    public readonly info: ImageInfo,
  ) {}

  /** Copies a box of voxels (x fastest, little-endian, the image's data type) into buf. */
  read(box: Box, buf: Uint8Array): void {
    check(
      "xf.image_read",
      "",
      xf_image_read(this.handle, box.x, box.y, box.z, box.sizeX, box.sizeY, box.sizeZ, buf.dataStart, <u32>buf.byteLength),
    );
  }

  /** Copies a box of voxels from buf into an image the job created. */
  write(box: Box, buf: Uint8Array): void {
    check(
      "xf.image_write",
      "",
      xf_image_write(this.handle, box.x, box.y, box.z, box.sizeX, box.sizeY, box.sizeZ, buf.dataStart, <u32>buf.byteLength),
    );
  }

  /** Releases the image; the handle becomes invalid. */
  close(): void {
    check("xf.image_close", "", xf_image_close(this.handle));
  }
}

/**
 * newImage wraps a handle the host issued, reading its metadata; op names
 * where the handle came from in messages (an input key or a kernel), as in
 * the Go SDK. On failure it closes the handle and fails the job.
 */
export function newImage(op: string, handle: u32): Image {
  const out = new CallBuffer();
  let st: i32;
  do st = xf_image_info_get(handle, out.ptr, out.cap, out.lenPtr);
  while (out.retry(st));
  if (st != Status.OK) {
    xf_image_close(handle);
    check("xf.image_info_get", op, st);
  }
  const parsed = parseJSON(out.bytes());
  let error = parsed.error;
  let info = new ImageInfo();
  if (parsed.value !== null) {
    const d = new InfoDecoder();
    info = d.decode(parsed.value!);
    error = d.error;
  }
  if (error.length > 0) {
    xf_image_close(handle);
    failJob(op + ": decode image info: " + error);
  }
  return new Image(handle, info);
}

/**
 * What to create with Job.createImage. Unset fields (null, "" or empty)
 * are inherited from like when it is set.
 */
export class ImageSpec {
  size: StaticArray<i32> | null = null;
  dataType: string = "";
  spacing: StaticArray<f64> | null = null;
  origin: StaticArray<f64> | null = null;
  calibrations: Array<Calibration> = [];
  like: Image | null = null;

  /** The spec as the JSON of xf.image_create, fields in the Go SDK's order. */
  toJSON(): string {
    const parts = new Array<string>();
    const size = this.size;
    if (size !== null) parts.push("\"size\":[" + size[0].toString() + "," + size[1].toString() + "," + size[2].toString() + "]");
    if (this.dataType.length > 0) parts.push("\"data_type\":" + jsonString(this.dataType));
    const spacing = this.spacing;
    if (spacing !== null) parts.push("\"spacing_mm\":" + triple(spacing));
    const origin = this.origin;
    if (origin !== null) parts.push("\"origin_mm\":" + triple(origin));
    if (this.calibrations.length > 0) {
      const cals = new Array<string>();
      for (let i = 0; i < this.calibrations.length; i++) cals.push(this.calibrations[i].toJSON());
      parts.push("\"calibrations\":[" + cals.join(",") + "]");
    }
    const like = this.like;
    if (like !== null) parts.push("\"like\":" + like.handle.toString());
    return "{" + parts.join(",") + "}";
  }
}

function triple(v: StaticArray<f64>): string {
  return "[" + floatJSON(v[0]) + "," + floatJSON(v[1]) + "," + floatJSON(v[2]) + "]";
}
