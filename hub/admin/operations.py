"""The administrative operations themselves: check arguments, write the store, announce
the change to every hub process, audit it. Used in-process (demo, tests) and by
:mod:`hub.admin.wire`."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from certs import ca as certs_ca
from hub.admin._common import (
    _CONTROL,
    _DEFAULT_DAYS,
    _KID,
    _MAX_DAYS,
    _MAX_TEXT,
    COUNTRIES,
    _audit,
    _cert_dict,
    log,
)
from hub.protocol.enrol import check_request
from hub.protocol.errors import (
    Conflict,
    CordonError,
    InvalidFrame,
    NoSuchChannel,
    NotFound,
    Unavailable,
)
from hub.protocol.identity import (
    RESERVED_MEMBER,
    Identity,
    check_channel,
    check_name,
    principal_id,
    split_principal,
)
from hub.storage import (
    CHANNEL_STATES,
    PRINCIPAL_KINDS,
    ROLES,
    CertRecord,
    ChannelMeta,
    MemberRecord,
    Store,
)

if TYPE_CHECKING:
    from hub.admin._common import AdminHost as Hub  # never the server itself

# --- members ---------------------------------------------------------------------------


def _text(value: str, what: str, *, required: bool) -> str:
    value = value.strip()
    if (required and not value) or len(value) > _MAX_TEXT or _CONTROL.search(value):
        raise InvalidFrame(f"invalid {what}")
    return value


def _country(value: str) -> str:
    code = value.strip().upper()
    if code not in COUNTRIES:
        raise InvalidFrame("country must be an ISO 3166-1 alpha-2 code")
    return code


def _principal_arg(value: str) -> str:
    """A member principal id, or an administrator's (``admin/<name>``)."""
    if value.startswith(RESERVED_MEMBER + "/"):
        check_name(value.removeprefix(RESERVED_MEMBER + "/"), "admin name")
        return value
    split_principal(value)
    return value


def _member_id(value: str) -> str:
    check_name(value, "member id")
    if value == RESERVED_MEMBER:
        raise InvalidFrame("member id 'admin' is reserved")
    return value


async def add_member(store: Store, member: str, *, name: str, country: str,
                     by: str = "local", peer: str = "local") -> MemberRecord:
    """Enrol an administration (active). Conflict if the id is taken."""
    record = await store.add_member(_member_id(member), name=_text(name, "member name",
                                    required=True), country=_country(country))
    await _audit(store, {"action": "member.add", "principal": by, "peer": peer,
                         "member": member, "country": record.country, "result": "ok"})
    return record


async def ensure_member(store: Store, member: str, *, name: str, country: str,
                        by: str = "local", peer: str = "local") -> tuple[MemberRecord, bool]:
    """:func:`add_member`, idempotent: a member that exists with the same name and country
    is left as it is and returned with ``True`` (unchanged; audited ``result=unchanged``);
    one that exists differently is still a Conflict."""
    member = _member_id(member)
    name, country = _text(name, "member name", required=True), _country(country)
    current = await store.member(member)
    if current is not None:
        if (current.name, current.country) != (name, country):
            raise Conflict("member already exists")
        await _audit(store, {"action": "member.add", "principal": by, "peer": peer,
                             "member": member, "country": country, "result": "unchanged"})
        return current, True
    return await add_member(store, member, name=name, country=country, by=by, peer=peer), False


async def update_member(store: Store, member: str, *, name: str | None = None,
                        country: str | None = None, by: str = "local", peer: str = "local"
                        ) -> MemberRecord:
    """Change a member's display name and/or country (members imported from the CA folder
    start with their id as name and no country). NotFound for an unknown member."""
    if name is None and country is None:
        raise InvalidFrame("nothing to update: give a name and/or a country")
    record = await store.update_member(
        _member_id(member),
        name=None if name is None else _text(name, "member name", required=True),
        country=None if country is None else _country(country))
    await _audit(store, {"action": "member.update", "principal": by, "peer": peer,
                         "member": member, "name": None if name is None else record.name,
                         "country": None if country is None else record.country,
                         "result": "ok"})
    return record


