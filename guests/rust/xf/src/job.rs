//! The running job: inputs, outputs, the job's end, logs, scratch paths,
//! files and images. It follows the Go SDK call for call, so a port
//! behaves (and fails) like its Go original.

use std::io::Write;

use crate::abi_gen::*;
use crate::error::{go_quote, Error};
use crate::hostcall::{bytes_arg, check, fetch, fetch_string, out, str_arg};
use crate::image::Image;
use crate::info::{ImageSpec, JobInfo};
use crate::inputs::Inputs;
use crate::json::{self, ToJson};
use crate::Level;

/// The running job. There is one per guest instance.
#[derive(Debug)]
pub struct Job {
    inputs: Inputs,
    info: JobInfo,
}

/// Runs a task: starts the job, calls task with it, and finishes the job
/// unless task already ended it. If task returns an error, or panics, the
/// job fails with its message. It does not return.
///
/// ```ignore
/// fn main() {
///     xf::run(|job| {
///         let image = job.open_image("image")?;
///         let (lo, hi) = xf::minmax(&image, None)?;
///         job.set_output("min", &lo)?;
///         job.set_output("max", &hi)
///     })
/// }
/// ```
pub fn run<F>(task: F) -> !
where
    F: FnOnce(&Job) -> Result<(), Error>,
{
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = match (payload.downcast_ref::<&str>(), payload.downcast_ref::<String>()) {
            (Some(s), _) => s,
            (_, Some(s)) => s.as_str(),
            _ => "(a non-string value)",
        };
        match info.location() {
            Some(l) => fail(&format!("panic: {} ({}:{}:{})", message, l.file(), l.line(), l.column())),
            None => fail(&format!("panic: {}", message)),
        }
    }));
    let job = match Job::start() {
        Ok(job) => job,
        Err(e) => fail(&e.to_string()),
    };
    if let Err(e) = task(&job) {
        fail(&e.to_string());
    }
    match job.finish() {
        Err(e) if e.status() != Some(Status::InvalidState) => fail(&e.to_string()),
        _ => std::process::exit(0),
    }
}

/// Ends the job as failed with the message. It does not return.
pub fn fail(message: &str) -> ! {
    // The host stops the guest inside xf.fail, before std could flush.
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let (p, n) = str_arg(message);
    unsafe { xf_fail(p, n) };
    // Reached only if the job had already ended.
    std::process::exit(1)
}

impl Job {
    /// Reads the job's inputs and information. `run` calls it.
    pub fn start() -> Result<Job, Error> {
        let raw = fetch("xf.inputs_get", "", |buf, cap, len_out| unsafe { xf_inputs_get(buf, cap, len_out) })?;
        let inputs = Inputs::parse(&raw)?;
        let raw = fetch("xf.job_info_get", "", |buf, cap, len_out| unsafe { xf_job_info_get(buf, cap, len_out) })?;
        let info = JobInfo::parse(&raw).map_err(|e| Error::new(format!("decode job info: {}", e)))?;
        Ok(Job { inputs, info })
    }

    /// The job's inputs.
    pub fn inputs(&self) -> &Inputs {
        &self.inputs
    }

    /// The job's information.
    pub fn info(&self) -> &JobInfo {
        &self.info
    }

    /// Sets one output to value, encoded as Go's json.Marshal would.
    pub fn set_output<T: ToJson + ?Sized>(&self, key: &str, value: &T) -> Result<(), Error> {
        let data = json::to_string(value).map_err(|e| Error::new(format!("output {}: {}", go_quote(key), e)))?;
        let (k, kn) = str_arg(key);
        let (v, vn) = str_arg(&data);
        check("xf.output_set", key, unsafe { xf_output_set(k, kn, v, vn) })
    }

    /// Sets the units of outputs, as (output key, unit) pairs.
    pub fn set_output_units(&self, units: &[(&str, &str)]) -> Result<(), Error> {
        let data = json::string_map(units);
        let (p, n) = str_arg(&data);
        check("xf.output_units_set", "", unsafe { xf_output_units_set(p, n) })
    }

    /// Ends the job successfully; every output must have been set.
    pub fn finish(&self) -> Result<(), Error> {
        check("xf.finish", "", unsafe { xf_finish() })
    }

