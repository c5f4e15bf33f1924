//! Host-side images: the guest holds a handle and the image's metadata;
//! voxels stay on the host unless a box of them is read.

use crate::abi_gen::{xf_image_close, xf_image_info_get, xf_image_read, xf_image_write};
use crate::error::Error;
use crate::hostcall::{bytes_arg, check, fetch};
use crate::info::{ImageInfo, Region};

/// An image on the host. Dropping it releases the handle; `close` does so
/// and reports the status.
#[derive(Debug)]
pub struct Image {
    handle: u32,
    info: ImageInfo,
}

impl Image {
    /// Takes ownership of a fresh handle and reads its metadata. label names
    /// the image in errors (the input key or the kernel); on failure the
    /// handle is released.
    pub(crate) fn from_handle(label: &str, handle: u32) -> Result<Image, Error> {
        let data = fetch("xf.image_info_get", label, |buf, cap, len_out| unsafe { xf_image_info_get(handle, buf, cap, len_out) });
        let info = data.and_then(|d| ImageInfo::parse(&d).map_err(|e| Error::new(format!("{}: decode image info: {}", label, e))));
        match info {
            Ok(info) => Ok(Image { handle, info }),
            Err(e) => {
                unsafe { xf_image_close(handle) };
                Err(e)
            }
        }
    }

    /// The image's metadata.
    pub fn info(&self) -> &ImageInfo {
        &self.info
    }

    /// The host's handle, for an `ImageSpec::like` or the raw imports.
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// Copies a box of voxels (x fastest, little-endian, the image's data
    /// type) into buf, which must hold at least the box's bytes.
    pub fn read(&self, region: Region, buf: &mut [u8]) -> Result<(), Error> {
        let [x, y, z] = region.pos;
        let [sx, sy, sz] = region.size;
        let (p, n) = (buf.as_mut_ptr(), buf.len() as u32);
        check("xf.image_read", "", unsafe { xf_image_read(self.handle, x, y, z, sx, sy, sz, p, n) })
    }

    /// Copies a box of voxels from buf into an image the job created.
    pub fn write(&self, region: Region, buf: &[u8]) -> Result<(), Error> {
        let [x, y, z] = region.pos;
        let [sx, sy, sz] = region.size;
        let (p, n) = bytes_arg(buf);
        check("xf.image_write", "", unsafe { xf_image_write(self.handle, x, y, z, sx, sy, sz, p, n) })
    }

    /// Releases the image.
    pub fn close(self) -> Result<(), Error> {
        let handle = self.handle;
        std::mem::forget(self);
        check("xf.image_close", "", unsafe { xf_image_close(handle) })
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        // Nothing useful can be done about a failure here; close reports it.
        unsafe { xf_image_close(self.handle) };
    }
}
