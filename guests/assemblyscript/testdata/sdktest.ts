// The SDK's pure parts (float formatting and parsing, the JSON reader and
// string encoding) as a module without imports, which as_test.go drives
// on wazero and checks against Go's own strconv and encoding/json.
//
// The caller writes its argument into the buffer input(len) returns; text
// results go to the buffer output() returns, their length being the
// function's result.

import { JsonKind, JsonValue, jsonString, parseJSON } from "../xf/json";
import { formatJSONFloat, goQuote, parseFloatLiteral, parseInt64Literal } from "../xf/strconv";

let inputBuf = new ArrayBuffer(0);
let outputBuf = new ArrayBuffer(0);
let intResult: i64 = 0;

export function trap(message: string | null, fileName: string | null, line: u32, column: u32): void {
  unreachable();
}

/** Makes room for an argument of len bytes and returns its address. */
export function input(len: u32): usize {
  inputBuf = new ArrayBuffer(<i32>len);
  return changetype<usize>(inputBuf);
}

/** The address of the last text result. */
export function output(): usize {
  return changetype<usize>(outputBuf);
}

function inputText(len: u32): string {
  return String.UTF8.decodeUnsafe(changetype<usize>(inputBuf), <usize>len);
}

function result(s: string): u32 {
  outputBuf = String.UTF8.encode(s);
  return <u32>outputBuf.byteLength;
}

/** formatFloat(x) writes x as encoding/json would. */
export function formatFloat(x: f64): u32 {
  return result(formatJSONFloat(x));
}

/** parseFloat reads the number literal in the input. */
export function parseFloat(len: u32): f64 {
  return parseFloatLiteral(inputText(len));
}

/** parseInt reads the number literal in the input as an int64: 1 and intValue() if it is one, else 0. */
export function parseInt(len: u32): i32 {
  const v = parseInt64Literal(inputText(len));
  if (v === null) return 0;
  intResult = v.value;
  return 1;
}

export function intValue(): i64 {
  return intResult;
}

/** quote writes the input as the SDK quotes keys in error messages. */
export function quote(len: u32): u32 {
  return result(goQuote(inputText(len)));
}

function canonical(v: JsonValue): string {
  switch (v.kind) {
    case JsonKind.Null: return "null";
    case JsonKind.Bool: return v.bool ? "true" : "false";
    case JsonKind.Number: return v.text;
    case JsonKind.String: return jsonString(v.text);
    case JsonKind.Array: {
      const parts = new Array<string>();
      for (let i = 0; i < v.items.length; i++) parts.push(canonical(v.items[i]));
      return "[" + parts.join(",") + "]";
    }
  }
  const parts = new Array<string>();
  for (let i = 0; i < v.items.length; i++) parts.push(jsonString(v.keys[i]) + ":" + canonical(v.items[i]));
  return "{" + parts.join(",") + "}";
}

/**
 * parse reads the input as a JSON document and writes it back without
 * whitespace, members in order, strings re-encoded; or "error: " and why.
 */
export function parse(len: u32): u32 {
  const bytes = Uint8Array.wrap(inputBuf, 0, <i32>len);
  const r = parseJSON(bytes);
  if (r.value === null) return result("error: " + r.error);
  return result(canonical(r.value!));
}
