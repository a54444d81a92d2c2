"""Evidence bundles (PROTOCOL.md Appendix D): alerts a member can prove, offline, months later.

A bundle is ONE canonical msgpack map (the rules of §4) holding everything needed to
check, with nothing else, that a channel's log contained these alerts, signed by
these senders: the alerts' exact bytes and signatures, the senders' certificates,
each alert's offset and its inclusion proof against a hub-signed checkpoint, that
checkpoint with the log key's certificate, the CA certificate and the CRL of the day::

    {"alerts": [{"alert": bin, "cert": bin, "off": int, "proof": [bin32, ...],
                 "sig": bin}, ...],                      # ascending offsets
     "ca": bin, "checkpoint": {"cert": bin, "data": bin, "sig": bin},
     "created": int, "crl": bin, "exporter": str,
     "format": "cordon-evidence", "v": 1}

:func:`encode_bundle` writes one; :func:`verify_bundle` checks one and returns an
:class:`EvidenceReport`, or raises :class:`EvidenceError` whose ``outcome`` says what
kind of failure it is:

==================  ==================================================================
``unreadable``      not a bundle this code reads: not msgpack, truncated, not
                    canonical, wrong format name or version, missing or wrong fields
``tampered``        a signature, certificate signature, inclusion proof or chain link
                    does not verify: bytes were changed, swapped or forged
``unverifiable``    intact, but trust cannot be established: a certificate revoked,
                    expired or of the wrong purpose, the CRL expired, another CA
``restricted``      an alert whose handling code (H1, H2, H3) forbids passing it on
                    or using it as evidence, without its sender's recorded permission
==================  ==================================================================

Permission (Appendix A.9, ``permission``): a ``notice`` with ``permission`` =
``evidence``, signed by a principal of the *same member administration* as the
restricted alert's sender, in the same channel, whose ``links`` name the alert; it
travels in the bundle as one of its alerts (and is verified like them).

Sans-I/O: bytes in, a report out. Needs only the bundle (no hub, no network, no
local state); ``expected_ca`` optionally pins the CA the verifier trusts.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Literal

import msgpack
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.protocol.checkpoint import (
    Checkpoint,
    decode_checkpoint,
    fingerprint,
    verify_checkpoint,
)
from hub.protocol.envelope import Envelope, alert_hash, decode_envelope, key_id, verify_alert
from hub.protocol.errors import AlertRejected, BadSignature, EnvelopeMismatch
from hub.protocol.identity import LOG_EKU_OID, LOG_URI_PREFIX
from hub.protocol.merkle import HASH_BYTES, leaf_hash, verify_inclusion
from hub.protocol.trust import verify_certificate, verify_log_certificate

__all__ = [
    "EVIDENCE_FORMAT",
    "EVIDENCE_VERSION",
    "LOG_EKU_OID",
    "LOG_URI_PREFIX",
    "MAX_BUNDLE_BYTES",
    "MAX_EVIDENCE_ALERTS",
    "PERMISSION_EVIDENCE",
    "RESTRICTED_HANDLING",
    "BundleAlert",
    "EvidenceAlert",
    "EvidenceError",
    "EvidenceReport",
    "Outcome",
    "SignedCheckpointParts",
    "encode_bundle",
    "handling_codes",
    "permits",
    "verify_bundle",
]

EVIDENCE_FORMAT: Final = "cordon-evidence"
EVIDENCE_VERSION: Final = 1
#: Largest bundle read (checked before unpacking): 1,000 alerts of 64 KiB and their
#: certificates and proofs fit.
MAX_BUNDLE_BYTES: Final = 80 * 1024 * 1024
#: Most alerts in one bundle (permissions included).
MAX_EVIDENCE_ALERTS: Final = 1000
#: An inclusion proof in a log of at most 2^53 leaves has at most 53 hashes.
_MAX_PROOF: Final = 64
#: Handling codes that need the sender's permission before an alert is passed on or used
#: as evidence in court (Appendix A.2): H1 evidence, H2 passing on, H3 other restrictions.
RESTRICTED_HANDLING: Final = frozenset({"H1", "H2", "H3"})
#: The ``permission`` value of a notice that permits its ``links`` in evidence bundles.
PERMISSION_EVIDENCE: Final = "evidence"

_KEYS: Final = frozenset({"alerts", "ca", "checkpoint", "created", "crl", "exporter",
                          "format", "v"})
_ALERT_KEYS: Final = frozenset({"alert", "cert", "off", "proof", "sig"})
_CHECKPOINT_KEYS: Final = frozenset({"cert", "data", "sig"})
_MAX_INT: Final = 2**53

Outcome = Literal["unreadable", "tampered", "unverifiable", "restricted"]


class EvidenceError(Exception):
    """The bundle does not prove what it claims; ``outcome`` says why (module docstring)
    and the message, for an officer, what failed and where."""

    def __init__(self, outcome: Outcome, message: str) -> None:
        super().__init__(message)
        self.outcome: Outcome = outcome
        self.message = message


@dataclass(frozen=True, slots=True)
class BundleAlert:
    """One alert in a bundle: its exact bytes, signature, signer's certificate (DER),
    offset in the channel and inclusion proof against the bundle's checkpoint."""

    alert: bytes
    sig: bytes
    cert: bytes
    offset: int
    proof: Sequence[bytes]


