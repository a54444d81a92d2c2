"""A throwaway PKI for tests, built with :mod:`certs.ca` (no pytest in here).

::

    pki = make_pki(tmp_path)        # CA + server cert for localhost / 127.0.0.1
    ops = pki.member("fr", "ops")   # Leaf(cert, key, kid, serial, principal)
    alice = pki.admin("alice")
    pki.revoke(ops)                 # rewrites pki.crl
    pki.expired_member("fr", "ops") # also: not_yet_valid_member, wrong_eku_member,
                                    #       foreign_ca_member (signed by another CA)

Every call writes new files (``fr-ops.pem``, then ``fr-ops-2.pem``...), so
earlier leaves stay valid on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from certs.ca import (
    SERVER_AUTH,
    IssuedCert,
    PrincipalKind,
    init_ca,
    issue_admin,
    issue_member,
    issue_server,
    revoke,
)

__all__ = ["CA_NAME", "Leaf", "Pki", "make_pki"]

_DAY = timedelta(days=1)
#: Both the test CA and the "foreign" CA use this name: only their keys differ.
CA_NAME = "Cordon Test CA"


def _free(out: Path, stem: str) -> str:
    """``stem``, or ``stem-2``, ``stem-3``... whichever has no key in ``out`` yet."""
    name, n = stem, 1
    while (out / f"{name}.key").exists():
        n += 1
        name = f"{stem}-{n}"
    return name


@dataclass(frozen=True, slots=True)
class Leaf:
    """An issued certificate and its key on disk."""

    cert: Path
    key: Path
    kid: str
    serial: int
    principal: str | None

    @classmethod
    def of(cls, issued: IssuedCert) -> Leaf:
        r = issued.record
        return cls(issued.cert, issued.key, r.kid, r.serial, r.principal)


@dataclass(slots=True)
class Pki:
    """A CA directory (``dir``), its ``ca.pem`` and ``crl.pem``, and the hub's ``server`` cert."""

    dir: Path
    ca: Path
    crl: Path
    out: Path
    server: Leaf

    def member(
        self,
        member: str = "fr",
        name: str = "ops",
        *,
        kind: PrincipalKind = "system",
        not_before: datetime | None = None,
        not_after: datetime | None = None,
        eku_server_only: bool = False,
    ) -> Leaf:
        """A member principal's certificate (the variants below are shortcuts)."""
        issued = issue_member(
            self.dir,
            member=member,
            name=name,
            kind=kind,
            out=self.out,
            basename=_free(self.out, f"{member}-{name}"),
            not_before=not_before,
            not_after=not_after,
            eku=[SERVER_AUTH] if eku_server_only else None,
        )
        return Leaf.of(issued)

    def admin(self, name: str = "alice") -> Leaf:
        """A hub administrator's certificate."""
        basename = _free(self.out, f"admin-{name}")
        return Leaf.of(issue_admin(self.dir, name=name, out=self.out, basename=basename))

    def revoke(self, leaf: Leaf, *, reason: str = "keyCompromise") -> None:
        """Revoke ``leaf`` and rewrite :attr:`crl`."""
        revoke(self.dir, serial=leaf.serial, reason=reason)

    def expired_member(self, member: str = "fr", name: str = "ops") -> Leaf:
        """Valid from 30 days ago until yesterday."""
        now = datetime.now(UTC)
        return self.member(member, name, not_before=now - 30 * _DAY, not_after=now - _DAY)

    def not_yet_valid_member(self, member: str = "fr", name: str = "ops") -> Leaf:
        """Valid from tomorrow for 30 days."""
        now = datetime.now(UTC)
        return self.member(member, name, not_before=now + _DAY, not_after=now + 30 * _DAY)

    def wrong_eku_member(self, member: str = "fr", name: str = "ops") -> Leaf:
        """Names a valid member principal, but its EKU is serverAuth only."""
        return self.member(member, name, eku_server_only=True)

    def foreign_ca_member(self, member: str = "fr", name: str = "ops") -> Leaf:
        """A well-formed member cert from another CA of the same name (``../foreign-ca``)."""
        foreign = self.dir.parent / "foreign-ca"
        if not (foreign / "ca.pem").exists():
            init_ca(foreign, name=CA_NAME)
        out = foreign / "out"
        basename = _free(out, f"{member}-{name}")
        return Leaf.of(issue_member(foreign, member=member, name=name, out=out, basename=basename))


def make_pki(tmp_path: Path) -> Pki:
    """Create a CA under ``tmp_path/pki`` and a server cert for localhost and 127.0.0.1."""
    root = tmp_path / "pki"
    ca = init_ca(root / "ca", name=CA_NAME)
    out = root / "certs"
    server = issue_server(root / "ca", dns_names=["localhost"], ip_addresses=["127.0.0.1"], out=out)
    return Pki(dir=root / "ca", ca=ca, crl=root / "ca" / "crl.pem", out=out, server=Leaf.of(server))
