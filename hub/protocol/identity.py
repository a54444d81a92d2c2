"""Names and identities: members, principals, channels, and how certificates carry them.

A certificate names exactly one principal in exactly one place: a single
``uniformResourceIdentifier`` in its subjectAltName, of one of these forms::

    urn:cordon:principal:<member>/<name>     a member administration's officer or system
    urn:cordon:admin:<name>                  a hub administrator (also needs the admin EKU)

``<member>`` and ``<name>`` match :data:`NAME_PATTERN`. Nothing else in the
certificate (CN, O, e-mail, other SANs) is read for identity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NewType

from hub.protocol.errors import InvalidFrame
from hub.protocol.limits import ALERT_ID_MAX_CHARS, NAME_MAX_CHARS

__all__ = [
    "ADMIN_EKU_OID",
    "ADMIN_URI_PREFIX",
    "ALERT_ID_PATTERN",
    "CHANNEL_PATTERN",
    "CORDON_URI_PREFIX",
    "LOG_EKU_OID",
    "LOG_URI_PREFIX",
    "NAME_PATTERN",
    "PRINCIPAL_URI_PREFIX",
    "RESERVED_MEMBER",
    "AlertId",
    "ChannelName",
    "Identity",
    "MemberId",
    "PrincipalId",
    "check_alert_id",
    "check_channel",
    "check_name",
    "cordon_uris",
    "identity_from_uri",
    "principal_id",
    "split_principal",
]

MemberId = NewType("MemberId", str)
PrincipalId = NewType("PrincipalId", str)
ChannelName = NewType("ChannelName", str)
AlertId = NewType("AlertId", str)

#: Member ids, principal names: lower-case letters, digits, inner hyphens.
NAME_PATTERN = re.compile(rf"[a-z0-9](?:[a-z0-9-]{{0,{NAME_MAX_CHARS - 2}}}[a-z0-9])?")
#: Channel names: like names, dots and underscores allowed inside, up to 64 chars.
CHANNEL_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9])?")
#: Alert ids: chosen by the sender, unique in the channel.
ALERT_ID_PATTERN = re.compile(rf"[A-Za-z0-9][A-Za-z0-9._:-]{{0,{ALERT_ID_MAX_CHARS - 1}}}")

CORDON_URI_PREFIX = "urn:cordon:"
PRINCIPAL_URI_PREFIX = "urn:cordon:principal:"
ADMIN_URI_PREFIX = "urn:cordon:admin:"
#: Extended key usage that, together with an admin URI, marks a hub administrator.
#: A UUID-based OID (ITU-T X.667), so no registration is needed.
ADMIN_EKU_OID = "2.25.255367599442129930519734337006330934289"
#: A hub's log key (signs channel checkpoints, PROTOCOL.md Appendix C): SAN
#: ``urn:cordon:log:<hub>`` and this extended key usage (cordon-log), nothing else. It
#: names no principal: :func:`identity_from_uri` refuses it, so it never opens a session.
LOG_URI_PREFIX = "urn:cordon:log:"
LOG_EKU_OID = "2.25.124218756873867462373822579253749911359"


def _check(pattern: re.Pattern[str], value: object, what: str) -> str:
    if not isinstance(value, str) or pattern.fullmatch(value) is None:
        raise InvalidFrame(f"invalid {what}")
    return value


def check_name(value: object, what: str = "name") -> str:
    """Return ``value`` if it is a valid member id or principal name."""
    return _check(NAME_PATTERN, value, what)


def check_channel(value: object) -> ChannelName:
    """Return ``value`` as a channel name, or raise :class:`InvalidFrame`."""
    return ChannelName(_check(CHANNEL_PATTERN, value, "channel name"))


def check_alert_id(value: object) -> AlertId:
    """Return ``value`` as an alert id, or raise :class:`InvalidFrame`."""
    return AlertId(_check(ALERT_ID_PATTERN, value, "alert id"))


#: Reserved: ``admin/<name>`` is how administrators' principal ids are written.
RESERVED_MEMBER = "admin"


def principal_id(member: str, name: str) -> PrincipalId:
    """Join a member id and a principal name into ``member/name``."""
    if member == RESERVED_MEMBER:
        raise InvalidFrame("member id 'admin' is reserved")
    return PrincipalId(f"{check_name(member, 'member id')}/{check_name(name, 'principal name')}")


def split_principal(value: object) -> tuple[MemberId, str]:
    """Split ``member/name`` into its parts, validating both."""
    if not isinstance(value, str) or value.count("/") != 1:
        raise InvalidFrame("invalid principal id")
    member, name = value.split("/")
    return MemberId(check_name(member, "member id")), check_name(name, "principal name")


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a certificate names: a member's principal, or a hub administrator."""

    principal: PrincipalId
    member: MemberId | None
    admin: bool

    @property
    def uri(self) -> str:
        if self.admin:
            return ADMIN_URI_PREFIX + self.principal.removeprefix("admin/")
        return PRINCIPAL_URI_PREFIX + self.principal

    @classmethod
    def for_member(cls, member: str, name: str) -> Identity:
        pid = principal_id(member, name)
        return cls(principal=pid, member=MemberId(member), admin=False)

    @classmethod
    def for_admin(cls, name: str) -> Identity:
        return cls(
            principal=PrincipalId("admin/" + check_name(name, "admin name")),
            member=None,
            admin=True,
        )


def cordon_uris(uris: Iterable[str]) -> list[str]:
    """The URIs that claim a Cordon identity (prefix ``urn:cordon:``, compared
    case-insensitively, so a differently-cased second claim is never ignored)."""
    return [u for u in uris if u[: len(CORDON_URI_PREFIX)].lower() == CORDON_URI_PREFIX]


def identity_from_uri(uri: str) -> Identity:
    """Parse the identity URI from a certificate's subjectAltName."""
    if uri.startswith(PRINCIPAL_URI_PREFIX):
        member, name = split_principal(uri[len(PRINCIPAL_URI_PREFIX) :])
        return Identity.for_member(member, name)
    if uri.startswith(ADMIN_URI_PREFIX):
        return Identity.for_admin(uri[len(ADMIN_URI_PREFIX) :])
    raise InvalidFrame("certificate names no Cordon identity")
