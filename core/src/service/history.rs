//! Paginated history. Pages are ascending by `seq` and addressed by opaque
//! cursors in both directions; the newest page comes first.

use super::Chat;
use crate::auth::Identity;
use crate::authz::Action;
use crate::error::ChatError;
use crate::ids::{RoomId, Seq};
use crate::ports::RangeQuery;
use crate::protocol::cursor::Cursor;
use crate::protocol::rest::HistoryPage;

/// `GET /rooms/{roomId}/messages?before=&after=&around=&limit=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    pub before: Option<Cursor>,
    pub after: Option<Cursor>,
    /// The page around this seq (a search result's): about half the page
    /// at or before it, the rest after it.
    pub around: Option<Seq>,
    pub limit: Option<usize>,
}

impl HistoryQuery {
    /// Parses the query string values.
    pub fn parse(
        before: Option<&str>,
        after: Option<&str>,
        around: Option<&str>,
        limit: Option<&str>,
    ) -> Result<Self, ChatError> {
        let limit = limit
            .map(|l| {
                l.parse::<usize>()
                    .map_err(|_| ChatError::BadRequest("limit must be a positive integer".into()))
            })
            .transpose()?;
        let around = around
            .map(|a| {
                a.parse::<Seq>()
                    .ok()
                    .filter(|&s| s >= 1)
                    .ok_or_else(|| ChatError::BadRequest("around must be a seq (1 or more)".into()))
            })
            .transpose()?;
        if around.is_some() && (before.is_some() || after.is_some()) {
            return Err(ChatError::BadRequest(
                "around cannot be combined with before or after".into(),
            ));
        }
        Ok(Self {
            before: before.map(Cursor::parse).transpose()?,
            after: after.map(Cursor::parse).transpose()?,
            around,
            limit,
        })
    }
}

impl Chat {
    pub async fn history(
        &self,
        actor: &Identity,
        room_id: &RoomId,
        q: HistoryQuery,
    ) -> Result<HistoryPage, ChatError> {
        let max = self.limits.history_page_max;
        let limit = q.limit.unwrap_or(self.limits.history_page_default.min(max));
        if limit == 0 || limit > max {
            return Err(ChatError::BadRequest(format!(
                "limit must be between 1 and {max}"
            )));
        }
        self.authorized_room(&actor.user_id, room_id, Action::Read)
            .await?;
        if let Some(seq) = q.around {
            return self
                .history_around(&actor.user_id, room_id, seq, limit)
                .await;
        }
        // Without `after` we page backwards from `before` (or the newest).
        let backwards = q.after.is_none();
        let range = RangeQuery {
            after: q.after.map(Cursor::seq),
            before: q.before.map(Cursor::seq),
            limit: limit + 1,
            newest_first: backwards,
        };
        let mut messages = self.messages.range(room_id, range).await?;
        let more = messages.len() > limit;
        if more {
            if backwards {
                messages.remove(0);
            } else {
                messages.truncate(limit);
            }
        }
        let (first, last) = match (messages.first(), messages.last()) {
            (Some(f), Some(l)) => (f.seq, l.seq),
            _ => {
                return Ok(HistoryPage {
                    messages: Vec::new(),
                    prev_cursor: None,
                    next_cursor: None,
                })
            }
        };
        let (older, newer) = if backwards {
            (more, q.before.is_some())
        } else {
            (first > 1, more)
        };
        Ok(HistoryPage {
            messages: self.views_for(&actor.user_id, &messages).await?,
            prev_cursor: older.then(|| Cursor::at(first).encode()),
            next_cursor: newer.then(|| Cursor::at(last).encode()),
        })
    }
}

impl Chat {
    /// A page of `limit` messages around `seq`: `seq` and the older half,
    /// then the newer rest, with cursors to go on either way.
    async fn history_around(
        &self,
        reader: &crate::ids::UserId,
        room_id: &RoomId,
        seq: Seq,
        limit: usize,
    ) -> Result<HistoryPage, ChatError> {
        let older_n = limit.div_ceil(2);
        let newer_n = limit - older_n;
        let (mut older, mut newer) = tokio::try_join!(
            self.messages.range(
                room_id,
                RangeQuery {
                    after: None,
                    before: seq.checked_add(1),
                    limit: older_n + 1,
                    newest_first: true,
                },
            ),
            self.messages.range(
                room_id,
                RangeQuery {
                    after: Some(seq),
                    before: None,
                    limit: newer_n + 1,
                    newest_first: false,
                },
            )
        )?;
        let more_older = older.len() > older_n;
        if more_older {
            older.remove(0);
        }
        let more_newer = newer.len() > newer_n;
        newer.truncate(newer_n);
        older.append(&mut newer);
        let messages = older;
        Ok(HistoryPage {
            prev_cursor: messages
                .first()
                .filter(|_| more_older)
                .map(|m| Cursor::at(m.seq).encode()),
            next_cursor: messages
                .last()
                .filter(|_| more_newer)
                .map(|m| Cursor::at(m.seq).encode()),
            messages: self.views_for(reader, &messages).await?,
        })
    }
}
