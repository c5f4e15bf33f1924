//! `xf` is the Rust guest SDK of xfhost: it lets a XamFlow task type written
//! in Rust (wasm32-wasi) read its inputs, process images with the host's
//! native kernels and store its outputs, through the xfhost ABI
//! (abi/ABI.md). It mirrors the Go SDK (guests/go/xf) call for call, so a
//! port produces the same outputs and the same failure messages as its Go
//! original.
//!
//! A task type reads like its Go original:
//!
//! ```ignore
//! fn main() {
//!     xf::run(|job| {
//!         let image = job.open_image("image")?;
//!         let (lo, hi) = xf::minmax(&image, None)?;
//!         job.set_output("min", &lo)?;
//!         job.set_output("max", &hi)
//!     })
//! }
//! ```
//!
//! The crate uses only std and is built with rustc directly (see
//! guests/rust/build.sh). The host-facing parts exist only on wasm32; the
//! rest (JSON, metadata, errors) also builds natively so it can be tested.

mod abi_gen;
mod composite;
mod error;
mod info;
mod inputs;
pub mod json;

#[cfg(target_arch = "wasm32")]
mod hostcall;
#[cfg(target_arch = "wasm32")]
mod image;
#[cfg(target_arch = "wasm32")]
mod job;
#[cfg(target_arch = "wasm32")]
mod kernels;

/// The raw ABI, generated from abi/abi.json: statuses, version constants,
/// the version marker and (on wasm32) the imports of `xf` and `clip`.
pub mod abi {
    pub use crate::abi_gen::*;
}

pub use abi_gen::{Status, ABI_VERSION};
pub use composite::{AdditionalFile, EntityOutput, FileOutput, ImageOutput, MeshOutput};
pub use error::Error;
pub use info::{Calibration, DataType, ImageInfo, ImageSpec, JobInfo, Region};
pub use inputs::Inputs;
pub use json::{RawJson, ToJson};

#[cfg(target_arch = "wasm32")]
pub use image::Image;
#[cfg(target_arch = "wasm32")]
pub use job::{fail, run, Job};
#[cfg(target_arch = "wasm32")]
pub use kernels::*;

/// A log level of `Job::log` and `Job::activity_log`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warning = 2,
    Error = 3,
}
