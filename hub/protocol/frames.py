"""One frozen dataclass per wire frame. The codec (``codec.py``) maps them to msgpack.

Every frame is a msgpack map with ``t`` (the frame type, ``TYPE`` below) and
the dataclass's fields under their own names. ``rid`` is a request id chosen
by the client (an unsigned integer) and echoed in the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "Ack",
    "Acks",
    "AdminRequest",
    "AdminResult",
    "AlertBatch",
    "AlertFrame",
    "Attachment",
    "AttachmentRequest",
    "AttachmentStored",
    "AttachmentUpload",
    "ChannelInfo",
    "ChannelsRequest",
    "ChannelsResult",
    "CheckpointRequest",
    "CheckpointResult",
    "ClientFrame",
    "CrlRequest",
    "CrlResult",
    "Directory",
    "DirectoryRequest",
    "Ended",
    "ErrorFrame",
    "Frame",
    "HistoryPage",
    "HistoryRequest",
    "ItemAck",
    "ItemError",
    "PageItem",
    "Proof",
    "ProofPath",
    "ProofRequest",
    "Publish",
    "PublishBatch",
    "ServerFrame",
    "SignedItem",
    "Subscribe",
    "Subscribed",
    "Synced",
    "Unsubscribe",
    "Unsubscribed",
    "Welcome",
]


@dataclass(frozen=True, slots=True)
class Frame:
    TYPE: ClassVar[str] = ""


# --- client to hub -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Publish(Frame):
    """Store a signed alert in a channel; answered by :class:`Ack` or :class:`ErrorFrame`."""

    TYPE: ClassVar[str] = "pub"
    rid: int
    ch: str
    alert: bytes
    sig: bytes


@dataclass(frozen=True, slots=True)
class SignedItem:
    """One signed alert of a :class:`PublishBatch`: ``[alert, sig]`` on the wire."""

    alert: bytes
    sig: bytes


@dataclass(frozen=True, slots=True)
class PublishBatch(Frame):
    """Several signed alerts for one channel in one frame (at most ``MAX_PUB_ITEMS``),
    each settled on its own as a :class:`Publish` would be; answered by one
    :class:`Acks` (an item each, in order) or, for the whole frame, :class:`ErrorFrame`."""

    TYPE: ClassVar[str] = "pubs"
    rid: int
    ch: str
    items: tuple[SignedItem, ...]


@dataclass(frozen=True, slots=True)
class Subscribe(Frame):
    """Receive a channel's alerts after offset ``since`` (history, then live)."""

    TYPE: ClassVar[str] = "sub"
    rid: int
    ch: str
    since: int | None = None
    epoch: str | None = None


@dataclass(frozen=True, slots=True)
class Unsubscribe(Frame):
    TYPE: ClassVar[str] = "unsub"
    rid: int
    ch: str


@dataclass(frozen=True, slots=True)
class HistoryRequest(Frame):
    """One page of alerts older than ``before`` (newest page when omitted)."""

    TYPE: ClassVar[str] = "hist"
    rid: int
    ch: str
    before: int | None = None
    limit: int = 100


@dataclass(frozen=True, slots=True)
class DirectoryRequest(Frame):
    """Certificates (DER) of the signing keys named by their key ids."""

    TYPE: ClassVar[str] = "dir"
    rid: int
    kids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ChannelsRequest(Frame):
    """The channels this principal may see, with its role in each."""

    TYPE: ClassVar[str] = "chans"
    rid: int


@dataclass(frozen=True, slots=True)
class AdminRequest(Frame):
    """An administrative operation; allowed for admin certificates only."""

    TYPE: ClassVar[str] = "adm"
    rid: int
    op: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AttachmentUpload(Frame):
    """Store a photo in a channel before the alert that references it.

    The hub checks the size, that ``media`` is the content's type (by its bytes),
    and ``sha256`` if given; answered by :class:`AttachmentStored`.
    """

    TYPE: ClassVar[str] = "put"
    rid: int
    ch: str
    media: str
    data: bytes
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class AttachmentRequest(Frame):
    """Fetch a channel's attachment by its SHA-256; answered by :class:`Attachment`."""

    TYPE: ClassVar[str] = "get"
    rid: int
    ch: str
    sha256: str


