//! Edits in end-to-end encrypted rooms: the new content is sealed like a
//! message, under the edit's own associated data
//! ([`chat_core::e2ee::edit_aad`]: `"chat-e2ee/v1 edit\n{roomId}\n{senderId}\n{seq}"`),
//! so an edit opens only as the edit of that message by that sender: not as
//! another message's edit, and not as a send (whose label differs).
//!
//! A message whose `editedAt` is set carries its latest edit's `sealed`:
//! open it with [`open_edit`] and the message's `seq`; one never edited,
//! with [`super::open`] and its `clientMsgId`.

use chat_core::e2ee::{edit_aad, Sealed};
use chat_core::ids::{RoomId, Seq, UserId};

use super::{open_aad, seal_aad, Content, CryptoError, DeviceKeys, Recipient, SealRandom};

/// Seals `content`, the new content of message `seq` sent by `sender` in
/// `room`, to every recipient device (every device of both members).
pub fn seal_edit(
    room: &RoomId,
    sender: &UserId,
    seq: Seq,
    content: &Content,
    recipients: &[Recipient],
) -> Result<Sealed, CryptoError> {
    seal_aad(
        &edit_aad(room, sender, seq),
        content,
        recipients,
        &SealRandom::fresh(recipients.len()),
    )
}

/// Opens the edit of message `seq` sent by `sender` in `room`, as device
/// `me` of user `me_user`.
pub fn open_edit(
    sealed: &Sealed,
    room: &RoomId,
    sender: &UserId,
    seq: Seq,
    me_user: &UserId,
    me: &DeviceKeys,
) -> Result<Content, CryptoError> {
    open_aad(sealed, &edit_aad(room, sender, seq), me_user, me)
}

#[cfg(test)]
mod tests {
    use base64::Engine;
    use chat_core::ids::ClientMsgId;

    use super::super::tests::to;
    use super::super::{open, seal};
    use super::*;

    #[test]
    fn an_edit_opens_only_as_the_edit_of_its_message() {
        let (alice, bob) = (
            UserId::parse("alice").unwrap(),
            UserId::parse("bob").unwrap(),
        );
        let room = RoomId::direct_encrypted(&alice, &bob);
        let (a1, b1) = (DeviceKeys::generate("a1"), DeviceKeys::generate("b1"));
        let all = [to(&alice, &a1), to(&bob, &b1)];
        let content = Content::text("noon, not eleven");
        let sealed = seal_edit(&room, &alice, 4, &content, &all).unwrap();
        for (u, k) in [(&alice, &a1), (&bob, &b1)] {
            assert_eq!(open_edit(&sealed, &room, &alice, 4, u, k).unwrap(), content);
        }
        // Another message's edit, another sender's, another room's.
        assert_eq!(
            open_edit(&sealed, &room, &alice, 5, &bob, &b1),
            Err(CryptoError::Forged)
        );
        assert_eq!(
            open_edit(&sealed, &room, &bob, 4, &bob, &b1),
            Err(CryptoError::Forged)
        );
        let other = RoomId::direct_encrypted(&alice, &UserId::parse("carol").unwrap());
        assert_eq!(
            open_edit(&sealed, &other, &alice, 4, &bob, &b1),
            Err(CryptoError::Forged)
        );
        // Not a send, whatever its clientMsgId (the seq's digits too).
        for c in ["4", "c-1"] {
            let c = ClientMsgId::parse(c).unwrap();
            assert_eq!(
                open(&sealed, &room, &alice, &c, &bob, &b1),
                Err(CryptoError::Forged)
            );
        }
        // And a send does not open as an edit.
        let c = ClientMsgId::parse("4").unwrap();
        let sent = seal(&room, &alice, &c, &content, &all).unwrap();
        assert_eq!(
            open_edit(&sent, &room, &alice, 4, &bob, &b1),
            Err(CryptoError::Forged)
        );
    }

    #[test]
    fn a_flipped_byte_of_an_edit_does_not_open() {
        let (alice, bob) = (
            UserId::parse("alice").unwrap(),
            UserId::parse("bob").unwrap(),
        );
        let room = RoomId::direct_encrypted(&alice, &bob);
        let b1 = DeviceKeys::generate("b1");
        let sealed = seal_edit(&room, &alice, 2, &Content::text("v2"), &[to(&bob, &b1)]).unwrap();
        let flip = |field: &str| {
            let mut v = serde_json::to_value(&sealed).unwrap();
            let slot = if field == "wrappedKey" {
                &mut v["envelopes"][0][field]
            } else {
                &mut v[field]
            };
            let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
            let mut bytes = e.decode(slot.as_str().unwrap()).unwrap();
            bytes[0] ^= 1;
            *slot = e.encode(&bytes).into();
            serde_json::from_value::<Sealed>(v).unwrap()
        };
        for field in ["ciphertext", "nonce", "wrappedKey"] {
            assert_eq!(
                open_edit(&flip(field), &room, &alice, 2, &bob, &b1),
                Err(CryptoError::Forged),
                "{field}"
            );
        }
    }
}
