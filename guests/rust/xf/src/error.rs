//! Errors of the SDK. Their messages are the ones the Go SDK produces for
//! the same failure, because a failed job's message is part of a task
//! type's behaviour and must not depend on the language it was written in.

use std::fmt;

use crate::abi_gen::Status;

impl fmt::Display for Status {
    /// The ABI name (`INVALID_HANDLE`), or `STATUS_<code>` for a code these
    /// bindings do not know.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "STATUS_{}", self.code()),
        }
    }
}

/// Why an SDK call failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Error {
    /// A host call returned a status other than OK. Its message is
    /// `op "arg": STATUS`, or `op: STATUS` when arg is empty.
    Call {
        /// The import, such as `xf.output_set`.
        op: &'static str,
        /// What it was called on (an input or output key), or empty.
        arg: String,
        status: Status,
    },
    /// Any other failure, with its complete message.
    Message(String),
}

impl Error {
    /// An error with the message.
    pub fn new(message: impl Into<String>) -> Error {
        Error::Message(message.into())
    }

    /// The status of a failed host call; `None` for other errors.
    pub fn status(&self) -> Option<Status> {
        match self {
            Error::Call { status, .. } => Some(*status),
            Error::Message(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Call { op, arg, status } if arg.is_empty() => write!(f, "{}: {}", op, status),
            Error::Call { op, arg, status } => write!(f, "{} {}: {}", op, go_quote(arg), status),
            Error::Message(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<String> for Error {
    fn from(message: String) -> Error {
        Error::Message(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Error {
        Error::Message(message.to_string())
    }
}

/// Quotes s as Go's `%q` does for the keys and names that appear in
/// messages: printable characters stay, the rest become Go escapes.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push_str(&format!("\\x{:02x}", c as u32)),
            c if is_printable(c) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's unicode.IsPrint for characters outside ASCII:
/// controls, format characters that are invisible, separators other than
/// the space and unassigned private-use characters are not printable.
fn is_printable(c: char) -> bool {
    !(c.is_control()
        || matches!(c as u32, 0xa0 | 0xad | 0x200b..=0x200f | 0x2028..=0x202e | 0x2060..=0x206f | 0xfeff | 0xfff9..=0xfffb)
        || matches!(c as u32, 0xe000..=0xf8ff | 0xf0000..=0x10ffff))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Expected strings were produced by the Go SDK and Go's %q.
    #[test]
    fn messages_match_go() {
        let e = Error::Call { op: "xf.output_set", arg: "min".into(), status: Status::TypeMismatch };
        assert_eq!(e.to_string(), "xf.output_set \"min\": TYPE_MISMATCH");
        let e = Error::Call { op: "clip.minmax", arg: String::new(), status: Status::NotFound };
        assert_eq!(e.to_string(), "clip.minmax: NOT_FOUND");
        assert_eq!(e.status(), Some(Status::NotFound));
        assert_eq!(Status::from_code(999).to_string(), "STATUS_999");
        assert_eq!(Status::from_code(9), Status::InvalidState);
        assert_eq!(Status::InvalidJson.code(), 10);
        assert_eq!(Error::from("plain").to_string(), "plain");
        assert_eq!(Error::new("plain").status(), None);
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("a\u{1b}é\u{200b}\"\\\n"), "\"a\\x1bé\\u200b\\\"\\\\\\n\"");
        assert_eq!(go_quote(""), "\"\"");
        assert_eq!(go_quote("image"), "\"image\"");
    }
}
