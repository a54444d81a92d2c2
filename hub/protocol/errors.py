"""Every error Cordon puts on the wire.

One root, :class:`CordonError`; every subclass carries the numeric ``code``
sent in an ``err`` frame and a fixed ``phrase``. The peer receives the code and
the phrase (plus a short, fixed ``detail`` where the hub chooses to give one),
never exception text.

::

    CordonError
    ├── ProtocolError ............ the frame itself is wrong
    │   ├── MalformedFrame ....... 400  not msgpack / truncated / trailing bytes
    │   ├── InvalidFrame ......... 401  wrong field types, missing or unknown fields,
    │   │                               a repeated or non-string map key, an ext value
    │   ├── UnknownFrameType ..... 402  ``t`` names no frame of this protocol
    │   └── FrameTooLarge ........ 413  over a size or count limit
    ├── AlertRejected ............ the signed alert is refused
    │   ├── AlertIdConflict ...... 409  id already used in the channel with other bytes
    │   ├── BadSignature ......... 422  signature does not verify, or unknown signer key
    │   ├── EnvelopeMismatch ..... 423  signed sender / channel / key differ from the session's
    │   ├── InvalidAlert ......... 424  envelope (not canonical) or body breaks the schema
    │   │   └── SchemaError ...... 424  the body's bad fields: ``problems`` [(path, message)]
    │   ├── StaleTimestamp ....... 425  signed time too far from the hub's clock
    │   └── ChainBroken .......... 426  ``seq``/``prev`` do not continue the sender's chain
    ├── AccessDenied ............. 403  role does not allow the operation
    ├── NoSuchChannel ............ 404  unknown channel, or not a member of it (same answer)
    ├── ChannelClosed ............ 405  channel is closed or archived: read-only
    ├── NotFound ................. 406  unknown attachment, certificate, member or principal
    ├── Conflict ................. 407  the thing already exists / state does not allow it
    ├── HistoryGone .............. 410  ``since`` is older than the retained history
    ├── EpochMismatch ............ 412  the channel's epoch differs from the one resumed
    ├── RateLimited .............. 429  too many alerts or requests per second
    ├── InternalError ............ 500  the hub failed; nothing was stored
    └── Unavailable .............. 503  the store is unreachable; retry later
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import ClassVar, TypeAlias

__all__ = [
    "AccessDenied",
    "AlertIdConflict",
    "AlertRejected",
    "BadSignature",
    "ChainBroken",
    "ChannelClosed",
    "CloseCode",
    "Conflict",
    "CordonError",
    "EnvelopeMismatch",
    "EpochMismatch",
    "FrameTooLarge",
    "HistoryGone",
    "InternalError",
    "InvalidAlert",
    "InvalidFrame",
    "MalformedFrame",
    "NoSuchChannel",
    "NotFound",
    "Problem",
    "ProtocolError",
    "RateLimited",
    "SchemaError",
    "StaleTimestamp",
    "Unavailable",
    "UnknownFrameType",
    "error_for_code",
]


class CloseCode(IntEnum):
    """WebSocket close codes the hub uses (RFC 6455 private range 4000-4999)."""

    NORMAL = 1000
    GOING_AWAY = 1001  # hub shutting down: reconnect and resume
    TOO_BIG = 1009  # a frame exceeded the maximum frame size
    PROTOCOL_ABUSE = 4002  # too many invalid frames on this connection
    SLOW_CONSUMER = 4008  # send queue full: reconnect and resume from the last offset
    PEER_UNRESPONSIVE = 4009  # no pong within the idle timeout: reconnect and resume
    REVOKED = 4010  # the certificate or member was revoked or suspended
    IDENTITY = 4011  # certificate unknown to the registry or identity fields invalid
    STORE_RECOVERED = 4012  # store recovered / history changed: resume with your epoch
    WRONG_PURPOSE = 4013  # wrong purpose: no or other EKU, no digitalSignature, a CA
    TOO_MANY_CONNECTIONS = 4029  # principal already has the maximum connections open
    PING_FLOOD = 4030  # more pings than the limit (max_pings_per_s): fix the client


class CordonError(Exception):
    """Root of every Cordon error; ``code`` and ``phrase`` go on the wire."""

    code: ClassVar[int] = 500
    phrase: ClassVar[str] = "internal error"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.phrase)
        self.detail = detail
        #: The request id of the refused frame, when it could be read (protocol errors).
        self.rid: int | None = None


class ProtocolError(CordonError):
    """The frame is not a valid frame of this protocol."""

    code = 400
    phrase = "malformed frame"


class MalformedFrame(ProtocolError):
    code = 400
    phrase = "malformed frame"


class InvalidFrame(ProtocolError):
    code = 401
    phrase = "invalid frame"


class UnknownFrameType(ProtocolError):
    code = 402
    phrase = "unknown frame type"


class FrameTooLarge(ProtocolError):
    code = 413
    phrase = "frame too large"


class AlertRejected(CordonError):
    """The signed alert is refused; nothing was stored."""

    code = 424
    phrase = "invalid alert"


class AlertIdConflict(AlertRejected):
    code = 409
    phrase = "alert id already used with different content"


class BadSignature(AlertRejected):
    code = 422
    phrase = "bad signature"


class EnvelopeMismatch(AlertRejected):
    code = 423
    phrase = "signed envelope does not match session or channel"


class InvalidAlert(AlertRejected):
    code = 424
    phrase = "invalid alert"


#: One bad field of an alert body: (JSON Pointer path, human message).
Problem: TypeAlias = tuple[str, str]
#: Most problems named in a :class:`SchemaError`'s wire detail (all are in ``problems``).
_DETAIL_PROBLEMS = 20
_DETAIL_CHARS = 2000


class SchemaError(InvalidAlert):
    """The body does not follow its kind's schema; ``problems`` lists every bad field.

    The wire ``detail`` is ``"<path>: <message>; <path>: <message>"`` (at most
    20 problems, then ``"; ... N more"``); :meth:`parse` reads it back.
    """

    def __init__(self, problems: Sequence[Problem], *, detail: str | None = None) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        if detail is None:
            shown = [f"{path or 'body'}: {message}" for path, message in self.problems]
            detail = "; ".join(shown[:_DETAIL_PROBLEMS])
            if len(shown) > _DETAIL_PROBLEMS:
                detail += f"; ... {len(shown) - _DETAIL_PROBLEMS} more"
        super().__init__(detail[:_DETAIL_CHARS])

    @staticmethod
    def parse(detail: str) -> list[Problem]:
        """The ``(path, message)`` pairs of a 424 detail written by :class:`SchemaError`
        (the whole body's path ``""`` is written ``body``)."""
        found: list[Problem] = []
        for part in detail.split("; "):
            path, sep, message = part.partition(": ")
            if sep and (path.startswith("/") or path == "body"):
                found.append(("" if path == "body" else path, message))
        return found


class StaleTimestamp(AlertRejected):
    code = 425
    phrase = "alert timestamp outside the accepted window"


class ChainBroken(AlertRejected):
    """The alert's ``seq``/``prev`` do not continue the sender's chain in the channel (§4).

    ``detail`` is ``expected seq <n> prev <64 hex>``: what the next alert of this sender
    must carry (see :func:`hub.protocol.chain.parse_expected`). Nothing was stored.
    """

    code = 426
    phrase = "sender chain does not continue"


class AccessDenied(CordonError):
    code = 403
    phrase = "access denied"


class NoSuchChannel(CordonError):
    code = 404
    phrase = "no such channel"


class ChannelClosed(CordonError):
    code = 405
    phrase = "channel is closed"


class NotFound(CordonError):
    code = 406
    phrase = "not found"


class Conflict(CordonError):
    code = 407
    phrase = "conflict"


class HistoryGone(CordonError):
    code = 410
    phrase = "history no longer covers the requested offset"


class EpochMismatch(CordonError):
    code = 412
    phrase = "channel epoch changed"


class RateLimited(CordonError):
    code = 429
    phrase = "rate limited"


class InternalError(CordonError):
    code = 500
    phrase = "internal error"


class Unavailable(CordonError):
    code = 503
    phrase = "store unavailable"


_BY_CODE: dict[int, type[CordonError]] = {
    cls.code: cls
    for cls in (
        MalformedFrame,
        InvalidFrame,
        UnknownFrameType,
        FrameTooLarge,
        AlertIdConflict,
        BadSignature,
        EnvelopeMismatch,
        InvalidAlert,
        StaleTimestamp,
        ChainBroken,
        AccessDenied,
        NoSuchChannel,
        ChannelClosed,
        NotFound,
        Conflict,
        HistoryGone,
        EpochMismatch,
        RateLimited,
        InternalError,
        Unavailable,
    )
}


def error_for_code(code: int, detail: str = "") -> CordonError:
    """Build the exception a client raises for an ``err`` frame's code (a 424 whose detail
    names fields is a :class:`SchemaError` with those ``problems``)."""
    cls = _BY_CODE.get(code, CordonError)
    if cls is InvalidAlert:
        problems = SchemaError.parse(detail)
        if problems:
            return SchemaError(problems, detail=detail)
    return cls(detail)
