//! The metadata the host describes as JSON (image info, job info) and the
//! JSON the SDK sends it (image specs), as plain Rust types.

use crate::json::{self, EncodeError, ObjectWriter, ToJson, Value};

/// Converts raw voxel values to calibrated units and back:
/// calibrated = slope * raw + intercept.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// The calibration's kind, JSON "type" (`slope_intercept`).
    pub kind: String,
    /// What the calibrated values measure, such as `dens`, `hu`, `linatt`.
    pub unit_type: String,
    /// The unit's display name, such as `mg HA/ccm`; may be empty.
    pub unit_name: String,
    pub slope: f64,
    pub intercept: f64,
}

impl Calibration {
    /// Converts a raw value to calibrated units.
    pub fn raw_to_calibrated(&self, raw: f64) -> f64 {
        self.slope * raw + self.intercept
    }

    /// Converts a calibrated value to raw units.
    pub fn calibrated_to_raw(&self, calibrated: f64) -> f64 {
        (calibrated - self.intercept) / self.slope
    }

    fn from_json(v: &Value) -> Result<Calibration, String> {
        require_object(v, "calibration")?;
        Ok(Calibration {
            kind: string_field(v, "type")?,
            unit_type: string_field(v, "unit_type")?,
            unit_name: string_field(v, "unit_name")?,
            slope: f64_field(v, "slope")?,
            intercept: f64_field(v, "intercept")?,
        })
    }
}

impl ToJson for Calibration {
    /// The Go SDK's layout: type, unit_type, unit_name (left out when
    /// empty), slope, intercept.
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        let mut w = ObjectWriter::new(out);
        w.member("type", &self.kind)?;
        w.member("unit_type", &self.unit_type)?;
        if !self.unit_name.is_empty() {
            w.member("unit_name", &self.unit_name)?;
        }
        w.member("slope", &self.slope)?;
        w.member("intercept", &self.intercept)?;
        w.end();
        Ok(())
    }
}

/// An image's metadata, as `xf.image_info_get` describes it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageInfo {
    /// Voxels along x, y and z.
    pub size: [u32; 3],
    /// The voxel type's name, such as `uint16` (see [`DataType`]).
    pub data_type: String,
    pub spacing_mm: [f64; 3],
    pub origin_mm: [f64; 3],
    pub calibrations: Vec<Calibration>,
    /// The unit type shown by default; may be empty.
    pub default_unit_type: String,
}

impl ImageInfo {
    /// Parses the JSON of `xf.image_info_get`. Absent or null fields keep
    /// their zero value and unknown fields are ignored, as the Go SDK
    /// decodes it; a field of the wrong type is an error.
    pub fn parse(data: &[u8]) -> Result<ImageInfo, String> {
        let v = json::parse(data).map_err(|e| e.to_string())?;
        require_object(&v, "image info")?;
        let mut calibrations = Vec::new();
        match v.get("calibrations") {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for c in items {
                    calibrations.push(Calibration::from_json(c).map_err(|e| format!("\"calibrations\": {}", e))?);
                }
            }
            Some(other) => return Err(format!("\"calibrations\" is a JSON {}, not an array", other.kind())),
        }
        Ok(ImageInfo {
            size: u32_triple_field(&v, "size")?,
            data_type: string_field(&v, "data_type")?,
            spacing_mm: f64_triple_field(&v, "spacing_mm")?,
            origin_mm: f64_triple_field(&v, "origin_mm")?,
            calibrations,
            default_unit_type: string_field(&v, "default_unit_type")?,
        })
    }

    /// The calibrations whose unit type is unit_type, in the image's order.
    pub fn calibrations_of_unit_type(&self, unit_type: &str) -> Vec<&Calibration> {
        self.calibrations.iter().filter(|c| c.unit_type == unit_type).collect()
    }

    /// The number of voxels.
    pub fn voxels(&self) -> u64 {
        self.size.iter().map(|&n| u64::from(n)).product()
    }
}

/// The running job, as `xf.job_info_get` describes it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct JobInfo {
    pub job_id: String,
    pub job_serial: i64,
    /// The ABI version the host implements.
    pub abi_version: String,
    pub task_type_name: String,
    pub task_type_version: String,
}

impl JobInfo {
    /// Parses the JSON of `xf.job_info_get`.
    pub fn parse(data: &[u8]) -> Result<JobInfo, String> {
        let v = json::parse(data).map_err(|e| e.to_string())?;
        require_object(&v, "job info")?;
        let (name, version) = match v.get("task_type") {
            None | Some(Value::Null) => (String::new(), String::new()),
            Some(t) => {
                require_object(t, "\"task_type\"")?;
                (string_field(t, "name")?, string_field(t, "version")?)
            }
        };
        Ok(JobInfo {
            job_id: string_field(&v, "job_id")?,
            job_serial: match v.get("job_serial") {
                None => 0,
                Some(x) => x.to_i64().map_err(|e| format!("\"job_serial\": {}", e))?.unwrap_or(0),
            },
            abi_version: string_field(&v, "abi_version")?,
            task_type_name: name,
            task_type_version: version,
        })
    }
}