async def set_member_status(store: Store, member: str, status: str, *, by: str = "local",
                            peer: str = "local") -> MemberRecord:
    """Suspend (``suspended``) or reinstate (``active``) a member. A suspended member's
    sessions are closed on every hub process (4010) and it cannot connect until
    reinstated. NotFound for an unknown member; Conflict if it already has that status."""
    current = await store.member(_member_id(member))
    if current is None:
        raise NotFound("unknown member")
    if current.status == status:
        raise Conflict(f"member is already {'active' if status == 'active' else 'suspended'}")
    record = await store.set_member_status(member, status)
    await store.publish_event({"type": "member", "member": member, "status": status})
    action = "member.reinstate" if status == "active" else "member.suspend"
    await _audit(store, {"action": action, "principal": by, "peer": peer, "member": member,
                         "result": "ok"})
    return record


# --- principals and their certificates ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Credentials:
    """A certificate issued through the hub, with its private key (PEM)."""

    principal: str
    kind: str
    cert: CertRecord
    cert_pem: bytes
    #: None when issued from the member's certificate request (the key never left it).
    key_pem: bytes | None
    ca_pem: bytes
    #: True when the principal already held this certificate for this key (idempotent add).
    unchanged: bool = False

    def wire(self) -> dict[str, Any]:
        return {"principal": self.principal, "kind": self.kind, **_cert_dict(self.cert),
                "cert": self.cert_pem.decode(),
                "key": None if self.key_pem is None else self.key_pem.decode(),
                "ca": self.ca_pem.decode(), "unchanged": self.unchanged}


def _days(value: int) -> int:
    if type(value) is not int or not 1 <= value <= _MAX_DAYS:
        raise InvalidFrame(f"days must be 1 to {_MAX_DAYS}")
    return value


def _key_source(csr: str | None, generate_key: bool) -> None:
    """Exactly one: the member's certificate request, or central key generation asked for
    explicitly (the hub then sees the private key, if only in passing)."""
    if (csr is not None) == generate_key:
        raise InvalidFrame("give exactly one of csr (recommended) or generate_key")


def _issue(ca_dir: Path, scratch: Path, member: str, name: str, kind: str, days: int,
           csr: str | None) -> tuple[CertRecord, bytes, bytes | None, bytes]:
    """Issue with the CA folder's key into a private scratch folder, read it back, remove it:
    for the key of ``csr``, or a key generated here. Blocking (file I/O, the CA lock): run
    in a thread."""
    scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
    key_pem: bytes | None = None
    with tempfile.TemporaryDirectory(dir=scratch, prefix=".issue-") as out:
        if csr is None:
            issued = certs_ca.issue_member(ca_dir, member=member, name=name,
                                           kind=kind,  # type: ignore[arg-type]
                                           days=days, out=out, basename="leaf")
            key_pem = issued.key.read_bytes()
            cert_path, ca_path, kid, serial = issued.cert, issued.ca, issued.kid, issued.serial
        else:
            certified = certs_ca.issue_from_request(
                ca_dir, csr, member=member, name=name, kind=kind,  # type: ignore[arg-type]
                days=days, out=out, basename="leaf")
            cert_path, ca_path = certified.cert, certified.ca
            kid, serial = certified.kid, certified.serial
        cert_pem, ca_pem = cert_path.read_bytes(), ca_path.read_bytes()
    cert = x509.load_pem_x509_certificate(cert_pem)
    record = CertRecord(
        kid=kid, principal=f"{member}/{name}", member=member, admin=False,
        der=cert.public_bytes(Encoding.DER), serial=serial,
        not_after=int(cert.not_valid_after_utc.timestamp() * 1000), status="active",
    )
    return record, cert_pem, key_pem, ca_pem


