//! A small strict JSON reader, and a JSON writer whose output is byte for
//! byte what Go's `encoding/json` produces for the same values.
//!
//! The reader exists because a task module may not depend on crates.io; it
//! accepts exactly RFC 8259 JSON (UTF-8, no trailing commas, no comments,
//! nothing after the value), never panics on any input, and bounds nesting
//! so that hostile input cannot exhaust the guest's stack.
//!
//! The writer matters because outputs are compared bit for bit with the Go
//! ports of each task type: floats use Go's shortest round-trip digits with
//! its switch to exponent form, and strings use Go's escapes (including
//! `<`, `>`, `&`, U+2028 and U+2029).

use std::fmt;

/// The deepest nesting of arrays and objects the reader accepts.
pub const MAX_DEPTH: usize = 512;

/// A parsed JSON value. Objects keep their members in document order,
/// duplicates included; [`Value::get`] returns the last one, as a Go map
/// would hold it.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// A number, kept as its JSON text so no precision is lost before the
    /// caller picks a type.
    Number(String),
    String(String),
    Array(Vec<Value>),
    Object(Vec<(String, Value)>),
}

impl Value {
    /// The member `key` of an object (the last one if it is duplicated);
    /// `None` for other values.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(members) => members.iter().rev().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// The value's kind as Go's `encoding/json` names it in errors:
    /// null, bool, number, string, array or object.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// Decodes a number into f64 as Go does into a float64: correctly
    /// rounded, an error if it overflows. `Ok(None)` for null.
    pub fn to_f64(&self) -> Result<Option<f64>, DecodeError> {
        match self {
            Value::Null => Ok(None),
            Value::Number(text) => match text.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Some(f)),
                _ => Err(DecodeError::number(text, "float64")),
            },
            other => Err(DecodeError::kind(other, "float64")),
        }
    }

    /// Decodes a number into i64 as Go does into an int64: an integer
    /// literal (no fraction or exponent) in range. `Ok(None)` for null.
    pub fn to_i64(&self) -> Result<Option<i64>, DecodeError> {
        match self {
            Value::Null => Ok(None),
            Value::Number(text) => text.parse::<i64>().map(Some).map_err(|_| DecodeError::number(text, "int64")),
            other => Err(DecodeError::kind(other, "int64")),
        }
    }

    /// Decodes a string. `Ok(None)` for null.
    pub fn to_str(&self) -> Result<Option<&str>, DecodeError> {
        match self {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s)),
            other => Err(DecodeError::kind(other, "string")),
        }
    }

    /// Decodes a boolean. `Ok(None)` for null.
    pub fn to_bool(&self) -> Result<Option<bool>, DecodeError> {
        match self {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(*b)),
            other => Err(DecodeError::kind(other, "bool")),
        }
    }
}

/// A value that does not fit the type asked for. Its message is the one Go's
/// `encoding/json` gives, so a task type fails with the same text in every
/// language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(String);

impl DecodeError {
    fn kind(v: &Value, go_type: &str) -> DecodeError {
        DecodeError(format!("json: cannot unmarshal {} into Go value of type {}", v.kind(), go_type))
    }

