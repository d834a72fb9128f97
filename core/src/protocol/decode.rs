//! Decoding what a client sent (a WebSocket frame, a REST body) into our
//! types, with errors this crate owns.
//!
//! An error frame or body says what was wrong, where, and what was expected,
//! and never quotes the offending value: serde's own messages do
//! (`invalid type: string "<img …>", expected a boolean`), and reflecting
//! attacker input back is how markup ends up in someone's page or log viewer.
//! Rewriting serde_json's messages by their prefixes would depend on text
//! another crate may change in any release, so this module never reads them:
//!
//! 1. the text is parsed into a [`Value`]; a syntax error is told by
//!    [`serde_json::Error::classify`] and its line and column, never its text;
//! 2. the value is handed to the type's `Deserialize` through a deserializer
//!    whose error type is [`Problem`], so every failure arrives as a typed
//!    call (`invalid_type(unexpected, expected)`, `missing_field(name)`, …).
//!    The `unexpected` argument, the only one that carries input, is
//!    dropped there; the rest comes from our types;
//! 3. [`serde_path_to_error`] records where in the document it happened.
//!
//! Custom messages ([`de::Error::custom`]) are our parsers' own (`ids`), and
//! markup and control characters are still dropped from them, as a last
//! guard against a `Deserialize` impl that quotes its input.

use std::fmt::Display;

use serde::de::value::{MapAccessDeserializer, MapDeserializer, SeqDeserializer};
use serde::de::{self, DeserializeOwned, Expected, IntoDeserializer, Unexpected, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::Value;

/// Longest error message a client is shown.
pub const MAX_MESSAGE_CHARS: usize = 200;

/// Why a document could not be decoded, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON at all.
    #[error("not valid JSON (line {line}, column {column})")]
    Syntax { line: usize, column: usize },
    /// JSON cut short.
    #[error("JSON ends too early")]
    Eof,
    /// Valid JSON that is not what the type expects. `path` is where, as
    /// `rooms[2].roomId`, empty at the top level.
    #[error("{}", at(path, problem))]
    Invalid { path: String, problem: Problem },
}

fn at(path: &str, problem: &Problem) -> String {
    if path.is_empty() || path == "." {
        problem.to_string()
    } else {
        format!("{path}: {problem}")
    }
}

/// What was wrong with a value, in terms of what was expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    #[error("wrong type, expected {expected}")]
    WrongType { expected: String },
    #[error("wrong value, expected {expected}")]
    WrongValue { expected: String },
    #[error("wrong number of items, expected {expected}")]
    WrongLength { expected: String },
    #[error("unknown value, expected {}", one_of(expected))]
    UnknownVariant { expected: &'static [&'static str] },
    #[error("unknown field, expected {}", one_of(expected))]
    UnknownField { expected: &'static [&'static str] },
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    #[error("duplicate field `{0}`")]
    DuplicateField(&'static str),
    /// A parser of ours refused the value, in its own words.
    #[error("{0}")]
    Refused(String),
}

fn one_of(names: &[&str]) -> String {
    match names {
        [] => "nothing".to_owned(),
        [one] => format!("`{one}`"),
        _ => {
            let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            format!("one of {}", quoted.join(", "))
        }
    }
}

/// Drops what could turn text into markup or break a log line.
fn inert(text: &str) -> String {
    text.chars()
        .filter(|c| !matches!(c, '<' | '>' | '&' | '"' | '\'') && !c.is_control())
        .collect()
}

impl de::Error for Problem {
    fn custom<T: Display>(msg: T) -> Self {
        Problem::Refused(inert(&msg.to_string()))
    }
    fn invalid_type(_: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Problem::WrongType {
            expected: inert(&expected.to_string()),
        }
    }
    fn invalid_value(_: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Problem::WrongValue {
            expected: inert(&expected.to_string()),
        }
    }
    fn invalid_length(_: usize, expected: &dyn Expected) -> Self {
        Problem::WrongLength {
            expected: inert(&expected.to_string()),
        }
    }
    fn unknown_variant(_: &str, expected: &'static [&'static str]) -> Self {
        Problem::UnknownVariant { expected }
    }
    fn unknown_field(_: &str, expected: &'static [&'static str]) -> Self {
        Problem::UnknownField { expected }
    }
    fn missing_field(field: &'static str) -> Self {
        Problem::MissingField(field)
    }
    fn duplicate_field(field: &'static str) -> Self {
        Problem::DuplicateField(field)
    }
}

