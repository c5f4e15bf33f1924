// The job: inputs, outputs, the job's end, logs and scratch files.

import {
  Status,
  xf_activity_log,
  xf_error_clear,
  xf_error_set,
  xf_estimated_duration_set,
  xf_finish,
  xf_image_create,
  xf_image_open,
  xf_input_file_fetch,
  xf_inputs_get,
  xf_job_info_get,
  xf_log,
  xf_output_file_upload,
  xf_output_image_set,
  xf_output_set,
  xf_output_units_set,
  xf_progress_set,
  xf_related_path_create,
  xf_temp_path_create,
} from "./abi_gen";
import { addr, CallBuffer, callError, check, failJob, outBuffer, utf8 } from "./host";
import { Image, ImageSpec, newImage } from "./image";
import { JsonKind, JsonValue, jsonFloat, jsonString, parseJSON } from "./json";
import { formatNonFinite, goQuote, parseFloatLiteral, parseInt64Literal } from "./strconv";
import { Value } from "./value";

/** A log level. */
export enum Level {
  Debug = 0,
  Info = 1,
  Warning = 2,
  Error = 3,
}

function unmarshalError(value: string, goType: string): string {
  return "json: cannot unmarshal " + value + " into Go value of type " + goType;
}

/**
 * The job's inputs: every input key of the interface, validated by the
 * host, null for an input given in mode none. The getters fail the job
 * with the Go SDK's message when a value has the wrong type.
 */
export class Inputs {
  constructor(private readonly object: JsonValue) {}

  /** The raw JSON value of an input (composites such as Image or CSV), or null if absent. */
  raw(key: string): JsonValue | null {
    return this.object.get(key);
  }

  /** Whether the input is null (given in mode none) or absent. */
  isNull(key: string): bool {
    const v = this.object.get(key);
    return v === null || v.isNull;
  }

  private present(key: string): JsonValue {
    const v = this.object.get(key);
    if (v === null) failJob("input " + goQuote(key) + " does not exist");
    if (v!.isNull) failJob("input " + goQuote(key) + " is null");
    return v!;
  }

  private mismatch(key: string, value: string, goType: string): void {
    failJob("input " + goQuote(key) + ": " + unmarshalError(value, goType));
  }

  private toFloat(key: string, v: JsonValue): f64 {
    if (v.kind != JsonKind.Number) this.mismatch(key, v.kindName, "float64");
    const f = parseFloatLiteral(v.text);
    if (!isFinite(f)) this.mismatch(key, "number " + v.text, "float64");
    return f;
  }

  private toInt(key: string, v: JsonValue): i64 {
    if (v.kind != JsonKind.Number) this.mismatch(key, v.kindName, "int64");
    const n = parseInt64Literal(v.text);
    if (n === null) this.mismatch(key, "number " + v.text, "int64");
    return n!.value;
  }

  private toText(key: string, v: JsonValue): string {
    if (v.kind != JsonKind.String) this.mismatch(key, v.kindName, "string");
    return v.text;
  }

  private toBool(key: string, v: JsonValue): bool {
    if (v.kind != JsonKind.Bool) this.mismatch(key, v.kindName, "bool");
    return v.bool;
  }

  /** A Float input, or null when it is null. */
  optionalFloat(key: string): Value<f64> | null {
    if (this.isNull(key)) return null;
    return new Value<f64>(this.toFloat(key, this.object.get(key)!));
  }

  /** An Integer input, or null when it is null. */
  optionalInt(key: string): Value<i64> | null {
    if (this.isNull(key)) return null;
    return new Value<i64>(this.toInt(key, this.object.get(key)!));
  }

  /** A String input, or null when it is null. */
  optionalString(key: string): string | null {
    if (this.isNull(key)) return null;
    return this.toText(key, this.object.get(key)!);
  }

  /** A Boolean input, or null when it is null. */
  optionalBool(key: string): Value<bool> | null {
    if (this.isNull(key)) return null;
    return new Value<bool>(this.toBool(key, this.object.get(key)!));
  }

  /** A Float input that must not be null. */
  float(key: string): f64 {
    return this.toFloat(key, this.present(key));
  }

  /** An Integer input that must not be null. */
  int(key: string): i64 {
    return this.toInt(key, this.present(key));
  }

  /** A String input that must not be null. */
  string(key: string): string {
    return this.toText(key, this.present(key));
  }

  /** A Boolean input that must not be null. */
  bool(key: string): bool {
    return this.toBool(key, this.present(key));
  }
}

