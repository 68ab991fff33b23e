"""A fake Discord on 127.0.0.1 for end-to-end tests: REST under ``/api/v10`` and a gateway
websocket at ``/gateway``, good enough for a real, unmodified discord.py 2.7 client.

Point a subprocess bot at it with ``DISCORD_API_BASE_URL=<fake.base_url>``; in-process, set
``discord.http.Route.BASE = fake.base_url`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(fake.gateway_url)``.
An ``AutoShardedClient`` asks ``GET /gateway/bot`` (``shards`` comes from ``FakeDiscord(shards=)``);
a plain ``Client`` connects to ``/gateway`` directly and gets every guild on one session.
Set ``DEFAULT_GATEWAY`` in the bot process too: even a sharded client falls back to it (that is,
to wss://gateway.discord.gg) for a re-IDENTIFY after INVALID_SESSION or a reconnect after an
error; only the initial connect (``/gateway/bot``'s url) and RESUMEs (READY's
``resume_gateway_url``) come from the fake.

Every REST request is recorded (``fake.requests``), and everything can be awaited
(``wait_ready``, ``wait_for_request``, ``Interaction.wait_response`` / ``wait_final``) instead of
sleeping. Events dispatched while a shard is disconnected (``drop_gateway``) are kept: a RESUME
replays what the client missed, a fresh IDENTIFY gets the pending interactions after its guilds.
Unknown REST routes answer 404 ``{"message": "404: Not Found", "code": 0}`` and are recorded.
"""


from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord
from aiohttp import BodyPartReader, WSMsgType, web

Json = dict[str, Any]

# shaped like a real token (three base64url parts), so bot/config.py accepts it
FAKE_DISCORD_TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAw.ZmFrZQ.ZmFrZS1kaXNjb3JkLWUyZS10b2tlbg"
API_PREFIX = "/api/v10"
# Discord computes interaction permissions: an administrator gets every bit, not just 0x8
# (discord.py's app_commands.checks.has_permissions does not expand administrator itself)
OWNER_PERMISSIONS = str(discord.Permissions.all().value)
ADMINISTRATOR = "8"
MEMBER_PERMISSIONS = str(2248473465835073 & ~0x20)  # everyday permissions, never MANAGE_GUILD
BOT_PERMISSIONS = MEMBER_PERMISSIONS
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
EPHEMERAL = 64
LOADING = 128
HUMANS_PER_GUILD = 3  # index 0 = owner, 1 and 2 = plain members; the bot is a member too
_SEED_TIME = datetime(2021, 1, 1, tzinfo=UTC)
_SEED_ISO = _SEED_TIME.isoformat()
_CHANNEL_ERRORS = {403: ("Missing Permissions", 50013), 404: ("Unknown Channel", 10003)}
_NO_AUTH_PREFIXES = ("/interactions/", "/webhooks/")


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


def _user(uid: int, name: str, *, bot: bool = False) -> Json:
    return {"id": str(uid), "username": name, "global_name": name, "discriminator": "0",
            "avatar": None, "bot": bot, "public_flags": 0}


class _ApiError(Exception):
    def __init__(self, status: int, message: str, code: int) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any  # parsed JSON body (``payload_json`` for multipart), or None
    headers: dict[str, str]
    at: float  # time.monotonic() on arrival
    files: list[Json] = field(default_factory=list)  # {field, filename, content_type, size, data}
    status: int = 0  # what the fake answered


@dataclass
class _GuildSeed:
    id: int
    name: str
    channel_id: int
    admin_role_id: int
    bot_role_id: int
    members: list[Json]  # humans first (index 0 = owner), the bot last

    @property
    def owner_id(self) -> int:
        return int(self.members[0]["user"]["id"])


@dataclass
class _ShardSession:
    shard_id: int
    shard_count: int
    session_id: str
    seq: int = 0
    log: list[Json] = field(default_factory=list)  # every dispatch, for RESUME replay
    ws: web.WebSocketResponse | None = None
    transport: asyncio.Transport | None = None
    live: bool = False  # connected and READY+GUILD_CREATEs (or RESUMED) sent
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Interaction:
    """Handle on one INTERACTION_CREATE sent by :meth:`FakeDiscord.send_interaction`."""

    def __init__(self, fake: FakeDiscord, payload: Json, name: str, shard_id: int) -> None:
        self._fake = fake
        self.payload = payload
        self.name = name
        self.id: int = int(payload["id"])
        self.token: str = payload["token"]
        self.guild_id = int(payload["guild_id"])
        self.channel_id = int(payload["channel"]["id"])
        self.user_id = int(payload["member"]["user"]["id"])
        self.shard_id = shard_id
        self.sent_at: float = time.monotonic()
        self.callback_at: float | None = None
        self.callbacks: list[Json] = []
        self.edits: list[Json] = []
        self.followups: list[Json] = []
        self.deletes: list[Json] = []
        self.final: Json | None = None
        self.original: Json | None = None  # the message object behind @original
        self.messages: dict[int, Json] = {}  # followup message objects

    def __repr__(self) -> str:
        return f"<fake Interaction /{self.name} id={self.id} callbacks={len(self.callbacks)}>"

    @property
    def ack_latency(self) -> float | None:
        return None if self.callback_at is None else self.callback_at - self.sent_at

    @property
    def deferred(self) -> bool:
        return bool(self.callbacks) and self.callbacks[0].get("type") in (5, 6)

    async def wait_response(self, timeout: float = 10) -> Json:
        """The first callback body (``{"type": 4, "data": ...}``, ``{"type": 5}``...)."""
        await self.wait_until(lambda it: bool(it.callbacks), timeout, "a callback")
        return self.callbacks[0]

    async def wait_final(self, timeout: float = 15) -> Json:
        """The first visible answer: type 4 data, or the first edit of @original / followup after
        a defer. Returned as that body plus ``ephemeral`` (bool), ``source`` ("callback", "edit"
        or "followup"), ``received_at`` (monotonic) and ``files`` (uploaded file names)."""
        await self.wait_until(lambda it: it.final is not None, timeout, "a final answer")
        assert self.final is not None
        return self.final

    async def wait_until(
        self, predicate: Callable[[Interaction], bool], timeout: float = 10, what: str = "state"
    ) -> None:
        await self._fake._wait(lambda: predicate(self), timeout, f"{what} for {self!r}")

    def _set_final(self, body: Json, source: str, rec: RecordedRequest) -> None:
        if self.final is not None:
            return
        flags = int(body.get("flags") or 0)
        if source != "callback" and self.callbacks:
            flags |= int((self.callbacks[0].get("data") or {}).get("flags") or 0)
        self.final = {**body, "ephemeral": bool(flags & EPHEMERAL), "source": source,
                      "received_at": rec.at, "files": [f["filename"] for f in rec.files]}


