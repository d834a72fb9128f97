/** A REST call that failed: `status` 0 when the server could not be reached. */
export class ApiError extends Error {
    status;
    code;
    constructor(status, code, message) {
        super(message);
        this.status = status;
        this.code = code;
        this.name = 'ApiError';
    }
}
const enc = encodeURIComponent;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export class RestClient {
    opts;
    base;
    fetchImpl;
    constructor(opts) {
        this.opts = opts;
        this.base = opts.baseUrl.replace(/\/+$/, '');
        this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    }
    /** Any call; answers the parsed JSON body (`null` for 204). */
    async call(method, path, body) {
        let refreshed = false;
        let limited = 0;
        for (;;) {
            const token = await this.opts.getToken({ forceRefresh: refreshed });
            const headers = { authorization: `Bearer ${token}` };
            if (body !== undefined)
                headers['content-type'] = 'application/json';
            let res;
            try {
                res = await this.fetchImpl(this.base + path, {
                    method,
                    headers,
                    body: body === undefined ? undefined : JSON.stringify(body),
                    cache: 'no-store',
                });
            }
            catch (e) {
                throw new ApiError(0, 'network', `cannot reach the server: ${e.message}`);
            }
            if (res.status === 401 && !refreshed) {
                refreshed = true;
                continue;
            }
            if (res.status === 429 && limited < (this.opts.maxRateLimitRetries ?? 2)) {
                limited += 1;
                const secs = Number(res.headers.get('retry-after'));
                await sleep(Number.isFinite(secs) && secs > 0 ? secs * 1000 : 1000);
                continue;
            }
            if (res.status === 204)
                return null;
            const text = await res.text();
            let data = null;
            if (text) {
                try {
                    data = JSON.parse(text);
                }
                catch {
                    data = null;
                }
            }
            if (!res.ok) {
                const err = data?.error;
                throw new ApiError(res.status, err?.code ?? 'http', typeof err?.message === 'string' ? err.message : `request failed (${res.status})`);
            }
            return data;
        }
    }
    listRooms() {
        return this.call('GET', '/rooms');
    }
    createRoom(req) {
        return this.call('POST', '/rooms', req);
    }
    getRoom(roomId) {
        return this.call('GET', `/rooms/${enc(roomId)}`);
    }
    addMember(roomId, userId) {
        return this.call('POST', `/rooms/${enc(roomId)}/members`, { userId });
    }
    removeMember(roomId, userId) {
        return this.call('DELETE', `/rooms/${enc(roomId)}/members/${enc(userId)}`);
    }
    history(roomId, q = {}) {
        const params = new URLSearchParams();
        if (q.before !== undefined)
            params.set('before', q.before);
        if (q.after !== undefined)
            params.set('after', q.after);
        if (q.around !== undefined)
            params.set('around', String(q.around));
        if (q.limit !== undefined)
            params.set('limit', String(q.limit));
        const qs = params.toString();
        return this.call('GET', `/rooms/${enc(roomId)}/messages${qs ? `?${qs}` : ''}`);
    }
    /**
     * The message at `seq` and a page of its replies, oldest first
     * (`after`: a `nextCursor`). Members only.
     */
    thread(roomId, seq, q = {}) {
        const params = new URLSearchParams();
        if (q.after !== undefined)
            params.set('after', q.after);
        if (q.limit !== undefined)
            params.set('limit', String(q.limit));
        const qs = params.toString();
        return this.call('GET', `/rooms/${enc(roomId)}/messages/${seq}/replies${qs ? `?${qs}` : ''}`);
    }
    /**
     * Messages matching `q.q`, newest first: in one room (`roomId`) or in all
     * the caller's rooms. Open a hit with `history(hit.roomId, { around: hit.seq })`.
     */
    search(q) {
        const params = new URLSearchParams({ q: q.q });
        if (q.cursor !== undefined)
            params.set('cursor', q.cursor);
        if (q.limit !== undefined)
            params.set('limit', String(q.limit));
        const path = q.roomId === undefined ? '/search' : `/rooms/${enc(q.roomId)}/search`;
        return this.call('GET', `${path}?${params.toString()}`);
    }
    channels(limit) {
        return this.call('GET', `/channels${limit === undefined ? '' : `?limit=${limit}`}`);
    }
    me() {
        return this.call('GET', '/users/me');
    }
    updateMe(req) {
        return this.call('PATCH', '/users/me', req);
    }
    user(userId) {
        return this.call('GET', `/users/${enc(userId)}`);
    }
    /** Whom the caller blocks (never who blocks them). */
    blocks() {
        return this.call('GET', '/users/me/blocks');
    }
    /**
     * Blocks a user: no direct room or direct message between you either
     * way, no presence or typing either way, no notification of theirs.
     * Shared groups still work: hide their messages on screen.
     */
    block(userId) {
        return this.call('PUT', `/users/me/blocks/${enc(userId)}`);
    }
    unblock(userId) {
        return this.call('DELETE', `/users/me/blocks/${enc(userId)}`);
    }
    /**
     * Publishes (or replaces) the public key of one of your devices, for
     * end-to-end encrypted direct rooms; `userId` must be yours. Your
     * direct-room peers get `keysChanged`.
     */
    publishKey(deviceId, userId, publicKey) {
        return this.call('PUT', `/users/me/keys/${enc(deviceId)}`, { userId, publicKey });
    }
    removeKey(deviceId) {
        return this.call('DELETE', `/users/me/keys/${enc(deviceId)}`);
    }
    /** A user's device keys and their fingerprint (pin it; seal to every device). */
    keys(userId) {
        return this.call('GET', `/users/${enc(userId)}/keys`);
    }
    /** Mutes a person: their messages notify you nowhere. Answers your whole policy. */
    mute(userId) {
        return this.call('PUT', `/users/me/mutes/${enc(userId)}`);
    }
    unmute(userId) {
        return this.call('DELETE', `/users/me/mutes/${enc(userId)}`);
    }
    /**
     * Registers a push device for offline notifications: a browser's Web
     * Push subscription (`subscription.toJSON()`), or a native app's token
     * `{ kind: 'fcm' | 'apns', token }`. The same one again replaces it.
     */
    registerDevice(req) {
        return this.call('POST', '/users/me/devices', req);
    }
    /** The caller's push devices. */
    listDevices() {
        return this.call('GET', '/users/me/devices');
    }
    removeDevice(deviceId) {
        return this.call('DELETE', `/users/me/devices/${enc(deviceId)}`);
    }
    /** An upload slot for an attachment in a room (members only). */
    uploadSlot(roomId, req) {
        return this.call('POST', `/rooms/${enc(roomId)}/attachments`, req);
    }
    /**
     * Uploads `file` to a new slot of `roomId`, straight to the object store
     * (never through the API), and answers its attachment id to send with
     * `ChatClient.send(roomId, body, { attachments: [id] })`. `dimensions`:
     * an image's pixel size, recorded with it.
     */
    async upload(roomId, file, dimensions) {
        const slot = await this.uploadSlot(roomId, {
            contentType: file.type,
            size: file.size,
            fileName: file.name || 'file',
            ...(dimensions ?? {}),
        });
        let res;
        try {
            res = await this.fetchImpl(slot.uploadUrl, { method: slot.method, headers: slot.headers, body: file });
        }
        catch (e) {
            throw new ApiError(0, 'network', `cannot reach the file store: ${e.message}`);
        }
        if (!res.ok)
            throw new ApiError(res.status, 'bad_request', 'the file store refused the upload');
        return slot.attachmentId;
    }
}
