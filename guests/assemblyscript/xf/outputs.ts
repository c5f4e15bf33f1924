// The create_output_* helpers of xfworkerutil: they build the JSON values
// of composite outputs (shapes in params/TYPES.md) for Job.setOutput, as the
// Go SDK's types marshal. File references come from Job.uploadFile; images
// made on the host are stored more simply with Job.setOutputImage.

import { jsonString } from "./json";

function fileOutput(type: string, ref: string): string {
  return "{\"type\":" + jsonString(type) + ",\"filename\":" + jsonString(ref) + "}";
}

/** A CSV output for an uploaded file. */
export function csvOutput(ref: string): string {
  return fileOutput("CSV", ref);
}

/** A Bitmap output for an uploaded file. */
export function bitmapOutput(ref: string): string {
  return fileOutput("Bitmap", ref);
}

/** An HTMLDocument output for an uploaded file. */
export function htmlDocumentOutput(ref: string): string {
  return fileOutput("HTMLDocument", ref);
}

/** A ForeignFile output for an uploaded file. */
export function foreignFileOutput(ref: string): string {
  return fileOutput("ForeignFile", ref);
}

/** A SnapshotMetadata output for an uploaded file. */
export function snapshotMetadataOutput(ref: string): string {
  return fileOutput("SnapshotMetadata", ref);
}

/** An Entity output. */
export function entityOutput(uuid: string, name: string): string {
  return "{\"type\":\"Entity\",\"uuid\":" + jsonString(uuid) + ",\"name\":" + jsonString(name) + "}";
}