async def _issue_via_ca(hub: Hub, member: str, name: str, kind: str, days: int,
                        csr: str | None) -> tuple[CertRecord, bytes, bytes | None, bytes]:
    s = hub.settings
    if csr is not None:  # refused with a fixed text (PROTOCOL.md §6.8) before the CA runs
        check_request(csr, Identity.for_member(member, name))
    try:
        return await asyncio.to_thread(_issue, s.ca_dir, s.data_dir / "issue", member, name,
                                       kind, days, csr)
    except certs_ca.BadRequest as exc:  # checked above: not expected
        log.warning("the CA refused the request for %s/%s: %s", member, name, exc)
        raise InvalidFrame("the CA refused the certificate request") from exc
    except certs_ca.InvalidRequest as exc:
        log.warning("the CA refused to issue for %s/%s: %s", member, name, exc)
        raise InvalidFrame("the CA refused the request (lifetime beyond the CA's?)") from exc
    except (certs_ca.CAError, OSError) as exc:
        log.error("cannot issue for %s/%s: %s", member, name, exc)
        raise Unavailable("certificate authority unavailable on this hub") from exc


async def _revoke_in_ca(hub: Hub, kid: str, reason: str) -> None:
    """Best effort: the registry already refuses the certificate."""
    with contextlib.suppress(certs_ca.AlreadyRevoked):
        await asyncio.to_thread(certs_ca.revoke, hub.settings.ca_dir, kid=kid, reason=reason)


async def add_principal(hub: Hub, member: str, name: str, *, kind: str,
                        days: int = _DEFAULT_DAYS, csr: str | None = None,
                        generate_key: bool = False, by: str = "local", peer: str = "local"
                        ) -> Credentials:
    """Add principal ``member/name`` (officer | system) and issue its first certificate in
    one step, with the CA folder the hub runs with: for the key of the member's
    certificate request ``csr`` (PEM), or, only with ``generate_key``, a key generated
    here and returned once. NotFound for an unknown member, Conflict if the principal
    exists (use :func:`issue_certificate` for a new one)."""
    store = hub.store
    pid = principal_id(_member_id(member), check_name(name, "principal name"))
    if kind not in PRINCIPAL_KINDS:
        raise InvalidFrame(f"kind must be one of {', '.join(PRINCIPAL_KINDS)}")
    _days(days)
    _key_source(csr, generate_key)
    if await store.member(member) is None:
        raise NotFound("unknown member")
    existing = await store.principal(pid)
    certs = await store.certs_of(pid)
    if existing is not None or certs:
        same = await _same_request(hub, existing.kind if existing else "", certs, kind, csr)
        if same is None:
            raise Conflict("principal already exists")
        await _audit(store, {"action": "principal.add", "principal": by, "peer": peer,
                             "member": member, "subject": pid, "kind": kind, "kid": same.kid,
                             "result": "unchanged"})
        cert_pem = x509.load_der_x509_certificate(same.der).public_bytes(Encoding.PEM)
        ca_pem = await asyncio.to_thread(hub.settings.ca_cert.read_bytes)
        return Credentials(pid, kind, same, cert_pem, None, ca_pem, unchanged=True)
    cert, cert_pem, key_pem, ca_pem = await _issue_via_ca(hub, member, name, kind, days, csr)
    try:
        await store.add_principal(member, name, kind=kind, cert=cert)
    except CordonError:
        with contextlib.suppress(certs_ca.CAError, OSError):
            await _revoke_in_ca(hub, cert.kid, "cessationOfOperation")  # lost a race
        raise
    await _audit(store, {"action": "principal.add", "principal": by, "peer": peer,
                         "member": member, "subject": pid, "kind": kind, "kid": cert.kid,
                         "result": "ok"})
    return Credentials(pid, kind, cert, cert_pem, key_pem, ca_pem)


async def _same_request(hub: Hub, current_kind: str, certs: list[CertRecord], kind: str,
                        csr: str | None) -> CertRecord | None:
    """The principal's usable certificate for the key of ``csr`` when it already is what
    ``principal.add`` asks for (same kind; active, unexpired, same public key): adding it
    again changes nothing. None otherwise (and always with ``generate_key``)."""
    if csr is None or current_kind != kind:
        return None
    try:
        wanted = x509.load_pem_x509_csr(csr.encode("utf-8", "replace")).public_key()
        raw = wanted.public_bytes(Encoding.Raw, PublicFormat.Raw)
    except (ValueError, TypeError):  # not a request, or not an Ed25519 key: never the same
        return None
    now = int(time.time() * 1000)
    for record in certs:
        if record.status != "active" or record.not_after <= now:
            continue
        key = x509.load_der_x509_certificate(record.der).public_key()
        if key.public_bytes(Encoding.Raw, PublicFormat.Raw) == raw:
            return record
    return None