/// A voxel type, with the code the kernels use for it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataType {
    Uint8,
    Int8,
    Uint16,
    Int16,
    Uint32,
    Int32,
    Float32,
    Float64,
}

impl DataType {
    const ALL: [DataType; 8] = [
        DataType::Uint8,
        DataType::Int8,
        DataType::Uint16,
        DataType::Int16,
        DataType::Uint32,
        DataType::Int32,
        DataType::Float32,
        DataType::Float64,
    ];

    /// The name used in image info and image specs, such as `uint16`.
    pub fn name(self) -> &'static str {
        match self {
            DataType::Uint8 => "uint8",
            DataType::Int8 => "int8",
            DataType::Uint16 => "uint16",
            DataType::Int16 => "int16",
            DataType::Uint32 => "uint32",
            DataType::Int32 => "int32",
            DataType::Float32 => "float32",
            DataType::Float64 => "float64",
        }
    }

    /// The type with the name; `None` if there is none.
    pub fn from_name(name: &str) -> Option<DataType> {
        DataType::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The code of `clip.convert` (1 uint8 ... 8 float64).
    pub fn code(self) -> u32 {
        DataType::ALL.iter().position(|&t| t == self).map_or(0, |i| i as u32 + 1)
    }

    /// Bytes per voxel.
    pub fn size_bytes(self) -> usize {
        match self {
            DataType::Uint8 | DataType::Int8 => 1,
            DataType::Uint16 | DataType::Int16 => 2,
            DataType::Uint32 | DataType::Int32 | DataType::Float32 => 4,
            DataType::Float64 => 8,
        }
    }
}

/// A block of voxels: pos is its first corner, size its extent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Region {
    pub pos: [u32; 3],
    pub size: [u32; 3],
}

/// Describes an image to create. Fields left `None` (or an empty
/// calibration list) are inherited from the image `like` names when it is
/// set; without it, size and data type are required by the host.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImageSpec {
    pub size: Option<[u32; 3]>,
    pub data_type: Option<DataType>,
    pub spacing_mm: Option<[f64; 3]>,
    pub origin_mm: Option<[f64; 3]>,
    pub calibrations: Vec<Calibration>,
    /// The handle of an image whose geometry is inherited (see
    /// `Image::handle`).
    pub like: Option<u32>,
}

impl ToJson for ImageSpec {
    /// The Go SDK's layout: size, data_type, spacing_mm, origin_mm,
    /// calibrations, like, each left out when unset.
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        let mut w = ObjectWriter::new(out);
        if let Some(size) = &self.size {
            w.member("size", size)?;
        }
        if let Some(t) = self.data_type {
            w.member("data_type", t.name())?;
        }
        if let Some(s) = &self.spacing_mm {
            w.member("spacing_mm", s)?;
        }
        if let Some(o) = &self.origin_mm {
            w.member("origin_mm", o)?;
        }
        if !self.calibrations.is_empty() {
            w.member("calibrations", &self.calibrations)?;
        }
        if let Some(h) = self.like.filter(|&h| h != 0) {
            w.member("like", &h)?;
        }
        w.end();
        Ok(())
    }
}

fn require_object(v: &Value, what: &str) -> Result<(), String> {
    match v {
        Value::Object(_) => Ok(()),
        other => Err(format!("{} is a JSON {}, not an object", what, other.kind())),
    }
}

fn string_field(v: &Value, key: &str) -> Result<String, String> {
    match v.get(key) {
        None => Ok(String::new()),
        Some(x) => x.to_str().map(|s| s.unwrap_or_default().to_string()).map_err(|e| format!("\"{}\": {}", key, e)),
    }
}

fn f64_field(v: &Value, key: &str) -> Result<f64, String> {
    match v.get(key) {
        None => Ok(0.0),
        Some(x) => x.to_f64().map(|f| f.unwrap_or(0.0)).map_err(|e| format!("\"{}\": {}", key, e)),
    }
}

fn triple<'a>(v: &'a Value, key: &str) -> Result<Option<&'a [Value]>, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) if items.len() == 3 => Ok(Some(items)),
        Some(Value::Array(items)) => Err(format!("\"{}\" has {} elements, want 3", key, items.len())),
        Some(other) => Err(format!("\"{}\" is a JSON {}, not an array", key, other.kind())),
    }
}

fn f64_triple_field(v: &Value, key: &str) -> Result<[f64; 3], String> {
    let mut out = [0.0; 3];
    if let Some(items) = triple(v, key)? {
        for (o, x) in out.iter_mut().zip(items) {
            *o = x.to_f64().map_err(|e| format!("\"{}\": {}", key, e))?.unwrap_or(0.0);
        }
    }
    Ok(out)
}

