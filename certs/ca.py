"""The hub's certificate authority: create it, issue, revoke, publish the CRL.

All keys are Ed25519; everything is done with ``cryptography``. Identity is
carried exactly as :mod:`hub.protocol.identity` defines it — one
``urn:cordon:`` URI in the subjectAltName, plus the admin EKU for hub
administrators — and :func:`~certs.checks.identity_of` reads it back from that
field only. This module re-exports the whole public surface of the package
(errors from :mod:`certs.errors`, records from :mod:`certs.index`, checks from
:mod:`certs.checks`).

CA directory layout
-------------------

::

    <dir>/                      created 0700
    ├── ca.pem                  CA certificate                                0644
    ├── ca.key                  CA private key, PKCS#8 PEM, unencrypted       0600
    ├── crl.pem                 current CRL, signed by the CA                 0644
    ├── index.json              one record per issued certificate             0644
    │                           (format: see certs.index)
    ├── issued/<serial>.pem     copy of every issued certificate              0644
    │                           (<serial> = 16 lower-case hex digits)
    ├── out/                    default output directory for leaves           0700
    └── .lock                   flock(2)ed by every operation that writes     0600

Every file is written atomically (temporary file in the same directory created
with its final mode, fsync, :func:`os.replace`, fsync of the directory), and
every writing operation holds an exclusive lock on ``.lock``, so concurrent
``cordon ca`` invocations serialise instead of corrupting the index. After a
parse error nothing is overwritten: a corrupt ``index.json``, PEM or CRL raises
:class:`CorruptCA` and is left for a human to look at.

A leaf is written to its output directory (``out=``, default ``<dir>/out``,
created 0700) as ``<basename>.key`` (0600) and ``<basename>.pem`` (0644),
next to a copy of the CA certificate, ``ca.pem`` (:attr:`IssuedCert.ca`).
Default basenames: ``server``, ``<member>-<name>`` (e.g. ``fr-ops``),
``admin-<name>``; ``ca`` is refused. An existing output file is never replaced unless
``overwrite=True``.

Certificates
------------

- CA: self-signed, BasicConstraints CA:true pathlen:0 (critical), KeyUsage
  keyCertSign + cRLSign (critical), SubjectKeyIdentifier.
- Every leaf: BasicConstraints CA:false (critical), KeyUsage digitalSignature
  (critical), SKI, AKI, a random positive 64-bit serial unique in the index.
  ``not_before`` is backdated by :data:`BACKDATE` for peers whose clocks lag.
  A leaf never outlives the CA (:class:`InvalidRequest`).
- Server: EKU serverAuth; SAN DNS names and IP addresses; CN = the first DNS name
  that fits X.509's 64-character bound (``cordon-hub`` if none does).
- Member: EKU clientAuth; SAN = exactly one URI ``urn:cordon:principal:<m>/<n>``
  (``Identity.for_member(m, n).uri``); subject O=<member>, CN=<name>, for display
  only (:func:`hub.protocol.enrol.principal_subject`: every field fits its X.509
  bound at the longest names). ``officer`` / ``system`` is recorded in the index only.
- Admin: EKU clientAuth + :data:`~hub.protocol.identity.ADMIN_EKU_OID`; SAN =
  exactly one URI ``urn:cordon:admin:<name>``; O=admin, CN=<name> (display only).
- Log key (:func:`issue_log`): the key a hub signs channel checkpoints with (PROTOCOL.md
  Appendix C). EKU cordon-log (:data:`~hub.protocol.identity.LOG_EKU_OID`) only — no
  clientAuth, so it opens no session; SAN = exactly one URI ``urn:cordon:log:<hub>``;
  CN=cordon-log <hub>. Recorded with principal ``log:<hub>``: revocable on its own
  (``revoke(principal="log:<hub>")``), imported into the hub's registry and served by
  the directory so members verify checkpoints with it. Default basename ``log``.

Members keep their own keys
---------------------------

:func:`issue_from_request` issues a member's or an administrator's certificate for
the key of a PKCS#10 request (PEM), after :func:`hub.protocol.enrol.check_request`
(Ed25519, not weak, self-signature verified strictly, subject naming the
principal; :class:`BadRequest` otherwise); no key is generated or written
(:class:`CertifiedRequest`). ``issue_member`` / ``issue_admin`` generate the key
on the CA's side and write it (0600): central key generation.
- CRL: signed by the CA, CRLNumber incremented on every write, AKI, next
  update ``days`` (default 7) ahead; every revoked serial with its revocation
  time and reason code (none for ``unspecified``).

Test-only knobs
---------------

The ``issue_*`` functions take three keyword arguments meant for tests only:
``not_before`` / ``not_after`` (timezone-aware datetimes) replace the computed
validity period (``days`` is then ignored), to make expired or not-yet-valid
certificates; ``eku`` replaces the extended key usage list, to make
wrong-purpose certificates (an empty list: no extendedKeyUsage extension at all).
Production code never passes them.

Errors
------

Everything raised derives from :class:`CAError`; the tree is drawn in
:mod:`certs.errors` (``CAExists``, ``CANotFound``, ``CorruptCA``,
``UnknownCertificate``, ``AlreadyRevoked``, ``InvalidRequest`` > ``BadRequest``, and
``BadCertificate`` > ``InvalidIdentity`` / ``WrongPurpose``). Operating-system
errors (permissions, disk full) propagate as :class:`OSError`.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeAlias

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID

from certs.checks import (
    ADMIN_EKU,
    CLIENT_AUTH,
    LOG_EKU,
    SERVER_AUTH,
    check_purpose,
    identity_of,
)
from certs.crl import CRL_FILE, build_crl, crl_number
from certs.errors import (
    AlreadyRevoked,
    BadCertificate,
    BadRequest,
    CAError,
    CAExists,
    CANotFound,
    CorruptCA,
    InvalidIdentity,
    InvalidRequest,
    UnknownCertificate,
    WrongPurpose,
)
from certs.files import KEY_MODE, PUBLIC_MODE, locked, write_atomic
from certs.index import (
    INDEX_FILE,
    REASONS,
    CertKind,
    CertRecord,
    PrincipalKind,
    read_index,
    write_index,
)
from hub.protocol.enrol import check_request, principal_subject
from hub.protocol.envelope import key_id
from hub.protocol.errors import InvalidFrame
from hub.protocol.identity import LOG_URI_PREFIX, Identity, check_name

__all__ = [
    "ADMIN_EKU",
    "BACKDATE",
    "CA_CERT_FILE",
    "CA_KEY_FILE",
    "CLIENT_AUTH",
    "CRL_FILE",
    "DEFAULT_OUT_DIR",
    "INDEX_FILE",
    "ISSUED_DIR",
    "LOG_EKU",
    "REASONS",
    "SERVER_AUTH",
    "AlreadyRevoked",
    "BadCertificate",
    "BadRequest",
    "CAError",
    "CAExists",
    "CANotFound",
    "CertKind",
    "CertRecord",
    "CertifiedRequest",
    "CorruptCA",
    "InvalidIdentity",
    "InvalidRequest",
    "IssuedCert",
    "PrincipalKind",
    "StrPath",
    "UnknownCertificate",
    "WrongPurpose",
    "check_purpose",
    "identity_of",
    "init_ca",
    "issue_admin",
    "issue_from_request",
    "issue_log",
    "issue_member",
    "issue_server",
    "load_index",
    "revoke",
    "write_crl",
]

StrPath: TypeAlias = "str | os.PathLike[str]"

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca.key"
ISSUED_DIR = "issued"
#: Where leaves go when no ``out`` is given, relative to the CA directory.
DEFAULT_OUT_DIR = "out"
#: How far ``not_before`` is moved into the past, for peers whose clocks lag.
BACKDATE = timedelta(minutes=5)

#: X.509's upper bound for a commonName (RFC 5280 ub-common-name).
_MAX_CN = 64
_BASENAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_DNS_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DNS_NAME = re.compile(rf"(?=.{{1,253}}\Z){_DNS_LABEL}(?:\.{_DNS_LABEL})*")


class _Recorded:
    """``serial`` and ``kid`` of a written certificate, read from its index record."""

    __slots__ = ()
    record: CertRecord

    @property
    def serial(self) -> int:
        return self.record.serial

    @property
    def kid(self) -> str:
        return self.record.kid


@dataclass(frozen=True, slots=True)
class CertifiedRequest(_Recorded):
    """What :func:`issue_from_request` wrote: the certificate and the CA copy (the private
    key stays with the requester)."""

    cert: Path
    ca: Path
    record: CertRecord


@dataclass(frozen=True, slots=True)
class IssuedCert(_Recorded):
    """What an ``issue_*`` call wrote: the leaf's certificate and key, the CA copy."""

    cert: Path
    key: Path
    ca: Path
    record: CertRecord