async def issue_certificate(hub: Hub, principal: str, *, days: int = _DEFAULT_DAYS,
                            csr: str | None = None, generate_key: bool = False,
                            by: str = "local", peer: str = "local") -> Credentials:
    """Issue a further certificate for an existing member principal (renewal, or after a
    revocation), from ``csr`` or with ``generate_key`` as :func:`add_principal`. Its other
    certificates stay as they are. NotFound if unknown."""
    member, name = split_principal(principal)
    _days(days)
    _key_source(csr, generate_key)
    record = await hub.store.principal(principal)
    if record is None and not await hub.store.certs_of(principal):
        raise NotFound("unknown principal")
    kind = record.kind if record is not None and record.kind else "system"
    cert, cert_pem, key_pem, ca_pem = await _issue_via_ca(hub, member, name, kind, days, csr)
    await hub.store.register_cert(cert)
    await _audit(hub.store, {"action": "principal.issue", "principal": by, "peer": peer,
                             "member": member, "subject": principal, "kid": cert.kid,
                             "result": "ok"})
    return Credentials(principal, kind, cert, cert_pem, key_pem, ca_pem)


async def revoke_certificates(hub: Hub, *, principal: str | None = None,
                              kid: str | None = None, reason: str = "unspecified",
                              by: str = "local", peer: str = "local"
                              ) -> tuple[list[CertRecord], int | None]:
    """Revoke one certificate (``kid``) or every active one of a ``principal``, at once on
    every hub process: the registry refuses them (new connections: 4010), the principal's
    live sessions on those certificates are closed (4010), and the CA folder's CRL is
    rewritten and published to every process, which reloads TLS. Returns the revoked
    records and the new CRL's number (None if the CA folder could not be updated: the
    revocation still holds through the registry). Alerts signed before stay verifiable.
    NotFound for an unknown principal or certificate; Conflict if already revoked."""
    store = hub.store
    if (principal is None) == (kid is None):
        raise InvalidFrame("give exactly one of principal or kid")
    if reason not in certs_ca.REASONS:
        raise InvalidFrame("unknown revocation reason")
    if principal is not None:
        records = await store.certs_of(_principal_arg(principal))
        if not records:
            raise NotFound("unknown principal")
    else:
        assert kid is not None
        if _KID.fullmatch(kid) is None:
            raise InvalidFrame("invalid key id")
        one = await store.cert(kid.lower())
        if one is None:
            raise NotFound("unknown certificate")
        records = [one]
    active = [r for r in records if r.status == "active"]
    if not active:
        raise Conflict("already revoked")
    changed = set(await store.revoke_certs([r.kid for r in active]))
    revoked = [r for r in active if r.kid in changed]
    if not revoked:
        raise Conflict("already revoked")
    for r in revoked:
        event = {"type": "revoke", "kid": r.kid, "principal": r.principal}
        hub.access.apply(event)  # this process refuses it before the op is answered
        await store.publish_event(event)
    number: int | None = None
    try:
        for r in revoked:
            with contextlib.suppress(certs_ca.UnknownCertificate):
                await _revoke_in_ca(hub, r.kid, reason)
        number = await hub.casync.publish_folder_crl()
    except (certs_ca.CAError, OSError, CordonError) as exc:
        log.error("revoked in the registry, but the CRL could not be republished: %s", exc)
    await _audit(store, {
        "action": "cert.revoke", "principal": by, "peer": peer,
        "member": revoked[0].member, "subject": principal or revoked[0].principal,
        "kid": ",".join(r.kid for r in revoked),
        "revocation": reason, "crl": number, "result": "ok",
    })  # fmt: skip
    return revoked, number


# --- channels and roles ------------------------------------------------------------------


def _iso_date(value: str, what: str) -> str:
    if not value:
        return ""
    try:
        date.fromisoformat(value)
    except ValueError:
        raise InvalidFrame(f"{what} must be a date, YYYY-MM-DD") from None
    if len(value) != 10:
        raise InvalidFrame(f"{what} must be a date, YYYY-MM-DD")
    return value


