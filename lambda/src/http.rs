//! HTTP API (payload v2) requests through `lambda_http`: routing, identity,
//! JSON bodies, and the one mapping of errors to responses.

use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

use chat_core::auth::{bearer, Identity, TokenVerifier};
use chat_core::e2ee::DeviceId as KeyDeviceId;
#[cfg(feature = "openapi")]
use chat_core::e2ee::{DeviceKey, KeyList, PublishKeyRequest};
use chat_core::error::{ChatError, ErrorCode};
use chat_core::ids::{RoomId, UserId};
use chat_core::notify::DeviceId;
#[cfg(feature = "openapi")]
use chat_core::notify::NotifyPolicy;
use chat_core::protocol::decode;
#[cfg(feature = "openapi")]
use chat_core::protocol::rest::{
    AddMemberRequest, ChannelList, CreateRoomRequest, DeviceList, DeviceView, HistoryPage,
    ProfileView, RegisterDeviceRequest, RoomDetail, RoomList, RoomNotifyRequest, SearchPage,
    ThreadPage, UpdateProfileRequest, UploadSlot, UploadSlotRequest,
};
#[cfg(feature = "openapi")]
use chat_core::protocol::rest::{BlockList, BlockView};
use chat_core::protocol::rest::{ErrorBody, ErrorDetail};
use chat_core::Chat;

/// Largest JSON request body accepted.
pub const MAX_BODY: usize = 64 * 1024;

/// Every REST route of the platform.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Route {
    History(RoomId),
    SearchRoom(RoomId),
    /// The replies to the message at a seq.
    Thread(RoomId, chat_core::ids::Seq),
    SearchAll,
    CreateRoom,
    ListRooms,
    GetRoom(RoomId),
    AddMember(RoomId),
    RemoveMember(RoomId, UserId),
    UploadSlot(RoomId),
    ListChannels,
    GetMe,
    UpdateMe,
    GetUser(UserId),
    RegisterDevice,
    ListDevices,
    RemoveDevice(DeviceId),
    GetNotifyPolicy,
    PutNotifyPolicy,
    SetRoomNotify(RoomId),
    ListBlocks,
    Block(UserId),
    Unblock(UserId),
    MutePerson(UserId),
    UnmutePerson(UserId),
    /// Publishes the caller's key of a device (encrypted rooms).
    PublishKey(KeyDeviceId),
    /// Removes the caller's key of a device.
    RemoveKey(KeyDeviceId),
    /// A user's device keys.
    ListKeys(UserId),
    /// This API's OpenAPI document; the one route without a token.
    OpenApi,
}

/// A JSON body type of an endpoint: with the `openapi` feature, how to
/// describe it (schemars); without it, only its name, so a deployed
/// function links no schema code.
#[derive(Clone, Copy, Debug)]
pub struct BodyType {
    pub name: &'static str,
    #[cfg(feature = "openapi")]
    pub schema: fn(&mut schemars::SchemaGenerator) -> schemars::Schema,
}

macro_rules! body {
    ($t:ty) => {
        BodyType {
            name: stringify!($t),
            #[cfg(feature = "openapi")]
            schema: |g| g.subschema_for::<$t>(),
        }
    };
}

/// What a query parameter holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueryKind {
    /// An opaque pagination cursor ([`chat_core::protocol::cursor`]).
    Cursor,
    /// A count, at least `minimum`.
    Count { minimum: u64 },
    /// A search cursor ([`chat_core::search::SearchKey`]).
    SearchCursor,
    /// The search text ([`chat_core::search::SearchQuery`]): the one
    /// required parameter.
    SearchText,
}

/// A query string parameter of an endpoint (all are optional but the
/// search text).
#[derive(Clone, Copy, Debug)]
pub struct QueryParam {
    pub name: &'static str,
    pub kind: QueryKind,
    pub description: &'static str,
}

/// A successful answer of an endpoint: its status and body (none: 204).
#[derive(Clone, Copy, Debug)]
pub struct Success {
    pub status: u16,
    pub description: &'static str,
    pub body: Option<BodyType>,
}

/// An OpenAPI link from an endpoint's successful answer to another
/// operation: where that operation's parameters come from (runtime
/// expressions such as `$response.body#/roomId`). Clients and test
/// generators follow them from one call to the next.
#[derive(Clone, Copy, Debug)]
pub struct Link {
    pub name: &'static str,
    /// The target's `operationId`.
    pub operation: &'static str,
    pub parameters: &'static [(&'static str, &'static str)],
}

