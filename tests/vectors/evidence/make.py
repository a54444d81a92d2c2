"""Build the evidence bundle vectors (``tests/vectors/evidence/``, PROTOCOL.md Appendix D),
byte for byte reproducibly: ``python -m tests.vectors.evidence.make``.

Keys come from fixed seeds (``tests.vectors.make``: the same CA and ``fr/ops`` as the wire
vectors), certificates and the CRL have fixed serials and dates, alerts fixed ids and
times; Ed25519 signatures are deterministic. ``evidence.json`` lists every bundle file
with the outcome a verifier must reach (``verified``, or ``unreadable``, ``tampered``,
``unverifiable``, ``restricted``) and, for the valid ones, what it proves.
``tests/protocol/test_evidence_vectors.py`` checks that this builds exactly the
committed files and that :func:`hub.protocol.evidence.verify_bundle` agrees.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgpack
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from hub.protocol import merkle
from hub.protocol.checkpoint import Checkpoint, encode_checkpoint, fingerprint, sign_checkpoint
from hub.protocol.envelope import Envelope, alert_hash, encode_envelope, key_id, sign_alert
from hub.protocol.evidence import BundleAlert, SignedCheckpointParts, encode_bundle
from hub.protocol.identity import LOG_EKU_OID, AlertId, ChannelName, PrincipalId
from tests.vectors.make import CHANNEL, EPOCH, TS, _ca, _der, _key, _leaf, _pem, _usage

HERE = Path(__file__).resolve().parent
#: The checkpoint's time: one hour after the alerts.
CP_TIME = TS + 3_600_000
_CRL_THIS = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_CRL_NEXT = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
_START = datetime(2025, 1, 1, tzinfo=UTC)
_END = datetime(2030, 1, 1, tzinfo=UTC)

Signer = tuple[x509.Certificate, Ed25519PrivateKey]


def _log_cert(ca: Signer) -> Signer:
    key = _key("cordon test vectors log key")
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hub log")]))
            .issuer_name(ca[0].subject).public_key(key.public_key()).serial_number(0x2001)
            .not_valid_before(_START).not_valid_after(_END)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(LOG_EKU_OID)]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier("urn:cordon:log:hub")]), critical=False)
            .sign(ca[1], None))
    return cert, key


def _crl(ca: Signer, revoked: list[tuple[int, datetime]], *, this: datetime = _CRL_THIS,
         next_: datetime = _CRL_NEXT) -> bytes:
    builder = (x509.CertificateRevocationListBuilder().issuer_name(ca[0].subject)
               .last_update(this).next_update(next_)
               .add_extension(x509.CRLNumber(7), critical=False))
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when)
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build())
    return builder.sign(ca[1], None).public_bytes(serialization.Encoding.DER)


def build() -> dict[str, bytes]:
    """File name -> exact content."""
    ca = _ca("cordon test vectors CA", 1)
    ops = _leaf(ca, "fr", "ops", 0x1001)
    de = _leaf(ca, "de", "zoll", 0x1003)
    chief = _leaf(ca, "de", "chief", 0x1004)
    log = _log_cert(ca)
    chains: dict[str, tuple[int, bytes]] = {}

    def signed(who: Signer, aid: str, kind: str, body: dict[str, Any], n: int) -> tuple[
            bytes, bytes, bytes]:
        cert, key = who
        sender = next(v.value for v in cert.extensions.get_extension_for_class(
            x509.SubjectAlternativeName).value).removeprefix("urn:cordon:principal:")
        seq, prev = chains.get(sender, (0, bytes(32)))
        env = Envelope(id=AlertId(aid), channel=ChannelName(CHANNEL),
                       sender=PrincipalId(sender), kid=key_id(_der(cert)), ts=TS + n * 60_000,
                       kind=kind, body=body, seq=seq + 1, prev=prev)
        alert = encode_envelope(env)
        chains[sender] = (seq + 1, alert_hash(alert))
        return alert, sign_alert(key, alert), _der(cert)

    h0 = {"schema": 1, "handling": "H0"}
    log_alerts = [
        signed(ops, "FR-2026-S-0001", "seizure", {
            **h0, "date": "2026-02-28", "country": "FR", "location_type": "postal_centre",
            "transport_mode": 4, "detection": "xray_scanner", "ecommerce": True,
            "status": "seized", "goods": [{"category": "medicines", "hs_code": "300490",
                                           "description": "falsified tablets",
                                           "quantity": 12000, "unit": "tablets"}]}, 1),
        signed(de, "DE-2026-W-0001", "warning", {
            "schema": 1, "handling": "H2", "summary": "parcels declared as food supplements",
            "category": "medicines"}, 2),
        signed(ops, "FR-2026-N-0001", "notice", {**h0, "text": "Briefing at 10:00 UTC"}, 3),
        signed(chief, "DE-2026-P-0001", "notice", {
            **h0, "text": "We permit the linked alert to be used as evidence.",
            "permission": "evidence", "links": ["DE-2026-W-0001"]}, 4),
        signed(ops, "FR-2026-N-0002", "notice", {**h0, "text": "Day 2 summary"}, 5),
    ]
    leaves = [merkle.leaf_hash(a) for a, _, _ in log_alerts]
    cp = Checkpoint(channel=ChannelName(CHANNEL), epoch=EPOCH, size=len(leaves),
                    root=merkle.root(leaves), time=CP_TIME)
    cp_data = encode_checkpoint(cp)
    checkpoint = SignedCheckpointParts(data=cp_data, sig=sign_checkpoint(log[1], cp_data),
                                       cert=_der(log[0]))

    def item(off: int) -> BundleAlert:
        a, s, c = log_alerts[off - 1]
        return BundleAlert(alert=a, sig=s, cert=c, offset=off,
                           proof=merkle.inclusion_proof(leaves, off - 1))

    def bundle(offsets: list[int], *, items: list[BundleAlert] | None = None,
               crl: bytes | None = None, cpt: SignedCheckpointParts | None = None) -> bytes:
        return encode_bundle(alerts=items if items is not None else [item(o) for o in offsets],
                             checkpoint=cpt or checkpoint, ca=_der(ca[0]),
                             crl=crl if crl is not None else _crl(ca, []),
                             created=CP_TIME + 60_000, exporter="fr/ops")

    def recode(data: bytes, change: Callable[[dict[str, Any]], None]) -> bytes:
        obj = msgpack.unpackb(data, raw=False)
        change(obj)
        packed: bytes = msgpack.packb(obj, use_bin_type=True)
        return packed

    valid = bundle([1, 3])
    one, three = item(1), item(3)
    cases: list[tuple[str, bytes, str, str]] = [
        ("valid", valid, "verified",
         "fr/ops's seizure (offset 1) and notice (offset 3) in the log of 5 alerts"),
        ("valid-with-permission", bundle([2, 4]), "verified",
         "de/zoll's H2 warning with de/chief's permission notice (same administration)"),
        ("truncated", valid[:-100], "unreadable", "the file was cut short"),
        ("wrong-version", recode(valid, lambda o: o.update(v=2)), "unreadable",
         "version 2: this format is version 1"),
        ("not-canonical", recode(valid, lambda o: o.update(created=o["created"]))[:-1]
         + b"\xd0\x01", "unreadable", "v written as int 8, not the shortest form"),
        ("swapped-bytes", bundle([], items=[
            dataclasses.replace(one, alert=three.alert, sig=three.sig),
            dataclasses.replace(three, alert=one.alert, sig=one.sig)]), "tampered",
         "the two alerts' bytes and signatures swapped: each proof names the other offset"),
        ("flipped-byte", bundle([], items=[dataclasses.replace(
            three, alert=three.alert.replace(b"Briefing", b"Bri3fing"))]), "tampered",
         "one byte of the alert changed: its signature fails"),
        ("forged-checkpoint-sig", bundle([1], cpt=dataclasses.replace(
            checkpoint, sig=_key("not the log key").sign(b"cordon-checkpoint-v1\x00"
                                                          + cp_data))), "tampered",
         "the checkpoint signed by a key that is not the log key"),
        ("proof-of-another-alert", bundle([], items=[dataclasses.replace(
            one, proof=three.proof)]), "tampered", "alert 1 with alert 3's inclusion proof"),
        ("revoked-sender", bundle([1], crl=_crl(ca, [(0x1001, datetime(2026, 2, 1,
                                                                        tzinfo=UTC))])),
         "unverifiable", "fr/ops's certificate revoked (keyCompromise) before it signed"),
        ("expired-crl", bundle([1], crl=_crl(ca, [], this=datetime(2026, 2, 1, tzinfo=UTC),
                                              next_=datetime(2026, 2, 8, tzinfo=UTC))),
         "unverifiable", "the CRL's next update is before the checkpoint's time"),
        ("restricted", bundle([2]), "restricted",
         "an H2 warning without its sender's permission"),
    ]
    files: dict[str, bytes] = {}
    listing = []
    for name, data, outcome, why in cases:
        files[f"{name}.cordon-evidence"] = data
        listing.append({"file": f"{name}.cordon-evidence", "outcome": outcome, "why": why})
    doc = {
        "why": "evidence bundles (PROTOCOL.md Appendix D) and the outcome a verifier must "
               "reach for each, with nothing but the file",
        "ca_pem": _pem(ca[0]).decode("ascii"),
        "checkpoint": {"size": cp.size, "root_hex": cp.root.hex(), "time": CP_TIME,
                       "fingerprint": fingerprint(cp)},
        "bundles": listing,
    }
    files["evidence.json"] = (json.dumps(doc, indent=1) + "\n").encode("utf-8")
    return files


def main() -> None:
    for name, data in build().items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
