//! Message search: how text becomes index terms, what a query matches, and
//! the order and cursors of results. The index itself is a port
//! ([`crate::ports::SearchIndex`]); this module is what every adapter of it
//! and the service share, so the in-memory index and DynamoDB's answer the
//! same.
//!
//! # Terms
//!
//! A message body is normalized (Unicode NFKC, then case folded) and split
//! into words by Unicode word boundaries (UAX #29, `unicode-segmentation`'s
//! `unicode_words`: punctuation and spaces are dropped, `example.com` and
//! `don't` stay whole). Scripts without spaces between words are split as
//! UAX #29 splits them: each Han ideograph and each hiragana is a word of its
//! own, a run of katakana is one word. So a Chinese or Japanese query finds
//! the messages holding each of its characters (every query word must match).
//! At most [`MAX_TERMS`] distinct words of a message are indexed (the first
//! ones), each cut to [`MAX_TERM_CHARS`] characters.
//!
//! # Matching
//!
//! Every word of the query must match a word of the message: equal to it, or
//! (for query words of at least [`PREFIX_MIN_CHARS`] characters) a prefix of
//! it. `hel` finds `hello` and `help`; `he` finds only `he`. Index entries are
//! grouped by the first [`PREFIX_MIN_CHARS`] characters of a word
//! ([`bucket`]), which is what lets a store read only the entries that may
//! match a prefix.
//!
//! # Order and cursors
//!
//! Results come newest first, ordered by [`SearchKey`]: `(sentAt, roomId,
//! seq)`, descending. A cursor is the key of the last result of a page (or
//! the point a page's reading stopped at); the next page holds the keys
//! strictly below it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

use crate::error::ChatError;
use crate::ids::{Millis, RoomId, Seq};
use crate::model::Message;

/// Most distinct words indexed per message: bounds a message's index writes.
pub const MAX_TERMS: usize = 32;
/// Longer words are indexed (and searched) by their first this many characters.
pub const MAX_TERM_CHARS: usize = 32;
/// Most UTF-8 bytes of a message's indexed terms together: every index item
/// carries them all, and this keeps each item under 1 KB, one write unit.
pub const MAX_TERMS_BYTES: usize = 768;
/// Query words this long or longer match as prefixes; index entries are
/// grouped by this many leading characters.
pub const PREFIX_MIN_CHARS: usize = 3;
/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 200;
/// Most words in a query.
pub const MAX_QUERY_TERMS: usize = 8;
/// Most characters of a result's snippet (ellipses included).
pub const SNIPPET_CHARS: usize = 160;

/// The normalized words of `text`, in order, repeats included.
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    // NFKC first (full-width letters, ligatures, compatibility forms), then
    // Unicode full case folding (`ß` and `SS` alike become `ss`), which can
    // leave a string that is not NFKC (rare letters): normalize again. This
    // is Unicode's NFKC_Casefold, bar default-ignorable characters.
    let nfkc: String = text.nfkc().collect();
    let folded: String = caseless::default_case_fold_str(&nfkc).nfkc().collect();
    folded
        .unicode_words()
        .map(|w| w.chars().take(MAX_TERM_CHARS).collect::<String>())
        .collect::<Vec<_>>()
        .into_iter()
}

/// The distinct terms of a message body that are indexed, in order of first
/// appearance: at most [`MAX_TERMS`] of them and [`MAX_TERMS_BYTES`] bytes
/// together.
pub fn terms(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut bytes = 0;
    for w in words(text) {
        if out.len() == MAX_TERMS || bytes + w.len() > MAX_TERMS_BYTES {
            break;
        }
        if !out.contains(&w) {
            bytes += w.len();
            out.push(w);
        }
    }
    out
}

/// The group an index entry of `term` is stored under: its first
/// [`PREFIX_MIN_CHARS`] characters.
pub fn bucket(term: &str) -> String {
    term.chars().take(PREFIX_MIN_CHARS).collect()
}

/// The distinct buckets of a message's terms.
pub fn buckets(terms: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in terms {
        let b = bucket(t);
        if !out.contains(&b) {
            out.push(b);
        }
    }
    out
}

/// A parsed search query: its words, normalized as message words are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    terms: Vec<String>,
}

