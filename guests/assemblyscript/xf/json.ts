// A small strict JSON reader (RFC 8259) for the documents the host hands a
// guest (inputs, job information, image information), and the encoding of
// output values exactly as Go's encoding/json writes them.
//
// The reader accepts what Go's encoding/json accepts and decodes strings the
// same way: invalid UTF-8 and unpaired surrogate escapes become U+FFFD, and
// of duplicate object keys the last one wins. Numbers keep their literal
// text so that each getter converts it exactly (strconv.ts).

import { formatJSONFloat, hexByte } from "./strconv";

/** The kind of a JSON value. */
export enum JsonKind {
  Null,
  Bool,
  Number,
  String,
  Array,
  Object,
}

/** A parsed JSON value. */
export class JsonValue {
  kind: JsonKind = JsonKind.Null;
  /** The value of a Bool. */
  bool: bool = false;
  /** The literal of a Number, the decoded text of a String. */
  text: string = "";
  /** The elements of an Array, the member values of an Object. */
  items: Array<JsonValue> = [];
  /** The member names of an Object, parallel to items. */
  keys: Array<string> = [];

  get isNull(): bool {
    return this.kind == JsonKind.Null;
  }

  /** The member named key of an Object (the last one if repeated), or null. */
  get(key: string): JsonValue | null {
    if (this.kind != JsonKind.Object) return null;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] == key) return this.items[i];
    }
    return null;
  }

  /** The name Go's encoding/json gives the kind in its errors. */
  get kindName(): string {
    switch (this.kind) {
      case JsonKind.Null: return "null";
      case JsonKind.Bool: return "bool";
      case JsonKind.Number: return "number";
      case JsonKind.String: return "string";
      case JsonKind.Array: return "array";
    }
    return "object";
  }
}

/** The result of parsing: a value, or the reason there is none. */
export class JsonResult {
  constructor(public value: JsonValue | null, public error: string) {}
}

/** Nesting deeper than this is refused rather than risking the stack. */
const MAX_DEPTH: i32 = 512;

/** A growable buffer of UTF-16 code units for decoding strings. */
class Utf16Builder {
  private buf: Uint16Array = new Uint16Array(32);
  private n: i32 = 0;

  push(unit: i32): void {
    if (this.n == this.buf.length) {
      const bigger = new Uint16Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.n++] = <u16>unit;
  }

  pushCodePoint(cp: i32): void {
    if (cp >= 0x10000) {
      cp -= 0x10000;
      this.push(0xd800 + (cp >> 10));
      this.push(0xdc00 + (cp & 0x3ff));
    } else {
      this.push(cp);
    }
  }

  reset(): void {
    this.n = 0;
  }

  toString(): string {
    return String.UTF16.decodeUnsafe(this.buf.dataStart, <usize>this.n << 1);
  }
}

class Parser {
  pos: i32 = 0;
  error: string = "";
  private text: Utf16Builder = new Utf16Builder();

  constructor(private data: Uint8Array) {}

  fail(what: string): JsonValue | null {
    if (this.error.length == 0) this.error = what + " at offset " + this.pos.toString();
    return null;
  }

  private unexpected(context: string): JsonValue | null {
    if (this.pos >= this.data.length) return this.fail("unexpected end of JSON input");
    return this.fail("invalid character " + describeByte(this.data[this.pos]) + " " + context);
  }

  skipSpace(): void {
    while (this.pos < this.data.length) {
      const c = this.data[this.pos];
      if (c != 0x20 && c != 0x09 && c != 0x0a && c != 0x0d) return;
      this.pos++;
    }
  }

  private literal(word: string, v: JsonValue): JsonValue | null {
    for (let i = 0; i < word.length; i++) {
      if (this.pos >= this.data.length || <i32>this.data[this.pos] != word.charCodeAt(i)) {
        return this.unexpected("in literal " + word);
      }
      this.pos++;
    }
    return v;
  }

  value(depth: i32): JsonValue | null {
    if (depth > MAX_DEPTH) return this.fail("exceeded max depth");
    this.skipSpace();
    if (this.pos >= this.data.length) return this.fail("unexpected end of JSON input");
    const c = this.data[this.pos];
    const v = new JsonValue();
    switch (c) {
      case 0x7b: return this.object(v, depth);
      case 0x5b: return this.array(v, depth);
      case 0x22: {
        const s = this.string();
        if (s === null) return null;
        v.kind = JsonKind.String;
        v.text = s;
        return v;
      }
      case 0x74:
        v.kind = JsonKind.Bool;
        v.bool = true;
        return this.literal("true", v);
      case 0x66:
        v.kind = JsonKind.Bool;
        return this.literal("false", v);
      case 0x6e:
        return this.literal("null", v);
    }
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.number(v);
    return this.unexpected("looking for beginning of value");
  }