@dataclass(frozen=True, slots=True)
class CheckpointRequest(Frame):
    """The channel's latest signed checkpoint (PROTOCOL.md §6.9, Appendix C)."""

    TYPE: ClassVar[str] = "ckpt"
    rid: int
    ch: str


@dataclass(frozen=True, slots=True)
class ProofRequest(Frame):
    """Inclusion proofs of ``offs`` in the log of ``epoch`` at ``size`` leaves, and (with
    ``from_size``, on the wire ``from``) a consistency proof from that older size."""

    TYPE: ClassVar[str] = "prove"
    rid: int
    ch: str
    epoch: str
    size: int
    offs: tuple[int, ...] = ()
    from_size: int | None = None


@dataclass(frozen=True, slots=True)
class CrlRequest(Frame):
    """The CA's CRL the hub enforces (PROTOCOL.md §6.10); any member may ask."""

    TYPE: ClassVar[str] = "crl"
    rid: int


ClientFrame = (
    Publish
    | PublishBatch
    | Subscribe
    | Unsubscribe
    | HistoryRequest
    | DirectoryRequest
    | ChannelsRequest
    | AdminRequest
    | AttachmentUpload
    | AttachmentRequest
    | CheckpointRequest
    | ProofRequest
    | CrlRequest
)

# --- hub to client -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Welcome(Frame):
    """First frame on every connection: who the hub authenticated, and its limits."""

    TYPE: ClassVar[str] = "welcome"
    principal: str
    member: str | None
    admin: bool
    server: str
    time: int
    limits: dict[str, int]


@dataclass(frozen=True, slots=True)
class Ack(Frame):
    """The alert is durable at ``off``; ``dup`` when it was already stored."""

    TYPE: ClassVar[str] = "ack"
    rid: int
    ch: str
    off: int
    epoch: str
    dup: bool


@dataclass(frozen=True, slots=True)
class ItemAck:
    """An item of :class:`Acks`: what an :class:`Ack` would say (durable at ``off``)."""

    off: int
    epoch: str
    dup: bool


@dataclass(frozen=True, slots=True)
class ItemError:
    """An item of :class:`Acks`: what an :class:`ErrorFrame` would say (refused)."""

    code: int
    msg: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Acks(Frame):
    """The answer to a :class:`PublishBatch`: one item per alert, in the frame's order,
    sent once every alert is settled."""

    TYPE: ClassVar[str] = "acks"
    rid: int
    ch: str
    items: tuple[ItemAck | ItemError, ...]


@dataclass(frozen=True, slots=True)
class Subscribed(Frame):
    """Subscription accepted; alerts after ``since`` follow, then :class:`Synced`."""

    TYPE: ClassVar[str] = "subok"
    rid: int
    ch: str
    epoch: str
    first: int
    head: int


@dataclass(frozen=True, slots=True)
class PageItem:
    off: int
    alert: bytes
    sig: bytes


@dataclass(frozen=True, slots=True)
class AlertFrame(Frame):
    """One stored alert of a subscribed channel: exact signed bytes and signature."""

    TYPE: ClassVar[str] = "alert"
    ch: str
    off: int
    alert: bytes
    sig: bytes


@dataclass(frozen=True, slots=True)
class AlertBatch(Frame):
    """Consecutive stored alerts of a subscribed channel in one message.

    ``items`` are ``[off, alert, sig]`` with ascending, contiguous offsets (at least
    one): exactly what as many :class:`AlertFrame` frames, in that order, would carry.
    """

    TYPE: ClassVar[str] = "alerts"
    ch: str
    items: tuple[PageItem, ...]

    def frames(self) -> tuple[AlertFrame, ...]:
        """The same alerts as single :class:`AlertFrame` frames."""
        return tuple(AlertFrame(self.ch, i.off, i.alert, i.sig) for i in self.items)


@dataclass(frozen=True, slots=True)
class Synced(Frame):
    """History is delivered up to ``off``; what follows is live."""

    TYPE: ClassVar[str] = "synced"
    ch: str
    off: int