    /// Ends the job as failed with the message. It does not return.
    pub fn fail(&self, message: &str) -> ! {
        fail(message)
    }

    /// Records an error message without ending the job.
    pub fn set_error_message(&self, message: &str) -> Result<(), Error> {
        let (p, n) = str_arg(message);
        check("xf.error_set", "", unsafe { xf_error_set(p, n) })
    }

    /// Clears the error message.
    pub fn clear_error_message(&self) -> Result<(), Error> {
        check("xf.error_clear", "", unsafe { xf_error_clear() })
    }

    /// Reports progress in percent (0 to 100).
    pub fn progress(&self, percent: f64) -> Result<(), Error> {
        check("xf.progress_set", "", unsafe { xf_progress_set(percent) })
    }

    /// Sets the estimated total duration of the job in seconds.
    pub fn set_estimated_duration(&self, seconds: f64) -> Result<(), Error> {
        check("xf.estimated_duration_set", "", unsafe { xf_estimated_duration_set(seconds) })
    }

    /// Appends a line to the job log.
    pub fn log(&self, level: Level, message: &str) -> Result<(), Error> {
        let (p, n) = str_arg(message);
        check("xf.log", "", unsafe { xf_log(level as i32, p, n) })
    }

    /// Adds a message to the workflow's activity log.
    pub fn activity_log(&self, level: Level, title: &str) -> Result<(), Error> {
        let (p, n) = str_arg(title);
        check("xf.activity_log", "", unsafe { xf_activity_log(level as i32, p, n) })
    }

    /// A unique path in the scratch directory ending in the file name.
    pub fn temp_path(&self, name: &str) -> Result<String, Error> {
        let (s, sn) = str_arg(name);
        fetch_string("xf.temp_path_create", name, |buf, cap, len_out| unsafe { xf_temp_path_create(s, sn, buf, cap, len_out) })
    }

    /// A unique scratch path named after path with its extension replaced
    /// by postfix (scan.omni, "_seg.omni" -> scan_seg.omni).
    pub fn related_path(&self, path: &str, postfix: &str) -> Result<String, Error> {
        let (p, pn) = str_arg(path);
        let (s, sn) = str_arg(postfix);
        fetch_string("xf.related_path_create", path, |buf, cap, len_out| unsafe {
            xf_related_path_create(p, pn, s, sn, buf, cap, len_out)
        })
    }

    /// Makes a composite input's files readable under /inputs and returns
    /// the path of its main file.
    pub fn download_input_file(&self, key: &str) -> Result<String, Error> {
        let (k, kn) = str_arg(key);
        fetch_string("xf.input_file_fetch", key, |buf, cap, len_out| unsafe { xf_input_file_fetch(k, kn, buf, cap, len_out) })
    }

    /// Uploads a scratch file and returns its file reference, for use in a
    /// composite output such as `FileOutput::csv`.
    pub fn upload_file(&self, path: &str) -> Result<String, Error> {
        let (p, pn) = str_arg(path);
        fetch_string("xf.output_file_upload", path, |buf, cap, len_out| unsafe { xf_output_file_upload(p, pn, buf, cap, len_out) })
    }

    /// Opens an Image input.
    pub fn open_image(&self, key: &str) -> Result<Image, Error> {
        let (k, kn) = str_arg(key);
        let mut handle: u32 = 0;
        check("xf.image_open", key, unsafe { xf_image_open(k, kn, out(&mut handle)) })?;
        Image::from_handle(key, handle)
    }

    /// Creates a zero-filled writable image.
    pub fn create_image(&self, spec: &ImageSpec) -> Result<Image, Error> {
        let data = json::to_string(spec).map_err(|e| Error::new(format!("image spec: {}", e)))?;
        let (p, n) = bytes_arg(data.as_bytes());
        let mut handle: u32 = 0;
        check("xf.image_create", "", unsafe { xf_image_create(p, n, out(&mut handle)) })?;
        Image::from_handle("created image", handle)
    }

    /// Stores the image on the file store as the Image output key.
    pub fn set_output_image(&self, key: &str, image: &Image) -> Result<(), Error> {
        let (k, kn) = str_arg(key);
        check("xf.output_image_set", key, unsafe { xf_output_image_set(k, kn, image.handle()) })
    }
}
