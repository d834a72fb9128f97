//! Paginated history. Pages are ascending by `seq` and addressed by opaque
//! cursors in both directions; the newest page comes first.

use super::Chat;
use crate::auth::Identity;
use crate::authz::Action;
use crate::error::ChatError;
use crate::ids::RoomId;
use crate::ports::RangeQuery;
use crate::protocol::cursor::Cursor;
use crate::protocol::rest::HistoryPage;

/// `GET /rooms/{roomId}/messages?before=&after=&limit=`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HistoryQuery {
    pub before: Option<Cursor>,
    pub after: Option<Cursor>,
    pub limit: Option<usize>,
}

impl HistoryQuery {
    /// Parses the query string values.
    pub fn parse(
        before: Option<&str>,
        after: Option<&str>,
        limit: Option<&str>,
    ) -> Result<Self, ChatError> {
        let limit = limit
            .map(|l| {
                l.parse::<usize>()
                    .map_err(|_| ChatError::BadRequest("limit must be a positive integer".into()))
            })
            .transpose()?;
        Ok(Self {
            before: before.map(Cursor::parse).transpose()?,
            after: after.map(Cursor::parse).transpose()?,
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
            messages: self.views(&messages).await,
            prev_cursor: older.then(|| Cursor::at(first).encode()),
            next_cursor: newer.then(|| Cursor::at(last).encode()),
        })
    }
}