impl SearchQuery {
    /// Parses the `q` parameter: not blank, at most [`MAX_QUERY_CHARS`]
    /// characters and [`MAX_QUERY_TERMS`] words, at least one word.
    pub fn parse(raw: &str) -> Result<Self, ChatError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(ChatError::BadRequest("q must not be empty".into()));
        }
        if raw.chars().count() > MAX_QUERY_CHARS {
            return Err(ChatError::BadRequest(format!(
                "q must be at most {MAX_QUERY_CHARS} characters"
            )));
        }
        let mut terms: Vec<String> = Vec::new();
        for w in words(raw) {
            if !terms.contains(&w) {
                terms.push(w);
            }
        }
        if terms.is_empty() {
            return Err(ChatError::BadRequest(
                "q has no words to search for (only spaces and punctuation)".into(),
            ));
        }
        if terms.len() > MAX_QUERY_TERMS {
            return Err(ChatError::BadRequest(format!(
                "q must have at most {MAX_QUERY_TERMS} words"
            )));
        }
        Ok(Self { terms })
    }

    pub fn terms(&self) -> &[String] {
        &self.terms
    }

    /// The bucket a store reads: that of the longest query word (the most
    /// selective; the first of equals).
    pub fn bucket(&self) -> String {
        let longest = self.terms.iter().fold(&self.terms[0], |best, t| {
            if t.chars().count() > best.chars().count() {
                t
            } else {
                best
            }
        });
        bucket(longest)
    }

    /// Whether a message with these indexed terms matches: every query word
    /// equals a term or, being at least [`PREFIX_MIN_CHARS`] long, is a
    /// prefix of one.
    pub fn matches(&self, terms: &[String]) -> bool {
        self.terms.iter().all(|q| {
            let prefix = q.chars().count() >= PREFIX_MIN_CHARS;
            terms
                .iter()
                .any(|t| t == q || (prefix && t.starts_with(q.as_str())))
        })
    }

    /// A piece of `body` around its first matching word, at most
    /// [`SNIPPET_CHARS`] characters, with `…` where it was cut.
    pub fn snippet(&self, body: &str) -> String {
        let hit = body
            .split_word_bound_indices()
            .find(|(_, w)| {
                let found = terms(w);
                !found.is_empty() && self.terms.iter().any(|q| self.matches_one(q, &found))
            })
            .map_or(0, |(i, _)| i);
        let total = body.chars().count();
        if total <= SNIPPET_CHARS {
            return body.to_owned();
        }
        let hit_char = body[..hit].chars().count();
        // A little context before the hit, the rest after it.
        let start = hit_char.saturating_sub(SNIPPET_CHARS / 4);
        let lead = start > 0;
        let mut room = SNIPPET_CHARS - usize::from(lead);
        let tail = start + room < total;
        if tail {
            room -= 1;
        }
        let text: String = body.chars().skip(start).take(room).collect();
        format!(
            "{}{text}{}",
            if lead { "…" } else { "" },
            if tail { "…" } else { "" }
        )
    }

    fn matches_one(&self, q: &str, terms: &[String]) -> bool {
        let prefix = q.chars().count() >= PREFIX_MIN_CHARS;
        terms.iter().any(|t| t == q || (prefix && t.starts_with(q)))
    }
}

/// What the index holds for one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    pub room_id: RoomId,
    pub seq: Seq,
    pub sent_at: Millis,
    /// [`terms`] of the body.
    pub terms: Vec<String>,
}

impl IndexEntry {
    /// The entry of a stored message; `None` when its body has no words,
    /// and always for an end-to-end encrypted room (never indexed: the
    /// server holds no plaintext of it; clients search what they decrypted).
    pub fn of(m: &Message) -> Option<Self> {
        if m.room_id.is_encrypted() || m.sealed.is_some() {
            return None;
        }
        let terms = terms(m.body.as_str());
        (!terms.is_empty()).then(|| Self {
            room_id: m.room_id.clone(),
            seq: m.seq,
            sent_at: m.sent_at,
            terms,
        })
    }

    pub fn key(&self) -> SearchKey {
        SearchKey {
            sent_at: self.sent_at,
            room_id: self.room_id.clone(),
            seq: self.seq,
        }
    }
}

/// Where a result sits in the order of results (compared field by field:
/// time, then room, then seq). Pages go from the greatest key down.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SearchKey {
    pub sent_at: Millis,
    pub room_id: RoomId,
    pub seq: Seq,
}

const CURSOR_PREFIX: &str = "s1:";
/// Longest search cursor accepted.
pub const MAX_CURSOR_LEN: usize = 256;

