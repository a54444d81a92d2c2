"""The hub's check of an alert's body before storing: the schema, then its references.

Schema problems and reference problems are both refused as
:class:`~hub.protocol.errors.SchemaError` (424) naming each bad field:

- ``ref`` and ``links`` must name alerts already stored in the same channel
  (publish a referenced alert and wait for its ``ack`` before referring to it);
- an amendment or withdrawal must target an alert of the same member
  administration, not another amendment or withdrawal, and an amendment's
  ``of`` must be the target's kind (checked while the target is retained);
- every attachment must have been uploaded to the channel with the same size
  and media type.
"""

from __future__ import annotations

from hub.protocol import schema
from hub.protocol.envelope import Envelope, decode_envelope
from hub.protocol.errors import InvalidAlert, Problem, SchemaError
from hub.storage import Store

__all__ = ["check_alert", "check_body", "check_references"]

_FINAL = ("amendment", "withdrawal")


def _member(principal: str) -> str:
    return principal.partition("/")[0]


async def _target_problems(store: Store, env: Envelope, off: int) -> list[Problem]:
    stored = await store.read_after(env.channel, off - 1, 1)
    if not stored or stored[0].off != off:  # trimmed: existence is all we can tell
        return []
    try:
        target = decode_envelope(stored[0].alert)
    except InvalidAlert:
        return [("/ref", "the referenced alert cannot be read")]
    if target.kind in _FINAL:
        return [("/ref", f"an {target.kind} cannot be amended or withdrawn")]
    out: list[Problem] = []
    if _member(target.sender) != _member(env.sender):
        out.append(("/ref", "only the administration that sent an alert may amend or "
                            "withdraw it"))
    if env.kind == "amendment" and env.body["of"] != target.kind:
        out.append(("/of", f"the referenced alert is a {target.kind}"))
    return out


async def check_alert(store: Store, env: Envelope) -> None:
    """Raise :class:`SchemaError` unless the body is valid and its references resolve."""
    if check_body(env):
        await check_references(store, env)


def check_body(env: Envelope) -> bool:
    """Raise :class:`SchemaError` unless the body is valid for its kind; True when it
    refers to alerts or attachments (:func:`check_references` must then run), False
    when it is fully checked (no store look-up, no coroutine: the publish hot path)."""
    schema.validate(env.kind, env.body)
    body = env.body
    return env.kind in schema.REFERRING_KINDS or "links" in body or "attachments" in body


async def check_references(store: Store, env: Envelope) -> None:
    """Raise :class:`SchemaError` unless a valid body's references resolve (alerts
    already stored in the channel, uploaded attachments)."""
    problems: list[Problem] = []
    for path, alert_id in schema.references(env.kind, env.body):
        off = await store.alert_offset(env.channel, alert_id)
        if off is None:
            problems.append((path, "no alert with this id in the channel"))
        elif path == "/ref" and env.kind in _FINAL:
            problems.extend(await _target_problems(store, env, off))
    for path, ref in schema.attachments(env.kind, env.body):
        info = await store.attachment_info(env.channel, ref.sha256)
        if info is None:
            problems.append((f"{path}/sha256", "no such attachment in the channel (upload "
                                               "it first)"))
        elif info != (ref.media, ref.size):
            problems.append((path, "size or media type differs from the uploaded attachment"))
    if problems:
        raise SchemaError(problems)
