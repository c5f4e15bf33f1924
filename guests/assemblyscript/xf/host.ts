// The plumbing between the safe API and the raw imports: strings to UTF-8,
// status checks, the caller-buffer convention and ending the job.
//
// AssemblyScript has no exceptions, so a failed host call cannot be
// returned up to run() the way the Go SDK returns an error. Instead it ends
// the job at once with the message the Go SDK's error would carry
// ("xf.image_open \"image\": NOT_FOUND"), which is what a Go task that
// returns its errors does too.

import { Status, statusName, xf_fail } from "./abi_gen";
import { goQuote } from "./strconv";

@external("wasi_snapshot_preview1", "proc_exit")
declare function proc_exit(code: u32): void;

/** The UTF-8 bytes of s; an unpaired surrogate becomes U+FFFD. */
export function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s, false, String.UTF8.ErrorMode.REPLACE);
}

/** The address of an ArrayBuffer's bytes. */
export function addr(b: ArrayBuffer): usize {
  return changetype<usize>(b);
}

/**
 * failJob ends the job as failed with message and stops the guest. The
 * host stops the guest inside xf.fail; it returns only when the job had
 * already ended, and then the guest exits with code 1 like a Go guest.
 */
export function failJob(message: string): void {
  const m = utf8(message);
  xf_fail(addr(m), <u32>m.byteLength);
  proc_exit(1);
  unreachable();
}

/** The message of a failed host call, worded as the Go SDK's CallError. */
export function callError(op: string, arg: string, status: i32): string {
  if (arg.length > 0) return op + " " + goQuote(arg) + ": " + statusName(status);
  return op + ": " + statusName(status);
}

/** Ends the job unless status is OK; op names the import, arg what it was called on. */
export function check(op: string, arg: string, status: i32): void {
  if (status != Status.OK) failJob(callError(op, arg, status));
}

/**
 * A caller buffer (abi/ABI.md §4): call the import with ptr, cap and
 * lenPtr while retry(status) says so, which grows the buffer to the length
 * the host asked for.
 *
 *   const out = new CallBuffer();
 *   let st: i32;
 *   do st = xf_inputs_get(out.ptr, out.cap, out.lenPtr); while (out.retry(st));
 */
export class CallBuffer {
  private buf: ArrayBuffer = new ArrayBuffer(256);
  private lenOut: ArrayBuffer = new ArrayBuffer(4);

  get ptr(): usize {
    return addr(this.buf);
  }

  get cap(): u32 {
    return <u32>this.buf.byteLength;
  }

  get lenPtr(): usize {
    return addr(this.lenOut);
  }

  /** The result length the host wrote. */
  get length(): u32 {
    return load<u32>(addr(this.lenOut));
  }

  /** Grows the buffer and returns true if status is BUFFER_TOO_SMALL. */
  retry(status: i32): bool {
    if (status != Status.BUFFER_TOO_SMALL) return false;
    this.buf = new ArrayBuffer(<i32>this.length);
    return true;
  }

  /** The result, after an OK call. */
  bytes(): Uint8Array {
    return Uint8Array.wrap(this.buf, 0, <i32>this.length);
  }

  /** The result as text, after an OK call. */
  text(): string {
    return String.UTF8.decodeUnsafe(addr(this.buf), <usize>this.length);
  }
}

/** Zeroed scratch memory for an import's out-pointers. */
export function outBuffer(bytes: i32): ArrayBuffer {
  return new ArrayBuffer(bytes);
}