/// One REST endpoint. [`ENDPOINTS`] is the single source of the router
/// ([`Route::parse`]), of the local platform's function dispatch, and of the
/// OpenAPI document (`chat-contracts`), whose route coverage the stack's
/// assertion tests check against the HTTP API's routes.
#[derive(Debug)]
pub struct Endpoint {
    /// The OpenAPI `operationId`.
    pub operation: &'static str,
    pub method: http::Method,
    /// The path template, parameters in braces as API Gateway and OpenAPI
    /// write them: `/rooms/{roomId}/messages`.
    pub path: &'static str,
    /// The function that serves it (the HTTP API's integration).
    pub function: &'static str,
    /// Behind the JWT authorizer (a bearer token is required).
    pub authenticated: bool,
    pub summary: &'static str,
    pub query: &'static [QueryParam],
    pub request: Option<BodyType>,
    pub success: &'static [Success],
    /// The errors its handler may answer beyond those every endpoint may
    /// ([`Endpoint::errors`] adds them); each answers the status
    /// [`ErrorCode::http_status`] gives.
    pub errors: &'static [ErrorCode],
    /// Links from its successful answers to other operations.
    pub links: &'static [Link],
    /// The route, from the path's parameters in order.
    build: fn(&[&str]) -> Result<Route, ChatError>,
}

impl Endpoint {
    /// Every error it may answer: its own, a malformed path parameter or
    /// body (400) and an oversize body (413), a missing or bad token (401),
    /// the rate limit (429, the gateway's throttle included), and ours (500).
    pub fn errors(&self) -> Vec<ErrorCode> {
        let mut codes: Vec<ErrorCode> = self.errors.to_vec();
        if self.path.contains('{') || self.request.is_some() {
            codes.push(ErrorCode::BadRequest);
        }
        if self.request.is_some() {
            codes.push(ErrorCode::TooLarge);
        }
        if self.authenticated {
            codes.push(ErrorCode::Unauthorized);
        }
        codes.extend([ErrorCode::RateLimited, ErrorCode::Internal]);
        ErrorCode::ALL
            .into_iter()
            .filter(|c| codes.contains(c))
            .collect()
    }

    /// The path parameters' values if `segs` (a path without its stage)
    /// fits the template.
    fn capture<'a>(&self, segs: &[&'a str]) -> Option<Vec<&'a str>> {
        let template: Vec<&str> = self.path.trim_matches('/').split('/').collect();
        if template.len() != segs.len() {
            return None;
        }
        let mut params = Vec::new();
        for (t, s) in template.iter().zip(segs) {
            if t.starts_with('{') {
                params.push(*s);
            } else if t != s {
                return None;
            }
        }
        Some(params)
    }

    /// The names of its path parameters, in order.
    pub fn path_params(&self) -> impl Iterator<Item = &'static str> {
        self.path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
    }
}

const LIMIT: QueryParam = QueryParam {
    name: "limit",
    kind: QueryKind::Count { minimum: 0 },
    description: "How many to return at most.",
};

/// The query of both search endpoints.
const SEARCH_QUERY: &[QueryParam] = &[
    QueryParam {
        name: "q",
        kind: QueryKind::SearchText,
        description: "The words to find (1 to 200 characters, at most 8 words): every word must match a word of the message, words of 3 or more characters as prefixes.",
    },
    QueryParam {
        name: "cursor",
        kind: QueryKind::SearchCursor,
        description: "A `nextCursor`: the page after it.",
    },
    QueryParam {
        name: "limit",
        kind: QueryKind::Count { minimum: 1 },
        description: "Page size, 1 to 50 (20 by default).",
    },
];

use ErrorCode as E;

