// Float64 conversions that agree bit for bit with Go, so that a task
// written in AssemblyScript produces the same output bytes and reads the
// same input values as its Go original:
//  - formatJSONFloat writes a float64 as Go's encoding/json does: the
//    shortest digits that round-trip (closest to the exact value, ties to
//    even, as Go's strconv), in exponent form below 1e-6 and from 1e21 on.
//    AssemblyScript's own f64.toString uses other rules.
//  - parseFloatLiteral reads a JSON number correctly rounded, like Go's
//    strconv.ParseFloat.
// Both use exact big-integer arithmetic (bignum.ts): slower than Ryu or
// Eisel-Lemire, but short, obviously correct and fast enough for the handful
// of numbers a job reads and writes.

import { Nat } from "./bignum";
import { Value } from "./value";

/** The decimal digits of a positive float64: value = 0.digits × 10^point. */
class Digits {
  constructor(public digits: string, public point: i32) {}
}

/**
 * shortestDigits finds the shortest digit string that reads back as x (a
 * positive finite float64), choosing the one closest to x and, on a tie,
 * the even one. It is the free-format algorithm of Steele & White and
 * Burger & Dybvig on exact integers: x, and the midpoints to its
 * neighbours, are r/s, (r-mMinus)/s and (r+mPlus)/s scaled by 10^k.
 */
function shortestDigits(x: f64): Digits {
  if (x < 9007199254740992 && x == Math.trunc(x)) {
    // An integer below 2^53 is exact and its neighbours are at most 1
    // away, so no shorter digit string reads back as it: its digits
    // without trailing zeros are the answer.
    const digits = (<u64>x).toString();
    let n = digits.length;
    while (digits.charCodeAt(n - 1) == 48) n--;
    return new Digits(digits.substring(0, n), digits.length);
  }
  const bits = reinterpret<u64>(x);
  const biased = <i32>((bits >> 52) & 0x7ff);
  const fraction = bits & 0xfffffffffffff;
  let f: u64 = fraction;
  let e: i32 = -1074;
  if (biased != 0) {
    f = fraction | (<u64>1 << 52);
    e = biased - 1075;
  }
  // At a power of two the gap to the lower neighbour is half the gap above.
  const asymmetric = fraction == 0 && biased > 1;
  // Round-half-even reading makes the interval closed for an even mantissa.
  const inclusive = (f & 1) == 0;

  const r = new Nat();
  const s = new Nat();
  const mPlus = new Nat();
  const mMinus = new Nat();
  if (e >= 0) {
    if (!asymmetric) {
      r.setU64(f).shl(e + 1);
      s.setU64(2);
      mPlus.setU64(1).shl(e);
      mMinus.setU64(1).shl(e);
    } else {
      r.setU64(f).shl(e + 2);
      s.setU64(4);
      mPlus.setU64(1).shl(e + 1);
      mMinus.setU64(1).shl(e);
    }
  } else {
    if (!asymmetric) {
      r.setU64(f).shl(1);
      s.setU64(1).shl(1 - e);
      mPlus.setU64(1);
      mMinus.setU64(1);
    } else {
      r.setU64(f).shl(2);
      s.setU64(1).shl(2 - e);
      mPlus.setU64(2);
      mMinus.setU64(1);
    }
  }

  // An estimate of ceil(log10 x) that is never too large, then corrected
  // up until the upper midpoint is below 10^k.
  const floorLog2 = e + 63 - <i32>clz<u64>(f);
  let k = <i32>Math.ceil(<f64>floorLog2 * 0.30102999566398114 - 1e-10);
  if (k >= 0) {
    s.mulPow10(k);
  } else {
    r.mulPow10(-k);
    mPlus.mulPow10(-k);
    mMinus.mulPow10(-k);
  }
  const t = new Nat();
  while (true) {
    const c = t.copyFrom(r).add(mPlus).cmp(s);
    if (inclusive ? c < 0 : c <= 0) break;
    s.mulAddSmall(10, 0);
    k++;
  }

  let out = "";
  while (true) {
    r.mulAddSmall(10, 0);
    mPlus.mulAddSmall(10, 0);
    mMinus.mulAddSmall(10, 0);
    let d: i32 = 0;
    while (r.cmp(s) >= 0) {
      r.sub(s);
      d++;
    }
    const cLow = r.cmp(mMinus);
    const cHigh = t.copyFrom(r).add(mPlus).cmp(s);
    const low = inclusive ? cLow <= 0 : cLow < 0; // d is inside the interval
    const high = inclusive ? cHigh >= 0 : cHigh > 0; // d+1 is inside the interval
    if (!low && !high) {
      out += String.fromCharCode(48 + d);
      continue;
    }
    if (low && high) {
      // Both candidates read back as x: take the closer one. An exact tie
      // cannot happen for float64 (x's last decimal digit lies beyond the
      // gap to its neighbours); ties to even is Go's rule should it arise.
      const c = t.copyFrom(r).shl(1).cmp(s);
      if (c > 0 || (c == 0 && (d & 1) == 1)) d++;
    } else if (high) {
      d++;
    }
    out += String.fromCharCode(48 + d);
    break;
  }
  return new Digits(out, k);
}