    fn number(text: &str, go_type: &str) -> DecodeError {
        DecodeError(format!("json: cannot unmarshal number {} into Go value of type {}", text, go_type))
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

/// Malformed JSON: where and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Byte offset of the problem in the input.
    pub offset: usize,
    /// What is wrong there.
    pub reason: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for ParseError {}

/// Parses one JSON document.
pub fn parse(input: &[u8]) -> Result<Value, ParseError> {
    let mut p = Parser { s: input, pos: 0, depth: 0 };
    p.skip_space();
    let v = p.value()?;
    p.skip_space();
    if p.pos != p.s.len() {
        return Err(p.error("data after the value"));
    }
    Ok(v)
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
}

impl<'a> Parser<'a> {
    fn error(&self, reason: &'static str) -> ParseError {
        ParseError { offset: self.pos, reason }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn literal(&mut self, word: &'static [u8], v: Value) -> Result<Value, ParseError> {
        if self.s.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(v)
        } else {
            Err(self.error("invalid literal"))
        }
    }

    fn value(&mut self) -> Result<Value, ParseError> {
        match self.peek() {
            None => Err(self.error("unexpected end of input")),
            Some(b'n') => self.literal(b"null", Value::Null),
            Some(b't') => self.literal(b"true", Value::Bool(true)),
            Some(b'f') => self.literal(b"false", Value::Bool(false)),
            Some(b'"') => Ok(Value::String(self.string()?)),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => self.nested(Parser::array),
            Some(b'{') => self.nested(Parser::object),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn nested(&mut self, f: fn(&mut Parser<'a>) -> Result<Value, ParseError>) -> Result<Value, ParseError> {
        if self.depth == MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.depth += 1;
        let v = f(self);
        self.depth -= 1;
        v
    }

    fn array(&mut self) -> Result<Value, ParseError> {
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_space();
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_space();
            items.push(self.value()?);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::Array(items));
                }
                None => return Err(self.error("unexpected end of input in array")),
                Some(_) => return Err(self.error("expected ',' or ']' in array")),
            }
        }
    }

    fn object(&mut self) -> Result<Value, ParseError> {
        self.pos += 1; // '{'
        let mut members = Vec::new();
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_space();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key in object"));
            }
            let key = self.string()?;
            self.skip_space();
            if self.peek() != Some(b':') {
                return Err(self.error("expected ':' after object key"));
            }
            self.pos += 1;
            self.skip_space();
            let v = self.value()?;
            members.push((key, v));
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Object(members));
                }
                None => return Err(self.error("unexpected end of input in object")),
                Some(_) => return Err(self.error("expected ',' or '}' in object")),
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, ParseError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.error("expected a digit after the decimal point"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.error("expected a digit in the exponent"));
            }
        }
        // Only ASCII bytes were consumed, so this cannot fail.
        let text = std::str::from_utf8(&self.s[start..self.pos]).map_err(|_| self.error("invalid number"))?;
        Ok(Value::Number(text.to_string()))
    }

    fn hex4(&mut self) -> Result<u32, ParseError> {
        let mut v = 0u32;
        for _ in 0..4 {
            let d = match self.peek() {
                Some(c @ b'0'..=b'9') => c - b'0',
                Some(c @ b'a'..=b'f') => c - b'a' + 10,
                Some(c @ b'A'..=b'F') => c - b'A' + 10,
                _ => return Err(self.error("expected four hex digits after \\u")),
            };
            v = v * 16 + u32::from(d);
            self.pos += 1;
        }
        Ok(v)
    }

    /// Reads a string; invalid surrogate escapes become U+FFFD, as in Go.
    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1; // '"'
        let mut out = Vec::new();
        loop {
            let c = match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(c) => c,
            };
            match c {
                b'"' => {
                    self.pos += 1;
                    return String::from_utf8(out).map_err(|_| ParseError { offset: start, reason: "invalid UTF-8 in string" });
                }
                b'\\' => {
                    self.pos += 1;
                    let e = self.peek().ok_or_else(|| self.error("unterminated string"))?;
                    self.pos += 1;
                    let simple = match e {
                        b'"' => Some(b'"'),
                        b'\\' => Some(b'\\'),
                        b'/' => Some(b'/'),
                        b'b' => Some(0x08),
                        b'f' => Some(0x0c),
                        b'n' => Some(b'\n'),
                        b'r' => Some(b'\r'),
                        b't' => Some(b'\t'),
                        b'u' => None,
                        _ => {
                            self.pos -= 1;
                            return Err(self.error("invalid escape"));
                        }
                    };
                    if let Some(b) = simple {
                        out.push(b);
                        continue;
                    }
                    let ch = self.unicode_escape()?;
                    let mut utf8 = [0u8; 4];
                    out.extend_from_slice(ch.encode_utf8(&mut utf8).as_bytes());
                }
                0x00..=0x1f => return Err(self.error("control character in string")),
                _ => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    /// Decodes the rest of a \u escape (after "\u"), joining a surrogate
    /// pair when a low surrogate escape follows a high one.
    fn unicode_escape(&mut self) -> Result<char, ParseError> {
        let first = self.hex4()?;
        if !(0xD800..0xDC00).contains(&first) {
            return Ok(char::from_u32(first).unwrap_or(char::REPLACEMENT_CHARACTER));
        }
        if self.s.get(self.pos..self.pos + 2) != Some(b"\\u") {
            return Ok(char::REPLACEMENT_CHARACTER);
        }
        let save = self.pos;
        self.pos += 2;
        let second = self.hex4()?;
        if (0xDC00..0xE000).contains(&second) {
            let c = 0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00);
            return Ok(char::from_u32(c).unwrap_or(char::REPLACEMENT_CHARACTER));
        }
        // Not a pair: the lone high surrogate is replaced and the second
        // escape is read on its own.
        self.pos = save;
        Ok(char::REPLACEMENT_CHARACTER)
    }
}