# --------------------------------------------------------------------------- files


def _ca_dir(directory: StrPath) -> Path:
    path = Path(directory)
    if not (path / CA_CERT_FILE).is_file():
        raise CANotFound(f"no CA in {path}: {CA_CERT_FILE} not found")
    return path


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise CorruptCA(f"{path} is missing") from None


def _load_ca(d: Path) -> tuple[x509.Certificate, Ed25519PrivateKey]:
    cert = _load_ca_cert(d)
    try:
        key = serialization.load_pem_private_key(_read(d / CA_KEY_FILE), password=None)
    except (ValueError, TypeError) as exc:
        raise CorruptCA(f"{d / CA_KEY_FILE} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CorruptCA(f"{d / CA_KEY_FILE} is not an Ed25519 key")
    if key.public_key() != cert.public_key():
        raise CorruptCA(f"{d / CA_KEY_FILE} does not belong to {d / CA_CERT_FILE}")
    return cert, key


def _load_ca_cert(d: Path) -> x509.Certificate:
    try:
        cert = x509.load_pem_x509_certificate(_read(d / CA_CERT_FILE))
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
    except (ValueError, x509.ExtensionNotFound) as exc:
        raise CorruptCA(f"{d / CA_CERT_FILE} is not a CA certificate: {exc}") from exc
    if not constraints.ca:
        raise CorruptCA(f"{d / CA_CERT_FILE} is not a CA certificate")
    return cert


def _read_index(d: Path) -> list[CertRecord]:
    return read_index(d / INDEX_FILE)


def _write_index(d: Path, records: Iterable[CertRecord]) -> None:
    write_index(d / INDEX_FILE, records)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_index(directory: StrPath) -> list[CertRecord]:
    """Every certificate the CA in ``directory`` has issued, in issue order."""
    return _read_index(_ca_dir(directory))


# --------------------------------------------------------------------------- building


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _ski_of(key: Ed25519PublicKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key)


def _key_usage(*, digital_signature: bool = False, ca: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _check_days(days: int) -> None:
    if type(days) is not int or days < 1:
        raise InvalidRequest(f"days must be a positive integer, not {days!r}")


def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None:
        raise InvalidRequest(f"{what} must be timezone-aware")
    return value.astimezone(UTC).replace(microsecond=0)


def _validity(
    ca_cert: x509.Certificate,
    *,
    days: int,
    not_before: datetime | None,
    not_after: datetime | None,
) -> tuple[datetime, datetime]:
    _check_days(days)
    now = _now()
    start = now - BACKDATE if not_before is None else _aware(not_before, "not_before")
    end = now + timedelta(days=days) if not_after is None else _aware(not_after, "not_after")
    if end <= start:
        raise InvalidRequest("not_after must be later than not_before")
    if end > ca_cert.not_valid_after_utc:
        raise InvalidRequest(
            f"certificate would outlive the CA (CA expires {ca_cert.not_valid_after_utc:%Y-%m-%d})"
        )
    return start, end


def _new_serial(taken: set[int]) -> int:
    while True:
        serial = secrets.randbits(64)
        if serial and serial not in taken:
            return serial


def _write_crl(
    d: Path,
    ca_cert: x509.Certificate,
    ca_key: Ed25519PrivateKey,
    records: Iterable[CertRecord],
    *,
    days: int,
) -> Path:
    _check_days(days)
    path = d / CRL_FILE
    crl = build_crl(
        issuer=ca_cert,
        key=ca_key,
        records=records,
        number=crl_number(path, ca_key.public_key()) + 1,
        now=_now(),
        days=days,
    )
    write_atomic(path, crl.public_bytes(serialization.Encoding.PEM), mode=PUBLIC_MODE)
    return path


# --------------------------------------------------------------------------- operations


def init_ca(directory: StrPath, *, name: str = "Cordon Hub CA", days: int = 3650) -> Path:
    """Create a CA in ``directory`` (created 0700 if missing); return the path of ``ca.pem``.

    Raises :class:`CAExists` if any CA file is already there.
    """
    _check_days(days)
    if not isinstance(name, str) or not name.strip():
        raise InvalidRequest("the CA name must not be empty")
    if len(name) > _MAX_CN:
        raise InvalidRequest(f"the CA name must be at most {_MAX_CN} characters")
    d = Path(directory)
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    with locked(d):
        present = [f for f in (CA_CERT_FILE, CA_KEY_FILE, INDEX_FILE, CRL_FILE) if (d / f).exists()]
        if present:
            raise CAExists(f"a CA already exists in {d} ({', '.join(present)} present)")
        key = Ed25519PrivateKey.generate()
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = _now()
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(_new_serial(set()))
            .not_valid_before(now - BACKDATE)
            .not_valid_after(now + timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_key_usage(ca=True), critical=True)
            .add_extension(_ski_of(key.public_key()), critical=False)
            .sign(key, None)
        )
        write_atomic(d / CA_KEY_FILE, _key_pem(key), mode=KEY_MODE)
        write_atomic(d / CA_CERT_FILE, _pem(cert), mode=PUBLIC_MODE)
        (d / ISSUED_DIR).mkdir(mode=0o755, exist_ok=True)
        _write_index(d, [])
        _write_crl(d, cert, key, [], days=7)
    return d / CA_CERT_FILE


def _issue(
    directory: StrPath,
    *,
    kind: CertKind,
    subject: x509.Name,
    san: list[x509.GeneralName],
    eku: Sequence[x509.ObjectIdentifier],
    principal: str | None,
    principal_kind: PrincipalKind | None,
    dns_names: tuple[str, ...] = (),
    ip_addresses: tuple[str, ...] = (),
    days: int,
    not_before: datetime | None,
    not_after: datetime | None,
    out: StrPath | None,
    basename: str,
    overwrite: bool,
    public_key: Ed25519PublicKey | None = None,
) -> IssuedCert:
    d = _ca_dir(directory)
    if _BASENAME.fullmatch(basename) is None or basename == "ca":
        raise InvalidRequest(f"invalid output basename {basename!r}")
    out_dir = d / DEFAULT_OUT_DIR if out is None else Path(out)
    cert_path, key_path = out_dir / f"{basename}.pem", out_dir / f"{basename}.key"
    with locked(d):
        ca_cert, ca_key = _load_ca(d)
        records = _read_index(d)
        start, end = _validity(ca_cert, days=days, not_before=not_before, not_after=not_after)
        written = [cert_path] if public_key is not None else [key_path, cert_path]
        for path in written:
            if not overwrite and path.exists():
                raise InvalidRequest(f"{path} already exists (pass overwrite to replace it)")
        key: Ed25519PrivateKey | None = None
        if public_key is None:
            key = Ed25519PrivateKey.generate()
            public_key = key.public_key()
        leaf_key = public_key
        serial = _new_serial({r.serial for r in records})
        builder = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(ca_cert.subject)
            .public_key(leaf_key)
            .serial_number(serial)
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(digital_signature=True), critical=True)
        )
        if eku:  # empty only from the test knob: a certificate with no EKU at all
            builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
        cert = (
            builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
            .add_extension(_ski_of(leaf_key), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                critical=False,
            )
            .sign(ca_key, None)
        )
        record = CertRecord(
            serial=serial,
            kid=key_id(cert.public_bytes(serialization.Encoding.DER)),
            kind=kind,
            principal=principal,
            principal_kind=principal_kind,
            dns_names=dns_names,
            ip_addresses=ip_addresses,
            not_before=cert.not_valid_before_utc,
            not_after=cert.not_valid_after_utc,
        )
        out_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if key is not None:
            write_atomic(key_path, _key_pem(key), mode=KEY_MODE)
        write_atomic(cert_path, _pem(cert), mode=PUBLIC_MODE)
        write_atomic(out_dir / CA_CERT_FILE, _pem(ca_cert), mode=PUBLIC_MODE)
        issued = d / ISSUED_DIR
        issued.mkdir(mode=0o755, exist_ok=True)
        write_atomic(issued / f"{record.serial_hex}.pem", _pem(cert), mode=PUBLIC_MODE)
        _write_index(d, [*records, record])
    return IssuedCert(cert=cert_path, key=key_path, ca=out_dir / CA_CERT_FILE, record=record)