@dataclass(frozen=True, slots=True)
class Unsubscribed(Frame):
    TYPE: ClassVar[str] = "unsubok"
    rid: int
    ch: str


@dataclass(frozen=True, slots=True)
class Ended(Frame):
    """The hub ended a subscription (member removed, channel archived, ...)."""

    TYPE: ClassVar[str] = "ended"
    ch: str
    code: int
    msg: str


@dataclass(frozen=True, slots=True)
class HistoryPage(Frame):
    """Alerts in ascending offset order; ``more`` when older ones remain."""

    TYPE: ClassVar[str] = "page"
    rid: int
    ch: str
    epoch: str
    items: tuple[PageItem, ...]
    more: bool


@dataclass(frozen=True, slots=True)
class Directory(Frame):
    """Certificates (DER) by key id; unknown key ids are absent."""

    TYPE: ClassVar[str] = "dirok"
    rid: int
    certs: dict[str, bytes]


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    ch: str
    title: str
    role: str
    state: str
    head: int
    epoch: str


@dataclass(frozen=True, slots=True)
class ChannelsResult(Frame):
    TYPE: ClassVar[str] = "chanlist"
    rid: int
    chans: tuple[ChannelInfo, ...]


@dataclass(frozen=True, slots=True)
class AdminResult(Frame):
    TYPE: ClassVar[str] = "admok"
    rid: int
    result: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AttachmentStored(Frame):
    """The attachment is durable in the channel under ``sha256`` (``dup``: it already was)."""

    TYPE: ClassVar[str] = "putok"
    rid: int
    ch: str
    sha256: str
    size: int
    media: str
    dup: bool


@dataclass(frozen=True, slots=True)
class Attachment(Frame):
    """An attachment's bytes; the receiver checks that they hash to ``sha256``."""

    TYPE: ClassVar[str] = "blob"
    rid: int
    ch: str
    sha256: str
    media: str
    data: bytes


@dataclass(frozen=True, slots=True)
class CheckpointResult(Frame):
    """A signed checkpoint: ``cp`` (its bytes), ``sig`` by the log key ``kid``; and, in a
    new epoch, the old epoch's last signed checkpoint it links (``prev_*``, else nil)."""

    TYPE: ClassVar[str] = "ckptok"
    rid: int
    ch: str
    cp: bytes
    sig: bytes
    kid: str
    prev_cp: bytes | None = None
    prev_sig: bytes | None = None
    prev_kid: str | None = None


@dataclass(frozen=True, slots=True)
class ProofPath:
    """The inclusion proof (audit path, RFC 9162 §2.1.3) of the alert at ``off``."""

    off: int
    path: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class Proof(Frame):
    """Proofs in the log of ``epoch`` at ``size`` leaves: an audit path per offset asked,
    and the consistency proof from the ``from`` size (None when none was asked)."""

    TYPE: ClassVar[str] = "proof"
    rid: int
    ch: str
    epoch: str
    size: int
    paths: tuple[ProofPath, ...]
    cons: tuple[bytes, ...] | None = None


@dataclass(frozen=True, slots=True)
class CrlResult(Frame):
    """The CA's CRL: ``crl`` its DER bytes exactly as the CA signed them, ``number`` its
    CRLNumber and ``next`` its nextUpdate (ms). Not trusted: the client verifies the
    signature against its CA certificate and the dates itself (PROTOCOL.md §6.10)."""

    TYPE: ClassVar[str] = "crlok"
    rid: int
    crl: bytes
    number: int
    next: int


@dataclass(frozen=True, slots=True)
class ErrorFrame(Frame):
    """A refused request (``rid``) or a connection-level error (``rid`` is nil)."""

    TYPE: ClassVar[str] = "err"
    rid: int | None
    code: int
    msg: str
    detail: str = ""


ServerFrame = (
    Welcome
    | Ack
    | Acks
    | Subscribed
    | AlertFrame
    | AlertBatch
    | Synced
    | Unsubscribed
    | Ended
    | HistoryPage
    | Directory
    | ChannelsResult
    | AdminResult
    | AttachmentStored
    | Attachment
    | CheckpointResult
    | Proof
    | CrlResult
    | ErrorFrame
)
