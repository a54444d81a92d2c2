"""Evidence bundles made by test code (no hub): an in-memory CA, senders, a log key, a
channel's log, its signed checkpoint and inclusion proofs (hub.protocol.merkle /
checkpoint), and the bundle (hub.protocol.evidence). No pytest in here.

::

    kit = Kit()
    fr = kit.member("fr", "ops")
    kit.publish(fr, "notice", {...})          # appended to the channel's log
    data = kit.bundle([1, 3])                 # offsets to put in the bundle
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.protocol.chain import ZERO_HASH
from hub.protocol.checkpoint import Checkpoint, encode_checkpoint, sign_checkpoint
from hub.protocol.envelope import Envelope, alert_hash, encode_envelope, key_id, sign_alert
from hub.protocol.evidence import (
    LOG_EKU_OID,
    BundleAlert,
    SignedCheckpointParts,
    encode_bundle,
)
from hub.protocol.identity import AlertId, ChannelName, PrincipalId
from hub.protocol.merkle import inclusion_proof, leaf_hash, root

__all__ = ["EPOCH", "Kit", "Sender", "der", "ms"]

EPOCH = "0123456789abcdef0123456789abcdef"
_DAY = timedelta(days=1)


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass
class Sender:
    principal: str
    key: Ed25519PrivateKey
    cert: x509.Certificate
    seq: int = 0
    last: bytes = ZERO_HASH

    @property
    def der(self) -> bytes:
        return der(self.cert)


class Kit:
    """A CA, a log key and one channel's log (see the module docstring)."""

    def __init__(self, channel: str = "stop-iii", *, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC).replace(microsecond=0)
        self.channel = channel
        self.ca_key = Ed25519PrivateKey.generate()
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cordon Test CA")])
        self.ca = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(self.ca_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(self.now - 30 * _DAY).not_valid_after(self.now + 3650 * _DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.ca_key, None))
        self.log_key = Ed25519PrivateKey.generate()
        self.log_cert = self.certify(self.log_key.public_key(), "urn:cordon:log:hub",
                                     eku=[x509.ObjectIdentifier(LOG_EKU_OID)])
        self.log: list[tuple[bytes, bytes, bytes]] = []  # (alert, sig, cert DER), offset order
        self.revoked: list[tuple[int, datetime, x509.ReasonFlags]] = []

    # --- certificates -------------------------------------------------------------------
    def certify(self, public: Any, uri: str, *, eku: Sequence[x509.ObjectIdentifier] | None
                = None, not_before: datetime | None = None, not_after: datetime | None = None,
                signer: Ed25519PrivateKey | None = None, issuer: x509.Certificate | None = None,
                ca: bool = False, digital_signature: bool = True) -> x509.Certificate:
        issuer = issuer or self.ca
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, uri)]))
            .issuer_name(issuer.subject).public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or self.now - 10 * _DAY)
            .not_valid_after(not_after or self.now + 365 * _DAY)
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=digital_signature,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         key_cert_sign=False, crl_sign=False,
                                         encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(uri)]),
                           critical=False))
        if eku is None:
            eku = [ExtendedKeyUsageOID.CLIENT_AUTH]
        if eku:
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        return builder.sign(signer or self.ca_key, None)

    def member(self, member: str, name: str, **kwargs: Any) -> Sender:
        key = Ed25519PrivateKey.generate()
        cert = self.certify(key.public_key(), f"urn:cordon:principal:{member}/{name}", **kwargs)
        return Sender(f"{member}/{name}", key, cert)

    def revoke(self, cert: x509.Certificate, when: datetime,
               reason: x509.ReasonFlags = x509.ReasonFlags.key_compromise) -> None:
        self.revoked.append((cert.serial_number, when, reason))

    def crl(self, *, last_update: datetime | None = None, next_update: datetime | None = None,
            signer: Ed25519PrivateKey | None = None, number: bool = True) -> bytes:
        builder = (
            x509.CertificateRevocationListBuilder().issuer_name(self.ca.subject)
            .last_update(last_update or self.now - timedelta(hours=1))
            .next_update(next_update or self.now + 7 * _DAY))
        if number:
            builder = builder.add_extension(x509.CRLNumber(3), critical=False)
        for serial, when, reason in self.revoked:
            entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
            if reason is not x509.ReasonFlags.unspecified:
                entry = entry.add_extension(x509.CRLReason(reason), critical=False)
            builder = builder.add_revoked_certificate(entry.build())
        return builder.sign(signer or self.ca_key, None).public_bytes(
            serialization.Encoding.DER)

    # --- the channel's log --------------------------------------------------------------
    def sign(self, sender: Sender, kind: str, body: Mapping[str, Any], *, alert_id: str,
             ts: int | None = None, chained: bool = True, channel: str | None = None,
             ) -> tuple[bytes, bytes]:
        seq = prev = None
        if chained:
            seq, prev = sender.seq + 1, sender.last
        env = Envelope(id=AlertId(alert_id), channel=ChannelName(channel or self.channel),
                       sender=PrincipalId(sender.principal), kid=key_id(sender.der),
                       ts=ms(self.now - _DAY) if ts is None else ts, kind=kind,
                       body=dict(body), seq=seq, prev=prev)
        alert = encode_envelope(env)
        if chained:
            sender.seq, sender.last = sender.seq + 1, alert_hash(alert)
        return alert, sign_alert(sender.key, alert)

    def publish(self, sender: Sender, kind: str, body: Mapping[str, Any], *, alert_id: str,
                **kwargs: Any) -> int:
        """Sign and append to the log; the alert's offset."""
        alert, sig = self.sign(sender, kind, body, alert_id=alert_id, **kwargs)
        self.log.append((alert, sig, sender.der))
        return len(self.log)

    def checkpoint(self, size: int | None = None, *, time_ms: int | None = None,
                   key: Ed25519PrivateKey | None = None,
                   cert: x509.Certificate | None = None) -> SignedCheckpointParts:
        n = len(self.log) if size is None else size
        cp = Checkpoint(channel=ChannelName(self.channel), epoch=EPOCH, size=n,
                        root=root([leaf_hash(a) for a, _, _ in self.log[:n]]),
                        time=ms(self.now) if time_ms is None else time_ms)
        data = encode_checkpoint(cp)
        return SignedCheckpointParts(data=data, sig=sign_checkpoint(key or self.log_key, data),
                                     cert=der(cert or self.log_cert))

    def items(self, offsets: Sequence[int], size: int | None = None) -> list[BundleAlert]:
        n = len(self.log) if size is None else size
        leaves = [leaf_hash(a) for a, _, _ in self.log[:n]]
        return [BundleAlert(alert=self.log[o - 1][0], sig=self.log[o - 1][1],
                            cert=self.log[o - 1][2], offset=o,
                            proof=inclusion_proof(leaves, o - 1)) for o in offsets]

    def bundle(self, offsets: Sequence[int], *, checkpoint: SignedCheckpointParts | None = None,
               items: Sequence[BundleAlert] | None = None, crl: bytes | None = None,
               ca: bytes | None = None) -> bytes:
        return encode_bundle(alerts=self.items(offsets) if items is None else items,
                             checkpoint=checkpoint or self.checkpoint(),
                             ca=der(self.ca) if ca is None else ca,
                             crl=self.crl() if crl is None else crl,
                             created=int(time.time() * 1000), exporter="fr/ops")


def notice(text: str = "Briefing at 10:00 UTC", handling: str = "H0",
           **extra: Any) -> dict[str, Any]:
    body = {"schema": 1, "handling": handling, "text": text, **extra}
    if handling == "H3":
        body["handling_text"] = "only for OLAF"
    return body