impl DecodeError {
    /// The message a client is shown, bounded to [`MAX_MESSAGE_CHARS`].
    pub fn public_message(&self) -> String {
        let mut msg = self.to_string();
        if let Some((cut, _)) = msg.char_indices().nth(MAX_MESSAGE_CHARS) {
            msg.truncate(cut);
        }
        msg
    }
}

/// Parses JSON text into a [`Value`], or says where it is not JSON.
pub fn value(text: &[u8]) -> Result<Value, DecodeError> {
    serde_json::from_slice(text).map_err(|e| match e.classify() {
        serde_json::error::Category::Eof => DecodeError::Eof,
        _ => DecodeError::Syntax {
            line: e.line(),
            column: e.column(),
        },
    })
}

/// Decodes JSON text into `T`.
pub fn from_slice<T: DeserializeOwned>(text: &[u8]) -> Result<T, DecodeError> {
    from_value(value(text)?)
}

/// Decodes an already parsed document into `T`.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize(Node(value)).map_err(|e| DecodeError::Invalid {
        path: path_of(e.path()),
        problem: e.into_inner(),
    })
}

/// The path as `rooms[2].roomId`. A key is shown only when it is a plain
/// name (the keys that reach an error are our field names, or a map's keys,
/// which are input): anything else shows as `?`.
fn path_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                let plain = !key.is_empty()
                    && key.len() <= 40
                    && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
                out.push_str(if plain { key } else { "?" });
            }
            Segment::Enum { variant } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&inert(variant));
            }
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

/// A [`Value`] as a deserializer whose errors are [`Problem`]s: the value
/// types of `serde::de::value` do the walking, generic over the error type.
struct Node(Value);

impl<'de> IntoDeserializer<'de, Problem> for Node {
    type Deserializer = Node;
    fn into_deserializer(self) -> Node {
        self
    }
}

