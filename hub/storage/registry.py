"""Members, principals, certificates and the published CRL."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hub.protocol.errors import (
    Conflict,
    NotFound,
)
from hub.protocol.identity import check_name
from hub.storage._common import (
    CERT_STATUSES,
    MEMBER_STATUSES,
    PRINCIPAL_KINDS,
    _Base,
    _check_choice,
    _guard,
    _now_ms,
    _pairs,
)
from hub.storage._keys import (
    CRL_KEY,
    MEMBERS_KEY,
    _cert_key,
    _member_key,
    _principal_key,
    _principals_key,
)
from hub.storage.records import CertRecord, MemberRecord, PrincipalRecord


class RegistryMixin(_Base):
    """Members, certificates, principals and the published CRL."""

    async def add_member(self, member_id: str, *, name: str, country: str) -> MemberRecord:
        """Register a member administration (status active); Conflict if it exists."""
        check_name(member_id, "member id")
        created = _now_ms()
        with _guard():
            ok = await self._add_member(
                keys=[_member_key(member_id), MEMBERS_KEY],
                args=[member_id, name, country, created],
            )
        if not ok:
            raise Conflict("member already exists")
        return MemberRecord(
            id=member_id, name=name, country=country, status="active", created=created
        )

    async def member(self, member_id: str) -> MemberRecord | None:
        with _guard():
            h = await self._r.hgetall(_member_key(member_id))
        return MemberRecord._from_hash(member_id, h) if h else None

    async def members(self) -> list[MemberRecord]:
        """Every member, by id."""
        with _guard():
            ids = sorted(m.decode() for m in await self._r.smembers(MEMBERS_KEY))
            pipe = self._r.pipeline(transaction=False)
            for member_id in ids:
                pipe.hgetall(_member_key(member_id))
            hashes = await pipe.execute()
        return [MemberRecord._from_hash(m, h) for m, h in zip(ids, hashes, strict=True) if h]

    async def update_member(self, member_id: str, *, name: str | None = None,
                            country: str | None = None) -> MemberRecord:
        """Change a member's display name and/or country (atomically); NotFound if unknown."""
        args: list[str] = []
        if name is not None:
            args += ["name", name]
        if country is not None:
            args += ["country", country]
        if not args:
            raise ValueError("nothing to update")
        with _guard():
            flat = await self._update(keys=[_member_key(member_id)], args=args)
        if not flat:
            raise NotFound("unknown member")
        return MemberRecord._from_hash(member_id, _pairs(flat))

    async def member_statuses(self, member_ids: Sequence[str]) -> dict[str, str]:
        """Status of each known member (unknown ones are left out); one round trip."""
        return await self._statuses(member_ids, _member_key)

    async def _statuses(self, ids: Sequence[str], key: Callable[[str], str]
                        ) -> dict[str, str]:
        """The ``status`` field of each id's hash that exists, in one round trip."""
        unique = list(dict.fromkeys(ids))
        if not unique:
            return {}
        with _guard():
            pipe = self._r.pipeline(transaction=False)
            for one in unique:
                pipe.hget(key(one), "status")
            replies = await pipe.execute()
        return {i: v.decode() for i, v in zip(unique, replies, strict=True) if v is not None}

    async def set_member_status(self, member_id: str, status: str) -> MemberRecord:
        """active | suspended; NotFound if unknown."""
        _check_choice(status, MEMBER_STATUSES, "member status")
        with _guard():
            flat = await self._update(keys=[_member_key(member_id)], args=["status", status])
        if not flat:
            raise NotFound("unknown member")
        return MemberRecord._from_hash(member_id, _pairs(flat))

    async def register_cert(self, record: CertRecord) -> None:
        """Add or replace a certificate in the registry (idempotent)."""
        _check_choice(record.status, CERT_STATUSES, "certificate status")
        if not record.kid or not record.principal:
            raise ValueError("certificate record needs a kid and a principal")
        key = _cert_key(record.kid)
        with _guard():
            pipe = self._r.pipeline(transaction=True)
            pipe.delete(key)
            pipe.hset(key, mapping={
                "principal": record.principal, "member": record.member or "",
                "admin": "1" if record.admin else "0", "der": record.der,
                "serial": record.serial, "not_after": record.not_after, "status": record.status,
            })  # fmt: skip
            pipe.sadd(_principal_key(record.principal), record.kid)
            await pipe.execute()

    async def cert(self, kid: str) -> CertRecord | None:
        with _guard():
            h = await self._r.hgetall(_cert_key(kid))
        return CertRecord._from_hash(kid, h) if h else None

    async def certs_of(self, principal: str) -> list[CertRecord]:
        """Certificates issued to the principal, by kid."""
        with _guard():
            kids = sorted(k.decode() for k in await self._r.smembers(_principal_key(principal)))
            pipe = self._r.pipeline(transaction=False)
            for kid in kids:
                pipe.hgetall(_cert_key(kid))
            hashes = await pipe.execute()
        return [CertRecord._from_hash(k, h) for k, h in zip(kids, hashes, strict=True) if h]

    async def cert_ders(self, kids: Sequence[str]) -> dict[str, bytes]:
        """DER of each known kid (unknown ones are left out)."""
        unique = list(dict.fromkeys(kids))
        if not unique:
            return {}
        with _guard():
            pipe = self._r.pipeline(transaction=False)
            for kid in unique:
                pipe.hget(_cert_key(kid), "der")
            ders = await pipe.execute()
        return {k: d for k, d in zip(unique, ders, strict=True) if d is not None}

    async def cert_statuses(self, kids: Sequence[str]) -> dict[str, str]:
        """Status of each known kid (unknown ones are left out); one round trip."""
        return await self._statuses(kids, _cert_key)

    async def set_cert_status(self, kid: str, status: str) -> None:
        """active | revoked; NotFound if unknown."""
        _check_choice(status, CERT_STATUSES, "certificate status")
        with _guard():
            flat = await self._update(keys=[_cert_key(kid)], args=["status", status])
        if not flat:
            raise NotFound("unknown certificate")

    async def revoke_certs(self, kids: Sequence[str]) -> list[str]:
        """Mark the active certificates among ``kids`` revoked, atomically (revocation is
        final: nothing re-activates them); return the kids that changed."""
        unique = list(dict.fromkeys(kids))
        if not unique:
            return []
        with _guard():
            changed = await self._revoke_certs(keys=[_cert_key(k) for k in unique],
                                               args=[_now_ms()])
        by_key = {_cert_key(k): k for k in unique}
        return [by_key[key.decode()] for key in changed]

    # --- principals ---------------------------------------------------------
    async def add_principal(
        self,
        member: str,
        name: str,
        *,
        kind: str,
        cert: CertRecord | None = None,
        exist_ok: bool = False,
    ) -> PrincipalRecord:
        """Record principal ``member/name`` (officer | system; "" when not known), and with
        ``cert`` register its first certificate in the same atomic step. NotFound for an
        unknown member; Conflict if the principal exists, unless ``exist_ok`` (then only an
        unknown kind is filled in, and ``cert`` is not registered)."""
        check_name(member, "member id")
        check_name(name, "principal name")
        if kind:
            _check_choice(kind, PRINCIPAL_KINDS, "principal kind")
        principal = f"{member}/{name}"
        args: list[Any] = [name, kind, "", "1" if exist_ok else "0"]
        keys = [_member_key(member), _principals_key(member), _cert_key(""),
                _principal_key(principal)]
        if cert is not None:
            if cert.principal != principal or cert.member != member or cert.admin:
                raise ValueError("the certificate belongs to another principal")
            keys[2] = _cert_key(cert.kid)
            args = [name, kind, cert.kid, "1" if exist_ok else "0", principal, member, cert.der,
                    cert.serial, cert.not_after]
        with _guard():
            status = await self._add_principal(keys=keys, args=args)
        if status == 1:
            raise NotFound("unknown member")
        if status == 2:
            raise Conflict("principal already exists")
        return PrincipalRecord(id=principal, member=member, name=name, kind=kind)

    async def principals(self, member: str) -> list[PrincipalRecord]:
        """The member's principals, by name ([] for an unknown member)."""
        with _guard():
            h = await self._r.hgetall(_principals_key(member))
        return [
            PrincipalRecord(id=f"{member}/{n.decode()}", member=member, name=n.decode(),
                            kind=k.decode())
            for n, k in sorted(h.items())
        ]  # fmt: skip

    async def principal(self, principal: str) -> PrincipalRecord | None:
        member, sep, name = principal.partition("/")
        if not sep:
            return None
        with _guard():
            kind = await self._r.hget(_principals_key(member), name)
        if kind is None:
            return None
        return PrincipalRecord(id=principal, member=member, name=name, kind=kind.decode())

    # --- the CRL every hub process loads ---------------------------------------
    async def set_crl(self, pem: bytes, number: int) -> bool:
        """Keep ``pem`` as the current CRL if ``number`` is above the stored one's."""
        if type(number) is not int or number < 0:
            raise ValueError("CRL number must be a non-negative integer")
        with _guard():
            return bool(await self._set_crl(keys=[CRL_KEY], args=[number, pem]))

    async def crl(self) -> tuple[int, bytes] | None:
        """The stored CRL: ``(number, pem)``, or None if none was published."""
        with _guard():
            number, pem = await self._r.hmget(CRL_KEY, ["number", "pem"])
        if number is None or pem is None:
            return None
        return int(number), pem

    async def crl_number(self) -> int:
        """The stored CRL's number (0 if none): a cheap check before fetching it."""
        with _guard():
            number = await self._r.hget(CRL_KEY, "number")
        return int(number) if number is not None else 0
