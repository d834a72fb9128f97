//! Opaque pagination cursors. Clients must treat them as opaque strings; the
//! server encodes a position (a `seq`) with a version tag so the format can
//! change without breaking clients holding old cursors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use crate::error::ChatError;
use crate::ids::Seq;

const PREFIX: &str = "v1:";
/// Longest cursor accepted; real ones are ~30 bytes.
pub const MAX_LEN: usize = 64;

/// A position in a room's message sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(Seq);

impl Cursor {
    pub fn at(seq: Seq) -> Self {
        Self(seq)
    }

    pub fn seq(self) -> Seq {
        self.0
    }

    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{PREFIX}{}", self.0))
    }

    /// What every cursor matches, as a JSON Schema `pattern`: the encoded
    /// prefix (3 bytes, so 4 characters of its own) and base64url.
    pub fn pattern() -> String {
        format!("^{}[A-Za-z0-9_-]+$", URL_SAFE_NO_PAD.encode(PREFIX))
    }

    pub fn parse(raw: &str) -> Result<Self, ChatError> {
        let bad = || ChatError::BadRequest("invalid cursor".into());
        if raw.is_empty() || raw.len() > MAX_LEN {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
        let digits = text.strip_prefix(PREFIX).ok_or_else(bad)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        digits.parse::<Seq>().map(Cursor).map_err(|_| bad())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_any_seq() {
        for seq in [0, 1, 42, u64::MAX] {
            assert_eq!(Cursor::parse(&Cursor::at(seq).encode()).unwrap().seq(), seq);
        }
    }

    #[test]
    fn every_cursor_matches_the_documented_pattern() {
        // The prefix encodes on its own only if it is a multiple of 3 bytes.
        assert_eq!(PREFIX.len() % 3, 0);
        let pattern = Cursor::pattern();
        let encoded_prefix = pattern
            .strip_prefix('^')
            .and_then(|p| p.strip_suffix("[A-Za-z0-9_-]+$"))
            .unwrap();
        for seq in [0, 7, 1_000_000, u64::MAX] {
            let c = Cursor::at(seq).encode();
            assert!(c.starts_with(encoded_prefix), "{c}");
            assert!(c.len() > encoded_prefix.len() && c.len() <= MAX_LEN, "{c}");
            assert!(c[encoded_prefix.len()..]
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'));
        }
    }

    #[test]
    fn rejects_garbage_without_panicking() {
        for bad in [
            "",
            "!!!",
            "djE6",
            "djE6LTE",
            "eDox",
            &"A".repeat(65),
            "djE6MTg0NDY3NDQwNzM3MDk1NTE2MTY",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad}");
        }
    }
}