impl<'de> de::Deserializer<'de> for Node {
    type Error = Problem;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Problem> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    visitor.visit_u64(u)
                } else if let Some(i) = n.as_i64() {
                    visitor.visit_i64(i)
                } else {
                    // Without `arbitrary_precision` every other number is
                    // a finite f64.
                    visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => {
                let mut seq = SeqDeserializer::new(items.into_iter().map(Node));
                let out = visitor.visit_seq(&mut seq)?;
                seq.end()?;
                Ok(out)
            }
            Value::Object(entries) => {
                let mut map = MapDeserializer::new(entries.into_iter().map(|(k, v)| (k, Node(v))));
                let out = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(out)
            }
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Problem> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Node(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Problem> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Problem> {
        match self.0 {
            // A unit variant: `"conflict"`.
            Value::String(s) => visitor.visit_enum(s.into_deserializer()),
            // A variant with data: `{"name": …}`, exactly one entry.
            Value::Object(entries) if entries.len() == 1 => {
                visitor.visit_enum(MapAccessDeserializer::new(MapDeserializer::new(
                    entries.into_iter().map(|(k, v)| (k, Node(v))),
                )))
            }
            _ => Err(de::Error::invalid_type(
                Unexpected::Other("value"),
                &visitor,
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Problem> {
        visitor.visit_unit()
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Frame {
        flag: bool,
        seq: u64,
        kind: Kind,
        pair: (u8, u8),
        #[serde(default)]
        rooms: Vec<Room>,
        note: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        BadRequest,
        Conflict,
        Tagged { n: u8 },
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(rename_all = "camelCase")]
    struct Room {
        room_id: String,
    }

    const EVIL: &str = "<img src=x onerror=alert(1)>, expected \"x\"";

    fn frame(patch: Value) -> Value {
        let mut base = json!({"flag": true, "seq": 1, "kind": "conflict", "pair": [1, 2]});
        if let (Some(b), Some(p)) = (base.as_object_mut(), patch.as_object()) {
            for (k, v) in p {
                b.insert(k.clone(), v.clone());
            }
        }
        base
    }

    fn problem(patch: Value) -> DecodeError {
        from_value::<Frame>(frame(patch)).expect_err("must not decode")
    }

    #[test]
    fn a_good_document_decodes_every_shape() {
        let f: Frame = from_value(frame(json!({
            "kind": {"tagged": {"n": 7}},
            "rooms": [{"roomId": "r1"}],
            "note": null,
            "ignored": {"deep": [1, 2.5, -3, "x"]}
        })))
        .unwrap();
        assert_eq!(f.kind, Kind::Tagged { n: 7 });
        assert_eq!(
            f.rooms,
            vec![Room {
                room_id: "r1".into()
            }]
        );
        assert_eq!(f.note, None);
        assert_eq!(f.pair, (1, 2));
        assert_eq!(
            from_value::<Frame>(frame(json!({"kind": "bad_request", "note": "hi"})))
                .unwrap()
                .note
                .as_deref(),
            Some("hi")
        );
    }

    #[test]
    fn each_failure_is_typed_with_its_path_and_what_was_expected() {
        let cases = [
            (
                problem(json!({"flag": EVIL})),
                "flag",
                Problem::WrongType {
                    expected: "a boolean".into(),
                },
            ),
            (
                problem(json!({"seq": -1})),
                "seq",
                Problem::WrongValue {
                    expected: "u64".into(),
                },
            ),
            (
                problem(json!({"kind": EVIL})),
                "kind",
                Problem::UnknownVariant {
                    expected: &["bad_request", "conflict", "tagged"],
                },
            ),
            (
                problem(json!({"pair": [1]})),
                "pair",
                Problem::WrongLength {
                    expected: "a tuple of size 2".into(),
                },
            ),
            (
                problem(json!({"rooms": [{"roomId": "a"}, {"roomId": 5}]})),
                "rooms[1].roomId",
                Problem::WrongType {
                    expected: "a string".into(),
                },
            ),
        ];
        for (e, path, want) in cases {
            assert_eq!(
                e,
                DecodeError::Invalid {
                    path: path.into(),
                    problem: want
                }
            );
        }
        let missing = from_value::<Frame>(json!({"flag": true})).unwrap_err();
        assert_eq!(missing.to_string(), "missing field `seq`");
        assert_eq!(
            problem(json!({"kind": "conflict", "seq": "1"})).to_string(),
            "seq: wrong type, expected u64"
        );
    }

    #[test]
    fn no_message_quotes_the_input() {
        let mut evil_everywhere = Vec::new();
        for field in ["flag", "seq", "kind", "pair", "rooms", "note"] {
            evil_everywhere.push(json!({ field: EVIL }));
            evil_everywhere.push(json!({ field: [EVIL] }));
            evil_everywhere.push(json!({ field: { EVIL: EVIL } }));
        }
        evil_everywhere.push(json!({"rooms": [{ "roomId": [EVIL] }]}));
        for patch in evil_everywhere {
            let shown = from_value::<Frame>(frame(patch.clone()))
                .err()
                .map(|e| e.public_message())
                .unwrap_or_default();
            assert!(
                !shown.contains("img") && !shown.contains('<') && !shown.contains("alert"),
                "{patch}: {shown:?}"
            );
        }
    }

    #[test]
    fn syntax_errors_say_where_not_what() {
        assert_eq!(value(b"{\"flag\": tru").unwrap_err(), DecodeError::Eof);
        assert_eq!(
            value(b"{\"a\": <img>}").unwrap_err(),
            DecodeError::Syntax { line: 1, column: 7 }
        );
        assert_eq!(
            from_slice::<Frame>(b"{\n  \"flag\": x}")
                .unwrap_err()
                .to_string(),
            "not valid JSON (line 2, column 11)"
        );
    }

    #[test]
    fn our_parsers_keep_their_words_without_markup_and_messages_are_bounded() {
        #[derive(Debug)]
        struct Picky;
        impl<'de> Deserialize<'de> for Picky {
            fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                Err(de::Error::custom(format!("must be short, not <{s}>")))
            }
        }
        let e = from_value::<Picky>(json!("x")).unwrap_err();
        assert_eq!(e.to_string(), "must be short, not x");
        let long = DecodeError::Invalid {
            path: "a".repeat(500),
            problem: Problem::MissingField("b"),
        };
        assert_eq!(long.public_message().chars().count(), MAX_MESSAGE_CHARS);
    }

    #[test]
    fn keys_that_are_not_plain_names_never_reach_the_path() {
        let e =
            from_value::<std::collections::HashMap<String, u8>>(json!({ EVIL: "x" })).unwrap_err();
        assert_eq!(e.to_string(), "?: wrong type, expected u8");
    }
}