function repeatZeros(n: i32): string {
  return n > 0 ? "0".repeat(n) : "";
}

/**
 * formatJSONFloat writes a finite float64 exactly as Go's encoding/json
 * does: "0", "-0", "1234.5", "0.000001", "1e-7", "1.5e+21".
 */
export function formatJSONFloat(x: f64): string {
  assert(isFinite(x), "formatJSONFloat: not finite");
  const negative = (reinterpret<u64>(x) >> 63) != 0;
  const sign = negative ? "-" : "";
  if (x == 0) return sign + "0";
  const abs = Math.abs(x);
  const d = shortestDigits(abs);
  const digits = d.digits;
  const nd = digits.length;
  if (abs < 1e-6 || abs >= 1e21) {
    // strconv's 'e' format pads the exponent to two digits; encoding/json
    // removes the padding of negative exponents again (e-07 -> e-7).
    const exp = d.point - 1;
    let mantissa = digits.charAt(0);
    if (nd > 1) mantissa += "." + digits.substring(1);
    if (exp < 0) return sign + mantissa + "e-" + (-exp).toString();
    return sign + mantissa + "e+" + (exp < 10 ? "0" : "") + exp.toString();
  }
  const point = d.point;
  if (point <= 0) return sign + "0." + repeatZeros(-point) + digits;
  if (point >= nd) return sign + digits + repeatZeros(point - nd);
  return sign + digits.substring(0, point) + "." + digits.substring(point);
}

/** Go's spelling of a non-finite float64 (strconv 'g'): NaN, +Inf, -Inf. */
export function formatNonFinite(x: f64): string {
  if (isNaN(x)) return "NaN";
  return x > 0 ? "+Inf" : "-Inf";
}

/** The most significant digits a literal is read with; more only decide ties. */
const MAX_DIGITS: i32 = 800;