async def create_channel(store: Store, name: str, *, title: str = "", starts: str = "",
                         ends: str = "", retention_ms: int = 0, by: str = "local",
                         peer: str = "local") -> ChannelMeta:
    """Create an operation's channel (open, fresh epoch). Conflict if the name is taken."""
    check_channel(name)
    title = _text(title, "title", required=False)
    starts, ends = _iso_date(starts, "starts"), _iso_date(ends, "ends")
    if starts and ends and ends < starts:
        raise InvalidFrame("ends is before starts")
    if type(retention_ms) is not int or retention_ms < 0:
        raise InvalidFrame("retention must be a non-negative number of milliseconds")
    meta = await store.create_channel(name, title=title, starts=starts, ends=ends,
                                      retention_ms=retention_ms)
    await store.publish_event({"type": "channel", "ch": name, "state": meta.state})
    await _audit(store, {"action": "channel.create", "principal": by, "peer": peer,
                         "channel": name, "result": "ok"})
    return meta


async def ensure_channel(store: Store, name: str, *, title: str = "", starts: str = "",
                         ends: str = "", retention_ms: int = 0, by: str = "local",
                         peer: str = "local") -> tuple[ChannelMeta, bool]:
    """:func:`create_channel`, idempotent: a channel that exists with the same title, dates
    and retention is returned as it is with ``True`` (unchanged, whatever its state); one
    that exists differently is still a Conflict."""
    check_channel(name)
    current = await store.channel(name)
    if current is None:
        meta = await create_channel(store, name, title=title, starts=starts, ends=ends,
                                    retention_ms=retention_ms, by=by, peer=peer)
        return meta, False
    wanted = (_text(title, "title", required=False), _iso_date(starts, "starts"),
              _iso_date(ends, "ends"), retention_ms)
    if (current.title, current.starts, current.ends, current.retention_ms) != wanted:
        raise Conflict("channel already exists")
    await _audit(store, {"action": "channel.create", "principal": by, "peer": peer,
                         "channel": name, "result": "unchanged"})
    return current, True


async def set_channel_state(store: Store, name: str, state: str, *, by: str = "local",
                            peer: str = "local") -> ChannelMeta:
    """open | closed (read-only: publishing gets 405, history stays readable) | archived
    (also ends every live subscription)."""
    if state not in CHANNEL_STATES:
        raise InvalidFrame(f"state must be one of {', '.join(CHANNEL_STATES)}")
    meta = await store.set_channel_state(name, state)
    await store.publish_event({"type": "channel", "ch": name, "state": state})
    await _audit(store, {"action": f"channel.{state}", "principal": by, "peer": peer,
                         "channel": name, "result": "ok"})
    return meta


async def grant(store: Store, channel: str, member: str, role: str, *, by: str = "local",
                peer: str = "local") -> str | None:
    """Give a member a role in a channel, or change it; returns the previous role."""
    if role not in ROLES:
        raise InvalidFrame(f"role must be one of {', '.join(ROLES)}")
    check_name(member, "member id")
    if await store.member(member) is None:
        raise NotFound("unknown member")
    previous = await store.role(channel, member)
    await store.set_role(channel, member, role)
    await store.publish_event({"type": "role", "ch": channel, "member": member, "role": role})
    action = "role.change" if previous is not None and previous != role else "role.grant"
    await _audit(store, {"action": action, "principal": by, "peer": peer, "channel": channel,
                         "member": member, "role": role, "previous": previous, "result": "ok"})
    return previous


async def revoke_role(store: Store, channel: str, member: str, *, by: str = "local",
                      peer: str = "local") -> None:
    """Remove a member from a channel; its live subscriptions to it end (``ended`` 404)."""
    if await store.channel(channel) is None:
        raise NoSuchChannel()
    await store.set_role(channel, member, None)
    await store.publish_event({"type": "role", "ch": channel, "member": member, "role": None})
    await _audit(store, {"action": "role.remove", "principal": by, "peer": peer,
                         "channel": channel, "member": member, "result": "ok"})