/// Every REST endpoint. Order matters where two templates fit one path:
/// the first wins (`/users/me` before `/users/{userId}`), as API Gateway
/// prefers the literal segment.
pub static ENDPOINTS: &[Endpoint] = &[
    Endpoint {
        operation: "getHistory",
        method: http::Method::GET,
        path: "/rooms/{roomId}/messages",
        function: "chat-history",
        authenticated: true,
        summary: "A page of a room's messages, ascending by seq (members only)",
        query: &[
            QueryParam {
                name: "before",
                kind: QueryKind::Cursor,
                description: "A `prevCursor`: the page before it (default: the newest messages).",
            },
            QueryParam {
                name: "after",
                kind: QueryKind::Cursor,
                description: "A `nextCursor`: the page after it.",
            },
            QueryParam {
                name: "around",
                kind: QueryKind::Count { minimum: 1 },
                description: "A seq (a search result's): the page around it, about half at or before it and the rest after (not with `before` or `after`).",
            },
            QueryParam {
                name: "limit",
                kind: QueryKind::Count { minimum: 1 },
                description: "Page size, at most the deployment's maximum (100 by default).",
            },
        ],
        request: None,
        success: &[Success {
            status: 200,
            description: "The page",
            body: Some(body!(HistoryPage)),
        }],
        errors: &[E::BadRequest, E::Forbidden, E::NotFound],
        links: &[],
        build: |p| Ok(Route::History(RoomId::parse(p[0])?)),
    },
    Endpoint {
        operation: "getThread",
        method: http::Method::GET,
        path: "/rooms/{roomId}/messages/{seq}/replies",
        function: "chat-history",
        authenticated: true,
        summary: "The replies to a message, oldest first, with the message itself (members only)",
        query: &[
            QueryParam {
                name: "after",
                kind: QueryKind::Cursor,
                description: "A `nextCursor`: the page after it.",
            },
            QueryParam {
                name: "limit",
                kind: QueryKind::Count { minimum: 1 },
                description: "Page size, at most the deployment's maximum (100 by default).",
            },
        ],
        request: None,
        success: &[Success {
            status: 200,
            description: "The message and a page of its replies",
            body: Some(body!(ThreadPage)),
        }],
        errors: &[E::BadRequest, E::Forbidden, E::NotFound],
        links: &[],
        build: |p| {
            Ok(Route::Thread(
                RoomId::parse(p[0])?,
                chat_core::replies::parse_seq(p[1])?,
            ))
        },
    },
    Endpoint {
        operation: "searchRoom",
        method: http::Method::GET,
        path: "/rooms/{roomId}/search",
        function: "chat-history",
        authenticated: true,
        summary: "Messages of one room matching a query, newest first (members only)",
        query: SEARCH_QUERY,
        request: None,
        success: &[Success {
            status: 200,
            description: "A page of matches",
            body: Some(body!(SearchPage)),
        }],
        errors: &[E::BadRequest, E::Forbidden, E::NotFound],
        links: &[],
        build: |p| Ok(Route::SearchRoom(RoomId::parse(p[0])?)),
    },
    Endpoint {
        operation: "searchAll",
        method: http::Method::GET,
        path: "/search",
        function: "chat-history",
        authenticated: true,
        summary: "Messages of all the caller's rooms matching a query, newest first",
        query: SEARCH_QUERY,
        request: None,
        success: &[Success {
            status: 200,
            description: "A page of matches",
            body: Some(body!(SearchPage)),
        }],
        // 404 where the deployment turned search off (`searchIndex=0`).
        errors: &[E::BadRequest, E::NotFound],
        links: &[],
        build: |_| Ok(Route::SearchAll),
    },
    Endpoint {
        operation: "createRoom",
        method: http::Method::POST,
        path: "/rooms",
        function: "chat-rooms",
        authenticated: true,
        summary: "Creates a group, channel or direct room (a direct room is found if it exists)",
        query: &[],
        request: Some(body!(CreateRoomRequest)),
        success: &[
            Success {
                status: 201,
                description: "Created",
                body: Some(body!(RoomDetail)),
            },
            Success {
                status: 200,
                description: "The direct room with that user already exists",
                body: Some(body!(RoomDetail)),
            },
        ],
        errors: &[],
        links: &[
            Link {
                name: "GetRoom",
                operation: "getRoom",
                parameters: &[("roomId", "$response.body#/roomId")],
            },
            Link {
                name: "GetHistory",
                operation: "getHistory",
                parameters: &[("roomId", "$response.body#/roomId")],
            },
            Link {
                name: "AddMember",
                operation: "addMember",
                parameters: &[("roomId", "$response.body#/roomId")],
            },
        ],
        build: |_| Ok(Route::CreateRoom),
    },
    Endpoint {
        operation: "listRooms",
        method: http::Method::GET,
        path: "/rooms",
        function: "chat-rooms",
        authenticated: true,
        summary: "The caller's rooms, most recently active first",
        query: &[],
        request: None,
        success: &[Success {
            status: 200,
            description: "The rooms",
            body: Some(body!(RoomList)),
        }],
        errors: &[],
        links: &[],
        build: |_| Ok(Route::ListRooms),
    },
    Endpoint {
        operation: "getRoom",
        method: http::Method::GET,
        path: "/rooms/{roomId}",
        function: "chat-rooms",
        authenticated: true,
        summary: "A room and its members (members, or anyone for a channel)",
        query: &[],
        request: None,
        success: &[Success {
            status: 200,
            description: "The room",
            body: Some(body!(RoomDetail)),
        }],
        errors: &[E::Forbidden, E::NotFound],
        links: &[],
        build: |p| Ok(Route::GetRoom(RoomId::parse(p[0])?)),
    },
    Endpoint {
        operation: "addMember",
        method: http::Method::POST,
        path: "/rooms/{roomId}/members",
        function: "chat-rooms",
        authenticated: true,
        summary: "Adds a member (the owner), or joins a channel (yourself)",
        query: &[],
        request: Some(body!(AddMemberRequest)),
        success: &[Success {
            status: 200,
            description: "The room with its members",
            body: Some(body!(RoomDetail)),
        }],
        errors: &[E::Forbidden, E::NotFound, E::Conflict],
        links: &[Link {
            name: "RemoveMember",
            operation: "removeMember",
            parameters: &[
                ("roomId", "$request.path.roomId"),
                ("userId", "$request.body#/userId"),
            ],
        }],
        build: |p| Ok(Route::AddMember(RoomId::parse(p[0])?)),
    },
    Endpoint {
        operation: "removeMember",
        method: http::Method::DELETE,
        path: "/rooms/{roomId}/members/{userId}",
        function: "chat-rooms",
        authenticated: true,
        summary: "Removes a member (the owner), or leaves (yourself)",
        query: &[],
        request: None,
        success: &[Success {
            status: 204,
            description: "Removed",
            body: None,
        }],
        errors: &[E::Forbidden, E::NotFound],
        links: &[],
        build: |p| Ok(Route::RemoveMember(RoomId::parse(p[0])?, UserId::parse(p[1])?)),
    },
    Endpoint {
        operation: "createUploadSlot",
        method: http::Method::POST,
        path: "/rooms/{roomId}/attachments",
        function: "chat-rooms",
        authenticated: true,
        summary: "An upload slot for an attachment (members): a presigned PUT and the id to send it with",
        query: &[],
        request: Some(body!(UploadSlotRequest)),
        success: &[Success {
            status: 201,
            description: "The slot: PUT the file to uploadUrl with its headers, then send a message naming attachmentId",
            body: Some(body!(UploadSlot)),
        }],
        errors: &[E::Forbidden, E::NotFound],
        links: &[],
        build: |p| Ok(Route::UploadSlot(RoomId::parse(p[0])?)),
    },
    Endpoint {
        operation: "listChannels",
        method: http::Method::GET,
        path: "/channels",
        function: "chat-rooms",
        authenticated: true,
        summary: "Public channels anyone may join",
        query: &[LIMIT],
        request: None,
        success: &[Success {
            status: 200,
            description: "The channels",
            body: Some(body!(ChannelList)),
        }],
        errors: &[E::BadRequest],
        links: &[],
        build: |_| Ok(Route::ListChannels),
    },
    Endpoint {
        operation: "getMe",
        method: http::Method::GET,
        path: "/users/me",
        function: "chat-users",
        authenticated: true,
        summary: "The caller's profile (created from the token on first use)",
        query: &[],
        request: None,
        success: &[Success {
            status: 200,
            description: "The profile",
            body: Some(body!(ProfileView)),
        }],
        errors: &[],
        links: &[],
        build: |_| Ok(Route::GetMe),
    },
    Endpoint {
        operation: "updateMe",
        method: http::Method::PATCH,
        path: "/users/me",
        function: "chat-users",
        authenticated: true,
        summary: "Changes the caller's profile: absent fields are left alone, `\"avatarUrl\": null` clears",
        query: &[],
        request: Some(body!(UpdateProfileRequest)),
        success: &[Success {
            status: 200,
            description: "The profile",
            body: Some(body!(ProfileView)),
        }],
        errors: &[E::NotFound],
        links: &[],
        build: |_| Ok(Route::UpdateMe),
    },
    Endpoint {
        operation: "registerDevice",
        method: http::Method::POST,
        path: "/users/me/devices",
        function: "chat-users",
        authenticated: true,
        summary: "Registers a Web Push subscription of the caller for offline notifications (the same endpoint again replaces it)",
        query: &[],
        request: Some(body!(RegisterDeviceRequest)),
        success: &[
            Success {
                status: 201,
                description: "Registered",
                body: Some(body!(DeviceView)),
            },
            Success {
                status: 200,
                description: "That subscription was registered already: replaced",
                body: Some(body!(DeviceView)),
            },
        ],
        errors: &[E::Conflict],
        links: &[Link {
            name: "RemoveDevice",
            operation: "removeDevice",
            parameters: &[("deviceId", "$response.body#/deviceId")],
        }],
        build: |_| Ok(Route::RegisterDevice),
    },
    Endpoint {
        operation: "listDevices",
        method: http::Method::GET,
        path: "/users/me/devices",
        function: "chat-users",
        authenticated: true,
        summary: "The caller's registered push devices",
        query: &[],
        request: None,
        success: &[Success {
            status: 200,
            description: "The devices",
            body: Some(body!(DeviceList)),
        }],
        errors: &[],
        links: &[],
        build: |_| Ok(Route::ListDevices),
    },
    Endpoint {
        operation: "removeDevice",
        method: http::Method::DELETE,
        path: "/users/me/devices/{deviceId}",
        function: "chat-users",
        authenticated: true,
        summary: "Removes one of the caller's push devices",
        query: &[],
        request: None,
        success: &[Success {
            status: 204,
            description: "Removed",
            body: None,
        }],
        errors: &[E::NotFound],
        links: &[],
        build: |p| Ok(Route::RemoveDevice(DeviceId::parse(p[0])?)),
    },
    Endpoint {
        operation: "getNotifyPolicy",
        method: http::Method::GET,
        path: "/users/me/notifications",
        function: "chat-users",
        authenticated: true,
        summary: "The caller's notification policy: do-not-disturb, mentions only, muted rooms and people",
        query: &[],
        request: None,
        success: &[Success {
            status: 200,
            description: "The policy",
            body: Some(body!(NotifyPolicy)),
        }],
        errors: &[],
        links: &[],
        build: |_| Ok(Route::GetNotifyPolicy),
    },
    Endpoint {
        operation: "putNotifyPolicy",
        method: http::Method::PUT,
        path: "/users/me/notifications",
        function: "chat-users",
        authenticated: true,
        summary: "Replaces the caller's notification policy",
        query: &[],
        request: Some(body!(NotifyPolicy)),
        success: &[Success {
            status: 200,
            description: "The policy",
            body: Some(body!(NotifyPolicy)),
        }],
        errors: &[],
        links: &[],
        build: |_| Ok(Route::PutNotifyPolicy),
    },
    Endpoint {
        operation: "setRoomNotify",
        method: http::Method::PUT,
        path: "/rooms/{roomId}/notifications",
        function: "chat-users",
        authenticated: true,
        summary: "Sets how a room notifies the caller: all, mentions only, or muted (members only)",
        query: &[],
        request: Some(body!(RoomNotifyRequest)),
        success: &[Success {
            status: 200,
            description: "The caller's whole policy",
            body: Some(body!(NotifyPolicy)),
        }],
        errors: &[E::Forbidden, E::NotFound],
        links: &[],
        build: |p| Ok(Route::SetRoomNotify(RoomId::parse(p[0])?)),
    },
    Endpoint {
        operation: "listBlocks",
        method: http::Method::GET,
        path: "/users/me/blocks",
        function: "chat-users",
        authenticated: true,
        summary: "Whom the caller blocks (never who blocks them)",
        query: &[],
        request: None,
        success: &[Success {
            status: 200,
            description: "The caller's blocks",
            body: Some(body!(BlockList)),
        }],
        errors: &[],
        links: &[],
        build: |_| Ok(Route::ListBlocks),
    },
    Endpoint {
        operation: "blockUser",
        method: http::Method::PUT,
        path: "/users/me/blocks/{userId}",
        function: "chat-users",
        authenticated: true,
        summary: "Blocks a user: no direct room or direct message between the two either way, no presence or typing either way, no notification of their messages; shared groups still work (clients hide their messages)",
        query: &[],
        request: None,
        success: &[
            Success {
                status: 201,
                description: "Blocked",
                body: Some(body!(BlockView)),
            },
            Success {
                status: 200,
                description: "Blocked already: unchanged",
                body: Some(body!(BlockView)),
            },
        ],
        errors: &[E::BadRequest, E::NotFound, E::Conflict],
        links: &[Link {
            name: "Unblock",
            operation: "unblockUser",
            parameters: &[("userId", "$response.body#/userId")],
        }],
        build: |p| Ok(Route::Block(UserId::parse(p[0])?)),
    },
    Endpoint {
        operation: "unblockUser",
        method: http::Method::DELETE,
        path: "/users/me/blocks/{userId}",
        function: "chat-users",
        authenticated: true,
        summary: "Lifts the caller's block of a user",
        query: &[],
        request: None,
        success: &[Success {
            status: 204,
            description: "Unblocked",
            body: None,
        }],
        errors: &[E::NotFound],
        links: &[],
        build: |p| Ok(Route::Unblock(UserId::parse(p[0])?)),
    },
    Endpoint {
        operation: "mutePerson",
        method: http::Method::PUT,
        path: "/users/me/mutes/{userId}",
        function: "chat-users",
        authenticated: true,
        summary: "Mutes a person: their messages notify the caller in no room (`mutedUsers` of the policy); nothing else changes",
        query: &[],
        request: None,
        success: &[Success {
            status: 200,
            description: "The caller's whole policy",
            body: Some(body!(NotifyPolicy)),
        }],
        errors: &[E::BadRequest, E::NotFound],
        links: &[],
        build: |p| Ok(Route::MutePerson(UserId::parse(p[0])?)),
    },
    Endpoint {
        operation: "unmutePerson",
        method: http::Method::DELETE,
        path: "/users/me/mutes/{userId}",
        function: "chat-users",
        authenticated: true,
        summary: "Lets a muted person's messages notify the caller again",
        query: &[],
        request: None,
        success: &[Success {
            status: 200,
            description: "The caller's whole policy",
            body: Some(body!(NotifyPolicy)),
        }],
        errors: &[E::BadRequest],
        links: &[],
        build: |p| Ok(Route::UnmutePerson(UserId::parse(p[0])?)),
    },
    Endpoint {
        operation: "publishKey",
        method: http::Method::PUT,
        path: "/users/me/keys/{deviceId}",
        function: "chat-rooms",
        authenticated: true,
        summary: "Publishes (or replaces) the public key of one of the caller's devices, for end-to-end encrypted direct rooms; the caller's direct-room peers get `keysChanged`",
        query: &[],
        request: Some(body!(PublishKeyRequest)),
        success: &[
            Success {
                status: 201,
                description: "Published (new, or a different key for the device)",
                body: Some(body!(DeviceKey)),
            },
            Success {
                status: 200,
                description: "That key was published already: unchanged",
                body: Some(body!(DeviceKey)),
            },
        ],
        errors: &[E::BadRequest, E::Forbidden, E::Conflict],
        links: &[Link {
            name: "RemoveKey",
            operation: "removeKey",
            parameters: &[("deviceId", "$response.body#/deviceId")],
        }],
        build: |p| Ok(Route::PublishKey(KeyDeviceId::parse(p[0])?)),
    },
    Endpoint {
        operation: "removeKey",
        method: http::Method::DELETE,
        path: "/users/me/keys/{deviceId}",
        function: "chat-rooms",
        authenticated: true,
        summary: "Removes the key of one of the caller's devices; the caller's direct-room peers get `keysChanged`",
        query: &[],
        request: None,
        success: &[Success {
            status: 204,
            description: "Removed",
            body: None,
        }],
        errors: &[E::NotFound],
        links: &[],
        build: |p| Ok(Route::RemoveKey(KeyDeviceId::parse(p[0])?)),
    },
    Endpoint {
        operation: "listKeys",
        method: http::Method::GET,
        path: "/users/{userId}/keys",
        function: "chat-rooms",
        authenticated: true,
        summary: "A user's device public keys and their fingerprint (what a sender seals to; clients pin the fingerprint)",
        query: &[],
        request: None,
        success: &[Success {
            status: 200,
            description: "The keys",
            body: Some(body!(KeyList)),
        }],
        errors: &[],
        links: &[],
        build: |p| Ok(Route::ListKeys(UserId::parse(p[0])?)),
    },
    Endpoint {
        operation: "getUser",
        method: http::Method::GET,
        path: "/users/{userId}",
        function: "chat-users",
        authenticated: true,
        summary: "A user's profile (presence only to users who share a room with them)",
        query: &[],
        request: None,
        success: &[Success {
            status: 200,
            description: "The profile",
            body: Some(body!(ProfileView)),
        }],
        errors: &[E::NotFound],
        links: &[],
        build: |p| Ok(Route::GetUser(UserId::parse(p[0])?)),
    },
    Endpoint {
        operation: "getOpenApi",
        method: http::Method::GET,
        path: "/openapi.json",
        function: "chat-users",
        authenticated: false,
        summary: "This document",
        query: &[],
        request: None,
        success: &[Success {
            status: 200,
            description: "The OpenAPI 3.1 document of this API",
            body: Some(BodyType {
                name: "OpenAPI",
                #[cfg(feature = "openapi")]
                schema: |_| schemars::json_schema!({"type": "object"}),
            }),
        }],
        errors: &[],
        links: &[],
        build: |_| Ok(Route::OpenApi),
    },
];

