// Exact natural-number arithmetic for the float conversions in strconv.ts.
// Formatting and parsing a float64 exactly (shortest round-trip digits,
// correctly rounded parsing) needs integers of up to about 3,800 bits; the
// few operations below are all those algorithms use.

/** Limbs of a Nat: 32 bits each, 4,096 bits in all. */
const CAPACITY: i32 = 128;

/** A natural number of up to 4,096 bits, little-endian 32-bit limbs. */
export class Nat {
  private limbs: StaticArray<u32> = new StaticArray<u32>(CAPACITY);
  /** Number of limbs in use; the top one is non-zero unless len is 0. */
  private len: i32 = 0;

  static fromU64(v: u64): Nat {
    const n = new Nat();
    n.setU64(v);
    return n;
  }

  setU64(v: u64): Nat {
    this.limbs[0] = <u32>v;
    this.limbs[1] = <u32>(v >> 32);
    this.len = 2;
    this.trim();
    return this;
  }

  copyFrom(other: Nat): Nat {
    for (let i = 0; i < other.len; i++) this.limbs[i] = other.limbs[i];
    this.len = other.len;
    return this;
  }

  clone(): Nat {
    return new Nat().copyFrom(this);
  }

  isZero(): bool {
    return this.len == 0;
  }

  /** The number of significant bits; 0 for zero. */
  bitLen(): i32 {
    if (this.len == 0) return 0;
    return this.len * 32 - <i32>clz<u32>(this.limbs[this.len - 1]);
  }

  /** The low 64 bits. */
  low64(): u64 {
    let v: u64 = 0;
    if (this.len > 0) v = <u64>this.limbs[0];
    if (this.len > 1) v |= (<u64>this.limbs[1]) << 32;
    return v;
  }

  private trim(): void {
    while (this.len > 0 && this.limbs[this.len - 1] == 0) this.len--;
  }

  private grow(limb: u32): void {
    assert(this.len < CAPACITY, "bignum overflow");
    this.limbs[this.len++] = limb;
  }

  /** this = this * m + add. */
  mulAddSmall(m: u32, add: u32): Nat {
    let carry: u64 = <u64>add;
    for (let i = 0; i < this.len; i++) {
      const t = (<u64>this.limbs[i]) * (<u64>m) + carry;
      this.limbs[i] = <u32>t;
      carry = t >> 32;
    }
    if (carry != 0) this.grow(<u32>carry);
    this.trim();
    return this;
  }

  /** this = this * 10^n. */
  mulPow10(n: i32): Nat {
    while (n >= 9) {
      this.mulAddSmall(1000000000, 0);
      n -= 9;
    }
    let p: u32 = 1;
    while (n > 0) {
      p *= 10;
      n--;
    }
    if (p != 1) this.mulAddSmall(p, 0);
    return this;
  }

  /** this = this << n. */
  shl(n: i32): Nat {
    if (this.len == 0 || n == 0) return this;
    const words = n >> 5;
    const bits = n & 31;
    assert(this.len + words + 1 <= CAPACITY, "bignum overflow");
    if (bits == 0) {
      for (let i = this.len - 1; i >= 0; i--) this.limbs[i + words] = this.limbs[i];
    } else {
      this.limbs[this.len + words] = 0;
      for (let i = this.len - 1; i >= 0; i--) {
        const v = this.limbs[i];
        this.limbs[i + words + 1] |= v >> (32 - bits);
        this.limbs[i + words] = v << bits;
      }
    }
    for (let i = 0; i < words; i++) this.limbs[i] = 0;
    this.len += bits == 0 ? words : words + 1;
    this.trim();
    return this;
  }

  /** this = this >> 1. */
  shr1(): Nat {
    for (let i = 0; i < this.len; i++) {
      let v = this.limbs[i] >> 1;
      if (i + 1 < this.len) v |= this.limbs[i + 1] << 31;
      this.limbs[i] = v;
    }
    this.trim();
    return this;
  }

  /** this = this + other. */
  add(other: Nat): Nat {
    const n = this.len > other.len ? this.len : other.len;
    let carry: u64 = 0;
    for (let i = 0; i < n; i++) {
      const a: u64 = i < this.len ? <u64>this.limbs[i] : 0;
      const b: u64 = i < other.len ? <u64>other.limbs[i] : 0;
      const t = a + b + carry;
      this.limbs[i] = <u32>t;
      carry = t >> 32;
    }
    this.len = n;
    if (carry != 0) this.grow(<u32>carry);
    return this;
  }

  /** this = this - other; other must not be greater than this. */
  sub(other: Nat): Nat {
    assert(this.cmp(other) >= 0, "bignum underflow");
    let borrow: i64 = 0;
    for (let i = 0; i < this.len; i++) {
      const b: i64 = i < other.len ? <i64>other.limbs[i] : 0;
      let t = (<i64>this.limbs[i]) - b - borrow;
      borrow = 0;
      if (t < 0) {
        t += <i64>0x100000000;
        borrow = 1;
      }
      this.limbs[i] = <u32>t;
    }
    this.trim();
    return this;
  }

  /** Compares: -1, 0 or 1 as this is less than, equal to or greater than other. */
  cmp(other: Nat): i32 {
    if (this.len != other.len) return this.len < other.len ? -1 : 1;
    for (let i = this.len - 1; i >= 0; i--) {
      const a = this.limbs[i];
      const b = other.limbs[i];
      if (a != b) return a < b ? -1 : 1;
    }
    return 0;
  }
}
