//! A native helper for guests/rust/rust_test.go: it answers one request per
//! stdin line with the xf crate's JSON encoding or decoding, so the test can
//! compare each answer with Go's encoding/json on the same value.
//!
//! Requests (arguments are decimal bit patterns or hex-encoded bytes):
//!   f64 BITS        -> the JSON of the f64, or "error MESSAGE"
//!   f32 BITS        -> the JSON of the f32, or "error MESSAGE"
//!   str HEX         -> the JSON of the UTF-8 string
//!   valid HEX       -> "true" if the bytes are one JSON document, else "false"
//!   unquote HEX     -> the hex of the string a JSON string literal decodes to
//!   float HEX       -> the bits of a JSON value decoded as f64, or "error MESSAGE"
//!   int HEX         -> a JSON value decoded as i64, or "error MESSAGE"
//!   string HEX      -> the hex of a JSON value decoded as a string, or "error MESSAGE"
//!   bool HEX        -> a JSON value decoded as a bool, or "error MESSAGE"

use std::io::{BufRead, BufWriter, Write};

use xf::json::{self, Value};

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex")).collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{:02x}", x)).collect()
}

fn decode(arg: &str) -> Value {
    json::parse(&unhex(arg)).expect("a decode request carries valid JSON")
}

fn answer(kind: &str, arg: &str) -> String {
    let or_error = |r: Result<String, String>| r.unwrap_or_else(|e| format!("error {}", e));
    match kind {
        "f64" => or_error(json::to_string(&f64::from_bits(arg.parse().expect("bits"))).map_err(|e| e.to_string())),
        "f32" => or_error(json::to_string(&f32::from_bits(arg.parse().expect("bits"))).map_err(|e| e.to_string())),
        "str" => json::to_string(&String::from_utf8(unhex(arg)).expect("utf-8")).expect("strings encode"),
        "valid" => json::parse(&unhex(arg)).is_ok().to_string(),
        "unquote" => match json::parse(&unhex(arg)) {
            Ok(Value::String(s)) => hex(s.as_bytes()),
            other => format!("error {:?}", other),
        },
        "float" => or_error(decode(arg).to_f64().map(|f| f.map_or("null".into(), |f| f.to_bits().to_string())).map_err(|e| e.to_string())),
        "int" => or_error(decode(arg).to_i64().map(|i| i.map_or("null".into(), |i| i.to_string())).map_err(|e| e.to_string())),
        "string" => or_error(decode(arg).to_str().map(|s| s.map_or("null".into(), |s| hex(s.as_bytes()))).map_err(|e| e.to_string())),
        "bool" => or_error(decode(arg).to_bool().map(|b| b.map_or("null".into(), |b| b.to_string())).map_err(|e| e.to_string())),
        _ => panic!("unknown request {}", kind),
    }
}

fn main() {
    let stdin = std::io::stdin();
    let mut out = BufWriter::new(std::io::stdout());
    for line in stdin.lock().lines() {
        let line = line.expect("read stdin");
        let (kind, arg) = line.split_once(' ').unwrap_or((&line, ""));
        writeln!(out, "{}", answer(kind, arg)).expect("write stdout");
    }
}
