"""Administrative operations: the one place that changes members, channels and roles.

Each operation writes the store, announces the change to every hub process
(so caches, subscriptions and sessions follow at once) and records it in the
audit log. Used by the ``adm`` frame and by in-process callers (demo, tests).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from hub.protocol.errors import InvalidFrame, NoSuchChannel, NotFound
from hub.protocol.identity import check_channel, check_name
from hub.storage import CHANNEL_STATES, ROLES, ChannelMeta, Store

if TYPE_CHECKING:
    from hub.server import Hub

__all__ = ["create_channel", "grant", "revoke_role", "run_admin", "set_channel_state"]


async def create_channel(store: Store, name: str, *, title: str = "", starts: str = "",
                         ends: str = "", retention_ms: int = 0, by: str = "local"
                         ) -> ChannelMeta:
    meta = await store.create_channel(check_channel(name), title=title, starts=starts,
                                      ends=ends, retention_ms=retention_ms)
    await store.publish_event({"type": "channel", "ch": name, "state": meta.state})
    await store.audit({"action": "channel.create", "principal": by, "channel": name,
                       "result": "ok"})
    return meta


async def set_channel_state(store: Store, name: str, state: str, *, by: str = "local"
                            ) -> ChannelMeta:
    if state not in CHANNEL_STATES:
        raise InvalidFrame(f"state must be one of {', '.join(CHANNEL_STATES)}")
    meta = await store.set_channel_state(name, state)
    await store.publish_event({"type": "channel", "ch": name, "state": state})
    await store.audit({"action": f"channel.{state}", "principal": by, "channel": name,
                       "result": "ok"})
    return meta


async def grant(store: Store, channel: str, member: str, role: str, *, by: str = "local"
                ) -> None:
    if role not in ROLES:
        raise InvalidFrame(f"role must be one of {', '.join(ROLES)}")
    check_name(member, "member id")
    if await store.member(member) is None:
        raise NotFound("unknown member")
    await store.set_role(channel, member, role)
    await store.publish_event({"type": "role", "ch": channel, "member": member, "role": role})
    await store.audit({"action": "role.grant", "principal": by, "channel": channel,
                       "member": member, "role": role, "result": "ok"})


async def revoke_role(store: Store, channel: str, member: str, *, by: str = "local") -> None:
    if await store.channel(channel) is None:
        raise NoSuchChannel()
    await store.set_role(channel, member, None)
    await store.publish_event({"type": "role", "ch": channel, "member": member, "role": None})
    await store.audit({"action": "role.remove", "principal": by, "channel": channel,
                       "member": member, "result": "ok"})


def _str(args: dict[str, Any], key: str, default: str | None = None) -> str:
    value = args.get(key, default)
    if not isinstance(value, str):
        raise InvalidFrame(f"argument {key!r} must be a string")
    return value


async def _op_channel_create(hub: Hub, by: str, args: dict[str, Any]) -> dict[str, Any]:
    meta = await create_channel(hub.store, _str(args, "name"), title=_str(args, "title", ""),
                                by=by)
    return {"name": meta.name, "epoch": meta.epoch}


async def _op_grant(hub: Hub, by: str, args: dict[str, Any]) -> dict[str, Any]:
    await grant(hub.store, _str(args, "channel"), _str(args, "member"), _str(args, "role"),
                by=by)
    return {}


async def _op_role_remove(hub: Hub, by: str, args: dict[str, Any]) -> dict[str, Any]:
    await revoke_role(hub.store, _str(args, "channel"), _str(args, "member"), by=by)
    return {}


async def _op_channel_state(hub: Hub, by: str, args: dict[str, Any]) -> dict[str, Any]:
    meta = await set_channel_state(hub.store, _str(args, "name"), _str(args, "state"), by=by)
    return {"name": meta.name, "state": meta.state}


_OPS: dict[str, Callable[[Hub, str, dict[str, Any]], Awaitable[dict[str, Any]]]] = {
    "channel.create": _op_channel_create,
    "channel.state": _op_channel_state,
    "role.grant": _op_grant,
    "role.remove": _op_role_remove,
}


async def run_admin(hub: Hub, by: str, op: str, args: dict[str, Any]) -> dict[str, Any]:
    handler = _OPS.get(op)
    if handler is None:
        raise InvalidFrame("unknown admin operation")
    return await handler(hub, by, args)
