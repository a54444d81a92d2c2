"""Access decisions, and every cache they rest on: the one place a revocation must reach.

Sessions and admin operations ask :class:`Access`: may this member read or write this
channel (its state and the member's role), which key signs for this key id, is this
connection's certificate and member still in good standing. It keeps, per hub
process, what those answers rest on:

============  ================================  =========================================
cache         key                               changed by (event type)
============  ================================  =========================================
channel meta  channel                           ``channel`` (created, closed, archived, …)
roles         (channel, member)                 ``role`` (granted, changed, removed)
signer keys   key id                            ``revoke`` (one key id, or a principal's)
============  ================================  =========================================

Nothing else in the hub caches an access decision (the registry is read afresh at
each connection; member status and the connection's own certificate are judged by
:meth:`Access.recheck` and by the events, which close the sessions concerned).

Two paths keep the caches true, so the publish path never waits on the store:

- **events** (:meth:`Access.apply`): each one drops exactly the entries it changes,
  from the moment it arrives; the process that makes a revocation applies it to its
  own caches before it publishes the event;
- **the periodic re-check** (:meth:`Access.recheck`, every ``session_recheck_s``):
  re-reads, in one pipelined round trip per kind, the status of every cached signer
  key and of every connection's certificate and member, every cached role, and every
  channel, and drops each cached entry the store no longer agrees with. So an event
  lost while the event stream was reconnecting goes unapplied for at most one period.

Entries are only ever *dropped* by those two paths (the next use reads the store
again), never overwritten, and a value read from the store is cached only if no
invalidation happened while it was being read: a read that raced an event cannot
put back what the event removed.

:attr:`Access.generation` counts invalidations. A publish notes it when its signer
and role are checked; if it moved before the publish is handed to the group commit,
both checks are made again (:meth:`Access.unchanged_since`), so a revocation that
arrives while a publish waits for its signature check refuses that publish too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from hub.protocol.errors import BadSignature, EnvelopeMismatch, NoSuchChannel
from hub.protocol.frames import ChannelInfo
from hub.protocol.trust import verify_certificate
from hub.storage import ChannelMeta, Store

__all__ = ["READ_ROLES", "WRITE_ROLES", "Access", "Standing"]

log = logging.getLogger("cordon.access")

READ_ROLES = ("reader", "contributor", "coordinator")
WRITE_ROLES = ("contributor", "coordinator")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class _Signer:
    """A verified, active signing certificate: its principal, raw Ed25519 key (as
    :func:`hub.protocol.envelope.verify_alert` takes it) and the times it may sign at
    (its own validity within the CA's)."""

    principal: str
    key: bytes
    not_before: int
    not_after: int


@dataclass(frozen=True, slots=True)
class Standing:
    """What the store said at one re-check (:meth:`Access.recheck`): the status of the
    certificates and members asked about, the roles of the (channel, member) pairs asked
    about, and every channel."""

    certs: dict[str, str]
    members: dict[str, str]
    roles: dict[tuple[str, str], str]
    channels: dict[str, ChannelMeta]

    def session_refusal(self, kid: str, member: str | None) -> str | None:
        """Why a connection on certificate ``kid`` of ``member`` must close (None: it may
        stay)."""
        if self.certs.get(kid) != "active":
            return "certificate revoked"
        if member is not None and self.members.get(member) != "active":
            return "member suspended"
        return None

    def subscription_refusal(self, ch: str, member: str | None, *, admin: bool
                             ) -> str | None:
        """Why a subscription to ``ch`` must end (None: it may go on)."""
        meta = self.channels.get(ch)
        if meta is None or meta.state == "archived":
            return "channel no longer available"
        if not admin and (member is None or self.roles.get((ch, member)) not in READ_ROLES):
            return "no longer a member of this channel"
        return None


class Access:
    """The hub process's access decisions and their caches (see the module docstring)."""

    def __init__(self, store: Store, ca: x509.Certificate) -> None:
        self.store = store
        self.ca = ca
        #: Bumped by every invalidation (an event, or a change found by the re-check).
        self.generation = 0
        self._meta: dict[str, ChannelMeta] = {}
        self._roles: dict[tuple[str, str], str | None] = {}
        self._signers: dict[str, _Signer] = {}

    # --- decisions ---------------------------------------------------------------------
    async def channel(self, ch: str, member: str | None, *, admin: bool,
                      fresh: bool = False) -> tuple[ChannelMeta, str | None]:
        """The channel and the member's role in it (None for administrators, who read
        every channel); :class:`NoSuchChannel` if the channel does not exist or the
        member has no role in it — the same answer, so replies never tell whether a
        channel exists. ``fresh`` reads the store instead of the cache."""
        meta = None if fresh else self._meta.get(ch)
        if meta is None:
            meta = await self.channel_meta(ch, fresh=True)
            if meta is None:
                raise NoSuchChannel()
        if admin:
            return meta, None
        if member is None:
            raise NoSuchChannel()
        key = (ch, member)
        if fresh or key not in self._roles:
            role = await self._read_role(key)
        else:
            role = self._roles[key]
        if role not in READ_ROLES:
            raise NoSuchChannel()
        return meta, role

    async def channel_meta(self, ch: str, *, fresh: bool = False) -> ChannelMeta | None:
        """A channel's metadata (None if it does not exist), cached unless ``fresh``."""
        if not fresh:
            cached = self._meta.get(ch)
            if cached is not None:
                return cached
        generation = self.generation
        meta = await self.store.channel(ch)
        if meta is None:
            self._meta.pop(ch, None)
        elif generation == self.generation:
            self._meta[ch] = meta
        return meta

    async def _read_role(self, key: tuple[str, str]) -> str | None:
        generation = self.generation
        role = await self.store.role(*key)
        if generation == self.generation:
            self._roles[key] = role
        return role

    async def signer_key(self, kid: str, principal: str, ts: int) -> bytes:
        """The raw key of ``kid`` if it is an active certificate of ``principal`` that may
        sign at ``ts``; :class:`BadSignature` (422) if unknown, revoked or not valid then,
        :class:`EnvelopeMismatch` (423) if it is another principal's.

        A certificate is checked once per hub process exactly as recipients check it (CA
        signature, purpose, identity: :mod:`hub.protocol.trust`), so what the hub stores
        is what every recipient can verify; the result is cached until a ``revoke`` event
        or the re-check drops it.
        """
        signer = self._signers.get(kid)
        if signer is None:
            signer = await self._load_signer(kid, principal, ts)
        if signer.principal != principal:
            raise EnvelopeMismatch("signing certificate is not the sender's")
        if not signer.not_before <= ts <= signer.not_after:
            raise BadSignature("signing certificate not valid at the alert's time")
        return signer.key

    async def _load_signer(self, kid: str, principal: str, ts: int) -> _Signer:
        generation = self.generation
        record = await self.store.cert(kid)
        if record is None or record.status != "active":
            raise BadSignature("signing certificate unknown or revoked")
        if record.principal != principal:
            raise EnvelopeMismatch("signing certificate is not the sender's")
        cert = x509.load_der_x509_certificate(record.der)
        identity = verify_certificate(cert, self.ca, at_ms=ts)
        public = cert.public_key()
        if identity.principal != record.principal or not isinstance(public, Ed25519PublicKey):
            raise EnvelopeMismatch("signing certificate is not the sender's")
        signer = _Signer(
            principal=record.principal, key=public.public_bytes_raw(),
            not_before=max(_ms(cert.not_valid_before_utc), _ms(self.ca.not_valid_before_utc)),
            not_after=min(_ms(cert.not_valid_after_utc), _ms(self.ca.not_valid_after_utc)),
        )  # fmt: skip
        if generation == self.generation:  # no revocation arrived while we read
            self._signers[kid] = signer
        return signer

    def unchanged_since(self, generation: int) -> bool:
        """True if nothing was invalidated since :attr:`generation` was ``generation``."""
        return generation == self.generation

    async def visible_channels(self, member: str | None, *, admin: bool) -> list[ChannelInfo]:
        """The channels the member holds a role in (every channel, for administrators),
        read afresh."""
        out = []
        for meta in await self.store.channels():
            role = "admin" if admin else (
                await self.store.role(meta.name, member) if member else None)
            if role is None:
                continue
            out.append(ChannelInfo(ch=meta.name, title=meta.title, role=role,
                                   state=meta.state, head=meta.head, epoch=meta.epoch))
        return out

    # --- invalidation --------------------------------------------------------------------
    def apply(self, event: dict[str, Any]) -> None:
        """Drop what an event (hub.storage.events, from any hub process) changes."""
        kind = event.get("type")
        if kind == "revoke":
            kid, principal = event.get("kid"), event.get("principal")
            if isinstance(kid, str):
                self._drop_signers([kid])
            elif isinstance(principal, str):  # every certificate of the principal
                self._drop_signers([k for k, s in self._signers.items()
                                    if s.principal == principal])
            self.generation += 1
        elif kind == "role":
            self._roles.pop((str(event.get("ch")), str(event.get("member"))), None)
            self.generation += 1
        elif kind == "channel":
            self._meta.pop(str(event.get("ch")), None)
            self.generation += 1
        elif kind == "member":
            self.generation += 1  # judged per session (closed), nothing cached per member

    def _drop_signers(self, kids: Iterable[str]) -> None:
        for kid in kids:
            self._signers.pop(kid, None)

    async def recheck(self, *, kids: Iterable[str], members: Iterable[str],
                      pairs: Iterable[tuple[str, str]]) -> Standing:
        """Re-read the store for every cached entry and for what live sessions stand on
        (their certificates ``kids``, ``members``, subscriptions' (channel, member)
        ``pairs``); drop every cached entry the store disagrees with; return what was
        read. Four store round trips whatever the number of sessions and entries."""
        kids, members, pairs = list(kids), list(members), list(pairs)
        signer_kids = list(self._signers)
        role_pairs = list(self._roles)
        if not (kids or members or pairs or signer_kids or role_pairs or self._meta):
            return Standing(certs={}, members={}, roles={}, channels={})  # nothing to judge
        certs = await self.store.cert_statuses([*kids, *signer_kids])
        member_statuses = await self.store.member_statuses(members)
        roles = await self.store.roles_in([*pairs, *role_pairs])
        channels = {meta.name: meta for meta in await self.store.channels()}
        changed = False
        for kid in signer_kids:
            if certs.get(kid) != "active" and kid in self._signers:
                del self._signers[kid]
                changed = True
        for pair in role_pairs:
            if pair in self._roles and self._roles[pair] != roles.get(pair):
                del self._roles[pair]
                changed = True
        for name, cached in list(self._meta.items()):
            meta = channels.get(name)
            if meta is None or (meta.state, meta.epoch) != (cached.state, cached.epoch):
                del self._meta[name]
                changed = True
        if changed:
            self.generation += 1
            log.info("re-check: cached access decisions changed without an event")
        return Standing(certs=certs, members=member_statuses, roles=roles, channels=channels)
