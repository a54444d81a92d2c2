"""Channels and roles."""

from __future__ import annotations

import secrets
from collections.abc import Sequence

from hub.protocol.errors import (
    Conflict,
    NoSuchChannel,
    NotFound,
)
from hub.protocol.identity import check_channel, check_name
from hub.storage._common import (
    CHANNEL_STATES,
    ROLES,
    _Base,
    _check_choice,
    _guard,
    _i,
    _now_ms,
    _pairs,
    _valid_channel,
)
from hub.storage._keys import (
    CHANNELS_KEY,
    _att_key,
    _chain_key,
    _dur_key,
    _ids_key,
    _leaves_key,
    _log_key,
    _member_key,
    _meta_key,
    _roles_key,
)
from hub.storage.records import ChannelMeta, ChannelStats


class ChannelsMixin(_Base):
    """Channels: create, read, state, delete; members' roles; statistics."""

    async def create_channel(
        self,
        name: str,
        *,
        title: str = "",
        starts: str = "",
        ends: str = "",
        retention_ms: int = 0,
    ) -> ChannelMeta:
        """Create a channel with a fresh random epoch; Conflict if it exists."""
        check_channel(name)
        if not isinstance(retention_ms, int) or retention_ms < 0:
            raise ValueError("retention_ms must be a non-negative integer")
        epoch = secrets.token_hex(16)
        with _guard():
            created = await self._create(
                keys=[_meta_key(name), _log_key(name), _ids_key(name), _roles_key(name),
                      CHANNELS_KEY, _att_key(name), _dur_key(name), _chain_key(name),
                      _leaves_key(name)],
                args=[name, epoch, title, _now_ms(), starts, ends, retention_ms],
            )  # fmt: skip
        if not created:
            raise Conflict("channel already exists")
        meta = await self.channel(name)
        if meta is None:  # deleted in between
            raise NoSuchChannel()
        return meta

    async def channel(self, name: str) -> ChannelMeta | None:
        if not _valid_channel(name):
            return None
        with _guard():
            h = await self._r.hgetall(_meta_key(name))
        return self._note(ChannelMeta._from_hash(name, h)) if h else None

    async def channels(self) -> list[ChannelMeta]:
        """Every channel, by name."""
        with _guard():
            names = sorted(n.decode() for n in await self._r.smembers(CHANNELS_KEY))
            pipe = self._r.pipeline(transaction=False)
            for name in names:
                pipe.hgetall(_meta_key(name))
            hashes = await pipe.execute()
        return [self._note(ChannelMeta._from_hash(n, h))
                for n, h in zip(names, hashes, strict=True) if h]

    async def set_channel_state(self, name: str, state: str) -> ChannelMeta:
        """Set open | closed | archived; NoSuchChannel if unknown."""
        _check_choice(state, CHANNEL_STATES, "channel state")
        if not _valid_channel(name):
            raise NoSuchChannel()
        with _guard():
            flat = await self._update(keys=[_meta_key(name)], args=["state", state])
        if not flat:
            raise NoSuchChannel()
        return ChannelMeta._from_hash(name, _pairs(flat))

    async def delete_channel(self, name: str) -> None:
        """Remove every key of the channel (a later create gets a new epoch); NoSuchChannel
        if unknown."""
        if not _valid_channel(name):
            raise NoSuchChannel()
        with _guard():
            found = await self._delete(
                keys=[_meta_key(name), _log_key(name), _ids_key(name), _roles_key(name),
                      CHANNELS_KEY, _att_key(name), _dur_key(name), _chain_key(name),
                      _leaves_key(name)],
                args=[name],
            )  # fmt: skip
        if not found:
            raise NoSuchChannel()

    async def set_role(self, channel: str, member: str, role: str | None) -> None:
        """Grant/change (role) or remove (None) a member's role in the channel.
        NoSuchChannel for an unknown channel, NotFound for an unknown member (on grant)."""
        if role is not None:
            _check_choice(role, ROLES, "role")
        check_name(member, "member id")
        if not _valid_channel(channel):
            raise NoSuchChannel()
        with _guard():
            status = await self._set_role(
                keys=[_meta_key(channel), _roles_key(channel), _member_key(member)],
                args=[member, role or ""],
            )
        if status == 1:
            raise NoSuchChannel()
        if status == 2:
            raise NotFound("unknown member")

    async def role(self, channel: str, member: str) -> str | None:
        if not _valid_channel(channel):
            return None
        with _guard():
            value = await self._r.hget(_roles_key(channel), member)
        return value.decode() if value is not None else None

    async def roles(self, channel: str) -> dict[str, str]:
        """Member id -> role ({} for an unknown channel)."""
        if not _valid_channel(channel):
            return {}
        with _guard():
            h = await self._r.hgetall(_roles_key(channel))
        return {k.decode(): v.decode() for k, v in sorted(h.items())}

    async def roles_of(self, member: str) -> dict[str, str]:
        """Channel -> the member's role there, for every channel it holds a role in."""
        with _guard():
            names = sorted(n.decode() for n in await self._r.smembers(CHANNELS_KEY))
            pipe = self._r.pipeline(transaction=False)
            for name in names:
                pipe.hget(_roles_key(name), member)
            roles = await pipe.execute()
        return {n: r.decode() for n, r in zip(names, roles, strict=True) if r is not None}

    async def roles_in(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """Role of each (channel, member) pair that has one; one round trip."""
        unique = [p for p in dict.fromkeys(pairs) if _valid_channel(p[0])]
        if not unique:
            return {}
        with _guard():
            pipe = self._r.pipeline(transaction=False)
            for channel, member in unique:
                pipe.hget(_roles_key(channel), member)
            replies = await pipe.execute()
        return {p: v.decode() for p, v in zip(unique, replies, strict=True) if v is not None}

    async def channel_stats(self, names: Sequence[str]) -> dict[str, ChannelStats]:
        """Members with a role, retained alerts and last activity of each named channel
        (one round trip; unknown or invalid names are left out)."""
        valid = [n for n in dict.fromkeys(names) if _valid_channel(n)]
        if not valid:
            return {}
        with _guard():
            pipe = self._r.pipeline(transaction=False)
            for name in valid:
                pipe.exists(_meta_key(name))
                pipe.hlen(_roles_key(name))
                pipe.xlen(_log_key(name))
                pipe.xrevrange(_log_key(name), max="+", min="-", count=1)
            replies = await pipe.execute()
        out: dict[str, ChannelStats] = {}
        for i, name in enumerate(valid):
            exists, members, alerts, last = replies[4 * i : 4 * i + 4]
            if not exists:
                continue
            last_ms = _i(last[0][1], "r") if last else 0
            out[name] = ChannelStats(members=int(members), alerts=int(alerts), last_ms=last_ms)
        return out
