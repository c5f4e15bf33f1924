//! The job's inputs: one JSON object, validated by the host against the
//! task interface, with null for inputs given in mode none.

use crate::error::{go_quote, Error};
use crate::json::{self, Value};

/// The job's inputs.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inputs {
    members: Vec<(String, Value)>,
}

impl Inputs {
    /// Parses the JSON object of `xf.inputs_get`. Like the Go SDK, it
    /// takes a top-level null as no inputs.
    pub fn parse(data: &[u8]) -> Result<Inputs, Error> {
        match json::parse(data) {
            Ok(Value::Object(members)) => Ok(Inputs { members }),
            Ok(Value::Null) => Ok(Inputs::default()),
            Ok(other) => Err(Error::new(format!(
                "decode inputs: json: cannot unmarshal {} into Go value of type xf.Inputs",
                other.kind()
            ))),
            Err(e) => Err(Error::new(format!("decode inputs: {}", e))),
        }
    }

    /// The raw JSON value of an input; `None` if the task has no such input.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether the input is null (given in mode none) or absent.
    pub fn is_null(&self, key: &str) -> bool {
        self.get(key).map_or(true, Value::is_null)
    }

    /// The input's value, or an error naming the key if it is absent or null.
    fn required(&self, key: &str) -> Result<&Value, Error> {
        match self.get(key) {
            None => Err(Error::new(format!("input {} does not exist", go_quote(key)))),
            Some(Value::Null) => Err(Error::new(format!("input {} is null", go_quote(key)))),
            Some(v) => Ok(v),
        }
    }

    fn optional<'a, T>(&'a self, key: &str, decode: impl FnOnce(&'a Value) -> Result<Option<T>, json::DecodeError>) -> Result<Option<T>, Error> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => decode(v).map_err(|e| Error::new(format!("input {}: {}", go_quote(key), e))),
        }
    }

    /// A Float input, or `None` when it is null.
    pub fn optional_f64(&self, key: &str) -> Result<Option<f64>, Error> {
        self.optional(key, Value::to_f64)
    }

    /// An Integer input, or `None` when it is null.
    pub fn optional_i64(&self, key: &str) -> Result<Option<i64>, Error> {
        self.optional(key, Value::to_i64)
    }

    /// A String input, or `None` when it is null.
    pub fn optional_string(&self, key: &str) -> Result<Option<String>, Error> {
        self.optional(key, |v| v.to_str().map(|s| s.map(str::to_string)))
    }

    /// A Boolean input, or `None` when it is null.
    pub fn optional_bool(&self, key: &str) -> Result<Option<bool>, Error> {
        self.optional(key, Value::to_bool)
    }

    /// A Float input that must not be null.
    pub fn f64(&self, key: &str) -> Result<f64, Error> {
        self.required(key)?;
        self.optional_f64(key).map(Option::unwrap_or_default)
    }

    /// An Integer input that must not be null.
    pub fn i64(&self, key: &str) -> Result<i64, Error> {
        self.required(key)?;
        self.optional_i64(key).map(Option::unwrap_or_default)
    }

    /// A String input that must not be null.
    pub fn string(&self, key: &str) -> Result<String, Error> {
        self.required(key)?;
        self.optional_string(key).map(Option::unwrap_or_default)
    }

    /// A Boolean input that must not be null.
    pub fn bool(&self, key: &str) -> Result<bool, Error> {
        self.required(key)?;
        self.optional_bool(key).map(Option::unwrap_or_default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> Inputs {
        Inputs::parse(br#"{"lo": 1.5, "hi": null, "unit": "dens", "n": 7, "on": true, "big": 1e400, "none": null}"#).unwrap()
    }

    #[test]
    fn optional_getters() {
        let in_ = inputs();
        assert_eq!(in_.optional_f64("lo").unwrap(), Some(1.5));
        assert_eq!(in_.optional_f64("hi").unwrap(), None);
        assert_eq!(in_.optional_f64("missing").unwrap(), None);
        assert_eq!(in_.optional_f64("n").unwrap(), Some(7.0));
        assert_eq!(in_.optional_i64("n").unwrap(), Some(7));
        assert_eq!(in_.optional_string("unit").unwrap().as_deref(), Some("dens"));
        assert_eq!(in_.optional_string("none").unwrap(), None);
        assert_eq!(in_.optional_bool("on").unwrap(), Some(true));
        assert!(in_.is_null("missing") && in_.is_null("hi") && !in_.is_null("lo"));
    }

    // Messages match the Go SDK's for the same inputs.
    #[test]
    fn errors_name_the_input() {
        let in_ = inputs();
        let msg = |r: Result<Option<f64>, Error>| r.unwrap_err().to_string();
        assert_eq!(msg(in_.optional_f64("unit")), "input \"unit\": json: cannot unmarshal string into Go value of type float64");
        assert_eq!(msg(in_.optional_f64("big")), "input \"big\": json: cannot unmarshal number 1e400 into Go value of type float64");
        assert_eq!(in_.optional_i64("lo").unwrap_err().to_string(), "input \"lo\": json: cannot unmarshal number 1.5 into Go value of type int64");
        assert_eq!(in_.optional_string("lo").unwrap_err().to_string(), "input \"lo\": json: cannot unmarshal number into Go value of type string");
        assert_eq!(in_.f64("missing").unwrap_err().to_string(), "input \"missing\" does not exist");
        assert_eq!(in_.string("none").unwrap_err().to_string(), "input \"none\" is null");
        assert_eq!(in_.f64("lo").unwrap(), 1.5);
        assert_eq!(in_.i64("n").unwrap(), 7);
        assert_eq!(in_.string("unit").unwrap(), "dens");
        assert!(in_.bool("on").unwrap());
    }

    #[test]
    fn parse_errors() {
        assert_eq!(Inputs::parse(b"[1]").unwrap_err().to_string(), "decode inputs: json: cannot unmarshal array into Go value of type xf.Inputs");
        assert_eq!(Inputs::parse(b"{\"a\":").unwrap_err().to_string(), "decode inputs: invalid JSON at byte 5: unexpected end of input");
        assert_eq!(Inputs::parse(b"null").unwrap(), Inputs::default());
        let dup = Inputs::parse(br#"{"a": 1, "a": 2}"#).unwrap();
        assert_eq!(dup.optional_i64("a").unwrap(), Some(2));
    }
}