@dataclass(frozen=True, slots=True)
class SignedCheckpointParts:
    """A hub-signed checkpoint as it travels: its bytes, signature, the log key's
    certificate (DER)."""

    data: bytes
    sig: bytes
    cert: bytes


@dataclass(frozen=True, slots=True)
class EvidenceAlert:
    """What a verified bundle proves about one alert."""

    offset: int
    envelope: Envelope
    alert_hash: str
    #: The sender's certificate: key id, serial, and its revocation if the CRL lists
    #: one *after* the alert was signed (``(ms, reason)``; an earlier one fails).
    kid: str
    serial: int
    revoked_later: tuple[int, str] | None
    handling: tuple[str, ...]
    #: Id of the notice of the sender's administration permitting it (restricted ones).
    permitted_by: str | None = None
    #: ``True`` for a permission notice (it is in the bundle to permit others).
    is_permission: bool = False


@dataclass(frozen=True, slots=True)
class EvidenceReport:
    """Everything :func:`verify_bundle` established."""

    checkpoint: Checkpoint
    fingerprint: str
    #: The hub whose log key signed the checkpoint (``urn:cordon:log:<hub>``).
    log_identity: str
    log_kid: str
    ca_subject: str
    ca_sha256: str
    crl_number: int | None
    crl_this_update: int
    crl_next_update: int
    created: int
    exporter: str
    alerts: list[EvidenceAlert] = field(default_factory=list)


def _bad(outcome: Outcome, message: str) -> EvidenceError:
    return EvidenceError(outcome, message)


def encode_bundle(
    *,
    alerts: Sequence[BundleAlert],
    checkpoint: SignedCheckpointParts,
    ca: bytes,
    crl: bytes,
    created: int,
    exporter: str,
) -> bytes:
    """The bundle's canonical bytes (alerts in the order given: ascending offsets)."""
    obj = {
        "alerts": [{"alert": a.alert, "cert": a.cert, "off": a.offset,
                    "proof": [bytes(p) for p in a.proof], "sig": a.sig} for a in alerts],
        "ca": ca,
        "checkpoint": {"cert": checkpoint.cert, "data": checkpoint.data,
                       "sig": checkpoint.sig},
        "created": created,
        "crl": crl,
        "exporter": exporter,
        "format": EVIDENCE_FORMAT,
        "v": EVIDENCE_VERSION,
    }
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


# --- reading ----------------------------------------------------------------------------


