"""Who may connect: the registry of issued certificates, and its sync from the CA folder.

A TLS handshake proves the peer holds a key certified by the hub's CA (and, with
the CRL loaded, not revoked when the CRL was last published). :func:`authenticate`
then reads identity only from the certificate's Cordon URI, and requires the
certificate to be in the registry, active, and its member active.

:class:`CASync` imports the CA folder's ``index.json`` and ``issued/`` into the
registry, and announces revocations so every hub process closes the revoked
principal's sessions.

The CRL reaches every hub process through the store, not through the CA folder
(which only the process that issues and revokes needs): when the folder's
``crl.pem`` changes, the process that sees it loads it at once and publishes it
in the store (kept only if its CRLNumber is higher than the stored one's) with a
``crl`` event; on that event, and on every poll in case an event was lost, each
process fetches the stored CRL if it is newer than the one it runs with, checks
its signature against the CA, writes it to its own ``crl_cache`` file and
reloads TLS from there (:meth:`CASync.apply_crl`). No restart anywhere.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from certs.ca import CA_CERT_FILE, CA_KEY_FILE, CRL_FILE, ISSUED_DIR, write_crl
from certs.errors import CAError
from certs.files import PUBLIC_MODE, write_atomic
from certs.index import CertRecord as IndexRecord
from certs.index import read_index
from hub.protocol.envelope import key_id
from hub.protocol.errors import CloseCode, CordonError, InvalidFrame
from hub.protocol.identity import Identity
from hub.protocol.trust import check_client_purpose, identity_from_certificate
from hub.storage import CertRecord, Store
from hub.tls import ReloadableTLS

__all__ = ["AuthFailure", "Authenticated", "CASync", "authenticate"]

log = logging.getLogger("cordon.registry")

#: Rewrite the CA folder's CRL (valid 7 days) once it expires within this many seconds:
#: with CRL checking on, OpenSSL refuses every client once the loaded CRL has expired.
CRL_REFRESH_S = 2 * 86400.0


class AuthFailure(Exception):
    """The peer's certificate may not open a session; ``close_code`` says why."""

    def __init__(self, close_code: int, reason: str, principal: str | None = None) -> None:
        super().__init__(reason)
        self.close_code = close_code
        self.reason = reason
        #: Who the certificate names, when it names someone (for the audit log).
        self.principal = principal


@dataclass(frozen=True, slots=True)
class Authenticated:
    identity: Identity
    kid: str
    cert: x509.Certificate


async def authenticate(store: Store, der: bytes | None) -> Authenticated:
    """Check a peer certificate (already chain-verified by TLS) against the registry.

    In order: it names one identity (else 4011); it is fit for client authentication
    (clientAuth EKU, digitalSignature, not a CA; else 4013: OpenSSL accepts a
    certificate without EKU); it is in the registry (4011), active, and its member
    active (4010)."""
    if not der:
        raise AuthFailure(CloseCode.IDENTITY, "no client certificate")
    try:
        cert = x509.load_der_x509_certificate(der)
        identity = identity_from_certificate(cert)
    except (ValueError, CordonError) as exc:
        raise AuthFailure(CloseCode.IDENTITY, "certificate names no valid identity") from exc
    who = identity.principal
    try:
        check_client_purpose(cert)
    except CordonError as exc:  # OpenSSL lets a certificate with no EKU through
        raise AuthFailure(CloseCode.WRONG_PURPOSE, "certificate of the wrong purpose", who
                          ) from exc
    kid = key_id(der)
    record = await store.cert(kid)
    if record is None or record.principal != identity.principal:
        raise AuthFailure(CloseCode.IDENTITY, "certificate unknown to the registry", who)
    if record.status != "active":
        raise AuthFailure(CloseCode.REVOKED, "certificate revoked", who)
    if identity.member is not None:
        member = await store.member(identity.member)
        if member is None:
            raise AuthFailure(CloseCode.IDENTITY, "member unknown to the registry", who)
        if member.status != "active":
            raise AuthFailure(CloseCode.REVOKED, "member suspended", who)
    return Authenticated(identity=identity, kid=kid, cert=cert)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime_ns / 1e9
    except OSError:
        return 0.0


def _cancel_point() -> None:
    """Re-raise a cancellation that was swallowed: on Python 3.11, ``asyncio.wait_for``
    (which redis-py uses to send every command) returns the result instead of raising
    when the cancellation coincides with the reply, so a stopping hub could wait forever
    for a loop that missed its cancellation."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def _write_public(path: Path, data: bytes) -> None:
    """Replace ``path`` (mode 0644) atomically: a reader sees the old file or the new one."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    write_atomic(path, data, mode=PUBLIC_MODE)