def _dns_name(value: str) -> str:
    name = value.lower() if isinstance(value, str) else ""
    if _DNS_NAME.fullmatch(name) is None:
        raise InvalidRequest(f"invalid DNS name {value!r}")
    return name


def _ip(value: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise InvalidRequest(f"invalid IP address {value!r}") from None


def issue_server(
    directory: StrPath,
    *,
    dns_names: Sequence[str],
    ip_addresses: Sequence[str | ipaddress.IPv4Address | ipaddress.IPv6Address] = (),
    days: int = 397,
    out: StrPath | None = None,
    basename: str = "server",
    overwrite: bool = False,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    eku: Sequence[x509.ObjectIdentifier] | None = None,
) -> IssuedCert:
    """Issue the hub's TLS server certificate (EKU serverAuth) for these names and IPs."""
    if isinstance(dns_names, str):
        raise InvalidRequest("dns_names must be a sequence of names, not one string")
    names = tuple(dict.fromkeys(_dns_name(n) for n in dns_names))
    ips = tuple(dict.fromkeys(_ip(i) for i in ip_addresses))
    if not names:
        raise InvalidRequest("a server certificate needs at least one DNS name")
    san: list[x509.GeneralName] = [x509.DNSName(n) for n in names]
    san += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    common_name = next((n for n in names if len(n) <= _MAX_CN), "cordon-hub")
    return _issue(
        directory,
        kind="server",
        subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]),
        san=san,
        eku=[SERVER_AUTH] if eku is None else eku,
        principal=None,
        principal_kind=None,
        dns_names=names,
        ip_addresses=ips,
        days=days,
        not_before=not_before,
        not_after=not_after,
        out=out,
        basename=basename,
        overwrite=overwrite,
    )