class _NotCanonical(Exception):
    """A map whose keys are not strings in ascending order (raised from msgpack's hook)."""


def _ordered(obj: dict[Any, Any]) -> dict[Any, Any]:
    keys = [*obj]
    if any(type(k) is not str for k in keys) or keys != sorted(keys):
        raise _NotCanonical
    return obj


def _decode(data: bytes) -> dict[str, Any]:
    if len(data) > MAX_BUNDLE_BYTES:
        raise _bad("unreadable", f"larger than {MAX_BUNDLE_BYTES} bytes: not a bundle")
    try:
        obj: Any = msgpack.unpackb(data, raw=False, strict_map_key=False,
                                   object_hook=_ordered)
        canonical = msgpack.packb(obj, use_bin_type=True) == data
    except msgpack.ExtraData as exc:
        if isinstance(getattr(exc, "unpacked", None), dict):
            raise _bad("unreadable", "bytes after the bundle: not one bundle") from None
        raise _bad("unreadable", "not a Cordon evidence bundle (not msgpack)") from None
    except _NotCanonical:
        raise _bad("unreadable", "bundle is not in canonical form (map keys must be "
                   "strings in ascending order)") from None
    except (ValueError, TypeError):  # OutOfData (truncated), FormatError, bad UTF-8, key order
        raise _bad("unreadable", "not a Cordon evidence bundle (truncated, or not "
                   "msgpack)") from None
    if not isinstance(obj, dict):
        raise _bad("unreadable", "not a Cordon evidence bundle (not a map)")
    if obj.get("format") != EVIDENCE_FORMAT:
        raise _bad("unreadable", "not a Cordon evidence bundle (no format "
                   f"{EVIDENCE_FORMAT!r})")
    if obj.get("v") != EVIDENCE_VERSION or type(obj.get("v")) is not int:
        raise _bad("unreadable", f"bundle version {obj.get('v')!r} is not supported (this "
                   f"program reads version {EVIDENCE_VERSION})")
    if not canonical:
        raise _bad("unreadable", "bundle is not in canonical form (shortest forms)")
    if obj.keys() != _KEYS:
        raise _bad("unreadable", "bundle must have exactly: " + ", ".join(sorted(_KEYS)))
    return obj


def _bytes(value: object, what: str, size: int | None = None) -> bytes:
    if type(value) is not bytes or (size is not None and len(value) != size):
        raise _bad("unreadable", f"{what} must be "
                   + ("binary" if size is None else f"{size} bytes"))
    return value


def _int(value: object, what: str) -> int:
    if type(value) is not int or not 0 <= value <= _MAX_INT:
        raise _bad("unreadable", f"{what} must be an integer from 0")
    return value


def _map(value: object, keys: frozenset[str], what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict) or value.keys() != keys:
        raise _bad("unreadable", f"{what} must have exactly: " + ", ".join(sorted(keys)))
    return value


def _alerts(value: object) -> list[BundleAlert]:
    if not isinstance(value, list) or not 1 <= len(value) <= MAX_EVIDENCE_ALERTS:
        raise _bad("unreadable", f"alerts must be a list of 1 to {MAX_EVIDENCE_ALERTS}")
    out: list[BundleAlert] = []
    for n, item in enumerate(value):
        where = f"alerts[{n}]"
        m = _map(item, _ALERT_KEYS, where)
        proof = m["proof"]
        if not isinstance(proof, list) or len(proof) > _MAX_PROOF:
            raise _bad("unreadable", f"{where}.proof must be a list of at most {_MAX_PROOF}")
        hashes = [_bytes(p, f"{where}.proof", HASH_BYTES) for p in proof]
        off = _int(m["off"], f"{where}.off")
        if off < 1 or (out and off <= out[-1].offset):
            raise _bad("unreadable", f"{where}.off: offsets must be from 1 and ascending")
        out.append(BundleAlert(alert=_bytes(m["alert"], f"{where}.alert"),
                               sig=_bytes(m["sig"], f"{where}.sig"),
                               cert=_bytes(m["cert"], f"{where}.cert"), offset=off,
                               proof=hashes))
    return out