/// This API's OpenAPI document, as committed (generated by
/// `chat-contracts`, whose test fails when it drifts from [`ENDPOINTS`]).
pub const OPENAPI_JSON: &str = include_str!("../../docs/openapi.json");

/// The endpoint whose template fits `path` (with or without a stage
/// segment), whatever the method, and its path parameters.
fn endpoint_for<'p>(
    method: Option<&http::Method>,
    path: &'p str,
) -> Option<(&'static Endpoint, Vec<&'p str>)> {
    let mut segs: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let ours = |first: &str| {
        ENDPOINTS
            .iter()
            .any(|e| e.path.trim_start_matches('/').split('/').next() == Some(first))
    };
    if segs.len() > 1 && !ours(segs[0]) {
        segs.remove(0);
    }
    ENDPOINTS
        .iter()
        .filter(|e| method.is_none_or(|m| e.method == *m))
        .find_map(|e| e.capture(&segs).map(|params| (e, params)))
}

/// The function that serves `path` (any method; the function answers 404
/// for a method it has no route for), if any.
pub fn function_for(path: &str) -> Option<&'static str> {
    endpoint_for(None, path).map(|(e, _)| e.function)
}

impl Route {
    /// Matches a method and path against [`ENDPOINTS`]. A leading stage
    /// segment (`/prod/rooms`) is ignored, so the same code serves
    /// `$default` and named stages.
    pub fn parse(method: &http::Method, path: &str) -> Result<Route, ChatError> {
        match endpoint_for(Some(method), path) {
            Some((endpoint, params)) => (endpoint.build)(&params),
            None => Err(ChatError::NotFound("route")),
        }
    }