def issue_member(
    directory: StrPath,
    *,
    member: str,
    name: str,
    kind: PrincipalKind = "system",
    days: int = 365,
    out: StrPath | None = None,
    basename: str | None = None,
    overwrite: bool = False,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    eku: Sequence[x509.ObjectIdentifier] | None = None,
) -> IssuedCert:
    """Issue a certificate for principal ``member/name`` (an officer or a system), with a
    key generated here (central key generation; see :func:`issue_from_request`)."""
    if kind not in ("system", "officer"):
        raise InvalidRequest(f"kind must be 'system' or 'officer', not {kind!r}")
    try:
        identity = Identity.for_member(member, name)
    except InvalidFrame as exc:
        raise InvalidRequest(f"{exc} ({member!r}/{name!r})") from None
    return _issue(
        directory,
        kind="member",
        subject=principal_subject(identity),
        san=[x509.UniformResourceIdentifier(identity.uri)],
        eku=[CLIENT_AUTH] if eku is None else eku,
        principal=identity.principal,
        principal_kind=kind,
        days=days,
        not_before=not_before,
        not_after=not_after,
        out=out,
        basename=f"{member}-{name}" if basename is None else basename,
        overwrite=overwrite,
    )


def issue_admin(
    directory: StrPath,
    *,
    name: str,
    days: int = 365,
    out: StrPath | None = None,
    basename: str | None = None,
    overwrite: bool = False,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    eku: Sequence[x509.ObjectIdentifier] | None = None,
) -> IssuedCert:
    """Issue a hub administrator's certificate (EKU clientAuth + the admin EKU), with a
    key generated here (central key generation; see :func:`issue_from_request`)."""
    try:
        identity = Identity.for_admin(name)
    except InvalidFrame as exc:
        raise InvalidRequest(f"{exc} ({name!r})") from None
    return _issue(
        directory,
        kind="admin",
        subject=principal_subject(identity),
        san=[x509.UniformResourceIdentifier(identity.uri)],
        eku=[CLIENT_AUTH, ADMIN_EKU] if eku is None else eku,
        principal=identity.principal,
        principal_kind=None,
        days=days,
        not_before=not_before,
        not_after=not_after,
        out=out,
        basename=f"admin-{name}" if basename is None else basename,
        overwrite=overwrite,
    )


