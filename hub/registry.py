"""Who may connect: the registry of issued certificates, and its sync from the CA folder.

A TLS handshake proves the peer holds a key certified by the hub's CA (and, with
the CRL loaded, not revoked when the CRL was last published). :func:`authenticate`
then reads identity only from the certificate's Cordon URI, and requires the
certificate to be in the registry, active, and its member active.

:class:`CASync` imports the CA folder's ``index.json`` and ``issued/`` into the
registry, reloads TLS when ``crl.pem`` changes, and announces revocations so
every hub process closes the revoked principal's sessions.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from certs.ca import ISSUED_DIR
from certs.errors import CAError
from certs.index import CertRecord as IndexRecord
from certs.index import read_index
from hub.protocol.envelope import key_id
from hub.protocol.errors import CloseCode, CordonError, InvalidFrame
from hub.protocol.identity import Identity
from hub.protocol.trust import identity_from_certificate
from hub.storage import CertRecord, Store
from hub.tls import ReloadableTLS

__all__ = ["AuthFailure", "Authenticated", "CASync", "authenticate"]

log = logging.getLogger("cordon.registry")


class AuthFailure(Exception):
    """The peer's certificate may not open a session; ``close_code`` says why."""

    def __init__(self, close_code: int, reason: str) -> None:
        super().__init__(reason)
        self.close_code = close_code
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Authenticated:
    identity: Identity
    kid: str
    cert: x509.Certificate


async def authenticate(store: Store, der: bytes | None) -> Authenticated:
    """Check a peer certificate (already chain-verified by TLS) against the registry."""
    if not der:
        raise AuthFailure(CloseCode.IDENTITY, "no client certificate")
    try:
        cert = x509.load_der_x509_certificate(der)
        identity = identity_from_certificate(cert)
    except (ValueError, CordonError) as exc:
        raise AuthFailure(CloseCode.IDENTITY, "certificate names no valid identity") from exc
    kid = key_id(der)
    record = await store.cert(kid)
    if record is None or record.principal != identity.principal:
        raise AuthFailure(CloseCode.IDENTITY, "certificate unknown to the registry")
    if record.status != "active":
        raise AuthFailure(CloseCode.REVOKED, "certificate revoked")
    if identity.member is not None:
        member = await store.member(identity.member)
        if member is None:
            raise AuthFailure(CloseCode.IDENTITY, "member unknown to the registry")
        if member.status != "active":
            raise AuthFailure(CloseCode.REVOKED, "member suspended")
    return Authenticated(identity=identity, kid=kid, cert=cert)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime_ns / 1e9
    except OSError:
        return 0.0


class CASync:
    """Polls the CA folder; imports certificates and revocations into the registry."""

    def __init__(self, store: Store, ca_dir: Path, tls: ReloadableTLS | None, *,
                 poll_s: float = 1.0) -> None:
        self.store = store
        self.ca_dir = ca_dir
        self.tls = tls
        self.poll_s = poll_s
        self._seen: tuple[float, float] = (-1.0, -1.0)

    async def sync_once(self) -> int:
        """Import the index if it changed; return how many records were written."""
        index, crl = self.ca_dir / "index.json", self.ca_dir / "crl.pem"
        stamp = (_mtime(index), _mtime(crl))
        if stamp == self._seen:
            return 0
        self._seen = stamp
        if stamp[1] and self.tls is not None:
            self.tls.reload()
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
        if rec.kind not in ("member", "admin"):
            return 0
        pem = (self.ca_dir / ISSUED_DIR / f"{rec.serial_hex}.pem").read_bytes()
        cert = x509.load_pem_x509_certificate(pem)
        der = cert.public_bytes(Encoding.DER)
        identity = identity_from_certificate(cert)
        kid = key_id(der)
        status = "revoked" if rec.status == "revoked" else "active"
        if identity.member is not None and await self.store.member(identity.member) is None:
            await self.store.add_member(identity.member, name=identity.member, country="")
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

    async def run(self) -> None:
        while True:
            try:
                await self.sync_once()
            except CordonError as exc:
                log.warning("registry sync failed: %s", exc)
            await asyncio.sleep(self.poll_s)