impl SearchKey {
    /// The opaque cursor of this position.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{CURSOR_PREFIX}{}:{}:{}",
            self.sent_at, self.seq, self.room_id
        ))
    }

    /// What every search cursor matches, as a JSON Schema `pattern`.
    pub fn pattern() -> String {
        format!("^{}[A-Za-z0-9_-]+$", URL_SAFE_NO_PAD.encode(CURSOR_PREFIX))
    }

    /// Parses a cursor made by [`SearchKey::encode`].
    pub fn parse(raw: &str) -> Result<Self, ChatError> {
        let bad = || ChatError::BadRequest("invalid cursor".into());
        if raw.is_empty() || raw.len() > MAX_CURSOR_LEN {
            return Err(bad());
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| bad())?;
        let text = std::str::from_utf8(&bytes).map_err(|_| bad())?;
        let rest = text.strip_prefix(CURSOR_PREFIX).ok_or_else(bad)?;
        let mut parts = rest.splitn(3, ':');
        let (Some(sent_at), Some(seq), Some(room)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        Ok(Self {
            sent_at: sent_at.parse().map_err(|_| bad())?,
            seq: seq.parse().map_err(|_| bad())?,
            room_id: RoomId::parse(room).map_err(|_| bad())?,
        })
    }
}

/// What one room's search found ([`crate::ports::SearchIndex::search`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoomMatches {
    /// Matches, greatest key first.
    pub hits: Vec<SearchKey>,
    /// Set when the room may hold more matches below what was returned:
    /// every match above this key was returned (it is the last key read).
    pub more_below: Option<SearchKey>,
}