/// A value that Go's `encoding/json` refuses to encode: NaN or an infinity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeError(String);

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EncodeError {}

/// A value that can be written as JSON exactly as Go's `json.Marshal`
/// writes the corresponding Go value. Sequences are arrays (also of u8,
/// which Go would write in base64) and `None` is null.
pub trait ToJson {
    /// Appends the value's JSON to out.
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError>;
}

/// Encodes a value as JSON.
pub fn to_string<T: ToJson + ?Sized>(v: &T) -> Result<String, EncodeError> {
    let mut out = String::new();
    v.write_json(&mut out)?;
    Ok(out)
}

/// Already encoded JSON, written verbatim (Go's json.RawMessage). The
/// caller is responsible for it being valid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawJson(pub String);

impl ToJson for RawJson {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        out.push_str(&self.0);
        Ok(())
    }
}

impl<T: ToJson + ?Sized> ToJson for &T {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        (**self).write_json(out)
    }
}

impl<T: ToJson> ToJson for Option<T> {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        match self {
            Some(v) => v.write_json(out),
            None => {
                out.push_str("null");
                Ok(())
            }
        }
    }
}

impl<T: ToJson> ToJson for [T] {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        out.push('[');
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            v.write_json(out)?;
        }
        out.push(']');
        Ok(())
    }
}

impl<T: ToJson, const N: usize> ToJson for [T; N] {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        self[..].write_json(out)
    }
}

impl<T: ToJson> ToJson for Vec<T> {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        self[..].write_json(out)
    }
}

impl ToJson for bool {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        out.push_str(if *self { "true" } else { "false" });
        Ok(())
    }
}

impl ToJson for str {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        write_string(out, self);
        Ok(())
    }
}

impl ToJson for String {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        write_string(out, self);
        Ok(())
    }
}

macro_rules! integer_to_json {
    ($($t:ty),*) => {$(
        impl ToJson for $t {
            fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
                out.push_str(&self.to_string());
                Ok(())
            }
        }
    )*};
}

integer_to_json!(i8, i16, i32, i64, isize, u8, u16, u32, u64, usize);

impl ToJson for f64 {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        let f = *self;
        if !f.is_finite() {
            return Err(unsupported(f));
        }
        let abs = f.abs();
        let mut d = Decimal::parse(&format!("{:e}", abs));
        // Below 16 digits two neighbouring candidates are further apart
        // than an f64's rounding interval is wide, so there are no ties.
        if d.digits.len() >= 16 {
            // 767 significant digits are the most an f64 needs.
            d = d.tie_to_even(|p| format!("{:.*e}", p, abs), 800, |s| s.parse::<f64>() == Ok(abs));
        }
        let exponent_form = abs != 0.0 && (abs < 1e-6 || abs >= 1e21);
        d.write_go(out, f.is_sign_negative(), exponent_form);
        Ok(())
    }
}

impl ToJson for f32 {
    fn write_json(&self, out: &mut String) -> Result<(), EncodeError> {
        let f = *self;
        if !f.is_finite() {
            return Err(unsupported(f64::from(f)));
        }
        let abs = f.abs();
        let mut d = Decimal::parse(&format!("{:e}", abs));
        // As for f64: no ties below 7 digits for an f32.
        if d.digits.len() >= 7 {
            // 112 significant digits are the most an f32 needs.
            d = d.tie_to_even(|p| format!("{:.*e}", p, abs), 200, |s| s.parse::<f32>() == Ok(abs));
        }
        let exponent_form = abs != 0.0 && (abs < 1e-6 || abs >= 1e21);
        d.write_go(out, f.is_sign_negative(), exponent_form);
        Ok(())
    }
}

/// Go's error for NaN and infinities, which its strconv spells +Inf, -Inf
/// and NaN.
fn unsupported(f: f64) -> EncodeError {
    let text = if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    };
    EncodeError(format!("json: unsupported value: {}", text))
}

