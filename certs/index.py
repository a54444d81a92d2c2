"""``index.json``: the record of every certificate the CA issued.

::

    {"version": 1, "certificates": [
      {"serial": 1234567890123456789,       # int: random, positive, 64-bit, unique in the CA
       "kid": "<64 hex digits>",            # SHA-256 of the DER (hub.protocol.envelope.key_id)
       "kind": "member",                    # "server" | "member" | "admin" | "log"
       "principal": "fr/ops",               # "admin/<name>" for admins, "log:<hub>" for a
                                            # hub's log key, null for servers
       "principal_kind": "system",          # "system" | "officer" for members, else null
       "dns_names": [], "ip_addresses": [], # the SAN of server certificates, else empty
       "not_before": "2025-01-01T00:00:00+00:00",
       "not_after": "2026-01-01T00:00:00+00:00",
       "status": "active",                  # "active" | "revoked"
       "revoked_at": null,                  # ISO time, set when revoked
       "reason": null}                      # RFC 5280 reason name, set when revoked
    ]}

Records are kept in issue order. Reading is strict: any deviation (bad JSON,
unknown or missing key, wrong type, duplicate serial) raises
:class:`~certs.errors.CorruptCA` and the file is left untouched. Writing is
atomic (see :mod:`certs._fs`); callers hold the CA lock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from cryptography import x509

from certs.errors import CorruptCA
from certs.files import PUBLIC_MODE, write_atomic

__all__ = [
    "INDEX_FILE",
    "REASONS",
    "CertKind",
    "CertRecord",
    "PrincipalKind",
    "Status",
    "read_index",
    "write_index",
]

INDEX_FILE = "index.json"
INDEX_VERSION = 1

CertKind = Literal["server", "member", "admin", "log"]
PrincipalKind = Literal["system", "officer"]
Status = Literal["active", "revoked"]

#: Revocation reasons (RFC 5280 names) accepted by :func:`certs.ca.revoke`.
#: ``unspecified`` goes on the CRL without a reason code (RFC 5280 §5.3.1).
REASONS: dict[str, x509.ReasonFlags] = {
    flag.value: flag
    for flag in (
        x509.ReasonFlags.unspecified,
        x509.ReasonFlags.key_compromise,
        x509.ReasonFlags.ca_compromise,
        x509.ReasonFlags.affiliation_changed,
        x509.ReasonFlags.superseded,
        x509.ReasonFlags.cessation_of_operation,
        x509.ReasonFlags.privilege_withdrawn,
    )
}

_KID = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class CertRecord:
    """One issued certificate, as kept in ``index.json``."""

    serial: int
    kid: str
    kind: CertKind
    principal: str | None
    principal_kind: PrincipalKind | None
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    not_before: datetime
    not_after: datetime
    status: Status = "active"
    revoked_at: datetime | None = None
    reason: str | None = None

    @property
    def serial_hex(self) -> str:
        """The serial as (at least) 16 lower-case hex digits, as in ``issued/<hex>.pem``."""
        return f"{self.serial:016x}"

    @property
    def subject(self) -> str:
        """What the certificate names: the principal id, or the server's names."""
        if self.principal is not None:
            return self.principal
        return ",".join((*self.dns_names, *self.ip_addresses))

    def to_json(self) -> dict[str, Any]:
        """The record as stored in ``index.json``."""
        return {
            "serial": self.serial,
            "kid": self.kid,
            "kind": self.kind,
            "principal": self.principal,
            "principal_kind": self.principal_kind,
            "dns_names": list(self.dns_names),
            "ip_addresses": list(self.ip_addresses),
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "status": self.status,
            "revoked_at": None if self.revoked_at is None else self.revoked_at.isoformat(),
            "reason": self.reason,
        }


_RECORD_KEYS = frozenset(CertRecord.__dataclass_fields__)


def _time(value: object, what: str) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be an ISO time string")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError(f"{what} has no time zone")
    return parsed


def _strings(value: object, what: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of strings")
    return tuple(value)


def _record_from_json(obj: object) -> CertRecord:
    if not isinstance(obj, dict) or set(obj) != _RECORD_KEYS:
        raise ValueError("record must have exactly: " + ", ".join(sorted(_RECORD_KEYS)))
    serial, kid, kind = obj["serial"], obj["kid"], obj["kind"]
    principal, pkind, status = obj["principal"], obj["principal_kind"], obj["status"]
    reason = obj["reason"]
    if type(serial) is not int or serial <= 0:
        raise ValueError("serial must be a positive integer")
    if not isinstance(kid, str) or _KID.fullmatch(kid) is None:
        raise ValueError("kid must be 64 lower-case hex digits")
    if kind not in ("server", "member", "admin", "log"):
        raise ValueError(f"unknown kind {kind!r}")
    if kind == "server" and principal is not None:
        raise ValueError("a server record has no principal")
    if kind != "server" and not isinstance(principal, str):
        raise ValueError("principal must be a string")
    if pkind not in (("system", "officer") if kind == "member" else (None,)):
        raise ValueError("principal_kind must be system|officer for members, else null")
    if status not in ("active", "revoked"):
        raise ValueError(f"unknown status {status!r}")
    revoked_at = None if obj["revoked_at"] is None else _time(obj["revoked_at"], "revoked_at")
    revoked = status == "revoked"
    if revoked != (revoked_at is not None) or revoked != (reason is not None):
        raise ValueError("revoked_at and reason are set exactly when status is revoked")
    if reason is not None and reason not in REASONS:
        raise ValueError(f"unknown reason {reason!r}")
    return CertRecord(
        serial=serial,
        kid=kid,
        kind=kind,
        principal=principal,
        principal_kind=pkind,
        dns_names=_strings(obj["dns_names"], "dns_names"),
        ip_addresses=_strings(obj["ip_addresses"], "ip_addresses"),
        not_before=_time(obj["not_before"], "not_before"),
        not_after=_time(obj["not_after"], "not_after"),
        status=status,
        revoked_at=revoked_at,
        reason=reason,
    )


def read_index(path: Path) -> list[CertRecord]:
    """Parse ``index.json`` at ``path``; :class:`CorruptCA` if missing or invalid."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CorruptCA(f"{path} is missing") from None
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("version") != INDEX_VERSION:
            raise ValueError(f"not a version {INDEX_VERSION} index")
        if set(doc) != {"version", "certificates"} or not isinstance(doc["certificates"], list):
            raise ValueError("expected exactly 'version' and a 'certificates' list")
        records = []
        for i, obj in enumerate(doc["certificates"]):
            try:
                records.append(_record_from_json(obj))
            except ValueError as exc:
                raise ValueError(f"record {i}: {exc}") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise CorruptCA(f"{path} is corrupt: {exc}") from exc
    if len({r.serial for r in records}) != len(records):
        raise CorruptCA(f"{path} is corrupt: duplicate serial")
    return records


def write_index(path: Path, records: Iterable[CertRecord]) -> None:
    """Atomically replace ``index.json`` at ``path`` with ``records``."""
    doc = {"version": INDEX_VERSION, "certificates": [r.to_json() for r in records]}
    write_atomic(path, (json.dumps(doc, indent=2) + "\n").encode(), mode=PUBLIC_MODE)