    pub fn of(req: &Request) -> Result<Route, ChatError> {
        Route::parse(req.method(), req.uri().path())
    }
}

/// The caller of a REST request. Behind the HTTP API's JWT authorizer,
/// API Gateway has verified the token and passes its claims in the request
/// context (which a client cannot forge); otherwise (the local platform)
/// the bearer token is verified here, with the same verifier as `$connect`.
pub async fn identity(req: &Request, verifier: &dyn TokenVerifier) -> Result<Identity, ChatError> {
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() {
        if let Some(claims) = ctx
            .authorizer
            .as_ref()
            .and_then(|a| a.jwt.as_ref())
            .map(|j| &j.claims)
        {
            if let Some(sub) = claims.get("sub") {
                let user_id = UserId::parse(sub).map_err(|_| ChatError::Unauthorized)?;
                tracing::Span::current().record("user_id", tracing::field::display(&user_id));
                return Ok(Identity {
                    user_id,
                    name: claims.get("name").cloned(),
                });
            }
        }
    }
    let header = req
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok())
        .ok_or(ChatError::Unauthorized)?;
    let token = bearer(header).ok_or(ChatError::Unauthorized)?;
    let identity = verifier.verify(token).await.map_err(|e| {
        tracing::info!(reason = %e, "rejected REST token");
        ChatError::Unauthorized
    })?;
    tracing::Span::current().record("user_id", tracing::field::display(&identity.user_id));
    Ok(identity)
}