/// A non-negative decimal d1.d2d3... * 10^exp, as significant digits.
///
/// Rust and Go both format a float with the fewest digits that read back
/// as the same float and, among those, the candidate closest to its exact
/// value. They differ only when two candidates are exactly as close: Rust
/// rounds up, Go to the even digit. `tie_to_even` applies Go's rule, and
/// `write_go` Go's layout.
#[derive(Debug, PartialEq)]
struct Decimal {
    digits: String,
    exp: i32,
}

impl Decimal {
    /// Parses Rust's exponent form of a non-negative float: "1.2345e3",
    /// "5e-324", "0e0".
    fn parse(rust_exp: &str) -> Decimal {
        let (mantissa, exp) = rust_exp.split_once('e').unwrap_or((rust_exp, "0"));
        let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
        Decimal { digits: if digits.is_empty() { "0".into() } else { digits }, exp: exp.parse().unwrap_or(0) }
    }

    /// Applies Go's tie rule. expand(p) writes the float in Rust's
    /// exponent form with p digits after the point, correctly rounded, and
    /// expand(exact_digits) is its exact value; round_trips tells whether a
    /// candidate, written as "d.ddde±x", reads back as the float.
    fn tie_to_even(self, expand: impl Fn(usize) -> String, exact_digits: usize, round_trips: impl Fn(&str) -> bool) -> Decimal {
        let n = self.digits.len();
        if self.digits.as_bytes()[n - 1] % 2 == 0 {
            return self;
        }
        // A tie means the exact value is the n digits of one candidate
        // followed by a single 5; rounded to n + 2 digits it reads "..50".
        // Only then is the (slow) exact expansion worth computing.
        let near = Decimal::parse(&expand(n + 1));
        if near.exp != self.exp || !near.digits.ends_with("50") {
            return self;
        }
        let exact = Decimal::parse(&expand(exact_digits));
        if exact.exp != self.exp || exact.digits.len() <= n {
            return self;
        }
        let (truncated, rest) = exact.digits.split_at(n);
        if !(rest.starts_with('5') && rest[1..].bytes().all(|b| b == b'0')) {
            return self;
        }
        // self is one of the two candidates around the midpoint; the other
        // has an even last digit.
        let other = if self.digits == truncated {
            increment(truncated, self.exp)
        } else {
            Decimal { digits: truncated.to_string(), exp: self.exp }
        };
        let other = other.trimmed();
        let text = format!("{}.{}e{}", &other.digits[..1], &other.digits[1..], other.exp);
        if round_trips(&text) {
            other
        } else {
            self
        }
    }

    /// Drops trailing zeros (keeping one digit).
    fn trimmed(mut self) -> Decimal {
        while self.digits.len() > 1 && self.digits.ends_with('0') {
            self.digits.pop();
        }
        self
    }

    /// Writes the decimal as Go's strconv.FormatFloat(f, 'e' or 'f', -1,
    /// bits), followed by encoding/json's shortening of "e-07" to "e-7".
    fn write_go(&self, out: &mut String, negative: bool, exponent_form: bool) {
        let (digits, exp) = (&self.digits, self.exp);
        if negative {
            out.push('-');
        }
        if exponent_form {
            out.push_str(&digits[..1]);
            if digits.len() > 1 {
                out.push('.');
                out.push_str(&digits[1..]);
            }
            out.push('e');
            out.push(if exp < 0 { '-' } else { '+' });
            // Go writes at least two exponent digits, then encoding/json
            // drops the leading zero of a negative two-digit exponent.
            if (0..10).contains(&exp) {
                out.push('0');
            }
            out.push_str(&exp.unsigned_abs().to_string());
            return;
        }
        // Positional: the decimal point goes after digit exp (from 0).
        let n = digits.len() as i32;
        if exp < 0 {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(digits);
        } else if exp >= n - 1 {
            out.push_str(digits);
            for _ in 0..(exp - (n - 1)) {
                out.push('0');
            }
        } else {
            let point = (exp + 1) as usize;
            out.push_str(&digits[..point]);
            out.push('.');
            out.push_str(&digits[point..]);
        }
    }
}