const EXACT_POW10: StaticArray<f64> = [
  1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
  1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

function signed(negative: bool, v: f64): f64 {
  return negative ? -v : v;
}

/**
 * parseFloatLiteral reads a JSON number literal (which must be valid) as
 * the nearest float64, ties to even, like Go's strconv.ParseFloat. A value
 * too large for float64 gives ±Infinity, as Go's does with ErrRange.
 */
export function parseFloatLiteral(lit: string): f64 {
  const n = lit.length;
  let i = 0;
  let negative = false;
  if (i < n && lit.charCodeAt(i) == 45) {
    negative = true;
    i++;
  }
  // value = 0.d1d2d3... × 10^point; digits beyond MAX_DIGITS only say
  // whether anything non-zero was dropped.
  const digits = new StaticArray<u8>(MAX_DIGITS);
  let stored: i32 = 0;
  let seen: i64 = 0;
  let dropped = false;
  let point: i64 = 0;
  let sawDot = false;
  for (; i < n; i++) {
    const c = lit.charCodeAt(i);
    if (c == 46) {
      sawDot = true;
      point = seen;
      continue;
    }
    if (c < 48 || c > 57) break;
    if (c == 48 && seen == 0) {
      if (sawDot) point--;
      continue;
    }
    if (stored < MAX_DIGITS) digits[stored++] = <u8>(c - 48);
    else if (c != 48) dropped = true;
    seen++;
  }
  if (!sawDot) point = seen;
  if (i < n && (lit.charCodeAt(i) | 0x20) == 101) {
    i++;
    let expNegative = false;
    if (i < n && (lit.charCodeAt(i) == 43 || lit.charCodeAt(i) == 45)) {
      expNegative = lit.charCodeAt(i) == 45;
      i++;
    }
    let exp: i64 = 0;
    for (; i < n; i++) {
      const c = lit.charCodeAt(i);
      if (exp < 1000000000) exp = exp * 10 + <i64>(c - 48);
    }
    point += expNegative ? -exp : exp;
  }
  if (stored == 0) return signed(negative, 0);
  // 10^(point-1) <= value < 10^point.
  if (point >= 310) return signed(negative, Infinity);
  if (point <= -325) return signed(negative, 0);
  const exp10 = <i32>(point - <i64>stored);

  if (stored <= 15 && !dropped && exp10 >= -22 && exp10 <= 22) {
    // Both operands are exact, so one correctly rounded operation suffices.
    let m: u64 = 0;
    for (let j = 0; j < stored; j++) m = m * 10 + <u64>digits[j];
    const v = <f64>m;
    return signed(negative, exp10 >= 0 ? v * EXACT_POW10[exp10] : v / EXACT_POW10[-exp10]);
  }

  // value = num/den exactly; scale by 2^shift so the quotient has 56 or 57
  // bits, enough to round to 53 with a guard bit and a sticky remainder.
  const num = new Nat();
  for (let j = 0; j < stored; ) {
    // Nine digits at a time: 10^9 fits a limb.
    let chunk: u32 = 0;
    let scale: u32 = 1;
    for (let end = min(j + 9, stored); j < end; j++) {
      chunk = chunk * 10 + <u32>digits[j];
      scale *= 10;
    }
    num.mulAddSmall(scale, chunk);
  }
  const den = Nat.fromU64(1);
  if (exp10 >= 0) num.mulPow10(exp10);
  else den.mulPow10(-exp10);
  const shift = 56 - (num.bitLen() - den.bitLen());
  if (shift >= 0) num.shl(shift);
  else den.shl(-shift);
  const step = den.clone().shl(57);
  let q: u64 = 0;
  for (let b = 57; b >= 0; b--) {
    if (num.cmp(step) >= 0) {
      num.sub(step);
      q |= <u64>1 << b;
    }
    step.shr1();
  }
  const sticky = !num.isZero() || dropped;

  // value ≈ q × 2^-shift; keep 53 bits, fewer for a subnormal.
  const qBits = 64 - <i32>clz<u64>(q);
  let drop = qBits - 53;
  if (shift - 1074 > drop) drop = shift - 1074;
  if (drop > qBits) return signed(negative, 0); // below half the smallest subnormal
  let m = q >> drop;
  const rest = q & ((<u64>1 << drop) - 1);
  const half = <u64>1 << (drop - 1);
  if (rest > half || (rest == half && (sticky || (m & 1) != 0))) m++;
  let unitExp = drop - shift;
  if (m == 0) return signed(negative, 0);
  if (m >= <u64>1 << 53) {
    m >>= 1;
    unitExp++;
  }
  let bits: u64;
  if (m < <u64>1 << 52) {
    bits = m; // subnormal: unitExp is -1074
  } else {
    const biasedExp = unitExp + 52 + 1023;
    if (biasedExp >= 2047) return signed(negative, Infinity);
    bits = (<u64>biasedExp << 52) | (m & 0xfffffffffffff);
  }
  return signed(negative, reinterpret<f64>(bits));
}

/**
 * parseInt64Literal reads a JSON number literal as Go's encoding/json
 * decodes it into an int64: only plain integers, no fraction or exponent.
 * It returns null when the literal is not one or does not fit.
 */
export function parseInt64Literal(lit: string): Value<i64> | null {
  let i = 0;
  const negative = lit.length > 0 && lit.charCodeAt(0) == 45;
  if (negative) i++;
  if (i == lit.length) return null;
  // Accumulate negatively so that -9223372036854775808 fits.
  let v: i64 = 0;
  for (; i < lit.length; i++) {
    const c = lit.charCodeAt(i);
    if (c < 48 || c > 57) return null;
    const d = <i64>(c - 48);
    if (v < (i64.MIN_VALUE + d) / 10) return null;
    v = v * 10 - d;
  }
  if (!negative) {
    if (v == i64.MIN_VALUE) return null;
    v = -v;
  }
  return new Value<i64>(v);
}

/**
 * goQuote quotes s as Go's %q does for the keys and paths in error
 * messages: ASCII control characters, quotes and backslashes escaped,
 * everything else as it is.
 */
export function goQuote(s: string): string {
  let out = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22: out += "\\\""; break;
      case 0x5c: out += "\\\\"; break;
      case 0x07: out += "\\a"; break;
      case 0x08: out += "\\b"; break;
      case 0x0c: out += "\\f"; break;
      case 0x0a: out += "\\n"; break;
      case 0x0d: out += "\\r"; break;
      case 0x09: out += "\\t"; break;
      case 0x0b: out += "\\v"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          out += "\\x" + hexByte(c);
        } else {
          out += String.fromCharCode(c);
        }
    }
  }
  return out + "\"";
}

const HEX = "0123456789abcdef";

/** Two lower-case hex digits of a byte. */
export function hexByte(b: i32): string {
  return HEX.charAt((b >> 4) & 15) + HEX.charAt(b & 15);
}
