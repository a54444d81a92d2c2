"""The Cordon member SDK: publish signed alerts, follow channels, read history, verify senders.

::

    from client.sdk import Client

    async with Client("wss://hub.example:8443/", cert=CERT, key=KEY, ca=CA) as hub:
        ack = await hub.publish("stop-iii", "seizure", {"goods": [...]})
        async with hub.subscribe("stop-iii", since=0) as sub:
            async for alert in sub:
                if alert.verified:
                    store(alert.envelope)
                else:
                    quarantine(alert, alert.reason)

One :class:`Client` holds one mutual-TLS WebSocket connection, opened on
:meth:`Client.connect` (or the first call that needs it). The signing key is
the principal's own TLS key; the alert's ``kid`` is the key id of its own
certificate.

Reconnection (``reconnect=True``): when the connection drops for a reason that
allows it (1001, 1006, 1011, 4008, 4009, 4029, a network error ...), the next call
reopens it with exponential back-off, at most ``max_attempts`` tries. A
publish in flight is resent with the *same* signed bytes, so the hub answers
the original offset (``dup=True``) if the first attempt was stored. A
subscription resubscribes from the last alert it yielded with the epoch it was
given: no gap, no duplicate. Final refusals (4010 revoked, 4011 unknown
identity, 4002 / 4030 a misbehaving client, TLS alerts) raise
:class:`SessionRefused` and are never retried. A connection the hub ends during the
opening handshake without a word (how TLS 1.3 refuses a revoked or expired
certificate, and how a hub killed mid-handshake looks) is retried; when every try of
a (re)connection ends that way, :class:`SessionRefused` says the certificate may be
refused.

History changed (4012): when the hub's store lost alerts it had acknowledged or
delivered, the channel gets a new epoch and the hub closes its subscribers with
4012. A subscription resumes as after any loss, with its old epoch, and the hub
answers 412: iteration raises :class:`EpochMismatch` whose ``detail`` is the new
epoch, and the subscription ends. Offsets seen under the old epoch may name other
alerts under the new one: re-read the channel (``since=0`` with the new epoch)
rather than resume from a saved offset.

Errors: the hub's refusals are raised as the :mod:`hub.protocol.errors` class
of their code (``NoSuchChannel``, ``HistoryGone``, ``EpochMismatch`` ...);
the SDK's own connection errors derive from :class:`ClientError`.

Verification: :meth:`Client.subscribe` and :meth:`Client.history` verify every
alert against the CA (fetching signer certificates from the hub's directory,
cached). An alert that fails is *not* dropped: it is returned with
``verified=False`` and ``error`` saying why, so a consumer can quarantine it.

Sender chains (PROTOCOL.md §4): every alert this client signs carries its ``seq`` in
the channel and the hash of its previous alert there. The client learns where its
chain stands from the hub (a first publish in a channel that guesses wrong is
answered 426 with the expected ``seq``/``prev``, and re-signed once with them), and
refuses to go back below an alert the hub acknowledged to it. Readers check every
sender's chain: ``Received.chain`` is ``ok``, ``unchained``, or a break (``gap``,
``reorder``, ``duplicate``, ``fork``; ``Received.chain_broken``) — as serious as a
failed signature; ``subscribe(..., raise_on_chain_break=True)`` raises
:class:`ChainViolation` instead.

Signed checkpoints (PROTOCOL.md §6.9, Appendix C): :meth:`Client.checkpoint` fetches a
channel's latest hub-signed checkpoint and verifies it (log key certificate against the
CA, not on the CRL — the ``crl=`` file, else the CA's CRL the hub serves, which
:meth:`Client.crl` verifies against the CA (PROTOCOL.md §6.10) —, the cordon-log EKU; the
signature) before returning a
:class:`SignedCheckpoint`; it also checks it against the last checkpoint this client
verified for the channel (kept in ``checkpoint_state``), by a consistency proof:
:class:`LogInconsistent` when the hub showed a different or rewritten history,
:class:`CheckpointError` for anything that does not verify.
:meth:`Client.prove_inclusion` and :meth:`Client.prove_consistency` fetch proofs and
check them against the checkpoints this client verified.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from client._conn import PUB_CHUNK, Connection, make_tls_context, open_connection
from client._crl import CRLError, ForeignCRL, StaleCRL, crl_number, verify_crl
from client._log import (
    CheckpointError,
    LogInconsistent,
    SignedCheckpoint,
    check_consistent,
    read_checkpoint_state,
    verify_alert_inclusion,
    write_checkpoint_state,
)
from client._model import (
    ChainViolation,
    ClientClosed,
    ClientError,
    ConnectionLost,
    HandshakeCut,
    Page,
    ProtocolViolation,
    Published,
    Received,
    SessionRefused,
    SignedAlert,
    chain_state,
    new_alert_id,
)
from client._subscription import Subscription
from hub.protocol import ed25519, schema, trust
from hub.protocol import frames as f
from hub.protocol.attachments import check_attachment, digest, image_type
from hub.protocol.chain import ZERO_HASH, ChainTracker, parse_expected
from hub.protocol.checkpoint import checkpoint_hash, decode_checkpoint, verify_checkpoint
from hub.protocol.envelope import (
    KINDS,
    SIGN_CONTEXT,
    Envelope,
    alert_hash,
    decode_envelope,
    encode_envelope,
    key_id,
)
from hub.protocol.errors import (
    AlertIdConflict,
    AlertRejected,
    BadSignature,
    ChainBroken,
    CordonError,
    FrameTooLarge,
    InvalidAlert,
    InvalidFrame,
    RateLimited,
    Unavailable,
    error_for_code,
)
from hub.protocol.frames import ChannelInfo, Welcome
from hub.protocol.identity import Identity, check_alert_id, check_channel
from hub.protocol.limits import (
    CLOCK_SKEW_MS,
    DIRECTORY_MAX_KEYS,
    MAX_ALERT_BYTES,
    PROOF_MAX_OFFSETS,
)

__all__ = [
    "CRLError",
    "ChainViolation",
    "ChannelInfo",
    "CheckpointError",
    "Client",
    "ClientClosed",
    "ClientError",
    "ConnectionLost",
    "ForeignCRL",
    "LogInconsistent",
    "Page",
    "ProtocolViolation",
    "Published",
    "Received",
    "SessionRefused",
    "SignedAlert",
    "SignedCheckpoint",
    "StaleCRL",
    "Subscription",
    "Welcome",
    "check_chains",
    "load_credentials",
    "new_alert_id",
    "verify_alert_inclusion",
]

log = logging.getLogger("cordon.client")

_A = TypeVar("_A", bound=f.Frame)
#: Refusals worth retrying: nothing was stored, and resending is idempotent.
_TRANSIENT_REFUSALS = (Unavailable, RateLimited)
#: Re-signings of one publish whose chain the hub refused (426) before giving up.
_CHAIN_RESIGNS = 8
#: Verified checkpoints kept (by channel, epoch and size) to check proofs against.
_KNOWN_CHECKPOINTS = 1024
#: Longest a hub-served CRL is used for checkpoint checks before it is asked for again
#: (never past its nextUpdate, and asked again after every reconnection): a revoked log
#: key is refused within this long of the hub loading the new CRL.
CRL_RECHECK_S = 300.0


def load_credentials(
    cert: Path, key: Path
) -> tuple[x509.Certificate, bytes, Ed25519PrivateKey, Identity]:
    """Read a principal's certificate (PEM, first of the file) and Ed25519 key (PEM).

    Returns the certificate, its DER, the key and the identity it names.
    Raises ``ValueError`` if they do not belong together or name no identity.
    """
    certs = x509.load_pem_x509_certificates(Path(cert).read_bytes())
    own = certs[0]
    private = serialization.load_pem_private_key(Path(key).read_bytes(), password=None)
    if not isinstance(private, Ed25519PrivateKey):
        raise ValueError(f"{key}: not an Ed25519 private key")
    public = own.public_key()
    if not isinstance(public, Ed25519PublicKey) or (
        public.public_bytes_raw() != private.public_key().public_bytes_raw()
    ):
        raise ValueError(f"{key}: does not match the certificate {cert}")
    try:
        identity = trust.identity_from_certificate(own)
    except BadSignature as exc:
        raise ValueError(f"{cert}: {exc}") from exc
    return own, own.public_bytes(serialization.Encoding.DER), private, identity


class Client:
    """A connection to a Cordon hub as one principal. See the module docstring.

    :param url: ``wss://host:port/``
    :param cert: the principal's certificate (PEM); :param key: its Ed25519 key (PEM)
    :param ca: the hub's CA certificate(s) (PEM): trusts the hub, verifies senders
    :param server_hostname: name to check the hub's certificate against (default: URL host)
    :param reconnect: reconnect and resume after connection losses
    :param max_attempts: tries per (re)connection, and per request across losses
    :param connect_attempts: tries (with back-off) for the first connection only, when it
        should differ from ``max_attempts`` — e.g. 1 for a command-line tool that says at
        once when nothing answers yet reconnects patiently once connected; it applies
        with ``reconnect=False`` too (later losses are then not retried). Default:
        ``max_attempts`` (1 with ``reconnect=False``)
    :param backoff: first back-off delay (s), doubled per try up to ``max_backoff``
    :param request_timeout: seconds to wait for an answer
    :param max_queue: alerts buffered per subscription before it is treated as a
        slow consumer (the connection is reopened and every subscription resumes)
    :param chained: sign alerts with a sender chain (PROTOCOL.md §4); False signs
        unchained alerts (their withholding cannot be detected)
    :param chain_heads: per channel, the ``(seq, hash)`` of this principal's last alert
        acknowledged there, as :attr:`chain_heads` gave it before a restart: the client
        then refuses a hub that has forgotten it (see :meth:`publish`)
    :param crl: the CA's CRL (PEM or DER), re-read at each check: a revoked log key's
        checkpoints are refused. Without it the SDK uses the CRL the hub serves
        (:meth:`crl`, verified against ``ca``; asked again after :data:`CRL_RECHECK_S`,
        its nextUpdate or a reconnection)
    :param checkpoint_state: a JSON file (0600) where the last verified checkpoint of
        each channel is kept, so the next one is checked against it after a restart
    :param pub_chunk: of many publishes started at once, at most this many are signed
        before they are sent (as one ``pubs``); the next ones are signed while those are
        on their way (default 128; ``max_pub_items`` or more: sign all, then send)
    """

    def __init__(
        self,
        url: str,
        *,
        cert: Path,
        key: Path,
        ca: Path,
        server_hostname: str | None = None,
        reconnect: bool = True,
        max_attempts: int = 8,
        connect_attempts: int | None = None,
        backoff: float = 0.2,
        max_backoff: float = 10.0,
        open_timeout: float = 10.0,
        request_timeout: float = 30.0,
        max_queue: int = 4096,
        chained: bool = True,
        chain_heads: Mapping[str, tuple[int, bytes]] | None = None,
        crl: Path | None = None,
        checkpoint_state: Path | None = None,
        pub_chunk: int = PUB_CHUNK,
    ) -> None:
        if max_attempts < 1 or max_queue < 1 or pub_chunk < 1 or (
            connect_attempts is not None and connect_attempts < 1
        ):
            raise ValueError("max_attempts, connect_attempts, max_queue and pub_chunk must "
                             "be at least 1")
        self._pub_chunk = pub_chunk
        self.url = url
        self._cert, self._cert_der, self._key, self.identity = load_credentials(cert, key)
        self.kid = key_id(self._cert_der)
        #: The same key for libsodium, which signs a 1 KiB alert in ~17 µs against
        #: OpenSSL's ~22 (Ed25519 is deterministic: the same signature either way).
        self._sign_key = ed25519.signing_key(self._key)
        self._cas = x509.load_pem_x509_certificates(Path(ca).read_bytes())
        self._ssl = make_tls_context(cert=Path(cert), key=Path(key), ca=Path(ca))
        self._server_hostname = server_hostname
        self._reconnect = reconnect
        self._max_attempts = max_attempts
        self._connect_attempts = connect_attempts
        self._connected_once = False
        self._backoff_base = backoff
        self._max_backoff = max_backoff
        self._open_timeout = open_timeout
        self._request_timeout = request_timeout
        self._max_queue = max_queue
        self._conn: Connection | None = None
        self._lock = asyncio.Lock()
        self._rids = itertools.count(1)
        self._closed = False
        self._subs: dict[str, Subscription] = {}
        self._certs: dict[str, bytes] = {self.kid: self._cert_der}
        self.welcome: Welcome | None = None
        self._chained = chained
        #: channel -> (seq, hash) of the last alert signed there (advanced by sign()).
        self._chains: dict[str, tuple[int, bytes]] = dict(chain_heads or {})
        #: channel -> how many times a 426 reset the chain (pipelined publishes re-sign
        #: on top of a newer reset instead of going back to their stale answer).
        self._resyncs: dict[str, int] = {}
        #: channel -> (seq, hash) of the last alert the hub acknowledged to this client.
        self._acked: dict[str, tuple[int, bytes]] = dict(chain_heads or {})
        #: channel -> the last checkpoint verified (what the next one is checked against).
        self._checkpoints: dict[str, SignedCheckpoint] = {}
        #: (channel, epoch, size) -> a checkpoint verified (proofs are checked against it).
        self._known: dict[tuple[str, str, int], SignedCheckpoint] = {}
        self._crl_path: Path | None = None
        #: The last CRL the hub served that verified: (CRL, time.monotonic() when fetched,
        #: the welcome of the connection it came on).
        self._hub_crl: tuple[x509.CertificateRevocationList, float, Welcome | None] | None = None
        self._checkpoint_state: Path | None = None
        self.configure_checkpoints(crl=crl, checkpoint_state=checkpoint_state)

    def __repr__(self) -> str:
        return f"<Client {self.identity.principal} {self.url}>"

    @property
    def chain_heads(self) -> dict[str, tuple[int, bytes]]:
        """Per channel, ``(seq, hash)`` of this principal's last acknowledged alert: keep
        it across restarts (``Client(chain_heads=...)``) to detect a hub rewinding it."""
        return dict(self._acked)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def connected(self) -> bool:
        return self._conn is not None and self._conn.is_open

    # --- lifecycle -------------------------------------------------------------
    async def connect(self) -> Welcome:
        """Open the connection (if not open) and return the hub's ``welcome``."""
        conn = await self._connection(force=True)
        return conn.welcome

    async def close(self) -> None:
        """Close the connection; subscriptions end, pending calls raise :class:`ClientClosed`."""
        self._closed = True
        for sub in list(self._subs.values()):
            sub._detach()
        conn, self._conn = self._conn, None
        if conn is not None and conn.is_open:
            await conn.close(1000, "client closing")

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    # --- publishing -------------------------------------------------------------
    def sign(
        self,
        channel: str,
        kind: str,
        body: Mapping[str, Any],
        *,
        alert_id: str | None = None,
        ts_ms: int | None = None,
    ) -> SignedAlert:
        """Build, encode and sign an alert envelope (no I/O).

        A chained client (the default) gives it the next ``seq`` of its chain in the
        channel and the hash of the alert it signed before there, and advances the
        chain: publish signed alerts in the order they were signed. An alert signed and
        then refused or never sent makes those signed after it answer 426 when sent as
        they are (:meth:`publish_signed`); :meth:`publish` re-signs them.

        Raises :class:`InvalidAlert` (bad kind, id or channel), :class:`SchemaError`
        (the body does not follow its kind's schema, see :mod:`hub.protocol.schema`;
        ``problems`` names every bad field) or :class:`FrameTooLarge` (over the
        alert size limit) before anything is sent.
        Signing the same arguments (including ``alert_id`` and ``ts_ms``) at the same
        chain position gives the same bytes; :meth:`publish` answers a re-run after a
        crash ``dup`` even when the chain position differs.
        """
        try:
            ch = check_channel(channel)
            aid = new_alert_id() if alert_id is None else check_alert_id(alert_id)
        except InvalidFrame as exc:
            raise InvalidAlert(exc.detail) from exc
        if kind not in KINDS:
            raise InvalidAlert(f"unknown alert kind {kind!r}")
        seq: int | None = None
        prev: bytes | None = None
        if self._chained:
            last, prev = self._chains.get(ch, (0, ZERO_HASH))
            seq = last + 1
        envelope = Envelope(
            id=aid,
            channel=ch,
            sender=self.identity.principal,
            kid=self.kid,
            ts=time.time_ns() // 1_000_000 if ts_ms is None else ts_ms,
            kind=kind,
            body=dict(body),
            seq=seq,
            prev=prev,
        )
        try:
            alert = encode_envelope(envelope)
        except (TypeError, ValueError, OverflowError) as exc:
            raise InvalidAlert("body cannot be encoded") from exc
        if len(alert) > MAX_ALERT_BYTES:
            raise FrameTooLarge(f"alert is {len(alert)} bytes, over {MAX_ALERT_BYTES}")
        checked = decode_envelope(alert)  # what the hub and recipients will see
        schema.validate(kind, checked.body)
        if seq is not None:
            self._chains[ch] = (seq, alert_hash(alert))
        sig = ed25519.sign(self._sign_key, SIGN_CONTEXT + alert)
        return SignedAlert(envelope=checked, alert=alert, sig=sig)

    async def publish(
        self,
        channel: str,
        kind: str,
        body: Mapping[str, Any],
        *,
        alert_id: str | None = None,
        ts_ms: int | None = None,
    ) -> Published:
        """Sign and publish one alert; return once the hub says it is durable.

        ``alert_id`` defaults to a new ULID. The alert is signed once; on a
        connection loss, 503 or 429 the same bytes are resent (bounded, with
        back-off). Other refusals raise their :mod:`hub.protocol.errors` class.

        Sender chain: a 426 (the chain does not continue the hub's record of it: first
        publish in the channel from this process, or another process of the principal
        published meanwhile) re-signs the alert with the ``seq``/``prev`` the hub
        expects, at most a few times — unless that would go back below an alert the hub
        acknowledged to this client: then :class:`ChainBroken` is raised (the hub lost
        or dropped it). Publishing an id again with the same kind, body and ``ts_ms``
        after it was stored under another ``seq`` (a re-run after a crash) answers its
        original offset with ``dup=True``, as an unchained re-run would.
        """
        conn = self._conn
        if conn is not None:
            # Many publishes at once: sign at most pub_chunk before those are sent, so
            # they travel and are committed while the next ones are signed (_conn).
            await conn.publish_turn(within=self._request_timeout)
        # Nothing awaited from here until the publish is queued (unless the connection
        # must be opened): alerts are queued in the order they are signed.
        signed = self.sign(channel, kind, body, alert_id=alert_id, ts_ms=ts_ms)
        ch = signed.envelope.channel
        for attempt in range(_CHAIN_RESIGNS + 1):
            # Acked before this attempt is sent: stored before the hub sees it, so its 426
            # can never expect less (an ack arriving later may answer a later publish).
            acked = self._acked.get(ch)
            resyncs = self._resyncs.get(ch, 0)
            try:
                published = await self._publish_signed(ch, signed.alert, signed.sig,
                                                        signed.envelope.id)
            except ChainBroken as exc:
                expected = parse_expected(exc.detail)
                if signed.envelope.seq is None or expected is None or attempt == _CHAIN_RESIGNS:
                    self._chains.pop(ch, None)
                    raise
                if acked is not None and expected[0] - 1 < acked[0]:
                    self._chains.pop(ch, None)
                    raise ChainBroken(
                        f"the hub expects seq {expected[0]}, but acknowledged our alert"
                        f" {acked[0]} in {ch}: it lost or dropped our alerts"
                    ) from exc
                if self._resyncs.get(ch, 0) == resyncs:
                    # Nobody re-signed on a newer answer since this attempt was sent:
                    # continue from where the hub says the chain stands. (Otherwise the
                    # alerts re-signed since come first: chain on after them.)
                    self._chains[ch] = (expected[0] - 1, expected[1])
                    self._resyncs[ch] = resyncs + 1
                signed = self.sign(ch, kind, body, alert_id=signed.envelope.id,
                                   ts_ms=signed.envelope.ts)
                continue
            except AlertIdConflict as exc:
                self._chains.pop(ch, None)
                original = await self._same_alert(ch, signed.envelope, exc)
                if original is None:
                    raise
                return original
            except CordonError:
                self._chains.pop(ch, None)  # unknown now: the hub says where it stands
                raise
            seq = signed.envelope.seq
            if seq is not None and not published.dup:
                last = self._acked.get(ch)
                if last is None or last[0] < seq:
                    self._acked[ch] = (seq, alert_hash(signed.alert))
            return published
        raise AssertionError("unreachable")  # pragma: no cover

    async def _same_alert(self, channel: str, envelope: Envelope,
                          exc: AlertIdConflict) -> Published | None:
        """After a 409: the stored alert with this id, as a dup, if it says what ours says
        (same sender, kind, body and ``ts``; only ``seq``/``prev`` differ)."""
        if envelope.seq is None:
            return None
        words = exc.detail.rsplit(" ", 1)
        if len(words) != 2 or not words[1].isdigit():
            return None
        offset = int(words[1])
        page = await self.history(channel, before=offset + 1, limit=1, verify=False)
        if not page.items or page.items[-1].offset != offset:
            return None
        stored = page.items[-1].envelope
        if stored is None or (stored.id, stored.sender, stored.kind, stored.ts,
                              dict(stored.body)) != (envelope.id, envelope.sender,
                                                     envelope.kind, envelope.ts,
                                                     dict(envelope.body)):
            return None
        return Published(channel=channel, alert_id=envelope.id, offset=offset,
                         epoch=page.epoch, dup=True)

    async def publish_signed(self, channel: str, alert: bytes, sig: bytes) -> Published:
        """Publish already signed bytes as they are (no local checks; for tests and relays)."""
        try:
            alert_id: str = decode_envelope(alert).id
        except InvalidAlert:
            alert_id = ""
        return await self._publish_signed(channel, alert, sig, alert_id)

    async def _publish_signed(self, channel: str, alert: bytes, sig: bytes,
                              alert_id: str) -> Published:
        answer = await self._request(
            lambda rid: f.Publish(rid=rid, ch=channel, alert=alert, sig=sig),
            f.Ack,
            retry_refusals=True,
        )
        return Published(
            channel=answer.ch,
            alert_id=alert_id,
            offset=answer.off,
            epoch=answer.epoch,
            dup=answer.dup,
        )

    # --- attachments ----------------------------------------------------------------
    async def put_attachment(
        self, channel: str, data: bytes, *, media: str | None = None
    ) -> dict[str, Any]:
        """Upload a photo (JPEG or PNG, judged by its bytes) to a channel, before the alert
        that references it; return the reference to put in the alert's ``attachments``:
        ``{"sha256", "size", "media"}``. Uploading the same bytes again is harmless."""
        ch = check_channel(channel)
        kind = image_type(data) if media is None else media
        sha256 = check_attachment(data, kind)
        answer = await self._request(
            lambda rid: f.AttachmentUpload(rid=rid, ch=ch, media=kind, data=data, sha256=sha256),
            f.AttachmentStored,
            retry_refusals=True,
        )
        return {"sha256": answer.sha256, "size": answer.size, "media": answer.media}

    async def get_attachment(self, channel: str, sha256: str) -> tuple[str, bytes]:
        """Fetch a channel's attachment by digest: ``(media type, bytes)``. Raises
        :class:`NotFound` if the channel has none, :class:`ProtocolViolation` if the
        bytes the hub sent do not hash to ``sha256``."""
        ch = check_channel(channel)
        answer = await self._request(
            lambda rid: f.AttachmentRequest(rid=rid, ch=ch, sha256=sha256), f.Attachment
        )
        if digest(answer.data) != sha256:
            raise ProtocolViolation("attachment bytes do not match their SHA-256")
        return answer.media, answer.data

    # --- reading -------------------------------------------------------------------
    def subscribe(
        self,
        channel: str,
        *,
        since: int | None = None,
        epoch: str | None = None,
        verify: bool = True,
        on_synced: Callable[[Subscription], None] | None = None,
        raise_on_chain_break: bool = False,
    ) -> Subscription:
        """Follow a channel: alerts after offset ``since``, then live ones.

        ``since=None``: live only, from the current head; ``since=0``: the whole
        retained history. Pass the ``epoch`` saved with the offset when
        resuming: if the channel was re-created the hub refuses with
        :class:`EpochMismatch` (412) instead of delivering another channel's
        offsets. :class:`HistoryGone` (410) when history no longer covers
        ``since``. The subscription starts on first iteration; use it as
        ``async with client.subscribe(...) as sub: async for alert in sub: ...``
        so it is closed when you stop. One subscription per channel per client.

        Every sender's chain is checked over what the subscription yields (from the
        first alert when ``since=0`` and nothing was trimmed; else from the first alert
        of each sender it sees): ``Received.chain``. With ``raise_on_chain_break`` a
        break raises :class:`ChainViolation` (holding the alert) instead of yielding it.
        """
        ch = check_channel(channel)
        if since is not None and since < 0:
            raise ValueError("since must be >= 0")
        existing = self._subs.get(ch)
        if existing is not None and not existing.closed:
            raise ClientError(f"already subscribed to {ch} on this client; close it first")
        sub = Subscription(
            self,
            ch,
            since=since,
            epoch=epoch,
            verify=verify,
            on_synced=on_synced,
            max_queue=self._max_queue,
            raise_on_chain_break=raise_on_chain_break,
        )
        self._subs[ch] = sub
        return sub

    async def history(
        self,
        channel: str,
        *,
        before: int | None = None,
        limit: int = 100,
        verify: bool = True,
    ) -> Page:
        """Up to ``limit`` alerts with offset < ``before`` (the newest when None), ascending.

        Sender chains are checked within the page (from each sender's first alert in it;
        from ``seq`` 1 when the page starts at offset 1). To check a whole history read
        in several pages, pass all their items, in offset order, to :func:`check_chains`.
        """
        ch = check_channel(channel)
        answer = await self._request(
            lambda rid: f.HistoryRequest(rid=rid, ch=ch, before=before, limit=limit),
            f.HistoryPage,
        )
        if verify:
            await self._fetch_certs(_kids_of(item.alert for item in answer.items))
        items = [
            await self._receive(ch, item.off, item.alert, item.sig, verify=verify)
            for item in answer.items
        ]
        return Page(channel=ch, epoch=answer.epoch, items=check_chains(items), more=answer.more)

    async def channels(self) -> list[ChannelInfo]:
        """The channels this principal may see, with its role in each."""
        answer = await self._request(lambda rid: f.ChannelsRequest(rid=rid), f.ChannelsResult)
        return list(answer.chans)

    async def directory(self, kids: Iterable[str]) -> dict[str, bytes]:
        """Certificates (DER) by key id; unknown ones are absent."""
        wanted = list(dict.fromkeys(kids))
        await self._fetch_certs(wanted)
        return {kid: self._certs[kid] for kid in wanted if kid in self._certs}

    async def admin(self, op: str, args: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Run an administrative operation (admin certificates only)."""
        answer = await self._request(
            lambda rid: f.AdminRequest(rid=rid, op=op, args=dict(args or {})), f.AdminResult
        )
        return answer.result

    # --- the CA's CRL (PROTOCOL.md §6.10) ---------------------------------------------
    async def crl(self) -> x509.CertificateRevocationList:
        """The CA's CRL as the hub enforces it, asked for now and verified against this
        client's CA: issuer and signature (:class:`ForeignCRL` if not the CA's), before
        its nextUpdate (:class:`StaleCRL`), the frame's fields those of its bytes, not
        older than one verified before (:class:`CRLError`). The DER the CA signed is
        ``crl.public_bytes(Encoding.DER)``. It replaces the CRL held for checkpoint
        checks (when the client was not given ``crl=``)."""
        answer = await self._request(lambda rid: f.CrlRequest(rid=rid), f.CrlResult)
        held = self._hub_crl
        crl = verify_crl(answer.crl, self._cas, now_ms=time.time_ns() // 1_000_000,
                         number=answer.number, next_ms=answer.next,
                         at_least=0 if held is None else crl_number(held[0]) or 0)
        self._hub_crl = (crl, time.monotonic(), self.welcome)
        return crl

    def _held_crl(self) -> x509.CertificateRevocationList | None:
        """The CRL checkpoint checks use without asking the hub: ``crl=``'s file, else the
        hub's last verified one while fresh (see :data:`CRL_RECHECK_S`), else None."""
        if self._crl_path is not None:
            data = self._crl_path.read_bytes()
            return (x509.load_pem_x509_crl(data) if b"-----BEGIN" in data
                    else x509.load_der_x509_crl(data))
        held = self._hub_crl
        if held is None:
            return None
        crl, fetched, welcome = held
        nxt = crl.next_update_utc
        if (welcome is not self.welcome or time.monotonic() - fetched > CRL_RECHECK_S
                or nxt is None or nxt.timestamp() <= time.time()):
            return None
        return crl

    async def _checkpoint_crl(self, ch: str) -> x509.CertificateRevocationList:
        """The CRL to check a log key against: held (:meth:`_held_crl`), else the hub's.
        A hub that serves none (or an old one that does not know the frame) gives
        :class:`CRLError`: revocation is never skipped silently."""
        try:
            crl = self._held_crl()
        except (OSError, ValueError) as exc:
            raise CheckpointError(ch, f"cannot read the CRL {self._crl_path}: {exc}"
                                  ) from exc
        if crl is not None:
            return crl
        try:
            return await self.crl()
        except CordonError as exc:
            raise CRLError(f"the hub serves no CRL ({exc.code} {exc.phrase}): give the "
                           "CA's CRL file (crl=)") from exc

    # --- signed checkpoints (PROTOCOL.md §6.9, Appendix C) ----------------------------
    def configure_checkpoints(self, *, crl: Path | None = None,
                              checkpoint_state: Path | None = None) -> None:
        """Set the CRL and the checkpoint state file (as the constructor's options); the
        state file's checkpoints are read and verified now (:class:`ClientError` if it
        is unreadable or holds one that does not verify)."""
        self._crl_path = None if crl is None else Path(crl)
        self._checkpoint_state = None if checkpoint_state is None else Path(checkpoint_state)
        if self._checkpoint_state is None:
            return
        for ch, saved in read_checkpoint_state(self._checkpoint_state).items():
            try:
                signed = self._verify_checkpoint(
                    ch, bytes.fromhex(saved["cp"]), bytes.fromhex(saved["sig"]),
                    saved["kid"], bytes.fromhex(saved["cert"]))
            except (ValueError, CheckpointError) as exc:
                raise ClientError(f"checkpoint state {self._checkpoint_state}: {exc}"
                                  ) from exc
            self._remember(ch, signed)

    def verify_saved_checkpoint(self, channel: str, saved: Mapping[str, str]
                                ) -> SignedCheckpoint:
        """Verify a checkpoint saved as :meth:`SignedCheckpoint.to_json` (a peer's file):
        log key certificate, signature, channel. :class:`CheckpointError` if it fails."""
        try:
            return self._verify_checkpoint(
                channel, bytes.fromhex(saved["cp"]), bytes.fromhex(saved["sig"]),
                saved["kid"], bytes.fromhex(saved["cert"]))
        except (KeyError, ValueError, TypeError) as exc:
            raise CheckpointError(channel, "not a saved signed checkpoint") from exc

    @property
    def checkpoints(self) -> dict[str, SignedCheckpoint]:
        """The last checkpoint verified per channel."""
        return dict(self._checkpoints)

    def forget_checkpoint(self, channel: str) -> None:
        """Stop checking ``channel``'s next checkpoint against the one held (after an
        investigated :class:`LogInconsistent`, e.g. a declared store loss)."""
        self._checkpoints.pop(channel, None)
        self._save_checkpoints()

    async def checkpoint(self, channel: str) -> SignedCheckpoint:
        """The channel's latest hub-signed checkpoint, verified (log key certificate,
        signature, channel) and checked against the last one this client verified for
        the channel (a consistency proof when the size grew; across an epoch change,
        the signed link to the old epoch's last checkpoint).

        Raises :class:`CheckpointError` if it does not verify, :class:`LogInconsistent`
        if it contradicts a checkpoint verified before."""
        ch = check_channel(channel)
        answer = await self._request(lambda rid: f.CheckpointRequest(rid=rid, ch=ch),
                                     f.CheckpointResult)
        link: SignedCheckpoint | None = None
        if answer.prev_cp is not None:
            if answer.prev_sig is None or answer.prev_kid is None:
                raise CheckpointError(ch, "epoch link served without its signature")
            link = await self._fetch_verified(ch, answer.prev_cp, answer.prev_sig,
                                              answer.prev_kid)
        signed = await self._fetch_verified(ch, answer.cp, answer.sig, answer.kid, link=link)
        cp = signed.checkpoint
        if link is not None and (cp.prev != checkpoint_hash(link.data)
                                 or cp.prev_epoch != link.checkpoint.epoch):
            raise LogInconsistent(ch, "the epoch link does not name the checkpoint served "
                                  "with it", new=signed)
        old = self._checkpoints.get(ch)
        if old is not None:
            await self._check_against(ch, old, signed)
        if old is None or old.checkpoint.epoch != cp.epoch or old.checkpoint.size <= cp.size:
            self._remember(ch, signed)
            self._save_checkpoints()
        return signed

    async def prove_inclusion(
        self, channel: str, epoch: str, size: int, offsets: Iterable[int], *,
        alerts: Mapping[int, bytes] | None = None,
    ) -> dict[int, list[bytes]]:
        """Inclusion proofs (audit paths) of the alerts at ``offsets`` in the log of
        ``epoch`` at ``size`` leaves (at most 64 offsets a request; more are asked in
        several). When this client holds a verified checkpoint of that size and
        ``alerts`` gives an offset's exact bytes, its proof is verified against it
        (:class:`CheckpointError` if it does not verify)."""
        ch = check_channel(channel)
        wanted = list(dict.fromkeys(offsets))
        out: dict[int, list[bytes]] = {}
        for start in range(0, max(len(wanted), 1), PROOF_MAX_OFFSETS):
            chunk = tuple(wanted[start:start + PROOF_MAX_OFFSETS])
            answer = await self._prove(ch, epoch, size, chunk, None)
            paths = {p.off: list(p.path) for p in answer.paths}
            if set(paths) != set(chunk):
                raise CheckpointError(ch, "the hub did not prove the offsets asked")
            out.update(paths)
        held = self._known.get((ch, epoch, size))
        if held is not None and alerts:
            for off, alert in alerts.items():
                if off in out and not verify_alert_inclusion(held.checkpoint, off, alert,
                                                             out[off]):
                    raise CheckpointError(ch, f"the alert at offset {off} is not in the log "
                                          f"the hub signed at size {size}")
        return out

    async def prove_consistency(self, channel: str, epoch: str, old_size: int,
                                new_size: int) -> list[bytes]:
        """The consistency proof from ``old_size`` to ``new_size`` in the log of ``epoch``;
        verified when this client holds verified checkpoints of both sizes
        (:class:`LogInconsistent` if it does not verify)."""
        ch = check_channel(channel)
        answer = await self._prove(ch, epoch, new_size, (), old_size)
        if answer.cons is None:
            raise CheckpointError(ch, "the hub sent no consistency proof")
        proof = list(answer.cons)
        old = self._known.get((ch, epoch, old_size))
        new = self._known.get((ch, epoch, new_size))
        if old is not None and new is not None:
            check_consistent(ch, old, new, proof)
        return proof

    async def _prove(self, ch: str, epoch: str, size: int, offs: tuple[int, ...],
                     from_size: int | None) -> f.Proof:
        answer = await self._request(
            lambda rid: f.ProofRequest(rid=rid, ch=ch, epoch=epoch, size=size, offs=offs,
                                       from_size=from_size), f.Proof)
        if (answer.ch, answer.epoch, answer.size) != (ch, epoch, size):
            raise CheckpointError(ch, "the proof is for another log or size")
        return answer

    async def _check_against(self, ch: str, old: SignedCheckpoint,
                             new: SignedCheckpoint) -> None:
        o, n = old.checkpoint, new.checkpoint
        if o.epoch == n.epoch:
            proof = None
            if o.size < n.size:
                proof = await self.prove_consistency(ch, n.epoch, o.size, n.size)
            elif o.size > n.size:
                # An older checkpoint than one held (the hub's store lost its latest, e.g. a
                # crash before its write was fsynced): the hub proves only up to its latest
                # signed size; the held one stays, and is checked when the log passes it.
                try:
                    proof = await self.prove_consistency(ch, n.epoch, n.size, o.size)
                except InvalidFrame:
                    log.warning("%s: the hub served checkpoint size %d, older than the %d "
                                "this client verified; keeping ours", ch, n.size, o.size)
                    return
            check_consistent(ch, old, new, proof)
            return
        link = new.link
        if link is None or link.checkpoint.epoch != o.epoch:
            raise LogInconsistent(ch, f"the channel's log moved from epoch {o.epoch} to "
                                  f"{n.epoch} without a signed link to the old one",
                                  old=old, new=new)
        lk = link.checkpoint
        if lk.size < o.size or (lk.size == o.size and lk.root != o.root):
            raise LogInconsistent(ch, f"epoch {o.epoch} ended (signed) at size {lk.size}, "
                                  f"not after the size {o.size} this client verified: "
                                  "history shown before was dropped", old=old, new=new)

    async def _fetch_verified(self, ch: str, data: bytes, sig: bytes, kid: str, *,
                              link: SignedCheckpoint | None = None) -> SignedCheckpoint:
        await self._fetch_certs([kid])
        der = self._certs.get(kid)
        if der is None:
            raise CheckpointError(ch, "the log key's certificate is unknown to the hub")
        crl = await self._checkpoint_crl(ch)
        return self._verify_checkpoint(ch, data, sig, kid, der, link=link, crl=crl)

    def _verify_checkpoint(self, ch: str, data: bytes, sig: bytes, kid: str, der: bytes, *,
                           link: SignedCheckpoint | None = None,
                           crl: x509.CertificateRevocationList | None = None
                           ) -> SignedCheckpoint:
        """Check a checkpoint and its log key: CA, validity at its time, the cordon-log
        EKU, the CRL (``crl``, else the one held: ``crl=``'s file or the hub's while
        fresh), the signature, the channel."""
        try:
            if key_id(der) != kid:
                raise BadSignature("certificate does not match the key id")
            cert = x509.load_der_x509_certificate(der)
            if crl is None:
                crl = self._held_crl()
            at_ms = decode_checkpoint(data).time
            _hub, public = trust.verify_log_certificate(cert, self._ca_for(der), at_ms=at_ms,
                                                        crl=crl)
            cp = verify_checkpoint(public, data, sig)
        except (AlertRejected, ValueError, OSError) as exc:
            raise CheckpointError(ch, str(exc)) from exc
        if cp.channel != ch:
            raise CheckpointError(ch, f"checkpoint of another channel ({cp.channel})")
        return SignedCheckpoint(checkpoint=cp, data=data, sig=sig, kid=kid, cert_der=der,
                                link=link)

    def _remember(self, ch: str, signed: SignedCheckpoint) -> None:
        self._checkpoints[ch] = signed
        cp = signed.checkpoint
        self._known[(ch, cp.epoch, cp.size)] = signed
        if len(self._known) > _KNOWN_CHECKPOINTS:
            del self._known[next(iter(self._known))]

    def _save_checkpoints(self) -> None:
        if self._checkpoint_state is not None:
            write_checkpoint_state(self._checkpoint_state, self._checkpoints)

    async def verify(self, channel: str, offset: int, alert: bytes, sig: bytes) -> Received:
        """Verify any alert's bytes as if received on ``channel`` at ``offset``."""
        return await self._receive(channel, offset, alert, sig, verify=True)

    # --- internals -------------------------------------------------------------------
    def _next_rid(self) -> int:
        return next(self._rids)

    def _backoff(self, attempt: int) -> float:
        delay = min(self._max_backoff, self._backoff_base * float(2 ** max(0, attempt - 1)))
        return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography

    async def _connection(self, *, force: bool = False) -> Connection:
        if self._closed:
            raise ClientClosed()
        conn = self._conn
        if conn is not None and conn.is_open:
            return conn
        async with self._lock:
            if self._closed:
                raise ClientClosed()
            conn = self._conn
            if conn is not None and conn.is_open:
                return conn
            if (
                conn is not None
                and conn.error is not None
                and not force
                and (isinstance(conn.error, SessionRefused) or not self._reconnect)
            ):
                raise conn.error
            self._conn = await self._open()
            return self._conn

    async def _open(self) -> Connection:
        attempts = self._max_attempts if self._reconnect else 1
        if not self._connected_once and self._connect_attempts is not None:
            attempts = self._connect_attempts
        last: ConnectionLost | None = None
        cut = 0  # tries the hub ended during the handshake without a word
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self._backoff(attempt))
            if self._closed:
                raise ClientClosed()
            try:
                conn = await open_connection(
                    self.url,
                    ssl_context=self._ssl,
                    server_hostname=self._server_hostname,
                    open_timeout=self._open_timeout,
                    pub_chunk=self._pub_chunk,
                )
            except SessionRefused:
                raise
            except ConnectionLost as exc:
                log.info(
                    "connecting to %s failed (try %d/%d): %s", self.url, attempt + 1, attempts, exc
                )
                cut += isinstance(exc, HandshakeCut)
                last = exc
                continue
            if conn.welcome.principal != self.identity.principal:
                log.warning(
                    "hub identifies us as %s, certificate names %s",
                    conn.welcome.principal,
                    self.identity.principal,
                )
            _check_clock(conn.welcome)
            self.welcome = conn.welcome
            self._connected_once = True
            return conn
        assert last is not None
        if isinstance(last, HandshakeCut) and cut == attempts:
            raise SessionRefused(last.reason)  # every try: a refusal, not a restart
        raise last

    async def _request(
        self,
        build: Callable[[int], f.ClientFrame],
        answer_type: type[_A],
        *,
        retry_refusals: bool = False,
    ) -> _A:
        """Send a request built for a fresh rid; retry it (same content) after losses."""
        attempt = 0
        while True:
            attempt += 1
            conn = await self._connection()
            try:
                answer = await conn.request(
                    build(self._next_rid()), answer_within=self._request_timeout
                )
            except ConnectionLost as exc:
                if self._closed:
                    raise ClientClosed() from exc
                if (
                    isinstance(exc, SessionRefused)
                    or not self._reconnect
                    or attempt >= self._max_attempts
                ):
                    raise
                log.info("connection lost (%s); retrying request", exc)
                await asyncio.sleep(self._backoff(attempt))
                continue
            if isinstance(answer, f.ErrorFrame):
                error = error_for_code(answer.code, answer.detail or answer.msg)
                if (
                    retry_refusals
                    and isinstance(error, _TRANSIENT_REFUSALS)
                    and attempt < self._max_attempts
                ):
                    await asyncio.sleep(self._backoff(attempt))
                    continue
                raise error
            if not isinstance(answer, answer_type):
                raise ProtocolViolation(
                    f"expected {answer_type.TYPE!r}, hub answered {answer.TYPE!r}"
                )
            return answer

    async def _fetch_certs(self, kids: Iterable[str]) -> None:
        missing = [kid for kid in dict.fromkeys(kids) if kid not in self._certs]
        for start in range(0, len(missing), DIRECTORY_MAX_KEYS):
            chunk = tuple(missing[start : start + DIRECTORY_MAX_KEYS])
            answer = await self._request(_directory_request(chunk), f.Directory)
            for kid, der in answer.certs.items():
                if kid in chunk and key_id(der) == kid:
                    self._certs[kid] = der

    def _ca_for(self, cert_der: bytes) -> x509.Certificate:
        if len(self._cas) > 1:
            try:
                issuer = x509.load_der_x509_certificate(cert_der).issuer
            except ValueError:
                return self._cas[0]
            for ca in self._cas:
                if ca.subject == issuer:
                    return ca
        return self._cas[0]

    async def _receive(
        self, channel: str, offset: int, alert: bytes, sig: bytes, *, verify: bool,
        upcoming: Callable[[], Iterable[bytes]] | None = None,
    ) -> Received:
        """Decode and (``verify``) check one alert. A signer certificate not cached yet
        is fetched from the directory, with those of the ``upcoming`` alerts (one request)."""
        try:
            envelope = decode_envelope(alert)
        except InvalidAlert as exc:
            return Received(channel, offset, None, alert, sig, verified=False, error=exc)
        if not verify:
            return Received(channel, offset, envelope, alert, sig, verified=False)
        if envelope.kid not in self._certs:
            more = _kids_of(upcoming()) if upcoming is not None else []
            await self._fetch_certs([envelope.kid, *more])
        der = self._certs.get(envelope.kid)
        if der is None:
            error: CordonError = BadSignature("signing certificate unknown to the hub")
            return Received(channel, offset, envelope, alert, sig, verified=False, error=error)
        try:
            trust.verify_signed_alert(alert, sig, der, self._ca_for(der), channel=channel)
        except AlertRejected as exc:
            return Received(channel, offset, envelope, alert, sig, verified=False, error=exc)
        return Received(channel, offset, envelope, alert, sig, verified=True)