/// Merges rooms' matches into one page of at most `limit`, greatest key
/// first, and the cursor of the next page. A room that stopped reading
/// early (`more_below`) caps the page at the point it reached, so no match
/// of it is skipped.
pub fn merge(rooms: Vec<RoomMatches>, limit: usize) -> (Vec<SearchKey>, Option<SearchKey>) {
    let frontier = rooms.iter().filter_map(|r| r.more_below.clone()).max();
    let mut hits: Vec<SearchKey> = rooms
        .into_iter()
        .flat_map(|r| r.hits)
        .filter(|k| frontier.as_ref().is_none_or(|f| k >= f))
        .collect();
    hits.sort_unstable_by(|a, b| b.cmp(a));
    hits.dedup();
    if hits.len() > limit {
        hits.truncate(limit);
        let next = hits.last().cloned();
        return (hits, next);
    }
    (hits, frontier)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> SearchQuery {
        SearchQuery::parse(s).unwrap()
    }

    #[test]
    fn words_are_normalized_and_split_on_unicode_boundaries() {
        // Case folding: ß and SS are one, as are the cases of any script.
        assert_eq!(terms("Grüße aus KÖLN!"), vec!["grüsse", "aus", "köln"]);
        assert_eq!(terms("GRÜSSE"), terms("grüße"));
        // NFKC: full-width letters and a ligature become plain ones.
        assert_eq!(terms("ＨＥＬＬＯ ﬁne"), vec!["hello", "fine"]);
        // Decomposed and precomposed ü are one term.
        assert_eq!(terms("Gru\u{308}sse"), terms("Grüsse"));
        // Punctuation and emoji are not words; a URL keeps its host whole.
        assert_eq!(
            terms("see https://example.com/a-b?x=1 🎉🎉 — ok?!"),
            vec!["see", "https", "example.com", "a", "b", "x", "1", "ok"]
        );
        assert_eq!(terms("don't stop"), vec!["don't", "stop"]);
        // Han ideographs are words of one character each, as UAX #29 has it.
        assert_eq!(terms("東京に行く"), vec!["東", "京", "に", "行", "く"]);
        assert_eq!(terms("我爱北京"), vec!["我", "爱", "北", "京"]);
        // Katakana runs stay whole.
        assert_eq!(terms("カタカナ テスト"), vec!["カタカナ", "テスト"]);
        assert_eq!(terms("Привет, МИР"), vec!["привет", "мир"]);
        assert!(terms("🎉 !!! ...").is_empty());
    }

    #[test]
    fn a_message_indexes_a_bounded_number_of_bounded_terms() {
        let many: String = (0..100).map(|i| format!("w{i} ")).collect();
        let t = terms(&many);
        assert_eq!(t.len(), MAX_TERMS);
        assert_eq!(t[0], "w0");
        assert_eq!(terms("a a a b a"), vec!["a", "b"]);
        // However long the words, the terms stay within the byte budget.
        // (Hangul syllables, 3 bytes each, make one word per run.)
        let wide: String = (0..40)
            .map(|i| format!("{}{i} ", "한".repeat(30)))
            .collect();
        let t = terms(&wide);
        assert!(t.iter().map(String::len).sum::<usize>() <= MAX_TERMS_BYTES);
        assert_eq!(t.len(), 8, "{t:?}");
        let long = "x".repeat(100);
        assert_eq!(terms(&long)[0].chars().count(), MAX_TERM_CHARS);
        // A long query word is cut the same way, so it still matches.
        assert!(q(&long).matches(&terms(&long)));
    }

    #[test]
    fn every_query_word_must_match_and_long_ones_match_as_prefixes() {
        let m = terms("Hello there, general Kenobi");
        assert!(q("hello").matches(&m));
        assert!(q("HEL").matches(&m));
        assert!(q("hel ken").matches(&m));
        assert!(!q("hel obi").matches(&m), "not a prefix");
        assert!(!q("he").matches(&m), "short words match whole words only");
        assert!(q("he").matches(&terms("he said")));
        assert!(!q("hello yoda").matches(&m));
        assert!(q("東京").matches(&terms("東京に行く")));
        assert!(!q("大阪").matches(&terms("東京に行く")));
        assert!(q("grüße").matches(&terms("GRÜSSE!")));
        assert!(q("STRASSE").matches(&terms("die Straße")));
    }

    #[test]
    fn the_store_reads_the_bucket_of_the_longest_query_word() {
        assert_eq!(q("a hello xy").bucket(), "hel");
        assert_eq!(q("xy").bucket(), "xy");
        assert_eq!(buckets(&terms("help hello world")), vec!["hel", "wor"]);
    }

    #[test]
    fn bad_queries_are_refused_with_a_reason() {
        for (raw, why) in [
            ("", "empty"),
            ("   ", "empty"),
            ("?! …", "no words"),
            (&"a".repeat(MAX_QUERY_CHARS + 1), "at most"),
            ("a b c d e f g h i", "at most 8 words"),
        ] {
            let e = SearchQuery::parse(raw).unwrap_err();
            assert_eq!(e.http_status(), 400);
            assert!(e.to_string().contains(why), "{raw:?}: {e}");
        }
    }

    #[test]
    fn snippets_show_the_match_within_a_bounded_length() {
        assert_eq!(q("cat").snippet("a short cat"), "a short cat");
        let body = format!(
            "{} the word catalogue here {}",
            "x ".repeat(200),
            "y ".repeat(200)
        );
        let s = q("cat").snippet(&body);
        assert!(s.chars().count() <= SNIPPET_CHARS, "{}", s.chars().count());
        assert!(s.starts_with('…') && s.ends_with('…'), "{s}");
        assert!(s.contains("catalogue"), "{s}");
        let s = q("zzz").snippet(&body);
        assert!(s.starts_with("x x") && s.ends_with('…'));
    }

    #[test]
    fn cursors_round_trip_and_refuse_garbage() {
        let k = SearchKey {
            sent_at: 1_700_000_000_123,
            room_id: RoomId::parse("r_abc").unwrap(),
            seq: 42,
        };
        assert_eq!(SearchKey::parse(&k.encode()).unwrap(), k);
        for bad in ["", "x", "czE6MTox", &"A".repeat(300)] {
            assert!(SearchKey::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn merging_never_skips_a_match_of_a_room_that_stopped_early() {
        let r = |s: &str| RoomId::parse(s).unwrap();
        let k = |t, room: &str, seq| SearchKey {
            sent_at: t,
            room_id: r(room),
            seq,
        };
        // Room a read down to t=50 and may have more; room b is complete.
        let a = RoomMatches {
            hits: vec![k(90, "r_a", 9), k(60, "r_a", 6)],
            more_below: Some(k(50, "r_a", 5)),
        };
        let b = RoomMatches {
            hits: vec![k(70, "r_b", 7), k(40, "r_b", 4)],
            more_below: None,
        };
        let (hits, next) = merge(vec![a.clone(), b.clone()], 10);
        assert_eq!(
            hits,
            vec![k(90, "r_a", 9), k(70, "r_b", 7), k(60, "r_a", 6)]
        );
        assert_eq!(
            next,
            Some(k(50, "r_a", 5)),
            "b's t=40 waits for the next page"
        );
        let (hits, next) = merge(vec![a, b.clone()], 2);
        assert_eq!(hits.len(), 2);
        assert_eq!(next, Some(k(70, "r_b", 7)));
        let (hits, next) = merge(vec![b], 10);
        assert_eq!(hits.len(), 2);
        assert_eq!(next, None);
    }
}