/** What the host tells the job about itself. */
export class JobInfo {
  jobID: string = "";
  jobSerial: i64 = 0;
  abiVersion: string = "";
  taskTypeName: string = "";
  taskTypeVersion: string = "";
}

function stringField(obj: JsonValue, key: string): string {
  const v = obj.get(key);
  return v !== null && v.kind == JsonKind.String ? v.text : "";
}

function decodeJobInfo(v: JsonValue): JobInfo {
  const info = new JobInfo();
  info.jobID = stringField(v, "job_id");
  info.abiVersion = stringField(v, "abi_version");
  const serial = v.get("job_serial");
  if (serial !== null && serial.kind == JsonKind.Number) {
    const n = parseInt64Literal(serial.text);
    if (n !== null) info.jobSerial = n.value;
  }
  const taskType = v.get("task_type");
  if (taskType !== null) {
    info.taskTypeName = stringField(taskType, "name");
    info.taskTypeVersion = stringField(taskType, "version");
  }
  return info;
}

/** The running job. There is one per guest instance; run() makes it. */
export class Job {
  constructor(public readonly inputs: Inputs, public readonly info: JobInfo) {}

  /** Sets an output to a JSON text, which the host checks against the interface. */
  setOutput(key: string, json: string): void {
    const k = utf8(key);
    const v = utf8(json);
    check("xf.output_set", key, xf_output_set(addr(k), <u32>k.byteLength, addr(v), <u32>v.byteLength));
  }

  /** Sets a Float output, written as Go's encoding/json writes a float64. */
  setOutputFloat(key: string, value: f64): void {
    const text = jsonFloat(value);
    if (text === null) failJob("output " + goQuote(key) + ": json: unsupported value: " + formatNonFinite(value));
    this.setOutput(key, text!);
  }

  /** Sets an Integer output. */
  setOutputInt(key: string, value: i64): void {
    this.setOutput(key, value.toString());
  }

  /** Sets a String output. */
  setOutputString(key: string, value: string): void {
    this.setOutput(key, jsonString(value));
  }

  /** Sets a Boolean output. */
  setOutputBool(key: string, value: bool): void {
    this.setOutput(key, value ? "true" : "false");
  }

  /** Stores a host-side image on the file store as the Image output key. */
  setOutputImage(key: string, image: Image): void {
    const k = utf8(key);
    check("xf.output_image_set", key, xf_output_image_set(addr(k), <u32>k.byteLength, image.handle));
  }

  /** Sets the units of outputs, keyed by output key. */
  setOutputUnits(units: Map<string, string>): void {
    const keys = units.keys();
    keys.sort((a: string, b: string): i32 => (a < b ? -1 : a > b ? 1 : 0)); // Go writes maps sorted
    const parts = new Array<string>();
    for (let i = 0; i < keys.length; i++) parts.push(jsonString(keys[i]) + ":" + jsonString(units.get(keys[i])));
    const data = utf8("{" + parts.join(",") + "}");
    check("xf.output_units_set", "", xf_output_units_set(addr(data), <u32>data.byteLength));
  }

  /**
   * Ends the job successfully; every output must have been set. It returns
   * false if the job had already ended (INVALID_STATE: finished or failed
   * before, or failed now for a missing output).
   */
  finish(): bool {
    const st = xf_finish();
    if (st == Status.INVALID_STATE) return false;
    check("xf.finish", "", st);
    return true;
  }

  /** Ends the job as failed with message. It does not return. */
  fail(message: string): void {
    failJob(message);
  }

  /** Records an error message in the job's metadata without ending the job. */
  setErrorMessage(message: string): void {
    const m = utf8(message);
    check("xf.error_set", "", xf_error_set(addr(m), <u32>m.byteLength));
  }

  /** Clears the error message. */
  clearErrorMessage(): void {
    check("xf.error_clear", "", xf_error_clear());
  }

  /** Reports progress in percent (0 to 100). */
  progress(percent: f64): void {
    check("xf.progress_set", "", xf_progress_set(percent));
  }

  /** Sets the estimated total duration of the job in seconds. */
  setEstimatedDuration(seconds: f64): void {
    check("xf.estimated_duration_set", "", xf_estimated_duration_set(seconds));
  }

  /** Appends a line to the job log; false if the log is full and the line was dropped. */
  log(level: Level, message: string): bool {
    const m = utf8(message);
    const st = xf_log(<i32>level, addr(m), <u32>m.byteLength);
    if (st == Status.LIMIT_EXCEEDED) return false;
    check("xf.log", "", st);
    return true;
  }