fn u32_triple_field(v: &Value, key: &str) -> Result<[u32; 3], String> {
    let mut out = [0; 3];
    if let Some(items) = triple(v, key)? {
        for (o, x) in out.iter_mut().zip(items) {
            let n = x.to_i64().map_err(|e| format!("\"{}\": {}", key, e))?.unwrap_or(0);
            *o = u32::try_from(n).map_err(|_| format!("\"{}\": {} is not a voxel count", key, n))?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::to_string;

    const INFO: &str = r#"{"size":[41,33,27],"data_type":"uint16","spacing_mm":[0.03,0.03,0.03],"origin_mm":[0,0,-1.5],
        "calibrations":[{"type":"slope_intercept","unit_type":"dens","unit_name":"mg HA/ccm","slope":0.25,"intercept":-400},
        {"type":"slope_intercept","unit_type":"hu","unit_name":"HU","slope":0.5,"intercept":-800}],"default_unit_type":"dens","extra":{}}"#;

    #[test]
    fn parses_image_info() {
        let info = ImageInfo::parse(INFO.as_bytes()).unwrap();
        assert_eq!(info.size, [41, 33, 27]);
        assert_eq!(info.voxels(), 41 * 33 * 27);
        assert_eq!(info.data_type, "uint16");
        assert_eq!(info.origin_mm, [0.0, 0.0, -1.5]);
        assert_eq!(info.default_unit_type, "dens");
        let dens = info.calibrations_of_unit_type("dens");
        assert_eq!(dens.len(), 1);
        assert_eq!(dens[0].unit_name, "mg HA/ccm");
        assert_eq!(dens[0].raw_to_calibrated(5200.0), 900.0);
        assert_eq!(dens[0].calibrated_to_raw(900.0), 5200.0);
        assert!(info.calibrations_of_unit_type("linatt").is_empty());
    }

    #[test]
    fn image_info_defaults_and_errors() {
        let info = ImageInfo::parse(br#"{"size":[1,2,3],"data_type":"uint8","calibrations":null}"#).unwrap();
        assert_eq!(info.spacing_mm, [0.0; 3]);
        assert!(info.calibrations.is_empty());
        for (doc, want) in [
            (&b"[]"[..], "image info is a JSON array, not an object"),
            (b"{\"size\":[1,2]}", "\"size\" has 2 elements, want 3"),
            (b"{\"size\":[1,2,-3]}", "\"size\": -3 is not a voxel count"),
            (b"{\"size\":[1,2,3.5]}", "\"size\": json: cannot unmarshal number 3.5 into Go value of type int64"),
            (b"{\"data_type\":7}", "\"data_type\": json: cannot unmarshal number into Go value of type string"),
            (b"{\"calibrations\":{}}", "\"calibrations\" is a JSON object, not an array"),
            (b"{\"calibrations\":[{\"slope\":\"x\"}]}", "\"calibrations\": \"slope\": json: cannot unmarshal string into Go value of type float64"),
            (b"{", "invalid JSON at byte 1: expected a string key in object"),
        ] {
            assert_eq!(ImageInfo::parse(doc).unwrap_err(), want);
        }
    }

    #[test]
    fn parses_job_info() {
        let info = JobInfo::parse(br#"{"abi_version":"1.1","job_id":"j-7","job_serial":7,"task_type":{"name":"Lucid.CLIP.StatMinMax","version":"1.0.0.0"}}"#).unwrap();
        assert_eq!(info.job_id, "j-7");
        assert_eq!(info.job_serial, 7);
        assert_eq!(info.abi_version, "1.1");
        assert_eq!(info.task_type_name, "Lucid.CLIP.StatMinMax");
        assert_eq!(info.task_type_version, "1.0.0.0");
        assert!(JobInfo::parse(br#"{"task_type":3}"#).is_err());
    }

    #[test]
    fn data_types() {
        assert_eq!(DataType::Uint8.code(), 1);
        assert_eq!(DataType::Float64.code(), 8);
        assert_eq!(DataType::from_name("int16"), Some(DataType::Int16));
        assert_eq!(DataType::from_name("int64"), None);
        assert_eq!(DataType::Float32.size_bytes(), 4);
    }

    // Expected strings were produced by the Go SDK's json.Marshal of the
    // same ImageSpec.
    #[test]
    fn image_spec_json() {
        let spec = ImageSpec { size: Some([4, 5, 6]), data_type: Some(DataType::Uint8), ..Default::default() };
        assert_eq!(to_string(&spec).unwrap(), r#"{"size":[4,5,6],"data_type":"uint8"}"#);
        let spec = ImageSpec {
            spacing_mm: Some([0.03, 0.03, 0.5]),
            calibrations: vec![Calibration { kind: "slope_intercept".into(), unit_type: "hu".into(), unit_name: String::new(), slope: 0.5, intercept: -800.0 }],
            like: Some(3),
            ..Default::default()
        };
        assert_eq!(
            to_string(&spec).unwrap(),
            r#"{"spacing_mm":[0.03,0.03,0.5],"calibrations":[{"type":"slope_intercept","unit_type":"hu","slope":0.5,"intercept":-800}],"like":3}"#
        );
        assert_eq!(to_string(&ImageSpec::default()).unwrap(), "{}");
    }
}