class _RestApi:
    """REST routes under /api/v10: records every request, answers like Discord."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        wh = r"/webhooks/(\d+)/([^/]+)"
        table: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/gateway", self.gateway),
            ("GET", r"/gateway/bot", self.gateway_bot),
            ("GET", r"/users/@me", lambda rec: fake.bot_user),
            ("GET", r"/users/(\d+)", self.get_user),
            ("GET", r"/(?:oauth2/)?applications/@me", self.application),
            ("GET|PUT", r"/applications/(\d+)/commands", self.commands),
            ("GET|PUT", r"/applications/(\d+)/guilds/(\d+)/commands", self.commands),
            ("POST", r"/interactions/(\d+)/([^/]+)/callback", self.callback),
            ("POST", wh, self.followup),
            ("GET|PATCH|DELETE", wh + r"/messages/(@original|\d+)", self.webhook_message),
            ("GET", r"/channels/(\d+)", self.get_channel),
            ("POST", r"/channels/(\d+)/messages", self.channel_post),
            ("GET", r"/channels/(\d+)/messages", self.channel_history),
            ("GET|PATCH|DELETE", r"/channels/(\d+)/messages/(\d+)", self.channel_message),
            ("GET", r"/guilds/(\d+)/members/(\d+)", self.get_member),
        ]
        self.routes = [(frozenset(m.split("|")), re.compile(p), h) for m, p, h in table]

    async def handle(self, request: web.Request) -> web.StreamResponse:
        fake = self.fake
        body, files = await self._read_body(request)
        rec = RecordedRequest(request.method, "/" + request.match_info["tail"],
                              dict(request.query), body, dict(request.headers),
                              time.monotonic(), files)
        fake.requests.append(rec)
        try:
            if not rec.path.startswith(_NO_AUTH_PREFIXES) and \
                    rec.headers.get("Authorization") != f"Bot {fake.token}":
                raise _ApiError(401, "401: Unauthorized", 0)
            answer = self._route(rec)
        except _ApiError as exc:
            rec.status, answer = exc.status, {"message": exc.message, "code": exc.code}
        else:
            rec.status = 200 if answer is not None else 204
        fake._notify()
        if rec.status == 204:
            return web.Response(status=204)
        # exactly application/json: with "; charset=utf-8" discord.py reads the body as text
        return web.Response(status=rec.status, body=json.dumps(answer).encode(),
                            content_type="application/json")

    def _route(self, rec: RecordedRequest) -> Any:
        for methods, pattern, handler in self.routes:
            match = pattern.fullmatch(rec.path)
            if match and rec.method in methods:
                return handler(rec, *match.groups())
        raise _ApiError(404, "404: Not Found", 0)

    @staticmethod
    async def _read_body(request: web.Request) -> tuple[Any, list[Json]]:
        if request.content_type.startswith("multipart/"):
            body: Any = None
            files: list[Json] = []
            async for part in await request.multipart():
                if not isinstance(part, BodyPartReader):
                    continue
                data = await part.read()
                if part.name == "payload_json":
                    body = json.loads(data)
                else:
                    files.append({"field": part.name, "filename": part.filename, "size": len(data),
                                  "content_type": part.headers.get("Content-Type"),
                                  "data": bytes(data)})
            return body, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            return raw.decode(errors="replace"), []

    # --- gateway, users, application ------------------------------------------------------
    def gateway(self, rec: RecordedRequest) -> Json:
        return {"url": self.fake.gateway_url}

    def gateway_bot(self, rec: RecordedRequest) -> Json:
        return {"url": self.fake.gateway_url, "shards": self.fake.shards,
                "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0,
                                        "max_concurrency": 1}}

    def get_user(self, rec: RecordedRequest, uid: str) -> Json:
        if int(uid) == self.fake.bot_user_id:
            return self.fake.bot_user
        found = self.fake._members.get(int(uid))
        if found is None:
            raise _ApiError(404, "Unknown User", 10013)
        user: Json = found[1]["user"]
        return user

    def application(self, rec: RecordedRequest) -> Json:
        fake = self.fake
        owner = fake._guilds[fake.guild_ids[0]].members[0]["user"] if fake.guild_ids else None
        return {"id": str(fake.application_id), "name": fake.bot_user["username"],
                "description": "", "icon": None, "bot_public": True,
                "bot_require_code_grant": False, "owner": owner or fake.bot_user,
                "verify_key": "0" * 64, "flags": 0, "team": None, "bot": fake.bot_user,
                "rpc_origins": [], "tags": [], "summary": ""}

    def commands(self, rec: RecordedRequest, app: str, guild: str | None = None) -> list[Json]:
        fake = self.fake
        if int(app) != fake.application_id:
            raise _ApiError(403, "Missing Access", 50001)
        old = fake.synced_global if guild is None else fake.synced_guild.get(int(guild))
        if rec.method == "GET":
            return old or []
        ids = {c["name"]: c["id"] for c in old or []}
        synced = [{**cmd, "id": ids.get(cmd["name"]) or str(fake._next_id()),
                   "application_id": str(fake.application_id), "version": str(fake._next_id()),
                   "type": cmd.get("type", 1), "description": cmd.get("description", ""),
                   **({"guild_id": guild} if guild else {})}
                  for cmd in rec.json or []]
        if guild is None:
            fake.synced_global = synced
        else:
            fake.synced_guild[int(guild)] = synced
        fake.commands_synced = synced
        return synced

    # --- interactions -----------------------------------------------------------------------
    def callback(self, rec: RecordedRequest, iid: str, token: str) -> Json:
        it = self.fake._interactions.get(int(iid))
        if it is None or it.token != token:
            raise _ApiError(404, "Unknown interaction", 10062)
        if it.callbacks:
            raise _ApiError(400, "Interaction has already been acknowledged.", 40060)
        deadline = self.fake.interaction_ack_deadline
        if deadline is not None and rec.at - it.sent_at > deadline:
            raise _ApiError(404, "Unknown interaction", 10062)
        body: Json = rec.json or {}
        kind, data = int(body.get("type", 0)), body.get("data") or {}
        it.callbacks.append(body)
        it.callback_at = rec.at
        resource: Json = {"type": kind}
        if kind in (4, 5):
            flags = int(data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            it.original = self.fake._message(it.channel_id, {**data, "flags": flags},
                                             rec.files, webhook=True)
            resource["message"] = it.original
        if kind in (4, 7, 9):
            it._set_final(data, "callback", rec)
        flags = int(data.get("flags") or 0)
        return {"interaction": {"id": str(it.id), "type": 2,
                                "response_message_id": it.original and it.original["id"],
                                "response_message_loading": kind == 5,
                                "response_message_ephemeral": bool(flags & EPHEMERAL)},
                "resource": resource}

    def _webhook_interaction(self, app: str, token: str) -> Interaction:
        it = self.fake._by_token.get(token)
        if it is None or int(app) != self.fake.application_id or not it.callbacks:
            raise _ApiError(404, "Unknown Webhook", 10015)
        return it

    def followup(self, rec: RecordedRequest, app: str, token: str) -> Json:
        it = self._webhook_interaction(app, token)
        body: Json = rec.json or {}
        it.followups.append(body)
        msg = self.fake._message(it.channel_id, body, rec.files, webhook=True)
        it.messages[int(msg["id"])] = msg
        if it.deferred:
            it._set_final(body, "followup", rec)
        return msg

    def webhook_message(self, rec: RecordedRequest, app: str, token: str, mid: str) -> Any:
        it = self._webhook_interaction(app, token)
        msg = it.original if mid == "@original" else it.messages.get(int(mid))
        if msg is None:
            raise _ApiError(404, "Unknown Message", 10008)
        if rec.method == "GET":
            return msg
        if rec.method == "DELETE":
            it.deletes.append({"message_id": mid, "at": rec.at})
            if mid == "@original":
                it.original = None
            else:
                it.messages.pop(int(mid), None)
            return None
        body: Json = rec.json or {}
        it.edits.append(body)
        self.fake._apply_edit(msg, body, rec.files)
        if mid == "@original" and it.deferred:
            it._set_final(body, "edit", rec)
        return msg

    # --- channels and members ---------------------------------------------------------------
    def get_channel(self, rec: RecordedRequest, cid: str) -> Json:
        return self.fake._channel_payload(self.fake._check_channel(int(cid)))

    def channel_post(self, rec: RecordedRequest, cid: str) -> Json:
        fake, channel_id = self.fake, int(cid)
        fake._check_channel(channel_id)
        body: Json = rec.json or {}
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # Like Discord: the same nonce from the same author returns the first message.
            earlier = fake._nonces.get((channel_id, str(nonce)))
            if earlier is not None and int(earlier["id"]) in fake._channel_store:
                return earlier
        msg = fake._message(channel_id, body, rec.files)
        if nonce is not None:
            fake._nonces[(channel_id, str(nonce))] = msg
        fake._channel_store[int(msg["id"])] = msg
        fake.channel_messages.setdefault(channel_id, []).append({**body, **msg})
        return msg

    def channel_history(self, rec: RecordedRequest, cid: str) -> list[Json]:
        fake, channel_id = self.fake, int(cid)
        fake._check_channel(channel_id)
        limit = int(rec.query.get("limit", 50))
        mine = [m for m in fake._channel_store.values() if m["channel_id"] == cid]
        mine.sort(key=lambda m: int(m["id"]), reverse=True)
        return mine[:limit]

    def channel_message(self, rec: RecordedRequest, cid: str, mid: str) -> Any:
        fake, channel_id = self.fake, int(cid)
        fake._check_channel(channel_id)
        msg = fake._channel_store.get(int(mid))
        if msg is None or msg["channel_id"] != cid:
            raise _ApiError(404, "Unknown Message", 10008)
        if rec.method == "GET":
            return msg
        if rec.method == "DELETE":
            del fake._channel_store[int(mid)]
            return None
        body: Json = rec.json or {}
        fake._apply_edit(msg, body, rec.files)
        fake.channel_messages.setdefault(channel_id, []).append({**body, **msg})
        return msg

    def get_member(self, rec: RecordedRequest, gid: str, uid: str) -> Json:
        seed = self.fake._guilds.get(int(gid))
        if seed is None:
            raise _ApiError(404, "Unknown Guild", 10004)
        member = next((m for m in seed.members if m["user"]["id"] == uid), None)
        if member is None:
            raise _ApiError(404, "Unknown Member", 10007)
        return member


class _Gateway:
    """The /gateway websocket: one session per shard id, each with a replay log for RESUME."""

    def __init__(self, fake: FakeDiscord) -> None:
        self.fake = fake
        self.sessions: dict[int, _ShardSession] = {}
        self.shard_count: int | None = None  # from the latest IDENTIFY
        self.pending: list[tuple[int, str, Json]] = []  # (guild id, event, data) while offline
        self.sockets: dict[web.WebSocketResponse, asyncio.Transport | None] = {}

    def all_live(self) -> bool:
        n = self.shard_count
        return n is not None and all(
            (s := self.sessions.get(i)) is not None and s.live for i in range(n))

    def shard_of(self, guild_id: int, shard_count: int | None = None) -> int:
        return (guild_id >> 22) % (shard_count or self.shard_count or self.fake.shards)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=0)
        await ws.prepare(request)
        transport = request.transport
        self.sockets[ws] = transport
        session: _ShardSession | None = None
        await self._op(ws, 10, {"heartbeat_interval": 45000})
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                op, d = frame.get("op"), frame.get("d")
                if op == 1:
                    await self._op(ws, 11, None)
                elif op == 2:
                    session = await self._identify(ws, transport, d)
                elif op == 6:
                    session = await self._resume(ws, transport, d)
                elif op == 8 and session is not None:
                    await self._member_chunk(session, d)
        finally:
            self.sockets.pop(ws, None)
            if session is not None and session.ws is ws:
                self._detach(session)
        return ws

    @staticmethod
    async def _op(ws: web.WebSocketResponse, op: int, d: Any) -> None:
        await ws.send_str(json.dumps({"op": op, "d": d, "s": None, "t": None}))

    def _detach(self, session: _ShardSession) -> None:
        session.ws, session.transport, session.live = None, None, False
        self.fake._notify()

    async def drop(self, code: int, resumable: bool) -> None:
        for session in self.sessions.values():
            ws, transport = session.ws, session.transport
            self._detach(session)
            if not resumable:
                session.session_id = ""  # its RESUME gets INVALID_SESSION
            if ws is None:
                continue
            if code == 1006 and transport is not None:
                transport.abort()
            else:
                await ws.close(code=code, message=b"fake Discord drop")

    async def _identify(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None,
                        d: Json) -> _ShardSession | None:
        fake = self.fake
        if d.get("token") != fake.token:
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        fake.identifies.append(d)
        shard_id, shard_count = d.get("shard") or [0, 1]
        self.shard_count = shard_count
        session = _ShardSession(shard_id, shard_count, secrets.token_hex(16), ws=ws,
                                transport=transport)
        self.sessions[shard_id] = session
        guilds = [g for g in fake.guild_ids if self.shard_of(g, shard_count) == shard_id]
        async with session.lock:
            await self._emit(session, "READY", {
                "v": 10, "user": {**fake.bot_user, "verified": True, "mfa_enabled": False},
                "guilds": [{"id": str(g), "unavailable": True} for g in guilds],
                "session_id": session.session_id, "session_type": "normal",
                "resume_gateway_url": fake.gateway_url, "shard": [shard_id, shard_count],
                "application": {"id": str(fake.application_id), "flags": 0},
                "private_channels": [], "relationships": [], "presences": [],
                "guild_join_requests": [], "geo_ordered_rtc_regions": [], "_trace": []})
            for g in guilds:
                await self._emit(session, "GUILD_CREATE", fake._guild_payload(fake._guilds[g]))
            await self._go_live(session)
        return session

    async def _resume(self, ws: web.WebSocketResponse, transport: asyncio.Transport | None,
                      d: Json) -> _ShardSession | None:
        session = next((s for s in self.sessions.values()
                        if s.session_id == d.get("session_id")), None)
        if session is None or d.get("token") != self.fake.token:
            await self._op(ws, 9, False)  # INVALID_SESSION, not resumable: the client identifies
            return None
        self.fake.resumes.append(d)
        async with session.lock:
            session.ws, session.transport = ws, transport
            for frame in session.log:
                if frame["s"] > (d.get("seq") or 0):
                    await self._send(session, frame)
            await self._emit(session, "RESUMED", {"_trace": []})
            await self._go_live(session)
        return session

    async def _go_live(self, session: _ShardSession) -> None:
        """Mark live and flush what was dispatched while the shard was away (lock held)."""
        if session.ws is None:
            return
        session.live = True
        ours = [p for p in self.pending
                if self.shard_of(p[0], session.shard_count) == session.shard_id]
        self.pending = [p for p in self.pending if all(p is not q for q in ours)]
        for _, event, data in ours:
            await self._emit(session, event, data)
        self.fake._notify()

    async def _member_chunk(self, session: _ShardSession, d: Json) -> None:
        seed = self.fake._guilds.get(int(d.get("guild_id") or 0))
        members = seed.members if seed else []
        if d.get("user_ids"):
            wanted = {str(u) for u in d["user_ids"]}
            members = [m for m in members if m["user"]["id"] in wanted]
        elif d.get("query"):
            members = [m for m in members if m["user"]["username"].startswith(d["query"])]
        async with session.lock:
            await self._emit(session, "GUILD_MEMBERS_CHUNK", {
                "guild_id": d.get("guild_id"), "members": members, "chunk_index": 0,
                "chunk_count": 1, "not_found": [], "nonce": d.get("nonce")})

    async def dispatch(self, guild_id: int, event: str, data: Json) -> None:
        """Send a guild event to its shard, or keep it until that shard is back."""
        session = self.sessions.get(self.shard_of(guild_id))
        if session is None or not session.live:
            self.pending.append((guild_id, event, data))
            return
        async with session.lock:
            await self._emit(session, event, data)

    async def _emit(self, session: _ShardSession, event: str, data: Json) -> None:
        session.seq += 1
        frame = {"op": 0, "t": event, "s": session.seq, "d": data}
        session.log.append(frame)  # kept even if the send fails: a RESUME replays it
        await self._send(session, frame)

    async def _send(self, session: _ShardSession, frame: Json) -> None:
        ws = session.ws
        if ws is None or ws.closed:
            return
        try:
            await ws.send_str(json.dumps(frame))
        except (ConnectionError, RuntimeError):
            if session.ws is ws:
                self._detach(session)


class FakeDiscord:
    """REST + gateway fake Discord. Use as ``async with FakeDiscord() as fake: ...``."""

    def __init__(
        self, *, guilds: int = 3, token: str = FAKE_DISCORD_TOKEN, shards: int = 1
    ) -> None:
        self.token = token
        self.shards = shards
        self._id_counter = itertools.count(1)
        self._id_base = discord.utils.time_snowflake(_SEED_TIME)
        self._last_time_id = 0
        self.application_id = self.bot_user_id = self._next_id()
        self.bot_user = _user(self.bot_user_id, "RA Bot", bot=True)
        self.guild_ids: list[int] = []
        self.channel_ids: dict[int, int] = {}
        self._guilds: dict[int, _GuildSeed] = {}
        self._channels: dict[int, _GuildSeed] = {}
        self._members: dict[int, tuple[_GuildSeed, Json]] = {}  # user id -> (guild, member)
        self.add_guilds(guilds)
        self.base_url = self.gateway_url = ""
        self.port = 0
        self.interaction_ack_deadline: float | None = None  # e.g. 3.0 to act like Discord
        # recording
        self.requests: list[RecordedRequest] = []
        self.commands_synced: list[Json] | None = None
        self.synced_global: list[Json] | None = None
        self.synced_guild: dict[int, list[Json]] = {}
        self.channel_messages: dict[int, list[Json]] = {}
        self._channel_store: dict[int, Json] = {}
        self._failing: dict[int, int] = {}
        self._interactions: dict[int, Interaction] = {}
        self._by_token: dict[str, Interaction] = {}
        # gateway
        self.identifies: list[Json] = []  # IDENTIFY payloads (``d``), token included
        self.resumes: list[Json] = []
        self.drops = 0
        self._nonces: dict[tuple[int, str], Json] = {}
        self._extra_channels: dict[int, list[Json]] = {}
        self._gw = _Gateway(self)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._rest = _RestApi(self)

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gw.handle)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._rest.handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None,
                                     shutdown_timeout=1.0)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self.base_url = f"http://127.0.0.1:{self.port}{API_PREFIX}"
        self.gateway_url = f"ws://127.0.0.1:{self.port}/gateway"

    async def stop(self) -> None:
        for session in self._gw.sessions.values():
            session.ws, session.transport, session.live = None, None, False
        for transport in list(self._gw.sockets.values()):
            if transport is not None:
                transport.abort()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- seed data --------------------------------------------------------------------------
    def _next_id(self) -> int:
        # one millisecond apart, so (id >> 22) % shards spreads guilds over the shards
        return self._id_base + (next(self._id_counter) << 22)

    def add_guilds(self, n: int) -> list[int]:
        """Seed ``n`` more guilds (before the client identifies): one text channel, an owner
        with all permissions, two plain members, and the bot."""
        added = []
        for _ in range(n):
            gid, index = self._next_id(), len(self.guild_ids)
            seed = _GuildSeed(gid, f"Guild {index}", self._next_id(), self._next_id(),
                              self._next_id(), [])
            for i in range(HUMANS_PER_GUILD):
                name = f"owner{index}" if i == 0 else f"member{index}-{i}"
                roles = [str(seed.admin_role_id)] if i == 0 else []
                seed.members.append(self._member(_user(self._next_id(), name), roles))
            seed.members.append(self._member(self.bot_user, [str(seed.bot_role_id)]))
            self._guilds[gid] = self._channels[seed.channel_id] = seed
            for member in seed.members[:HUMANS_PER_GUILD]:
                self._members[int(member["user"]["id"])] = (seed, member)
            self.guild_ids.append(gid)
            self.channel_ids[gid] = seed.channel_id
            added.append(gid)
        return added

    def add_member(self, guild_id: int, name: str | None = None, *, bot: bool = False) -> int:
        """A further member of a guild (any time); returns their user id."""
        seed = self._guilds[guild_id]
        uid = self._next_id()
        member = self._member(_user(uid, name or f"user{uid}", bot=bot), [])
        seed.members.insert(len(seed.members) - 1, member)  # the bot stays last
        self._members[uid] = (seed, member)
        return uid

    def remove_member(self, guild_id: int, user_id: int) -> None:
        """The member leaves the guild: member look-ups no longer find them."""
        seed = self._guilds[guild_id]
        seed.members = [m for m in seed.members if int(m["user"]["id"]) != user_id]

    def member_id(self, guild_id: int, index: int = 0) -> int:
        """User id of a seeded member: index 0 is the owner, 1 and 2 plain members."""
        if not 0 <= index < HUMANS_PER_GUILD:
            raise IndexError(index)
        return int(self._guilds[guild_id].members[index]["user"]["id"])

    @staticmethod
    def _member(user: Json, roles: list[str]) -> Json:
        return {"user": user, "roles": roles, "nick": None, "avatar": None, "flags": 0,
                "joined_at": _SEED_ISO, "premium_since": None, "deaf": False, "mute": False,
                "pending": False, "communication_disabled_until": None}

    def _channel_by_id(self, channel_id: int) -> Json:
        seed = self._channels[channel_id]
        for extra in self._extra_channels.get(seed.id, []):
            if int(extra["id"]) == channel_id:
                return extra
        return self._channel_payload(seed)

    def _channel_payload(self, seed: _GuildSeed) -> Json:
        return {"id": str(seed.channel_id), "type": 0, "guild_id": str(seed.id),
                "name": "general", "position": 0, "permission_overwrites": [], "nsfw": False,
                "topic": None, "last_message_id": None, "rate_limit_per_user": 0,
                "parent_id": None, "flags": 0}

    def _guild_payload(self, seed: _GuildSeed) -> Json:
        def role(rid: int, name: str, perms: str, position: int, managed: bool = False) -> Json:
            return {"id": str(rid), "name": name, "permissions": perms, "position": position,
                    "color": 0, "hoist": False, "managed": managed, "mentionable": False,
                    "icon": None, "unicode_emoji": None, "flags": 0}

        return {
            "id": str(seed.id), "name": seed.name, "unavailable": False,
            "owner_id": str(seed.owner_id), "member_count": len(seed.members),
            "large": False, "joined_at": _SEED_ISO, "icon": None, "splash": None,
            "banner": None, "description": None, "features": [], "emojis": [], "stickers": [],
            "roles": [role(seed.id, "@everyone", MEMBER_PERMISSIONS, 0),
                      role(seed.admin_role_id, "Admin", ADMINISTRATOR, 2),
                      role(seed.bot_role_id, "RA Bot", BOT_PERMISSIONS, 1, managed=True)],
            "channels": [self._channel_payload(seed), *self._extra_channels.get(seed.id, [])],
            "members": seed.members,
            "threads": [], "voice_states": [], "presences": [], "stage_instances": [],
            "guild_scheduled_events": [], "soundboard_sounds": [],
            "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0, "premium_tier": 0,
            "premium_subscription_count": 0, "preferred_locale": "en-US",
            "system_channel_id": str(seed.channel_id), "system_channel_flags": 0,
            "afk_channel_id": None, "afk_timeout": 300, "max_members": 500000,
            "vanity_url_code": None, "premium_progress_bar_enabled": False,
        }

    async def add_channel(self, guild_id: int, name: str, *, deny_bot: int = 0) -> int:
        """A further text channel (CHANNEL_CREATE if connected); ``deny_bot`` permission bits
        are denied to the bot's role there."""
        seed = self._guilds[guild_id]
        cid = self._next_id()
        overwrites = (
            [{"id": str(seed.bot_role_id), "type": 0, "allow": "0", "deny": str(deny_bot)}]
            if deny_bot else []
        )
        payload = {**self._channel_payload(seed), "id": str(cid), "name": name, "position": 1,
                   "permission_overwrites": overwrites}
        self._channels[cid] = seed
        self.channel_ids.setdefault(guild_id, seed.channel_id)
        self._extra_channels.setdefault(guild_id, []).append(payload)
        await self._gw.dispatch(guild_id, "CHANNEL_CREATE", payload)
        return cid

    # --- REST-side helpers --------------------------------------------------------------------
    def fail_channel(self, channel_id: int, status: int | None = 403) -> None:
        """Make every message route of a channel fail: 403 Missing Permissions (50013), 404
        Unknown Channel (10003). ``status=None`` heals it."""
        if status is None:
            self._failing.pop(channel_id, None)
        else:
            self._failing[channel_id] = status

    def _check_channel(self, channel_id: int) -> _GuildSeed:
        status = self._failing.get(channel_id)
        if status is not None:
            raise _ApiError(status, *_CHANNEL_ERRORS.get(status, ("Fake failure", 0)))
        seed = self._channels.get(channel_id)
        if seed is None:
            raise _ApiError(404, *_CHANNEL_ERRORS[404])
        return seed

    def _message(self, channel_id: int, body: Json, files: list[Json], *,
                 webhook: bool = False) -> Json:
        msg: Json = {"id": str(self._next_message_id()), "type": 20 if webhook else 0,
                     "content": "", "channel_id": str(channel_id), "author": self.bot_user,
                     "attachments": [], "embeds": [], "mentions": [], "mention_roles": [],
                     "mention_everyone": False, "pinned": False, "tts": bool(body.get("tts")),
                     "timestamp": _now_iso(), "edited_timestamp": None, "flags": 0,
                     "components": []}
        if webhook:
            msg["webhook_id"] = msg["application_id"] = str(self.application_id)
        self._apply_edit(msg, body, files, edited=False)
        return msg

    def _apply_edit(self, msg: Json, body: Json, files: list[Json], *,
                    edited: bool = True) -> None:
        for key, empty in (("content", ""), ("embeds", []), ("components", []), ("flags", 0)):
            if key in body:
                msg[key] = body[key] if body[key] is not None else empty
        if "attachments" in body:
            keep = {str(a.get("id")) for a in body["attachments"] or []}
            msg["attachments"] = [a for a in msg["attachments"] if a["id"] in keep]
        msg["attachments"] = msg["attachments"] + [
            {"id": str(self._next_message_id()), "filename": f["filename"], "size": f["size"],
             "content_type": f["content_type"], "url": f"https://cdn.invalid/{f['filename']}",
             "proxy_url": f"https://cdn.invalid/{f['filename']}"} for f in files]
        if edited:
            msg["edited_timestamp"] = _now_iso()

    def _next_message_id(self) -> int:
        new = max(discord.utils.time_snowflake(discord.utils.utcnow()),
                  self._last_time_id + 1)
        self._last_time_id = new
        return new

    # --- waiting -----------------------------------------------------------------------------
    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def _wait(self, check: Callable[[], Any], timeout: float, what: str) -> Any:
        try:
            async with asyncio.timeout(timeout):
                while True:
                    changed = self._changed
                    result = check()
                    if result:
                        return result
                    await changed.wait()
        except TimeoutError:
            recent = ", ".join(f"{r.method} {r.path} -> {r.status}" for r in self.requests[-8:])
            raise TimeoutError(f"fake Discord: no {what} within {timeout}s "
                               f"(last requests: {recent or 'none'})") from None

    async def wait_ready(self, timeout: float = 30) -> None:
        """Every shard is connected and has READY + all its GUILD_CREATEs (or RESUMED)."""
        await self._wait(self._gw.all_live, timeout, "ready gateway session(s)")

    async def wait_for_request(self, predicate: Callable[[RecordedRequest], bool],
                               timeout: float = 10) -> RecordedRequest:
        """The first recorded request (already or later) that matches ``predicate``."""
        result: RecordedRequest = await self._wait(
            lambda: next((r for r in self.requests if predicate(r)), None), timeout,
            "matching REST request")
        return result

    async def wait_channel_messages(self, channel_id: int, count: int = 1,
                                    timeout: float = 10) -> list[Json]:
        """Wait until ``channel_messages[channel_id]`` holds at least ``count`` entries."""
        await self._wait(lambda: len(self.channel_messages.get(channel_id, [])) >= count,
                         timeout, f"{count} message(s) in channel {channel_id}")
        return self.channel_messages[channel_id]

    @property
    def open_gateways(self) -> int:
        """Gateway websockets currently open (0 after a clean client shutdown)."""
        return len(self._gw.sockets)

    @property
    def identify_count(self) -> int:
        return len(self.identifies)

    @property
    def resume_count(self) -> int:
        return len(self.resumes)

    async def wait_identify_count(self, n: int, timeout: float = 30) -> None:
        await self._wait(lambda: self.identify_count >= n, timeout, f"{n} IDENTIFY(s)")

    async def wait_resume_count(self, n: int, timeout: float = 30) -> None:
        await self._wait(lambda: self.resume_count >= n, timeout, f"{n} RESUME(s)")

    # --- interactions -----------------------------------------------------------------------
    async def send_interaction(
        self, name: str, options: list[Json] | None = None, *, guild_id: int | None = None,
        user_id: int | None = None, channel_id: int | None = None,
        permissions: int | str | None = None, resolved: Json | None = None,
        subcommand: str | None = None, interaction_type: int = 2,
    ) -> Interaction:
        """Dispatch a slash command (``name`` may be "group sub"; ``subcommand`` too). Options
        are ``{name, type, value}``; a missing type is inferred (str 3, int 4, bool 5, float 10).
        Users (6), channels (7) and roles (8) the fake knows are put in ``resolved`` for you.
        ``interaction_type=4`` sends an autocomplete request (mark one option ``focused``)."""
        gid = guild_id if guild_id is not None else self.guild_ids[0]
        seed = self._guilds[gid]
        uid = user_id if user_id is not None else seed.owner_id
        cid = channel_id if channel_id is not None else seed.channel_id
        if permissions is None:
            permissions = OWNER_PERMISSIONS if uid == seed.owner_id else MEMBER_PERMISSIONS
        opts, auto = self._options(seed, options or [])
        for key, values in (resolved or {}).items():
            auto.setdefault(key, {}).update(values)
        path = name.split() + (subcommand.split() if subcommand else [])
        for part, kind in zip(reversed(path[1:]), itertools.chain([1], itertools.repeat(2)),
                              strict=False):
            opts = [{"name": part, "type": kind, "options": opts}]
        data: Json = {"name": path[0], "type": 1, "options": opts}
        guild_cmds = {c["name"]: c for c in self.synced_guild.get(gid, [])}
        global_cmds = {c["name"]: c for c in self.synced_global or []}
        command = guild_cmds.get(path[0]) or global_cmds.get(path[0])
        data["id"] = command["id"] if command else str(self._next_id())
        if path[0] in guild_cmds:
            data["guild_id"] = str(gid)
        if auto:
            data["resolved"] = auto
        payload = self._interaction_payload(interaction_type, seed, gid, cid, uid, permissions)
        payload["data"] = data
        return await self._dispatch_interaction(payload, " ".join(path), gid)

    def _interaction_payload(
        self, kind: int, seed: _GuildSeed, gid: int, cid: int, uid: int, permissions: int | str
    ) -> Json:
        member = self._members.get(uid, (seed, self._member(_user(uid, f"user{uid}"), [])))[1]
        return {
            "id": str(self._next_message_id()), "application_id": str(self.application_id),
            "type": kind, "token": secrets.token_urlsafe(32), "version": 1,
            "guild_id": str(gid), "channel_id": str(cid),
            "channel": {**self._channel_by_id(cid), "permissions": str(permissions)}
            if cid in self._channels
            else {**self._channel_payload(seed), "id": str(cid),
                  "permissions": str(permissions)},
            "member": {**member, "permissions": str(permissions)},
            "app_permissions": BOT_PERMISSIONS, "locale": "en-US", "guild_locale": "en-US",
            "attachment_size_limit": ATTACHMENT_SIZE_LIMIT, "entitlements": [],
            "authorizing_integration_owners": {"0": str(gid)}, "context": 0,
        }

    async def _dispatch_interaction(self, payload: Json, name: str, gid: int) -> Interaction:
        it = Interaction(self, payload, name, self._gw.shard_of(gid))
        self._interactions[it.id] = it
        self._by_token[it.token] = it
        await self._gw.dispatch(gid, "INTERACTION_CREATE", payload)
        return it

    async def press_button(
        self, message: Json, custom_id: str, *, user_id: int | None = None
    ) -> Interaction:
        """Click a button of ``message`` (a message object the bot sent) as ``user_id``."""
        gid = int(message.get("guild_id") or self.guild_ids[0])
        seed = self._guilds[gid]
        uid = user_id if user_id is not None else seed.owner_id
        permissions = OWNER_PERMISSIONS if uid == seed.owner_id else MEMBER_PERMISSIONS
        cid = int(message.get("channel_id") or seed.channel_id)
        payload = self._interaction_payload(3, seed, gid, cid, uid, permissions)
        payload["message"] = {**message, "guild_id": str(gid)}
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        return await self._dispatch_interaction(payload, f"button {custom_id}", gid)

    def _options(self, seed: _GuildSeed, options: list[Json]) -> tuple[list[Json], Json]:
        resolved: Json = {}
        out = []
        for option in options:
            option = dict(option)
            out.append(option)
            value = option.get("value")
            if "type" not in option:
                option["type"] = {bool: 5, int: 4, float: 10}.get(type(value), 3)
            kind = option["type"]
            if kind in (6, 7, 8, 9):
                option["value"] = value = str(value)
                uid = int(value)
                if kind in (6, 9) and uid in self._members:
                    home, member = self._members[uid]
                    resolved.setdefault("users", {})[value] = member["user"]
                    if home is not seed:  # a user, but not a member of this guild
                        continue
                    resolved.setdefault("members", {})[value] = {
                        **{k: v for k, v in member.items() if k != "user"},
                        "permissions": OWNER_PERMISSIONS if uid == seed.owner_id
                        else MEMBER_PERMISSIONS}
                elif kind == 7 and uid in self._channels:
                    resolved.setdefault("channels", {})[value] = {
                        **self._channel_by_id(uid), "permissions": MEMBER_PERMISSIONS}
                elif kind == 8:
                    roles = {r["id"]: r for r in self._guild_payload(seed)["roles"]}
                    if value in roles:
                        resolved.setdefault("roles", {})[value] = roles[value]
        return out, resolved

    async def drop_gateway(self, code: int = 1006, *, resumable: bool = True) -> None:
        """Cut every shard's websocket: 1006 aborts the TCP connection (no close frame), any
        other code sends a close frame with it. discord.py then RESUMEs (with
        ``resumable=False`` it gets INVALID_SESSION and IDENTIFYs again, after discord.py's 5 s
        ``before_identify_hook``). What is dispatched meanwhile is delivered once it is back."""
        self.drops += 1
        await self._gw.drop(code, resumable)