def issue_log(
    directory: StrPath,
    *,
    hub: str = "main",
    days: int = 1825,
    out: StrPath | None = None,
    basename: str = "log",
    overwrite: bool = False,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    eku: Sequence[x509.ObjectIdentifier] | None = None,
) -> IssuedCert:
    """Issue a hub's log key (signs channel checkpoints): EKU cordon-log, SAN
    ``urn:cordon:log:<hub>``, with a key generated here. ``hub`` names the deployment
    (a name as for members); one log key per deployment, shared by its hub processes."""
    try:
        name = check_name(hub, "hub name")
    except InvalidFrame as exc:
        raise InvalidRequest(f"{exc} ({hub!r})") from None
    return _issue(
        directory,
        kind="log",
        subject=x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"cordon-log {name}")]),
        san=[x509.UniformResourceIdentifier(LOG_URI_PREFIX + name)],
        eku=[LOG_EKU] if eku is None else eku,
        principal=f"log:{name}",
        principal_kind=None,
        days=days,
        not_before=not_before,
        not_after=not_after,
        out=out,
        basename=basename,
        overwrite=overwrite,
    )


def issue_from_request(
    directory: StrPath,
    csr: bytes | str,
    *,
    member: str | None = None,
    name: str,
    admin: bool = False,
    kind: PrincipalKind = "system",
    days: int = 365,
    out: StrPath | None = None,
    basename: str | None = None,
    overwrite: bool = False,
) -> CertifiedRequest:
    """Certify the key of request ``csr`` for principal ``member/name`` (or, with
    ``admin``, administrator ``name``). The request must pass
    :func:`~hub.protocol.enrol.check_request` (:class:`BadRequest` says which check
    failed). Only the certificate (0644) and ``ca.pem`` are written."""
    if admin != (member is None):
        raise InvalidRequest("give a member, or admin, not both")
    if not admin and kind not in ("system", "officer"):
        raise InvalidRequest(f"kind must be 'system' or 'officer', not {kind!r}")
    try:
        identity = Identity.for_admin(name) if member is None else Identity.for_member(member, name)
    except InvalidFrame as exc:
        raise InvalidRequest(f"{exc} ({member!r}/{name!r})") from None
    try:
        public_key = check_request(csr, identity)
    except InvalidFrame as exc:
        raise BadRequest(f"{exc.detail} (for {identity.principal})") from None
    default = f"admin-{name}" if member is None else f"{member}-{name}"
    issued = _issue(
        directory,
        kind="admin" if admin else "member",
        subject=principal_subject(identity),
        san=[x509.UniformResourceIdentifier(identity.uri)],
        eku=[CLIENT_AUTH, ADMIN_EKU] if admin else [CLIENT_AUTH],
        principal=identity.principal,
        principal_kind=None if admin else kind,
        days=days,
        not_before=None,
        not_after=None,
        out=out,
        basename=default if basename is None else basename,
        overwrite=overwrite,
        public_key=public_key,
    )
    return CertifiedRequest(cert=issued.cert, ca=issued.ca, record=issued.record)