  private digits(): i32 {
    const start = this.pos;
    while (this.pos < this.data.length && this.data[this.pos] >= 0x30 && this.data[this.pos] <= 0x39) this.pos++;
    return this.pos - start;
  }

  private number(v: JsonValue): JsonValue | null {
    const start = this.pos;
    if (this.data[this.pos] == 0x2d) this.pos++;
    if (this.pos < this.data.length && this.data[this.pos] == 0x30) {
      this.pos++;
    } else if (this.digits() == 0) {
      return this.unexpected("in numeric literal");
    }
    if (this.pos < this.data.length && this.data[this.pos] == 0x2e) {
      this.pos++;
      if (this.digits() == 0) return this.unexpected("after decimal point in numeric literal");
    }
    if (this.pos < this.data.length && (this.data[this.pos] | 0x20) == 0x65) {
      this.pos++;
      if (this.pos < this.data.length && (this.data[this.pos] == 0x2b || this.data[this.pos] == 0x2d)) this.pos++;
      if (this.digits() == 0) return this.unexpected("in exponent of numeric literal");
    }
    v.kind = JsonKind.Number;
    v.text = String.UTF8.decodeUnsafe(this.data.dataStart + <usize>start, <usize>(this.pos - start));
    return v;
  }

  private hex4(at: i32): i32 {
    if (at + 4 > this.data.length) return -1;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = <i32>this.data[at + i];
      let d = -1;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66) d = (c | 0x20) - 0x61 + 10;
      if (d < 0) return -1;
      v = (v << 4) | d;
    }
    return v;
  }

  /** Reads a string at pos (which is at its opening quote). */
  string(): string | null {
    const data = this.data;
    const b = this.text;
    b.reset();
    this.pos++;
    while (true) {
      if (this.pos >= data.length) {
        this.fail("unexpected end of JSON input");
        return null;
      }
      const c = <i32>data[this.pos];
      if (c == 0x22) {
        this.pos++;
        return b.toString();
      }
      if (c < 0x20) {
        this.unexpected("in string literal");
        return null;
      }
      if (c == 0x5c) {
        if (this.pos + 1 >= data.length) {
          this.pos++;
          this.fail("unexpected end of JSON input");
          return null;
        }
        const e = <i32>data[this.pos + 1];
        this.pos += 2;
        switch (e) {
          case 0x22: b.push(0x22); break;
          case 0x5c: b.push(0x5c); break;
          case 0x2f: b.push(0x2f); break;
          case 0x62: b.push(0x08); break;
          case 0x66: b.push(0x0c); break;
          case 0x6e: b.push(0x0a); break;
          case 0x72: b.push(0x0d); break;
          case 0x74: b.push(0x09); break;
          case 0x75: {
            let cp = this.hex4(this.pos);
            if (cp < 0) {
              this.unexpected("in \\u hexadecimal character escape");
              return null;
            }
            this.pos += 4;
            if (cp >= 0xd800 && cp < 0xe000) {
              // Go pairs a high surrogate with an immediately following low
              // one; anything else is U+FFFD and the next escape stands alone.
              let paired = false;
              if (cp < 0xdc00 && this.pos + 1 < data.length && data[this.pos] == 0x5c && data[this.pos + 1] == 0x75) {
                const lo = this.hex4(this.pos + 2);
                if (lo >= 0xdc00 && lo < 0xe000) {
                  cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                  this.pos += 6;
                  paired = true;
                }
              }
              if (!paired) cp = 0xfffd;
            }
            b.pushCodePoint(cp);
            break;
          }
          default:
            this.pos--;
            this.unexpected("in string escape code");
            return null;
        }
        continue;
      }
      if (c < 0x80) {
        b.push(c);
        this.pos++;
        continue;
      }
      const n = utf8SequenceLength(data, this.pos);
      if (n == 0) {
        b.push(0xfffd);
        this.pos++;
        continue;
      }
      b.pushCodePoint(decodeUtf8(data, this.pos, n));
      this.pos += n;
    }
  }

  private array(v: JsonValue, depth: i32): JsonValue | null {
    v.kind = JsonKind.Array;
    this.pos++;
    this.skipSpace();
    if (this.pos < this.data.length && this.data[this.pos] == 0x5d) {
      this.pos++;
      return v;
    }
    while (true) {
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.items.push(item);
      this.skipSpace();
      if (this.pos < this.data.length && this.data[this.pos] == 0x2c) {
        this.pos++;
        continue;
      }
      if (this.pos < this.data.length && this.data[this.pos] == 0x5d) {
        this.pos++;
        return v;
      }
      return this.unexpected("after array element");
    }
  }

  private object(v: JsonValue, depth: i32): JsonValue | null {
    v.kind = JsonKind.Object;
    this.pos++;
    this.skipSpace();
    if (this.pos < this.data.length && this.data[this.pos] == 0x7d) {
      this.pos++;
      return v;
    }
    while (true) {
      this.skipSpace();
      if (this.pos >= this.data.length || this.data[this.pos] != 0x22) {
        return this.unexpected("looking for beginning of object key string");
      }
      const key = this.string();
      if (key === null) return null;
      this.skipSpace();
      if (this.pos >= this.data.length || this.data[this.pos] != 0x3a) {
        return this.unexpected("after object key");
      }
      this.pos++;
      const item = this.value(depth + 1);
      if (item === null) return null;
      v.keys.push(key);
      v.items.push(item);
      this.skipSpace();
      if (this.pos < this.data.length && this.data[this.pos] == 0x2c) {
        this.pos++;
        continue;
      }
      if (this.pos < this.data.length && this.data[this.pos] == 0x7d) {
        this.pos++;
        return v;
      }
      return this.unexpected("after object key:value pair");
    }
  }
}

