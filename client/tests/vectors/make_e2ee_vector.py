#!/usr/bin/env python3
"""Writes e2ee-v1.json: one sealed message and a safety number, made with
Python's `cryptography` from fixed random values, independently of the Rust
and JavaScript implementations that must open and reproduce it
(client/src/e2ee.rs, local/web/ui/e2ee.js; docs/PROTOCOL.md has the format).

    python3 client/tests/vectors/make_e2ee_vector.py > client/tests/vectors/e2ee-v1.json
"""
import base64
import hashlib
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def b64(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def key(scalar: int):
    return ec.derive_private_key(scalar, ec.SECP256R1())


def pub(k) -> bytes:
    return k.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def user_digits(user: str, keys: list) -> str:
    data = f"chat-safety/v1\n{user}\n" + "\n".join(sorted(keys))
    d = hashlib.sha512(data.encode()).digest()[:30]
    return "".join(f"{int.from_bytes(d[i:i + 5], 'big') % 100000:05d}" for i in range(0, 30, 5))


def safety_number(a: str, ka: list, b: str, kb: list) -> str:
    da, db = user_digits(a, ka), user_digits(b, kb)
    s = da + db if a <= b else db + da
    return " ".join(s[i:i + 5] for i in range(0, 60, 5))


room, sender, cmid = "dme_5f0b2c1d9e8a7b6c5d4e3f2a1b0c9d8e", "alice", "c-vector-1"
recipient_user, recipient_device = "bob", "bob-laptop"
body = "Meet at the north gate at noon."

recipient = key(0x1F2E3D4C5B6A79880123456789ABCDEF0123456789ABCDEF0FEDCBA987654321)
ephemeral = key(0x0A1B2C3D4E5F60718293A4B5C6D7E8F90A1B2C3D4E5F60718293A4B5C6D7E8F9)
sender_key = key(0x3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C3C)
message_key = bytes(range(32))
nonce = bytes(range(100, 112))
envelope_nonce = bytes(range(200, 212))

aad = f"chat-e2ee/v1\n{room}\n{sender}\n{cmid}".encode()
plaintext = json.dumps({"body": body}, separators=(",", ":")).encode()
ciphertext = AESGCM(message_key).encrypt(nonce, plaintext, aad)

shared = ephemeral.exchange(ec.ECDH(), recipient.public_key())
wrap = HKDF(
    algorithm=hashes.SHA256(), length=32, salt=pub(ephemeral) + pub(recipient),
    info=b"chat-e2ee/v1 wrap",
).derive(shared)
env_aad = aad + f"\n{recipient_user}\n{recipient_device}".encode()
wrapped = AESGCM(wrap).encrypt(envelope_nonce, message_key, env_aad)

sender_keys = [b64(pub(sender_key))]
recipient_keys = [b64(pub(recipient))]
vector = {
    "roomId": room,
    "senderId": sender,
    "clientMsgId": cmid,
    "recipientUserId": recipient_user,
    "recipientDeviceId": recipient_device,
    "recipientPrivate": recipient.private_numbers().private_value.to_bytes(32, "big").hex(),
    "recipientPublic": b64(pub(recipient)),
    "body": body,
    "messageKey": message_key.hex(),
    "nonce": nonce.hex(),
    "ephemeralPrivate": ephemeral.private_numbers().private_value.to_bytes(32, "big").hex(),
    "envelopeNonce": envelope_nonce.hex(),
    "sealed": {
        "v": 1,
        "nonce": b64(nonce),
        "ciphertext": b64(ciphertext),
        "envelopes": [{
            "userId": recipient_user,
            "deviceId": recipient_device,
            "ephemeralKey": b64(pub(ephemeral)),
            "nonce": b64(envelope_nonce),
            "wrappedKey": b64(wrapped),
        }],
    },
    "senderKeys": sender_keys,
    "recipientKeys": recipient_keys,
    "safetyNumber": safety_number(sender, sender_keys, recipient_user, recipient_keys),
}
print(json.dumps(vector, indent=2))