def check_chains(items: Iterable[Received], *, complete: bool | None = None,
                 tracker: ChainTracker | None = None) -> list[Received]:
    """``items`` (one channel, in offset order) with each verified alert's sender-chain
    state set (``Received.chain``). ``complete``: the items start at the channel's first
    alert (default: the first item is at offset 1). Pass a ``tracker`` to continue over
    several calls."""
    out = list(items)
    if tracker is None:
        tracker = ChainTracker(complete=bool(out and out[0].offset == 1)
                               if complete is None else complete)
    for n, item in enumerate(out):
        out[n] = chain_state(tracker, item)
    return out


def _check_clock(welcome: Welcome) -> None:
    """Warn when this machine's clock is far enough from the hub's to get alerts refused."""
    skew = time.time_ns() // 1_000_000 - welcome.time
    allowed = welcome.limits.get("clock_skew_ms", CLOCK_SKEW_MS)
    if abs(skew) > allowed // 2:
        log.warning(
            "this machine's clock is %.1f s %s the hub's; alerts signed more than %.0f s "
            "from the hub's time are refused (425)",
            abs(skew) / 1000,
            "ahead of" if skew > 0 else "behind",
            allowed / 1000,
        )


def _directory_request(kids: tuple[str, ...]) -> Callable[[int], f.ClientFrame]:
    def build(rid: int) -> f.ClientFrame:
        return f.DirectoryRequest(rid=rid, kids=kids)

    return build


def _kids_of(alerts: Iterable[bytes]) -> list[str]:
    kids = []
    for alert in alerts:
        try:
            kids.append(decode_envelope(alert).kid)
        except InvalidAlert:
            continue
    return kids
