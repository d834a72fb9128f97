export interface paths {
    "/channels": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Public channels anyone may join */
        get: operations["listChannels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/openapi.json": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** This document */
        get: operations["getOpenApi"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rooms": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's rooms, most recently active first */
        get: operations["listRooms"];
        put?: never;
        /** Creates a group, channel or direct room (a direct room is found if it exists) */
        post: operations["createRoom"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rooms/{roomId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A room and its members (members, or anyone for a channel) */
        get: operations["getRoom"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rooms/{roomId}/attachments": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** An upload slot for an attachment (members): a presigned PUT and the id to send it with */
        post: operations["createUploadSlot"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rooms/{roomId}/members": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Adds a member (the owner), or joins a channel (yourself) */
        post: operations["addMember"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rooms/{roomId}/members/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Removes a member (the owner), or leaves (yourself) */
        delete: operations["removeMember"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rooms/{roomId}/messages": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A page of a room's messages, ascending by seq (members only) */
        get: operations["getHistory"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rooms/{roomId}/messages/{seq}/replies": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The replies to a message, oldest first, with the message itself (members only) */
        get: operations["getThread"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rooms/{roomId}/notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Sets how a room notifies the caller: all, mentions only, or muted (members only) */
        put: operations["setRoomNotify"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/rooms/{roomId}/search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Messages of one room matching a query, newest first (members only) */
        get: operations["searchRoom"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/search": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Messages of all the caller's rooms matching a query, newest first */
        get: operations["searchAll"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A user's profile (presence only to users who share a room with them) */
        get: operations["getUser"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/{userId}/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A user's device public keys and their fingerprint (what a sender seals to; clients pin the fingerprint) */
        get: operations["listKeys"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/me": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's profile (created from the token on first use) */
        get: operations["getMe"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        /** Changes the caller's profile: absent fields are left alone, `"avatarUrl": null` clears */
        patch: operations["updateMe"];
        trace?: never;
    };
    "/users/me/blocks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** Whom the caller blocks (never who blocks them) */
        get: operations["listBlocks"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/me/blocks/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Blocks a user: no direct room or direct message between the two either way, no presence or typing either way, no notification of their messages; shared groups still work (clients hide their messages) */
        put: operations["blockUser"];
        post?: never;
        /** Lifts the caller's block of a user */
        delete: operations["unblockUser"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/me/devices": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's registered push devices */
        get: operations["listDevices"];
        put?: never;
        /** Registers a Web Push subscription of the caller for offline notifications (the same endpoint again replaces it) */
        post: operations["registerDevice"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/me/devices/{deviceId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Removes one of the caller's push devices */
        delete: operations["removeDevice"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/me/keys/{deviceId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Publishes (or replaces) the public key of one of the caller's devices, for end-to-end encrypted direct rooms; the caller's direct-room peers get `keysChanged` */
        put: operations["publishKey"];
        post?: never;
        /** Removes the key of one of the caller's devices; the caller's direct-room peers get `keysChanged` */
        delete: operations["removeKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/me/mutes/{userId}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        /** Mutes a person: their messages notify the caller in no room (`mutedUsers` of the policy); nothing else changes */
        put: operations["mutePerson"];
        post?: never;
        /** Lets a muted person's messages notify the caller again */
        delete: operations["unmutePerson"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/users/me/notifications": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The caller's notification policy: do-not-disturb, mentions only, muted rooms and people */
        get: operations["getNotifyPolicy"];
        /** Replaces the caller's notification policy */
        put: operations["putNotifyPolicy"];
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export type webhooks = Record<string, never>;
export interface components {
    schemas: {
        /** @description `POST /rooms/{roomId}/members`. */
        AddMemberRequest: {
            userId: components["schemas"]["UserId"];
        };
        AttachmentId: string;
        /**
         * @description An attachment as members see it: what it is, and a presigned GET of it
         *     valid until `urlExpiresAt` (history and sync hand out fresh ones).
         *     Media answer `Content-Disposition: inline`, documents `attachment`.
         */
        AttachmentView: {
            attachmentId: components["schemas"]["AttachmentId"];
            contentType: components["schemas"]["ContentType"];
            fileName: components["schemas"]["FileName"];
            /** Format: uint32 */
            height?: number | null;
            /**
             * Format: uint64
             * @description Bytes.
             */
            size: number;
            /** @description Absent only when it could not be signed just now: ask history again. */
            url?: string | null;
            /** Format: int64 */
            urlExpiresAt: number;
            /**
             * Format: uint32
             * @description Pixels, as the sender declared them for an image.
             */
            width?: number | null;
        };
        AvatarUrl: string;
        /** @description `GET /users/me/blocks`: whom the caller blocks (never who blocks them). */
        BlockList: {
            blocks: components["schemas"]["BlockView"][];
        };
        /** @description One person the caller blocks (`/users/me/blocks`). */
        BlockView: {
            /** Format: int64 */
            createdAt: number;
            /** @description Whom the caller blocks. */
            userId: components["schemas"]["UserId"];
        };
        /** @description `GET /channels`: public channels anyone may join. */
        ChannelList: {
            channels: components["schemas"]["RoomView"][];
        };
        /** @description AES-256-GCM ciphertext with its tag, unpadded base64url, at most 16 KiB decoded */
        Ciphertext: string;
        ClientMsgId: string;
        /** @enum {string} */
        ContentType: "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "image/avif" | "image/heic" | "image/heif" | "video/mp4" | "video/webm" | "video/quicktime" | "audio/mpeg" | "audio/mp4" | "audio/aac" | "audio/ogg" | "audio/wav" | "audio/webm" | "application/pdf" | "text/plain" | "text/csv" | "application/rtf" | "application/msword" | "application/vnd.ms-excel" | "application/vnd.ms-powerpoint" | "application/vnd.openxmlformats-officedocument.wordprocessingml.document" | "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" | "application/vnd.openxmlformats-officedocument.presentationml.presentation" | "application/vnd.oasis.opendocument.text" | "application/vnd.oasis.opendocument.spreadsheet" | "application/vnd.oasis.opendocument.presentation" | "application/octet-stream";
        /**
         * @description `POST /rooms`. The name is optional for direct rooms, which name the
         *     other user in `members` (yourself may be named too).
         */
        CreateRoomRequest: {
            /**
             * @description A direct room only: the pair's end-to-end encrypted room (a room of
             *     its own, beside the plain one; chosen here, never changed).
             * @default false
             */
            encrypted?: boolean;
            kind: components["schemas"]["RoomKind"];
            /** @default [] */
            members?: components["schemas"]["UserId"][];
            /** @default null */
            name?: components["schemas"]["RoomName"] | null;
        };
        /** @description A push device's id (derived from its endpoint). */
        DeviceId: string;
        /** @description One published device key. */
        DeviceKey: {
            /** Format: int64 */
            createdAt: number;
            deviceId: components["schemas"]["KeyDeviceId"];
            publicKey: components["schemas"]["PublicKey"];
            userId: components["schemas"]["UserId"];
        };
        /** @description `GET /users/me/devices`. */
        DeviceList: {
            devices: components["schemas"]["DeviceView"][];
        };
        /** @description A registered device, as its owner sees it. */
        DeviceView: {
            /** Format: int64 */
            createdAt: number;
            deviceId: string;
            /**
             * @description A Web Push device's endpoint; a mobile device's kind and the first
             *     characters of its token (`fcm:dQw4w9Wg…`).
             */
            endpoint: string;
            /** @description `webpush`, `fcm` or `apns`. */
            kind: string;
        };
        DisplayName: string;
        /** @description Do-not-disturb. */
        Dnd: {
            /** @constant */
            mode: "off";
        } | {
            /** @constant */
            mode: "on";
        } | {
            /** @constant */
            mode: "until";
            /** Format: int64 */
            until: number;
        };
        /**
         * @description One emoji of the Unicode emoji list (skin-tone variants included): a
         *     single grapheme of at most [`MAX_EMOJI_BYTES`] bytes.
         */
        Emoji: string;
        /**
         * @description The message key wrapped to one device: ECDH of a fresh ephemeral key
         *     with the device's key, HKDF-SHA256, AES-256-GCM (docs/PROTOCOL.md).
         */
        Envelope: {
            deviceId: components["schemas"]["KeyDeviceId"];
            ephemeralKey: components["schemas"]["PublicKey"];
            nonce: components["schemas"]["Nonce"];
            userId: components["schemas"]["UserId"];
            wrappedKey: components["schemas"]["WrappedKey"];
        };
        /** @description The body of every error this API answers: `{"error": {"code", "message"}}`. */
        ErrorBody: {
            error: components["schemas"]["ErrorDetail"];
        };
        /**
         * @description The error codes of the wire protocol's `error` frame and REST error body.
         * @enum {string}
         */
        ErrorCode: "bad_request" | "unauthorized" | "forbidden" | "not_found" | "conflict" | "too_large" | "rate_limited" | "internal";
        ErrorDetail: {
            code: components["schemas"]["ErrorCode"];
            message: string;
        };
        FileName: string;
        /**
         * @description What API Gateway itself answers when it refuses a request before any
         *     function runs, or when the function failed: `{"message": "Unauthorized"}`
         *     (401, from the JWT authorizer), `"Too Many Requests"` (429, the stage's
         *     throttle), `"Internal Server Error"` (500). The local platform answers the
         *     same in template mode.
         */
        GatewayMessage: {
            message: string;
        };
        /**
         * @description `GET /rooms/{roomId}/messages`: messages ascending by `seq`.
         *     `prevCursor` is present when older messages exist (pass it as `before`),
         *     `nextCursor` when newer ones exist (pass it as `after`).
         */
        HistoryPage: {
            messages: components["schemas"]["MessageView"][];
            nextCursor: string | null;
            prevCursor: string | null;
        };
        KeyDeviceId: string;
        /**
         * @description `GET /users/{userId}/keys`: a user's current device keys, and their
         *     fingerprint ([`keys_fingerprint`]), which clients pin.
         */
        KeyList: {
            devices: components["schemas"]["DeviceKey"][];
            fingerprint: string;
            userId: components["schemas"]["UserId"];
        };
        MemberView: {
            avatarUrl: components["schemas"]["AvatarUrl"] | null;
            /** Format: uint64 */
            deliveredSeq: number;
            displayName: components["schemas"]["DisplayName"];
            /** Format: int64 */
            joinedAt: number;
            presence: components["schemas"]["PresenceStatus"];
            /** Format: uint64 */
            readSeq: number;
            role: components["schemas"]["Role"];
            userId: components["schemas"]["UserId"];
        };
        MessageId: string;
        /** @description A message as it travels to clients (`message` frames, sync and history). */
        MessageView: {
            /** @description The files it shares, each with a download URL for members. */
            attachments?: components["schemas"]["AttachmentView"][];
            body: string;
            clientMsgId: components["schemas"]["ClientMsgId"];
            /**
             * Format: int64
             * @description Set on a tombstone: the message was deleted (its body is empty and
             *     it has no attachments or reactions).
             */
            deletedAt?: number | null;
            /**
             * Format: int64
             * @description When its body was last edited.
             */
            editedAt?: number | null;
            messageId: components["schemas"]["MessageId"];
            /** @description Reaction counts, in the order each emoji was first added. */
            reactions?: components["schemas"]["ReactionCount"][];
            /**
             * @description The message it replies to, quoted: `deleted` when that message was
             *     deleted since (resolved whenever history, a thread or sync is read).
             */
            replyTo?: components["schemas"]["ReplyPreview"] | null;
            roomId: components["schemas"]["RoomId"];
            /**
             * @description In an end-to-end encrypted room: the sealed content (`body` is
             *     empty). Absent on a tombstone.
             */
            sealed?: components["schemas"]["Sealed"] | null;
            senderId: components["schemas"]["UserId"];
            /** Format: int64 */
            sentAt: number;
            /** Format: uint64 */
            seq: number;
        };
        /** @description 12 bytes, unpadded base64url */
        Nonce: string;
        /**
         * @description A user's notification policy (`GET`/`PUT /users/me/notifications`,
         *     every field required: a `PUT` replaces the whole policy). The default
         *     notifies of every message.
         */
        NotifyPolicy: {
            dnd: components["schemas"]["Dnd"];
            /** @description Only messages that mention the user (`@userId`), in every room. */
            mentionsOnly: boolean;
            /** @description Only mentions, in these rooms. */
            mentionsOnlyRooms: components["schemas"]["RoomId"][];
            mutedRooms: components["schemas"]["RoomId"][];
            /** @description People whose messages never notify. */
            mutedUsers: components["schemas"]["UserId"][];
        };
        /**
         * @description Presence as shown to other users.
         * @enum {string}
         */
        PresenceStatus: "online" | "offline";
        ProfileView: {
            avatarUrl: components["schemas"]["AvatarUrl"] | null;
            displayName: components["schemas"]["DisplayName"];
            /** @description Shown to the user themself and to users who share a room with them. */
            presence?: components["schemas"]["PresenceStatus"] | null;
            /** Format: int64 */
            updatedAt: number;
            userId: components["schemas"]["UserId"];
        };
        /** @description An uncompressed SEC1 P-256 point, unpadded base64url (87 characters) */
        PublicKey: string;
        /**
         * @description `PUT /users/me/keys/{deviceId}`: the device's public key, and whose it
         *     is. `userId` must be the caller's (identity comes from the token only:
         *     a bundle naming anyone else is refused).
         */
        PublishKeyRequest: {
            publicKey: components["schemas"]["PublicKey"];
            userId: components["schemas"]["UserId"];
        };
        /**
         * @description How many members reacted to a message with `emoji`, and whether the
         *     reader is one of them.
         */
        ReactionCount: {
            /** Format: uint32 */
            count: number;
            emoji: components["schemas"]["Emoji"];
            me: boolean;
        };
        /**
         * @description `POST /users/me/devices`: a Web Push subscription as the browser's
         *     `PushSubscription.toJSON()` gives it (the endpoint must be `https` to a
         *     public host), or a native app's token `{"kind": "fcm"|"apns", "token"}`
         *     (decoded by `chat_core::mobile::Registration::parse`).
         */
        RegisterDeviceRequest: {
            /**
             * @description A Web Push subscription's endpoint (with `keys`); absent for a
             *     mobile token.
             * @default null
             */
            endpoint?: string | null;
            /**
             * Format: double
             * @description Ignored (the push service answers 404/410 for an expired one, which
             *     removes the device).
             * @default null
             */
            expirationTime?: number | null;
            keys?: components["schemas"]["SubscriptionKeys"] | null;
            /**
             * @description A mobile token's kind: `fcm` or `apns` (with `token`), instead of
             *     `endpoint` and `keys`.
             * @default null
             */
            kind?: string | null;
            /**
             * @description The FCM registration token or APNs device token (hex).
             * @default null
             */
            token?: string | null;
        };
        /** @description The quote a reply carries of its target. */
        ReplyPreview: {
            /**
             * Format: uint32
             * @default 0
             */
            attachmentCount: number;
            /** @description The target was deleted: render "deleted" instead of a quote. */
            deleted?: boolean;
            /**
             * @description The first characters of its body (at most [`EXCERPT_CHARS`]); empty
             *     when it had only attachments, or was deleted.
             */
            excerpt: string;
            messageId: components["schemas"]["MessageId"];
            /**
             * @description The target is sealed (an end-to-end encrypted room): the server
             *     has no text to quote, so `excerpt` is empty; clients quote their
             *     own opened copy of message `seq`.
             */
            sealed?: boolean;
            senderId: components["schemas"]["UserId"];
            /**
             * Format: uint64
             * @description The target's seq in the same room.
             */
            seq: number;
            /** @description Whether the excerpt stops short of the whole body. */
            truncated?: boolean;
        };
        /** @enum {string} */
        Role: "owner" | "member";
        /** @description `GET /rooms/{roomId}`, and the answer of `POST /rooms`. */
        RoomDetail: {
            /** Format: int64 */
            createdAt: number;
            /**
             * @description An end-to-end encrypted direct room ([`crate::e2ee`]): its messages
             *     are sealed. Absent when false.
             */
            encrypted?: boolean;
            kind: components["schemas"]["RoomKind"];
            members: components["schemas"]["MemberView"][];
            name: components["schemas"]["RoomName"];
            ownerId: components["schemas"]["UserId"];
            roomId: components["schemas"]["RoomId"];
        };
        RoomId: string;
        /** @description What kind of room this is decides who may join and who may add members. */
        RoomKind: "group" | "channel" | "direct";
        RoomList: {
            rooms: components["schemas"]["RoomSummary"][];
        };
        RoomName: string;
        /** @description How one room notifies the caller. */
        RoomNotifyLevel: "all" | "mentions" | "muted";
        /** @description `PUT /rooms/{roomId}/notifications`. */
        RoomNotifyRequest: {
            level: components["schemas"]["RoomNotifyLevel"];
        };
        /** @description One entry of `GET /rooms`. */
        RoomSummary: {
            /** Format: int64 */
            createdAt: number;
            /**
             * @description An end-to-end encrypted direct room ([`crate::e2ee`]): its messages
             *     are sealed. Absent when false.
             */
            encrypted?: boolean;
            kind: components["schemas"]["RoomKind"];
            lastMessage: components["schemas"]["MessageView"] | null;
            name: components["schemas"]["RoomName"];
            ownerId: components["schemas"]["UserId"];
            /** Format: uint64 */
            readSeq: number;
            roomId: components["schemas"]["RoomId"];
            /** Format: uint64 */
            unreadCount: number;
        };
        RoomView: {
            /** Format: int64 */
            createdAt: number;
            /**
             * @description An end-to-end encrypted direct room ([`crate::e2ee`]): its messages
             *     are sealed. Absent when false.
             */
            encrypted?: boolean;
            kind: components["schemas"]["RoomKind"];
            name: components["schemas"]["RoomName"];
            ownerId: components["schemas"]["UserId"];
            roomId: components["schemas"]["RoomId"];
        };
        /** @description What an encrypted room's message carries instead of a body. */
        Sealed: {
            ciphertext: components["schemas"]["Ciphertext"];
            /**
             * @description One per current device of both members: 1 to [`MAX_ENVELOPES`]
             *     (checked by the server, not the schema: a bounded array becomes a
             *     tuple type in generated TypeScript).
             */
            envelopes: components["schemas"]["Envelope"][];
            nonce: components["schemas"]["Nonce"];
            /**
             * Format: uint8
             * @description Always 1.
             */
            v: number;
        };
        /**
         * @description One message that matched: where it is (to open the room at `seq`, e.g.
         *     with `GET /rooms/{roomId}/messages?around={seq}`), who sent it when, and
         *     a piece of its body around the match.
         */
        SearchHit: {
            messageId: components["schemas"]["MessageId"];
            roomId: components["schemas"]["RoomId"];
            senderId: components["schemas"]["UserId"];
            /** Format: int64 */
            sentAt: number;
            /** Format: uint64 */
            seq: number;
            /** @description At most 160 characters of the body, `…` where it was cut. */
            snippet: string;
        };
        /**
         * @description `GET /search` and `GET /rooms/{roomId}/search`: matches, newest first.
         *     `nextCursor` is present when more may follow (pass it as `cursor`).
         */
        SearchPage: {
            hits: components["schemas"]["SearchHit"][];
            nextCursor: string | null;
        };
        /** @description The keys of a Web Push subscription (base64url, as the browser gives them). */
        SubscriptionKeys: {
            /** @description The subscription's authentication secret: 16 bytes. */
            auth: string;
            /** @description The subscription's P-256 public key: 65 bytes, an uncompressed point. */
            p256dh: string;
        };
        /**
         * @description `GET /rooms/{roomId}/messages/{seq}/replies`: the message (absent when it
         *     is not stored yet) and a page of its replies, oldest first. `nextCursor`
         *     is present when more may follow (pass it as `after`).
         */
        ThreadPage: {
            nextCursor: string | null;
            replies: components["schemas"]["MessageView"][];
            target?: components["schemas"]["MessageView"] | null;
        };
        /** @description `PATCH /users/me`: absent fields are left alone; `"avatarUrl": null` clears. */
        UpdateProfileRequest: {
            /** @default null */
            avatarUrl?: components["schemas"]["AvatarUrl"] | null;
            /** @default null */
            displayName?: components["schemas"]["DisplayName"] | null;
        };
        /**
         * @description An upload slot: send `method` to `uploadUrl` with exactly `headers` and
         *     the file as the body before `expiresAt`, then reference `attachmentId`
         *     in a `sendMessage` of the same room.
         */
        UploadSlot: {
            attachmentId: components["schemas"]["AttachmentId"];
            /** Format: int64 */
            expiresAt: number;
            /** @description Header name → value; part of the signature. */
            headers: {
                [key: string]: string;
            };
            /** @description Always `PUT`. */
            method: string;
            uploadUrl: string;
        };
        /**
         * @description `POST /rooms/{roomId}/attachments`: what the sender will upload. The
         *     upload must be exactly this type and size; `width` and `height` (pixels)
         *     are recorded for images.
         */
        UploadSlotRequest: {
            contentType: components["schemas"]["ContentType"];
            fileName: components["schemas"]["FileName"];
            /**
             * Format: uint32
             * @default null
             */
            height?: number | null;
            /**
             * Format: uint64
             * @description Bytes, at least 1 and at most the deployment's limit (25 MiB by default).
             */
            size: number;
            /**
             * Format: uint32
             * @default null
             */
            width?: number | null;
        };
        UserId: string;
        /** @description 48 bytes, unpadded base64url */
        WrappedKey: string;
    };
    responses: {
        /** @description `bad_request` */
        BadRequest: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description `conflict` */
        Conflict: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description `forbidden` */
        Forbidden: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description `internal` */
        Internal: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorBody"] | components["schemas"]["GatewayMessage"];
            };
        };
        /** @description `not_found` */
        NotFound: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorBody"];
            };
        };
        /** @description `rate_limited` */
        RateLimited: {
            headers: {
                /** @description Seconds to wait before the same request succeeds (absent when the gateway throttled). */
                "Retry-After"?: number;
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorBody"] | components["schemas"]["GatewayMessage"];
            };
        };
        /** @description `too_large` */
        TooLarge: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorBody"] | components["schemas"]["GatewayMessage"];
            };
        };
        /** @description `unauthorized` */
        Unauthorized: {
            headers: {
                [name: string]: unknown;
            };
            content: {
                "application/json": components["schemas"]["ErrorBody"] | components["schemas"]["GatewayMessage"];
            };
        };
    };
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    listChannels: {
        parameters: {
            query?: {
                /** @description How many to return at most. */
                limit?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The channels */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ChannelList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    getOpenApi: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The OpenAPI 3.1 document of this API */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": Record<string, never>;
                };
            };
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    listRooms: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The rooms */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RoomList"];
                };
            };
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    createRoom: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["CreateRoomRequest"];
            };
        };
        responses: {
            /** @description The direct room with that user already exists */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RoomDetail"];
                };
            };
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RoomDetail"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["TooLarge"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    getRoom: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                roomId: components["schemas"]["RoomId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The room */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RoomDetail"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    createUploadSlot: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                roomId: components["schemas"]["RoomId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UploadSlotRequest"];
            };
        };
        responses: {
            /** @description The slot: PUT the file to uploadUrl with its headers, then send a message naming attachmentId */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["UploadSlot"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["TooLarge"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    addMember: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                roomId: components["schemas"]["RoomId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["AddMemberRequest"];
            };
        };
        responses: {
            /** @description The room with its members */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["RoomDetail"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    removeMember: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                roomId: components["schemas"]["RoomId"];
                userId: components["schemas"]["UserId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    getHistory: {
        parameters: {
            query?: {
                /** @description A `nextCursor`: the page after it. */
                after?: string;
                /** @description A seq (a search result's): the page around it, about half at or before it and the rest after (not with `before` or `after`). */
                around?: number;
                /** @description A `prevCursor`: the page before it (default: the newest messages). */
                before?: string;
                /** @description Page size, at most the deployment's maximum (100 by default). */
                limit?: number;
            };
            header?: never;
            path: {
                roomId: components["schemas"]["RoomId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["HistoryPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    getThread: {
        parameters: {
            query?: {
                /** @description A `nextCursor`: the page after it. */
                after?: string;
                /** @description Page size, at most the deployment's maximum (100 by default). */
                limit?: number;
            };
            header?: never;
            path: {
                roomId: components["schemas"]["RoomId"];
                seq: number;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The message and a page of its replies */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ThreadPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    setRoomNotify: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                roomId: components["schemas"]["RoomId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RoomNotifyRequest"];
            };
        };
        responses: {
            /** @description The caller's whole policy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NotifyPolicy"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["TooLarge"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    searchRoom: {
        parameters: {
            query: {
                /** @description A `nextCursor`: the page after it. */
                cursor?: string;
                /** @description Page size, 1 to 50 (20 by default). */
                limit?: number;
                /** @description The words to find (1 to 200 characters, at most 8 words): every word must match a word of the message, words of 3 or more characters as prefixes. */
                q: string;
            };
            header?: never;
            path: {
                roomId: components["schemas"]["RoomId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of matches */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SearchPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    searchAll: {
        parameters: {
            query: {
                /** @description A `nextCursor`: the page after it. */
                cursor?: string;
                /** @description Page size, 1 to 50 (20 by default). */
                limit?: number;
                /** @description The words to find (1 to 200 characters, at most 8 words): every word must match a word of the message, words of 3 or more characters as prefixes. */
                q: string;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page of matches */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["SearchPage"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    getUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                userId: components["schemas"]["UserId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The profile */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProfileView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    listKeys: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                userId: components["schemas"]["UserId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The keys */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["KeyList"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    getMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The profile */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProfileView"];
                };
            };
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    updateMe: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["UpdateProfileRequest"];
            };
        };
        responses: {
            /** @description The profile */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["ProfileView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            413: components["responses"]["TooLarge"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    listBlocks: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller's blocks */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BlockList"];
                };
            };
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    blockUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                userId: components["schemas"]["UserId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Blocked already: unchanged */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BlockView"];
                };
            };
            /** @description Blocked */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["BlockView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            409: components["responses"]["Conflict"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    unblockUser: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                userId: components["schemas"]["UserId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Unblocked */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    listDevices: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The devices */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceList"];
                };
            };
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    registerDevice: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["RegisterDeviceRequest"];
            };
        };
        responses: {
            /** @description That subscription was registered already: replaced */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceView"];
                };
            };
            /** @description Registered */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceView"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    removeDevice: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                deviceId: components["schemas"]["DeviceId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    publishKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                deviceId: components["schemas"]["DeviceId"];
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["PublishKeyRequest"];
            };
        };
        responses: {
            /** @description That key was published already: unchanged */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceKey"];
                };
            };
            /** @description Published (new, or a different key for the device) */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["DeviceKey"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            403: components["responses"]["Forbidden"];
            409: components["responses"]["Conflict"];
            413: components["responses"]["TooLarge"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    removeKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                deviceId: components["schemas"]["DeviceId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Removed */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    mutePerson: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                userId: components["schemas"]["UserId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller's whole policy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NotifyPolicy"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            404: components["responses"]["NotFound"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    unmutePerson: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                userId: components["schemas"]["UserId"];
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The caller's whole policy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NotifyPolicy"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    getNotifyPolicy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The policy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NotifyPolicy"];
                };
            };
            401: components["responses"]["Unauthorized"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
    putNotifyPolicy: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["NotifyPolicy"];
            };
        };
        responses: {
            /** @description The policy */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/json": components["schemas"]["NotifyPolicy"];
                };
            };
            400: components["responses"]["BadRequest"];
            401: components["responses"]["Unauthorized"];
            413: components["responses"]["TooLarge"];
            429: components["responses"]["RateLimited"];
            500: components["responses"]["Internal"];
        };
    };
}