function describeByte(c: u8): string {
  if (c == 0x27) return "'\\''";
  if (c == 0x22) return "'\"'";
  if (c >= 0x20 && c < 0x7f) return "'" + String.fromCharCode(c) + "'";
  return "0x" + hexByte(c);
}

/**
 * The length of the well-formed UTF-8 sequence at data[i] (a byte >= 0x80),
 * or 0 if it is not one: overlong forms, surrogates and code points above
 * U+10FFFF are refused, as by Go's utf8.DecodeRune.
 */
function utf8SequenceLength(data: Uint8Array, i: i32): i32 {
  const c = <i32>data[i];
  let n = 0;
  let lo = 0x80;
  let hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > data.length) return 0;
  const c1 = <i32>data[i + 1];
  if (c1 < lo || c1 > hi) return 0;
  for (let j = 2; j < n; j++) {
    const cj = <i32>data[i + j];
    if (cj < 0x80 || cj > 0xbf) return 0;
  }
  return n;
}

function decodeUtf8(data: Uint8Array, i: i32, n: i32): i32 {
  let cp = <i32>data[i] & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);
  for (let j = 1; j < n; j++) cp = (cp << 6) | (<i32>data[i + j] & 0x3f);
  return cp;
}

/** Parses one JSON document from UTF-8 bytes. */
export function parseJSON(data: Uint8Array): JsonResult {
  const p = new Parser(data);
  const v = p.value(0);
  if (v === null) return new JsonResult(null, p.error);
  p.skipSpace();
  if (p.pos < data.length) {
    p.fail("invalid character " + describeByte(data[p.pos]) + " after top-level value");
    return new JsonResult(null, p.error);
  }
  return new JsonResult(v, "");
}

/**
 * jsonString encodes a string as Go's encoding/json does: quotes,
 * backslashes and control characters escaped, <, > and & as \u003c,
 * \u003e and \u0026, U+2028 and U+2029 escaped, and an unpaired surrogate
 * (which UTF-8 cannot carry) as \ufffd.
 */
export function jsonString(s: string): string {
  const parts = new Array<string>();
  parts.push("\"");
  const n = s.length;
  let start = 0; // the run of characters copied as they are
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    let escaped: string | null = null;
    if (c == 0x22) escaped = "\\\"";
    else if (c == 0x5c) escaped = "\\\\";
    else if (c == 0x0a) escaped = "\\n";
    else if (c == 0x0d) escaped = "\\r";
    else if (c == 0x09) escaped = "\\t";
    else if (c == 0x08) escaped = "\\b";
    else if (c == 0x0c) escaped = "\\f";
    else if (c < 0x20 || c == 0x3c || c == 0x3e || c == 0x26) escaped = "\\u00" + hexByte(c);
    else if (c == 0x2028) escaped = "\\u2028";
    else if (c == 0x2029) escaped = "\\u2029";
    else if (c >= 0xd800 && c < 0xe000) {
      const next = i + 1 < n ? s.charCodeAt(i + 1) : 0;
      if (c < 0xdc00 && next >= 0xdc00 && next < 0xe000) {
        i++; // a valid pair stays in the run
        continue;
      }
      escaped = "\\ufffd";
    }
    if (escaped === null) continue;
    if (start < i) parts.push(s.substring(start, i));
    parts.push(escaped);
    start = i + 1;
  }
  if (start < n) parts.push(s.substring(start, n));
  parts.push("\"");
  return parts.join("");
}

/** The JSON text of a finite float64 as Go writes it, or null if it is NaN or infinite. */
export function jsonFloat(x: f64): string | null {
  if (!isFinite(x)) return null;
  return formatJSONFloat(x);
}