/// digits + 1 in the last place; a carry out of the first digit moves the
/// exponent up.
fn increment(digits: &str, exp: i32) -> Decimal {
    let mut b = digits.as_bytes().to_vec();
    for d in b.iter_mut().rev() {
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            return Decimal { digits: String::from_utf8_lossy(&b).into_owned(), exp };
        }
    }
    b.insert(0, b'1');
    b.pop();
    Decimal { digits: String::from_utf8_lossy(&b).into_owned(), exp: exp + 1 }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Writes a string as Go's encoding/json does with HTML escaping on.
fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0}'..='\u{1f}' | '<' | '>' | '&' => {
                let b = c as u32 as usize;
                out.push_str("\\u00");
                out.push(HEX[b >> 4] as char);
                out.push(HEX[b & 0xf] as char);
            }
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            _ => out.push(c),
        }
    }
    out.push('"');
}

/// Writes the members of a JSON object in the given order; members whose
/// value is `None` are left out (Go's omitempty).
pub(crate) struct ObjectWriter<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> ObjectWriter<'a> {
    pub(crate) fn new(out: &'a mut String) -> ObjectWriter<'a> {
        out.push('{');
        ObjectWriter { out, first: true }
    }

    pub(crate) fn member<T: ToJson + ?Sized>(&mut self, key: &str, v: &T) -> Result<(), EncodeError> {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        write_string(self.out, key);
        self.out.push(':');
        v.write_json(self.out)
    }

    pub(crate) fn end(self) {
        self.out.push('}');
    }
}