def _der_cert(der: bytes, what: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        raise _bad("unreadable", f"{what} is not a DER certificate") from None


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _issued_by(cert: x509.Certificate, ca: x509.Certificate, what: str) -> None:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise _bad("tampered", f"{what} is not signed by the bundle's CA") from None


def _revocation(crl: x509.CertificateRevocationList, serial: int) -> tuple[int, str] | None:
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    if entry is None:
        return None
    try:
        why = str(entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.value)
    except x509.ExtensionNotFound:
        why = "unspecified"
    return _ms(entry.revocation_date_utc), why


def _ca(der: bytes, expected: bytes | None) -> x509.Certificate:
    ca = _der_cert(der, "the CA certificate")
    if expected is not None and der != expected:
        raise _bad("unverifiable", "the bundle's CA (SHA-256 "
                   f"{hashlib.sha256(der).hexdigest()[:16]}…) is not the CA you trust")
    try:
        constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        constraints = None
    if constraints is None or not constraints.ca:
        raise _bad("unverifiable", "the bundle's CA certificate is not a CA")
    _issued_by(ca, ca, "the CA certificate")
    return ca


def _crl(der: bytes, ca: x509.Certificate) -> x509.CertificateRevocationList:
    try:
        crl = x509.load_der_x509_crl(der)
    except ValueError:
        raise _bad("unreadable", "the CRL is not a DER certificate revocation list") from None
    key = ca.public_key()
    if crl.issuer != ca.subject or not isinstance(key, Ed25519PublicKey) or \
            not crl.is_signature_valid(key):
        raise _bad("tampered", "the CRL is not signed by the bundle's CA")
    return crl


def _checkpoint(parts: Mapping[str, Any], ca: x509.Certificate,
                crl: x509.CertificateRevocationList) -> tuple[Checkpoint, str, str]:
    cert_der = _bytes(parts["cert"], "checkpoint.cert")
    data = _bytes(parts["data"], "checkpoint.data")
    sig = _bytes(parts["sig"], "checkpoint.sig")
    cert = _der_cert(cert_der, "the log key's certificate")
    _issued_by(cert, ca, "the log key's certificate")
    try:
        at = decode_checkpoint(data).time
    except AlertRejected as exc:
        raise _bad("tampered", f"the checkpoint does not verify: {exc}") from None
    try:
        hub, public = verify_log_certificate(cert, ca, at_ms=at)
    except BadSignature as exc:
        raise _bad("unverifiable", f"the checkpoint's certificate is not a valid log key's "
                   f"({exc}; at the checkpoint's time, {_utc(at)})") from None
    try:
        checkpoint = verify_checkpoint(public, data, sig)
    except AlertRejected as exc:
        raise _bad("tampered", f"the checkpoint does not verify: {exc}") from None
    revoked = _revocation(crl, cert.serial_number)
    if revoked is not None:
        raise _bad("unverifiable", f"the log key's certificate is revoked ({revoked[1]}, "
                   f"{_utc(revoked[0])}): its checkpoints prove nothing")
    if _ms(crl.next_update_utc or crl.last_update_utc) < at:
        raise _bad("unverifiable", "the CRL had expired before the checkpoint "
                   f"(next update {_utc(_ms(crl.next_update_utc or crl.last_update_utc))},"
                   f" checkpoint {_utc(at)}): not the CRL of the day")
    return checkpoint, hub, key_id(cert_der)


def handling_codes(envelope: Envelope) -> tuple[str, ...]:
    """The handling codes an alert carries: its body's, and an amendment's record's."""
    codes = [envelope.body.get("handling")]
    record = envelope.body.get("record")
    if envelope.kind == "amendment" and isinstance(record, Mapping):
        codes.append(record.get("handling"))
    return tuple(dict.fromkeys(c for c in codes if isinstance(c, str)))


def permits(permission: Envelope, alert: Envelope) -> bool:
    """Whether ``permission`` is the sender administration's permission to put ``alert``
    in evidence: a notice with ``permission`` = ``evidence`` in the same channel, from a
    principal of the same member, whose ``links`` name the alert."""
    links = permission.body.get("links")
    return (permission.kind == "notice"
            and permission.body.get("permission") == PERMISSION_EVIDENCE
            and permission.channel == alert.channel
            and permission.sender.split("/")[0] == alert.sender.split("/")[0]
            and isinstance(links, list) and alert.id in links)


def _alert(item: BundleAlert, checkpoint: Checkpoint, ca: x509.Certificate,
           crl: x509.CertificateRevocationList) -> EvidenceAlert:
    where = f"the alert at offset {item.offset}"
    try:
        envelope = decode_envelope(item.alert)
    except AlertRejected as exc:
        raise _bad("tampered", f"{where} is not a valid signed alert: {exc}") from None
    where = f"alert {envelope.id} (offset {item.offset})"
    if envelope.channel != checkpoint.channel:
        raise _bad("tampered", f"{where} was signed for channel {envelope.channel}, not "
                   f"{checkpoint.channel}")
    if key_id(item.cert) != envelope.kid:
        raise _bad("tampered", f"{where}: the certificate given is not its signer's")
    cert = _der_cert(item.cert, f"the certificate of {where}")
    _issued_by(cert, ca, f"the certificate of {where}")
    try:
        identity = verify_certificate(cert, ca, at_ms=envelope.ts)
    except BadSignature as exc:
        raise _bad("unverifiable", f"{where}: its sender's certificate: {exc}") from None
    if identity.principal != envelope.sender:
        raise _bad("tampered", f"{where}: its certificate names {identity.principal}, the "
                   f"alert {envelope.sender}")
    key = cert.public_key()
    try:
        if not isinstance(key, Ed25519PublicKey):
            raise EnvelopeMismatch("signing key is not Ed25519")
        verify_alert(key, item.alert, item.sig)
    except AlertRejected:
        raise _bad("tampered", f"{where}: the signature does not verify (the alert's "
                   "bytes or its signature were changed)") from None
    revoked = _revocation(crl, cert.serial_number)
    # A CRL's dates have second precision: refused only when revoked in an earlier second
    # than the alert's signing time (the same second cannot be ordered).
    if revoked is not None and revoked[0] // 1000 < envelope.ts // 1000:
        raise _bad("unverifiable", f"{where}: its sender's certificate was revoked "
                   f"({revoked[1]}) on {_utc(revoked[0])}, before the alert was signed "
                   f"({_utc(envelope.ts)})")
    if item.offset > checkpoint.size or not verify_inclusion(
            leaf_hash(item.alert), item.offset - 1, checkpoint.size, item.proof,
            checkpoint.root):
        raise _bad("tampered", f"{where}: its inclusion proof does not show it at offset "
                   f"{item.offset} of the channel's log of {checkpoint.size} alerts")
    return EvidenceAlert(offset=item.offset, envelope=envelope,
                         alert_hash=alert_hash(item.alert).hex(), kid=envelope.kid,
                         serial=cert.serial_number, revoked_later=revoked,
                         handling=handling_codes(envelope))


def _chains(alerts: list[EvidenceAlert], raw: dict[int, bytes]) -> None:
    """Sender chains within the bundle: a repeated ``seq`` must be the same alert, and an
    alert following another of the bundle (``seq`` + 1) must name its hash."""
    seen: dict[tuple[str, int], EvidenceAlert] = {}
    for a in alerts:
        env = a.envelope
        if env.seq is None:
            continue
        other = seen.setdefault((env.sender, env.seq), a)
        if other is not a:
            raise _bad("tampered", f"two different alerts {env.seq} of {env.sender} "
                       f"({other.envelope.id}, {env.id}): the sender's chain forks")
    for (sender, seq), a in seen.items():
        before = seen.get((sender, seq - 1))
        if before is not None and a.envelope.prev != alert_hash(raw[before.offset]):
            raise _bad("tampered", f"{sender}'s alert {seq} ({a.envelope.id}) does not "
                       f"follow its alert {seq - 1} ({before.envelope.id}): the chain forks")


def _permissions(alerts: list[EvidenceAlert]) -> list[EvidenceAlert]:
    permissions = [a for a in alerts if a.envelope.kind == "notice"
                   and a.envelope.body.get("permission") == PERMISSION_EVIDENCE]
    out = []
    for a in alerts:
        needs = RESTRICTED_HANDLING.intersection(a.handling)
        granted = next((p for p in permissions if permits(p.envelope, a.envelope)), None)
        if needs and granted is None:
            raise _bad("restricted", f"alert {a.envelope.id} (offset {a.offset}) is "
                       f"handling {', '.join(sorted(needs))} and the bundle holds no "
                       f"permission from {a.envelope.sender.split('/')[0]}: it may not "
                       "be passed on or used as evidence")
        out.append(EvidenceAlert(
            offset=a.offset, envelope=a.envelope, alert_hash=a.alert_hash, kid=a.kid,
            serial=a.serial, revoked_later=a.revoked_later, handling=a.handling,
            permitted_by=granted.envelope.id if needs and granted is not None else None,
            is_permission=a in permissions))
    return out


def verify_bundle(data: bytes, *, expected_ca: bytes | None = None) -> EvidenceReport:
    """Check a bundle offline (PROTOCOL.md Appendix D, "Verifying"); the report of what
    it proves, or :class:`EvidenceError`. ``expected_ca``: the DER of the only CA to
    trust (else the bundle's own CA, whose SHA-256 the report states). Nothing else is
    raised, whatever the bytes."""
    obj = _decode(data)
    try:
        return _verify(obj, expected_ca)
    except EvidenceError:
        raise
    except Exception as exc:  # a parser behind the format (X.509, CRL) refusing its bytes
        raise _bad("unreadable", "a certificate or the CRL in the bundle cannot be parsed "
                   f"({type(exc).__name__})") from None


def _verify(obj: dict[str, Any], expected_ca: bytes | None) -> EvidenceReport:
    items = _alerts(obj["alerts"])
    ca_der = _bytes(obj["ca"], "ca")
    crl_der = _bytes(obj["crl"], "crl")
    parts = _map(obj["checkpoint"], _CHECKPOINT_KEYS, "checkpoint")
    created = _int(obj["created"], "created")
    exporter = obj["exporter"]
    if not isinstance(exporter, str):
        raise _bad("unreadable", "exporter must be a string")
    ca = _ca(ca_der, expected_ca)
    crl = _crl(crl_der, ca)
    checkpoint, log_identity, log_kid = _checkpoint(parts, ca, crl)
    alerts = [_alert(item, checkpoint, ca, crl) for item in items]
    ids = [a.envelope.id for a in alerts]
    if len(set(ids)) != len(ids):
        raise _bad("tampered", "two alerts of the bundle have the same id")
    _chains(alerts, {item.offset: item.alert for item in items})
    number: int | None
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        number = None
    return EvidenceReport(
        checkpoint=checkpoint, fingerprint=fingerprint(checkpoint),
        log_identity=log_identity, log_kid=log_kid, ca_subject=ca.subject.rfc4514_string(),
        ca_sha256=hashlib.sha256(ca_der).hexdigest(), crl_number=number,
        crl_this_update=_ms(crl.last_update_utc),
        crl_next_update=_ms(crl.next_update_utc or crl.last_update_utc),
        created=created, exporter=exporter, alerts=_permissions(alerts))
