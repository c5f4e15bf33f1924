//! The calling conventions of abi/ABI.md section 4: statuses, strings as
//! (pointer, length), out-pointers and caller buffers.

use crate::abi_gen::Status;
use crate::error::Error;

/// The first caller-buffer size; most results (inputs, image info, paths)
/// fit in it, so a second call is rare.
const FIRST_BUFFER: usize = 256;

/// Turns an import's status into a result.
pub(crate) fn check(op: &'static str, arg: &str, code: u32) -> Result<(), Error> {
    match Status::from_code(code) {
        Status::Ok => Ok(()),
        status => Err(Error::Call { op, arg: arg.to_string(), status }),
    }
}

/// A string argument as (pointer, length). The host only reads it, so the
/// pointer's mutability does not matter.
pub(crate) fn str_arg(s: &str) -> (*mut u8, u32) {
    (s.as_ptr() as *mut u8, s.len() as u32)
}

/// A byte slice argument as (pointer, length).
pub(crate) fn bytes_arg(b: &[u8]) -> (*mut u8, u32) {
    (b.as_ptr() as *mut u8, b.len() as u32)
}

/// An out-pointer to v; the host writes it little-endian and unaligned,
/// which is v's own representation on wasm32.
pub(crate) fn out<T: Copy>(v: &mut T) -> *mut u8 {
    (v as *mut T).cast()
}

/// Runs a caller-buffer call (buf, buf_cap, len_out), growing the buffer
/// until the result fits.
pub(crate) fn fetch(op: &'static str, arg: &str, mut call: impl FnMut(*mut u8, u32, *mut u8) -> u32) -> Result<Vec<u8>, Error> {
    let mut buf = vec![0u8; FIRST_BUFFER];
    loop {
        let mut n: u32 = 0;
        let status = Status::from_code(call(buf.as_mut_ptr(), buf.len() as u32, out(&mut n)));
        let n = n as usize;
        match status {
            Status::Ok if n <= buf.len() => {
                buf.truncate(n);
                return Ok(buf);
            }
            // A host that reports a size it then does not accept would
            // otherwise keep the guest looping.
            Status::BufferTooSmall if n > buf.len() => buf = vec![0u8; n],
            Status::Ok | Status::BufferTooSmall => {
                return Err(Error::new(format!("{}: host reported {} bytes for a buffer of {}", op, n, buf.len())))
            }
            status => return Err(Error::Call { op, arg: arg.to_string(), status }),
        }
    }
}

/// A text result; invalid UTF-8 (which the host never sends) is replaced.
pub(crate) fn fetch_string(op: &'static str, arg: &str, call: impl FnMut(*mut u8, u32, *mut u8) -> u32) -> Result<String, Error> {
    fetch(op, arg, call).map(|b| String::from_utf8_lossy(&b).into_owned())
}