  /** Adds a message to the workflow's activity log; false if it was dropped by the log limit. */
  activityLog(level: Level, title: string): bool {
    const m = utf8(title);
    const st = xf_activity_log(<i32>level, addr(m), <u32>m.byteLength);
    if (st == Status.LIMIT_EXCEEDED) return false;
    check("xf.activity_log", "", st);
    return true;
  }

  /** A unique path in the scratch directory ending in name. */
  tempPath(name: string): string {
    const n = utf8(name);
    const out = new CallBuffer();
    let st: i32;
    do st = xf_temp_path_create(addr(n), <u32>n.byteLength, out.ptr, out.cap, out.lenPtr);
    while (out.retry(st));
    check("xf.temp_path_create", name, st);
    return out.text();
  }

  /** A unique scratch path named after path with its extension replaced by postfix. */
  relatedPath(path: string, postfix: string): string {
    const p = utf8(path);
    const s = utf8(postfix);
    const out = new CallBuffer();
    let st: i32;
    do st = xf_related_path_create(addr(p), <u32>p.byteLength, addr(s), <u32>s.byteLength, out.ptr, out.cap, out.lenPtr);
    while (out.retry(st));
    check("xf.related_path_create", path, st);
    return out.text();
  }

  /** Makes a composite input's files readable under /inputs and returns its main file's path. */
  downloadInputFile(key: string): string {
    const k = utf8(key);
    const out = new CallBuffer();
    let st: i32;
    do st = xf_input_file_fetch(addr(k), <u32>k.byteLength, out.ptr, out.cap, out.lenPtr);
    while (out.retry(st));
    check("xf.input_file_fetch", key, st);
    return out.text();
  }

  /** Uploads a scratch file and returns its file reference for a composite output. */
  uploadFile(path: string): string {
    const p = utf8(path);
    const out = new CallBuffer();
    let st: i32;
    do st = xf_output_file_upload(addr(p), <u32>p.byteLength, out.ptr, out.cap, out.lenPtr);
    while (out.retry(st));
    check("xf.output_file_upload", path, st);
    return out.text();
  }

  /** Opens an Image input as a host-side image: no voxels are copied. */
  openImage(key: string): Image {
    const k = utf8(key);
    const h = outBuffer(4);
    check("xf.image_open", key, xf_image_open(addr(k), <u32>k.byteLength, addr(h)));
    return newImage(key, load<u32>(addr(h)));
  }

  /** Creates a zero-filled writable image. */
  createImage(spec: ImageSpec): Image {
    const data = utf8(spec.toJSON());
    const h = outBuffer(4);
    check("xf.image_create", "", xf_image_create(addr(data), <u32>data.byteLength, addr(h)));
    return newImage("created image", load<u32>(addr(h)));
  }
}

/** Decodes a JSON document the host wrote, failing the job if it is broken. */
function decodeJSON(what: string, out: CallBuffer): JsonValue {
  const parsed = parseJSON(out.bytes());
  if (parsed.value === null) failJob("decode " + what + ": " + parsed.error);
  return parsed.value!;
}

/** Reads the job's inputs and information, as the Go SDK's Start does. */
export function start(): Job {
  let out = new CallBuffer();
  let st: i32;
  do st = xf_inputs_get(out.ptr, out.cap, out.lenPtr);
  while (out.retry(st));
  check("xf.inputs_get", "", st);
  let inputs = decodeJSON("inputs", out);
  if (inputs.isNull) {
    inputs = new JsonValue(); // Go decodes null into an empty map
    inputs.kind = JsonKind.Object;
  }
  if (inputs.kind != JsonKind.Object) failJob("decode inputs: " + unmarshalError(inputs.kindName, "xf.Inputs"));

  out = new CallBuffer();
  do st = xf_job_info_get(out.ptr, out.cap, out.lenPtr);
  while (out.retry(st));
  check("xf.job_info_get", "", st);
  const info = decodeJSON("job info", out);
  return new Job(new Inputs(inputs), decodeJobInfo(info));
}

/**
 * run starts the job and runs task. A task fails the job with job.fail,
 * or through any SDK call that fails; when it returns, run finishes the
 * job unless the task already did. Call it once, from the entry file's
 * top level, which the build exports as _start.
 */
export function run(task: (job: Job) => void): void {
  const job = start();
  task(job);
  const st = xf_finish();
  if (st != Status.OK && st != Status.INVALID_STATE) failJob(callError("xf.finish", "", st));
}
