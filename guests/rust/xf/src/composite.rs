//! The create_output_* helpers of xfworkerutil: values of composite outputs
//! (shapes in params/TYPES.md), encoded exactly as the Go SDK encodes them.
//! File references come from `Job::upload_file`.

use crate::json::{EncodeError, ObjectWriter, ToJson};

/// A composite made of one file: CSV, Bitmap, HTMLDocument, ForeignFile,
/// SnapshotMetadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileOutput {
    pub kind: String,
    pub filename: String,
}

impl FileOutput {
    fn new(kind: &str, reference: &str) -> FileOutput {
        FileOutput { kind: kind.to_string(), filename: reference.to_string() }
    }

    /// A CSV output for an uploaded file.
    pub fn csv(reference: &str) -> FileOutput {
        FileOutput::new("CSV", reference)
    }

    /// A Bitmap output for an uploaded file.
    pub fn bitmap(reference: &str) -> FileOutput {
        FileOutput::new("Bitmap", reference)
    }

    /// An HTMLDocument output for an uploaded file.
    pub fn html_document(reference: &str) -> FileOutput {
        FileOutput::new("HTMLDocument", reference)
    }

    /// A ForeignFile output for an uploaded file.
    pub fn foreign_file(reference: &str) -> FileOutput {
        FileOutput::new("ForeignFile", reference)
    }

    /// A SnapshotMetadata output for an uploaded file.
    pub fn snapshot_metadata(reference: &str) -> FileOutput {
        FileOutput::new("SnapshotMetadata", reference)
    }
}

impl ToJson for FileOutput {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        let mut w = ObjectWriter::new(out);
        w.member("type", &self.kind)?;
        w.member("filename", &self.filename)?;
        w.end();
        Ok(())
    }
}

/// An extra file of an Image or Mesh.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdditionalFile {
    pub filename: String,
    /// May be empty.
    pub role: String,
}

impl ToJson for AdditionalFile {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        let mut w = ObjectWriter::new(out);
        w.member("filename", &self.filename)?;
        if !self.role.is_empty() {
            w.member("role", &self.role)?;
        }
        w.end();
        Ok(())
    }
}

/// An Image composite for uploaded files: the .omni metadata file, the
/// size and the pixel files. Images made on the host are stored more simply
/// with `Job::set_output_image`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageOutput {
    pub filename: String,
    pub size: [u32; 3],
    pub filenames: Vec<String>,
    pub additional_files: Vec<AdditionalFile>,
}

impl ToJson for ImageOutput {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        let mut w = ObjectWriter::new(out);
        w.member("type", "Image")?;
        w.member("filename", &self.filename)?;
        w.member("size", &self.size)?;
        if !self.filenames.is_empty() {
            w.member("filenames", &self.filenames)?;
        }
        if !self.additional_files.is_empty() {
            w.member("additional_files", &self.additional_files)?;
        }
        w.end();
        Ok(())
    }
}

/// A Mesh composite for uploaded files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeshOutput {
    pub filename: String,
    pub filenames: Vec<String>,
    pub additional_files: Vec<AdditionalFile>,
}

impl ToJson for MeshOutput {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        let mut w = ObjectWriter::new(out);
        w.member("type", "Mesh")?;
        w.member("filename", &self.filename)?;
        if !self.filenames.is_empty() {
            w.member("filenames", &self.filenames)?;
        }
        if !self.additional_files.is_empty() {
            w.member("additional_files", &self.additional_files)?;
        }
        w.end();
        Ok(())
    }
}

/// An Entity composite.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EntityOutput {
    pub uuid: String,
    pub name: String,
}

impl ToJson for EntityOutput {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        let mut w = ObjectWriter::new(out);
        w.member("type", "Entity")?;
        w.member("uuid", &self.uuid)?;
        w.member("name", &self.name)?;
        w.end();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::to_string;

    // Expected strings are the Go SDK's (guests/go/xf/xf_test.go).
    #[test]
    fn shapes_match_go() {
        assert_eq!(to_string(&FileOutput::csv("jobs/1/t.csv")).unwrap(), r#"{"type":"CSV","filename":"jobs/1/t.csv"}"#);
        let img = ImageOutput { filename: "a.omni".into(), size: [1, 2, 3], filenames: vec!["a.raw".into()], additional_files: vec![] };
        assert_eq!(to_string(&img).unwrap(), r#"{"type":"Image","filename":"a.omni","size":[1,2,3],"filenames":["a.raw"]}"#);
        let e = EntityOutput { uuid: "u".into(), name: "n".into() };
        assert_eq!(to_string(&e).unwrap(), r#"{"type":"Entity","uuid":"u","name":"n"}"#);
        let m = MeshOutput {
            filename: "m.stl".into(),
            filenames: vec![],
            additional_files: vec![AdditionalFile { filename: "m.txt".into(), role: String::new() }],
        };
        assert_eq!(to_string(&m).unwrap(), r#"{"type":"Mesh","filename":"m.stl","additional_files":[{"filename":"m.txt"}]}"#);
        assert_eq!(to_string(&FileOutput::html_document("r.html")).unwrap(), r#"{"type":"HTMLDocument","filename":"r.html"}"#);
    }
}