/// The caller of a REST request ([`identity`]), within their REST rate limit:
/// what every REST handler starts with. A limited call is refused with 429
/// and `Retry-After` before the handler does anything.
pub async fn authenticated(
    req: &Request,
    chat: &Chat,
    verifier: &dyn TokenVerifier,
) -> Result<Identity, ChatError> {
    let me = identity(req, verifier).await?;
    chat.limit_rest(&me.user_id).await?;
    Ok(me)
}

/// The API Gateway request id, for log correlation.
pub fn request_id(req: &Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone().unwrap_or_default(),
        Some(RequestContext::ApiGatewayV1(ctx)) => ctx.request_id.clone().unwrap_or_default(),
        _ => String::new(),
    }
}

/// Runs a REST handler body inside a span with the request's id, method and
/// path, and maps its error once.
pub async fn serve<F>(req: &Request, f: F) -> Response<Body>
where
    F: std::future::Future<Output = Result<Response<Body>, ChatError>>,
{
    use tracing::Instrument;
    let span = tracing::info_span!(
        "http",
        request_id = %request_id(req),
        method = %req.method(),
        path = %req.uri().path(),
        user_id = tracing::field::Empty,
    );
    respond(f.instrument(span).await)
}

/// The first value of a query string parameter.
pub fn query<'a>(req: &'a Request, name: &str) -> Option<&'a str> {
    req.query_string_parameters_ref()
        .and_then(|q| q.first(name))
}