def write_crl(directory: StrPath, *, days: int = 7) -> Path:
    """Regenerate ``crl.pem`` from the index (next CRL number, valid ``days``); return its path."""
    d = _ca_dir(directory)
    with locked(d):
        ca_cert, ca_key = _load_ca(d)
        return _write_crl(d, ca_cert, ca_key, _read_index(d), days=days)


def revoke(
    directory: StrPath,
    *,
    serial: int | None = None,
    kid: str | None = None,
    principal: str | None = None,
    reason: str = "unspecified",
    crl_days: int = 7,
) -> list[CertRecord]:
    """Revoke by ``serial``, ``kid`` or ``principal`` (all its active certificates).

    Exactly one selector must be given. The index is updated, then the CRL is
    regenerated. Returns the records that were revoked, as now stored.
    """
    if sum(x is not None for x in (serial, kid, principal)) != 1:
        raise InvalidRequest("give exactly one of serial, kid or principal")
    if reason not in REASONS:
        raise InvalidRequest(f"unknown reason {reason!r}; one of: {', '.join(REASONS)}")
    _check_days(crl_days)
    d = _ca_dir(directory)
    with locked(d):
        ca_cert, ca_key = _load_ca(d)
        records = _read_index(d)
        if serial is not None:
            selected = [r for r in records if r.serial == serial]
            what = f"serial {serial:016x}" if serial >= 0 else f"serial {serial}"
        elif kid is not None:
            selected = [r for r in records if r.kid == kid.lower()]
            what = f"kid {kid}"
        else:
            selected = [r for r in records if r.principal == principal]
            what = f"principal {principal}"
        if not selected:
            raise UnknownCertificate(f"no certificate with {what}")
        active = {r.serial for r in selected if r.status == "active"}
        if not active:
            which = "every certificate" if principal is not None else "the certificate"
            raise AlreadyRevoked(f"{which} with {what} is already revoked")
        now = _now()
        updated = [
            replace(r, status="revoked", revoked_at=now, reason=reason) if r.serial in active else r
            for r in records
        ]
        _write_index(d, updated)
        _write_crl(d, ca_cert, ca_key, updated, days=crl_days)
    return [r for r in updated if r.serial in active]