/// Encodes (key, value) string pairs as a JSON object with its keys sorted
/// and the last of duplicate keys kept, as Go encodes a map[string]string.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))] // used by the job API
pub(crate) fn string_map(pairs: &[(&str, &str)]) -> String {
    let map: std::collections::BTreeMap<&str, &str> = pairs.iter().copied().collect();
    let mut out = String::new();
    let mut w = ObjectWriter::new(&mut out);
    for (k, v) in map {
        // Strings always encode.
        let _ = w.member(k, v);
    }
    w.end();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc<T: ToJson + ?Sized>(v: &T) -> String {
        to_string(v).unwrap()
    }

    // Expected strings were produced by Go 1.26's json.Marshal.
    #[test]
    fn floats_match_go() {
        let cases: &[(u64, &str)] = &[
            (0, "0"),
            (9223372036854775808, "-0"),
            (4607182418800017408, "1"),
            (13830554455654793216, "-1"),
            (4517329193108106637, "0.000001"),
            (4502148214488346440, "1e-7"),
            (4490118700684568875, "1.5e-8"),
            (4457293557087583675, "1e-10"),
            (4921056587992461136, "1e+21"),
            (4921056587992461134, "999999999999999700000"),
            (4906019910204099648, "100000000000000000000"),
            (4907451598986591450, "123456789012345680000"),
            (1, "5e-324"),
            (9218868437227405311, "1.7976931348623157e+308"),
            (4591870180066957722, "0.1"),
            (4599676419421066581, "0.3333333333333333"),
            (4659695094142599168, "3400"),
            (6103021453049119613, "1e+100"),
            (13731694030708141453, "-2.5e-7"),
            (4636737291354636288, "100"),
            (4653144203864309760, "1234.5"),
            // Exact ties between two shortest candidates: Go rounds to even.
            (4803041137553672096, "13100653132995.812"),
            (14014025160718157440, "-1911699120096.4062"),
            (4835017338191627269, "1789634412613889.2"),
        ];
        for (bits, want) in cases {
            assert_eq!(enc(&f64::from_bits(*bits)), *want, "bits {}", bits);
        }
    }

    #[test]
    fn decimal_helpers() {
        assert_eq!(Decimal::parse("1.2345e3"), Decimal { digits: "12345".into(), exp: 3 });
        assert_eq!(Decimal::parse("0e0"), Decimal { digits: "0".into(), exp: 0 });
        assert_eq!(increment("129", 5), Decimal { digits: "130".into(), exp: 5 });
        assert_eq!(increment("999", 5), Decimal { digits: "100".into(), exp: 6 });
        assert_eq!(Decimal { digits: "100".into(), exp: 6 }.trimmed(), Decimal { digits: "1".into(), exp: 6 });
        // expand(p) of an exact value x: x's digits, padded or cut to p.
        let of = |x: &'static str| move |p: usize| format!("{}{}e0", &x[..(p + 2).min(x.len())], "0".repeat((p + 2).saturating_sub(x.len())));
        let d13 = || Decimal { digits: "13".into(), exp: 0 };
        // Not a tie: the exact value goes on after the 5.
        assert_eq!(d13().tie_to_even(of("1.2501"), 6, |_| true), d13());
        assert_eq!(d13().tie_to_even(of("1.25"), 6, |_| true), Decimal { digits: "12".into(), exp: 0 });
        assert_eq!(d13().tie_to_even(of("1.35"), 6, |_| true), Decimal { digits: "14".into(), exp: 0 });
        assert_eq!(d13().tie_to_even(of("1.25"), 6, |_| false), d13());
        let d12 = Decimal { digits: "12".into(), exp: 0 };
        assert_eq!(d12.tie_to_even(|_| unreachable!("an even digit needs no expansion"), 6, |_| true), Decimal { digits: "12".into(), exp: 0 });
    }

    #[test]
    fn non_finite_floats_are_refused_like_go() {
        assert_eq!(to_string(&f64::INFINITY).unwrap_err().to_string(), "json: unsupported value: +Inf");
        assert_eq!(to_string(&f64::NEG_INFINITY).unwrap_err().to_string(), "json: unsupported value: -Inf");
        assert_eq!(to_string(&f64::NAN).unwrap_err().to_string(), "json: unsupported value: NaN");
        assert_eq!(to_string(&[1.0, f64::NAN]).unwrap_err().to_string(), "json: unsupported value: NaN");
    }

    #[test]
    fn strings_match_go() {
        let s = "a\"\\\u{8}\u{c}\n\r\t\u{1}\u{7f}<>&\u{2028}\u{2029}é😀";
        assert_eq!(enc(s), "\"a\\\"\\\\\\b\\f\\n\\r\\t\\u0001\u{7f}\\u003c\\u003e\\u0026\\u2028\\u2029é😀\"");
    }

    #[test]
    fn composites() {
        assert_eq!(enc(&vec![1i64, -2, 3]), "[1,-2,3]");
        assert_eq!(enc(&[Some(1.5), None]), "[1.5,null]");
        assert_eq!(enc(&Vec::<u32>::new()), "[]");
        assert_eq!(enc(&true), "true");
        assert_eq!(enc(&u64::MAX), "18446744073709551615");
        assert_eq!(enc(&RawJson("{\"a\":1}".into())), "{\"a\":1}");
        let mut out = String::new();
        let mut w = ObjectWriter::new(&mut out);
        w.member("k", "v").unwrap();
        w.member("n", &2u8).unwrap();
        w.end();
        assert_eq!(out, "{\"k\":\"v\",\"n\":2}");
        assert_eq!(string_map(&[("min", "mm"), ("<a>", "x"), ("min", "HU")]), "{\"\\u003ca\\u003e\":\"x\",\"min\":\"HU\"}");
        assert_eq!(string_map(&[]), "{}");
    }

    #[test]
    fn parses_valid_documents() {
        let v = parse(b" {\"a\": [1, -2.5e3, true, false, null], \"s\": \"x\\u00e9\\ud83d\\ude00\\n\", \"a\": 3} ").unwrap();
        assert_eq!(v.get("a"), Some(&Value::Number("3".into())));
        assert_eq!(v.get("s").unwrap().to_str().unwrap(), Some("xé😀\n"));
        match &v {
            Value::Object(m) => assert_eq!(
                m[0].1,
                Value::Array(vec![
                    Value::Number("1".into()),
                    Value::Number("-2.5e3".into()),
                    Value::Bool(true),
                    Value::Bool(false),
                    Value::Null
                ])
            ),
            _ => panic!("not an object"),
        }
        assert_eq!(parse(b"\"\\ud800x\"").unwrap(), Value::String("\u{fffd}x".into()));
        assert_eq!(parse(b"\"\\ud800\\u0041\"").unwrap(), Value::String("\u{fffd}A".into()));
        assert_eq!(parse(b"\"\\udc00\"").unwrap(), Value::String("\u{fffd}".into()));
        assert_eq!(parse("\"é\"".as_bytes()).unwrap(), Value::String("é".into()));
        assert_eq!(parse(b"[]").unwrap(), Value::Array(vec![]));
        assert_eq!(parse(b"{}").unwrap(), Value::Object(vec![]));
        assert_eq!(parse(b"-0").unwrap(), Value::Number("-0".into()));
    }

    #[test]
    fn rejects_malformed_documents() {
        let cases: &[(&[u8], usize)] = &[
            (b"", 0),
            (b"   ", 3),
            (b"{", 1),
            (b"[1,]", 3),
            (b"[1 2]", 3),
            (b"{\"a\" 1}", 5),
            (b"{\"a\":1,}", 7),
            (b"{1:2}", 1),
            (b"01", 1),
            (b"1.", 2),
            (b"1e", 2),
            (b"-", 1),
            (b"+1", 0),
            (b".5", 0),
            (b"nul", 0),
            (b"tru", 0),
            (b"\"abc", 4),
            (b"\"a\\x\"", 3),
            (b"\"\\u12g4\"", 5),
            (b"\"a\nb\"", 2),
            (b"\"\xff\"", 0),
            (b"1 2", 2),
            (b"[1]]", 3),
            (b"NaN", 0),
            (b"{\"a\":1 \"b\":2}", 7),
        ];
        for (input, offset) in cases {
            match parse(input) {
                Ok(v) => panic!("{:?} parsed as {:?}", String::from_utf8_lossy(input), v),
                Err(e) => assert_eq!(e.offset, *offset, "{:?}: {}", String::from_utf8_lossy(input), e),
            }
        }
    }

    #[test]
    fn bounds_nesting() {
        let deep = |n: usize| {
            let mut s = "[".repeat(n);
            s.push_str(&"]".repeat(n));
            s
        };
        assert!(parse(deep(MAX_DEPTH).as_bytes()).is_ok());
        assert_eq!(parse(deep(MAX_DEPTH + 1).as_bytes()).unwrap_err().reason, "nested too deeply");
        assert!(parse("[".repeat(100_000).as_bytes()).is_err());
    }

    #[test]
    fn never_panics_on_truncations() {
        let doc = "{\"a\": [1.5e-3, \"x\\u00e9\\ud83d\\ude00\", {\"b\": null}], \"c\": true}";
        for n in 0..doc.len() {
            assert!(parse(&doc.as_bytes()[..n]).is_err());
        }
        assert!(parse(doc.as_bytes()).is_ok());
    }

    // Messages were produced by Go 1.26's json.Unmarshal.
    #[test]
    fn typed_decoding_matches_go() {
        let n = |s: &str| Value::Number(s.into());
        assert_eq!(n("1.5").to_f64(), Ok(Some(1.5)));
        assert_eq!(n("1e-400").to_f64(), Ok(Some(0.0)));
        assert_eq!(Value::Null.to_f64(), Ok(None));
        assert_eq!(n("1e400").to_f64().unwrap_err().to_string(), "json: cannot unmarshal number 1e400 into Go value of type float64");
        assert_eq!(Value::String("x".into()).to_f64().unwrap_err().to_string(), "json: cannot unmarshal string into Go value of type float64");
        assert_eq!(Value::Array(vec![]).to_f64().unwrap_err().to_string(), "json: cannot unmarshal array into Go value of type float64");
        assert_eq!(Value::Object(vec![]).to_f64().unwrap_err().to_string(), "json: cannot unmarshal object into Go value of type float64");
        assert_eq!(Value::Bool(true).to_f64().unwrap_err().to_string(), "json: cannot unmarshal bool into Go value of type float64");
        assert_eq!(n("-42").to_i64(), Ok(Some(-42)));
        assert_eq!(n("1.5").to_i64().unwrap_err().to_string(), "json: cannot unmarshal number 1.5 into Go value of type int64");
        assert_eq!(n("1e3").to_i64().unwrap_err().to_string(), "json: cannot unmarshal number 1e3 into Go value of type int64");
        assert_eq!(
            n("99999999999999999999").to_i64().unwrap_err().to_string(),
            "json: cannot unmarshal number 99999999999999999999 into Go value of type int64"
        );
        assert_eq!(n("1.5").to_str().unwrap_err().to_string(), "json: cannot unmarshal number into Go value of type string");
        assert_eq!(n("1").to_bool().unwrap_err().to_string(), "json: cannot unmarshal number into Go value of type bool");
        assert_eq!(Value::Bool(false).to_bool(), Ok(Some(false)));
    }
}