/// Decodes a JSON body, refusing oversize and malformed ones.
pub fn read_json<T: DeserializeOwned>(req: &Request) -> Result<T, ChatError> {
    let bytes: &[u8] = req.body().as_ref();
    if bytes.len() > MAX_BODY {
        return Err(ChatError::TooLarge(format!(
            "request body is larger than {MAX_BODY} bytes"
        )));
    }
    if bytes.is_empty() {
        return Err(ChatError::BadRequest(
            "request body must be a JSON object".into(),
        ));
    }
    decode::from_slice(bytes).map_err(|e| {
        let mut msg = format!("invalid request body: {}", e.public_message());
        if let Some((cut, _)) = msg.char_indices().nth(decode::MAX_MESSAGE_CHARS) {
            msg.truncate(cut);
        }
        ChatError::BadRequest(msg)
    })
}

/// A JSON response.
pub fn json<T: Serialize>(status: u16, value: &T) -> Response<Body> {
    match serde_json::to_vec(value) {
        Ok(bytes) => build(status, Body::Binary(bytes)),
        Err(e) => error(&ChatError::Internal(e.to_string())),
    }
}

/// `GET /openapi.json`: [`OPENAPI_JSON`].
pub fn openapi() -> Response<Body> {
    build(200, Body::Text(OPENAPI_JSON.to_owned()))
}