def _crl_number(pem: bytes, ca: x509.Certificate) -> int | None:
    """The CRLNumber of a CRL signed by ``ca``; None (logged) for anything else."""
    try:
        crl = x509.load_pem_x509_crl(pem)
        if crl.issuer != ca.subject or not crl.is_signature_valid(
            ca.public_key()  # type: ignore[arg-type]
        ):
            log.error("ignoring a CRL not signed by the hub's CA")
            return None
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except (ValueError, TypeError, x509.ExtensionNotFound) as exc:
        log.error("ignoring an unreadable CRL: %s", exc)
        return None


class CASync:
    """Polls the CA folder; imports certificates and revocations into the registry;
    keeps TLS on the newest CRL published by any hub process.

    ``crl_cache`` is where this process writes the store's CRL for TLS to load
    (its own data folder); without it TLS only follows the CA folder's CRL.
    """

    def __init__(self, store: Store, ca_dir: Path, tls: ReloadableTLS | None, *,
                 poll_s: float = 1.0, crl_cache: Path | None = None) -> None:
        self.store = store
        self.ca_dir = ca_dir
        self.tls = tls
        self.poll_s = poll_s
        self.crl_cache = crl_cache
        self._seen: tuple[float, float] = (-1.0, -1.0)
        #: CRLNumber of the CRL TLS runs with (0: none known yet).
        self.crl_number = 0
        self._folder_crl: tuple[float, int, bytes] | None = None  # mtime, number, pem
        self._published = 0
        self._crl_lock = asyncio.Lock()
        self._ca: x509.Certificate | None = None
        #: time.monotonic() of the last sync whose CA-folder and store reads succeeded.
        self.synced_at: float | None = None

    def _ca_cert(self) -> x509.Certificate:
        if self._ca is None:
            self._ca = x509.load_pem_x509_certificate((self.ca_dir / CA_CERT_FILE).read_bytes())
        return self._ca

    async def refresh_folder_crl(self) -> bool:
        """Rewrite the CA folder's CRL (next number, a fresh validity) when it expires within
        :data:`CRL_REFRESH_S`; only where the CA key is. True if rewritten."""
        path = self.ca_dir / CRL_FILE
        if not (self.ca_dir / CA_KEY_FILE).exists():
            return False
        try:
            crl = x509.load_pem_x509_crl(path.read_bytes())
        except (OSError, ValueError):
            return False  # publish_folder_crl reports unreadable CRLs
        next_update = crl.next_update_utc
        if next_update is not None and next_update.timestamp() - time.time() > CRL_REFRESH_S:
            return False
        try:
            await asyncio.to_thread(write_crl, self.ca_dir)
        except (CAError, OSError) as exc:
            log.error("cannot refresh the CRL in %s: %s", self.ca_dir, exc)
            return False
        log.info("CRL in %s rewritten before it expires", self.ca_dir)
        return True

    async def publish_folder_crl(self) -> int | None:
        """Load the CA folder's CRL if it changed, and publish it to every hub process if
        it is newer than the stored one. Returns its CRLNumber (None: no usable CRL)."""
        path = self.ca_dir / CRL_FILE
        async with self._crl_lock:
            mtime = _mtime(path)
            if mtime and (self._folder_crl is None or self._folder_crl[0] != mtime):
                try:
                    pem = path.read_bytes()
                    number = _crl_number(pem, self._ca_cert())
                except OSError as exc:
                    log.error("cannot read %s: %s", path, exc)
                    number = None
                if number is not None:
                    self._folder_crl = (mtime, number, pem)
                    tls = self.tls
                    if tls is not None and number > self.crl_number and tls.reload(path):
                        self.crl_number = number
            if self._folder_crl is None:
                return None
            _mtime_seen, number, pem = self._folder_crl
            if number > self._published:
                stored = await self.store.set_crl(pem, number)
                _cancel_point()
                if stored:
                    await self.store.publish_event({"type": "crl", "number": number})
                self._published = number
            return number

    async def apply_crl(self) -> bool:
        """Load the store's CRL into TLS if it is newer than the one in use."""
        if self.tls is None or self.crl_cache is None:
            return False
        async with self._crl_lock:
            newest = await self.store.crl_number()
            _cancel_point()
            if newest <= self.crl_number:
                return False
            stored = await self.store.crl()
            _cancel_point()
            if stored is None or stored[0] <= self.crl_number:
                return False
            try:
                number = _crl_number(stored[1], self._ca_cert())
                if number is None or number != stored[0]:
                    log.error("ignoring the stored CRL: its number is not the one stored")
                    return False
                _write_public(self.crl_cache, stored[1])
            except OSError as exc:
                log.error("cannot write the CRL to %s: %s", self.crl_cache, exc)
                return False
            if not self.tls.reload(self.crl_cache):
                return False
            self.crl_number = number
            log.info("CRL %d loaded from the store", number)
            return True

    async def sync_once(self) -> int:
        """Import the index if it changed; return how many records were written."""
        await self.refresh_folder_crl()
        await self.publish_folder_crl()
        await self.apply_crl()
        self.synced_at = time.monotonic()  # readiness (hub.ops): the store's CRL is applied
        index, crl = self.ca_dir / "index.json", self.ca_dir / "crl.pem"
        stamp = (_mtime(index), _mtime(crl))
        if stamp == self._seen:
            return 0
        self._seen = stamp
        try:
            records = read_index(index)
        except CAError as exc:
            log.error("cannot read CA index %s: %s; registry unchanged", index, exc)
            return 0
        written = 0
        for rec in records:
            try:
                written += await self._import(rec)
            except (OSError, ValueError, InvalidFrame, CordonError) as exc:
                log.error("skipping CA index record %s: %s", rec.serial_hex, exc)
        return written

    async def _import(self, rec: IndexRecord) -> int:
        if rec.kind not in ("member", "admin", "log"):
            return 0
        pem = (self.ca_dir / ISSUED_DIR / f"{rec.serial_hex}.pem").read_bytes()
        cert = x509.load_pem_x509_certificate(pem)
        der = cert.public_bytes(Encoding.DER)
        kid = key_id(der)
        status = "revoked" if rec.status == "revoked" else "active"
        if rec.kind == "log":  # a log key: in the directory, never a session (no identity)
            return await self._import_log_key(rec, cert, der, kid, status)
        identity = identity_from_certificate(cert)
        if identity.member is not None and await self.store.member(identity.member) is None:
            await self.store.add_member(identity.member, name=identity.member, country="")
        if identity.member is not None:
            await self.store.add_principal(
                identity.member, identity.principal.partition("/")[2],
                kind=rec.principal_kind or "", exist_ok=True,
            )
        old = await self.store.cert(kid)
        if old is not None and old.status == status:
            return 0
        if old is not None and old.status == "revoked":
            return 0  # revocation is final
        await self.store.register_cert(CertRecord(
            kid=kid, principal=identity.principal, member=identity.member,
            admin=identity.admin, der=der, serial=rec.serial,
            not_after=int(cert.not_valid_after_utc.timestamp() * 1000), status=status,
        ))
        if status == "revoked":
            await self.store.publish_event({"type": "revoke", "kid": kid,
                                            "principal": identity.principal})
            await self.store.audit({"action": "cert.revoke", "principal": identity.principal,
                                    "kid": kid, "result": "ok", "by": "ca-folder"})
        return 1

    async def _import_log_key(self, rec: IndexRecord, cert: x509.Certificate, der: bytes,
                              kid: str, status: str) -> int:
        """Register a hub's log key certificate (principal ``log:<hub>``) so the directory
        serves it; its revocation is recorded like any other (final)."""
        old = await self.store.cert(kid)
        if old is not None and (old.status == status or old.status == "revoked"):
            return 0
        principal = rec.principal or "log:"
        await self.store.register_cert(CertRecord(
            kid=kid, principal=principal, member=None, admin=False, der=der,
            serial=rec.serial, not_after=int(cert.not_valid_after_utc.timestamp() * 1000),
            status=status,
        ))
        if status == "revoked":
            await self.store.publish_event({"type": "revoke", "kid": kid,
                                            "principal": principal})
            await self.store.audit({"action": "cert.revoke", "principal": principal,
                                    "kid": kid, "result": "ok", "by": "ca-folder"})
        return 1

    async def run(self) -> None:
        """Sync every ``poll_s`` seconds, the first time after one interval (whoever
        starts the loop has just called :meth:`sync_once`)."""
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self.sync_once()
            except CordonError as exc:
                log.warning("registry sync failed: %s", exc)
            _cancel_point()