/// An empty response (204).
pub fn no_content() -> Response<Body> {
    build(204, Body::Empty)
}

/// The one mapping of a [`ChatError`] to an HTTP response. Internal errors
/// are logged with their chain here and answered opaquely.
pub fn error(e: &ChatError) -> Response<Body> {
    if e.is_internal() {
        tracing::error!(error = %chat_core::error::chain(e), "request failed");
    } else {
        tracing::info!(code = ?e.code(), message = %e, "request refused");
    }
    let body = ErrorBody {
        error: ErrorDetail {
            code: e.code(),
            message: e.public_message(),
        },
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut resp = build(e.http_status(), Body::Binary(bytes));
    if let Some(ms) = e.retry_after_ms() {
        // Whole seconds, rounded up, at least one (RFC 9110 delay-seconds).
        let secs = ms.div_ceil(1000).max(1);
        resp.headers_mut()
            .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
    }
    resp
}

/// Turns a handler result into a response.
pub fn respond(result: Result<Response<Body>, ChatError>) -> Response<Body> {
    result.unwrap_or_else(|e| error(&e))
}

fn build(status: u16, body: Body) -> Response<Body> {
    let mut resp = Response::new(body);
    *resp.status_mut() =
        http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    if status != 204 {
        resp.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    #[test]
    fn routes_match_with_or_without_a_stage_prefix() {
        let r = RoomId::parse("r_1").unwrap();
        assert_eq!(
            Route::parse(&Method::GET, "/rooms/r_1/messages").unwrap(),
            Route::History(r.clone())
        );
        assert_eq!(
            Route::parse(&Method::GET, "/prod/rooms/r_1/messages").unwrap(),
            Route::History(r.clone())
        );
        assert_eq!(
            Route::parse(&Method::GET, "/users/me").unwrap(),
            Route::GetMe
        );
        assert_eq!(
            Route::parse(&Method::PATCH, "/users/me/").unwrap(),
            Route::UpdateMe
        );
        assert_eq!(
            Route::parse(&Method::DELETE, "/rooms/r_1/members/bob").unwrap(),
            Route::RemoveMember(r, UserId::parse("bob").unwrap())
        );
        assert_eq!(
            Route::parse(&Method::PUT, "/rooms")
                .unwrap_err()
                .http_status(),
            404
        );
        assert_eq!(
            Route::parse(&Method::GET, "/rooms/..%2F/messages")
                .unwrap_err()
                .http_status(),
            400
        );
    }
}
