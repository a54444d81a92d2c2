"""The hub's only Redis package: every key name, every script, every read and write.

Nothing else in Cordon imports redis.

Key layout (each channel's keys share one hash slot, so Redis Cluster works)::

    cordon:{ch:NAME}:log        stream; entry id 0-<offset>; fields a=<alert bytes>, s=<sig>,
                                r=<hub receive time ms> (entries written before the compact
                                layout also have k=<kid>; the signed alert carries it)
    cordon:{ch:NAME}:ids        hash alert id -> <offset> (dedup, kept for the channel's whole
                                life; a repeat is the same alert when its leaf hash is the
                                stored leaf at that offset); in a channel without leaves
                                <first 16 bytes of the SHA-1 of the alert bytes><offset>, as
                                every channel stored before; values of the layout before that,
                                "<offset>:<hex SHA-1>", are read too
    cordon:{ch:NAME}:meta       hash epoch, title, state, created, starts, ends, retention_ms,
                                head (last assigned), durable (the durable watermark: last
                                offset whose fsync was confirmed; readers never go beyond),
                                first (+ dups: duplicate publishes answered)
    cordon:{ch:NAME}:dur        stream, one entry 0-<durable watermark> (MAXLEN 1): feeds
                                XREAD BLOCK on it to learn that the watermark rose
    cordon:{ch:NAME}:chain      hash sender principal -> "<seq>:<hex SHA-256 of its last chained
                                alert>" (sender chains, PROTOCOL.md §4; set by the append)
    cordon:{ch:NAME}:leaves     string: Merkle leaf hashes, 32 bytes per offset (hub.storage.logs)
    cordon:{ch:NAME}:ckpt       hash: latest signed checkpoint + epoch link (hub.storage.logs)
    cordon:{ch:NAME}:roles      hash member id -> reader | contributor | coordinator
    cordon:{ch:NAME}:att        hash attachments: m:<sha256> -> "<media> <size>",
                                d:<sha256> -> the bytes (photos referenced by alerts)
    cordon:channels             set of channel names
    cordon:cert:<kid>           hash principal, member, admin, der, serial, not_after, status
    cordon:principal:<pid>      set of kids issued to the principal
    cordon:member:<id>          hash name, country, status (active | suspended), created
    cordon:member:<id>:principals  hash principal name -> officer | system ("" if unknown)
    cordon:members              set of member ids
    cordon:crl                  hash number, pem: the newest CRL any hub process published
    cordon:audit                stream of audit records
    cordon:events               pub/sub channel: revocations, suspensions, role changes, CRLs
    cordon:probe                written then WAITAOF'd to confirm what a (re)started store holds

The package: ``_keys`` (every key name), ``_scripts`` (the Lua scripts), ``_common``
(limits, error mapping, helpers), ``records`` (the dataclasses), ``channels``,
``alerts`` (and attachments), ``registry`` (members, principals, certificates, CRL),
``audit``, ``events`` (each a mixin of :class:`Store`), ``_store`` (connecting,
durability, deadlines, restart detection and continuity), ``watermarks`` (the
watermarks a hub saw, persisted in its data folder). Import from ``hub.storage`` itself.

Writes touching several keys are one Lua script (conditional) or one MULTI
(unconditional). The hot path, :meth:`Store.append_batch`, touches one channel's
keys only. The admin writes that also update a global index set
(``cordon:channels``, ``cordon:members``, ``cordon:principal:*``) are atomic on
a standalone or Sentinel deployment; Redis Cluster would need them split.

Durability: the store must run ``appendonly yes`` + ``appendfsync always``
(checked at connect; :mod:`hub.storage._store` says what else is accepted and why
WAITAOF alone is not trusted). An append is acknowledged after ``WAITAOF 1 0`` on
the connection that wrote it says the AOF is fsynced (one wait per batch: group
commit), and only then is the channel's durable watermark raised, so readers see it.
A duplicate publish also writes (``meta.dups``) so that the same wait covers the
original append, which another connection may have made a moment before. A store
that restarted is noticed (run_id) and checked for lost history
(:meth:`Store.check_continuity`); every operation has one overall deadline. With a
Sentinel deployment the store follows failovers the same way, and with ``ack_replicas``
each wait is ``WAITAOF 1 N`` (``_store`` says how).
"""

from __future__ import annotations

from hub.storage._common import (
    ACK_REPLICAS,
    ACK_RETRY_MS,
    AUDIT_MAX_ENTRIES,
    CERT_STATUSES,
    CHANNEL_STATES,
    DURABILITY_MODES,
    FSYNC_TIMEOUT_MS,
    MAX_ACK_REPLICAS,
    MAX_CONNECTIONS,
    MEMBER_STATUSES,
    PRINCIPAL_KINDS,
    ROLES,
    SENTINEL_POLL_S,
    STORE_TIMEOUT_S,
)
from hub.storage._keys import (  # key names: for tests that inspect the layout
    AUDIT_KEY,
    CHANNELS_KEY,
    CRL_KEY,
    EVENTS_CHANNEL,
    MEMBERS_KEY,
)
from hub.storage._keys import _log_key as _log_key  # tests read a channel's stream
from hub.storage._store import Store
from hub.storage.events import EventStream
from hub.storage.logs import LogState, StoredCheckpoint
from hub.storage.records import (
    AppendRequest,
    AppendResult,
    AuditPage,
    CertRecord,
    ChannelMeta,
    ChannelStats,
    MemberRecord,
    PrincipalRecord,
    StoredAlert,
)

__all__ = [
    "ACK_REPLICAS",
    "ACK_RETRY_MS",
    "AUDIT_MAX_ENTRIES",
    "CERT_STATUSES",
    "CHANNEL_STATES",
    "DURABILITY_MODES",
    "FSYNC_TIMEOUT_MS",
    "MAX_ACK_REPLICAS",
    "MAX_CONNECTIONS",
    "MEMBER_STATUSES",
    "PRINCIPAL_KINDS",
    "ROLES",
    "SENTINEL_POLL_S",
    "STORE_TIMEOUT_S",
    "AppendRequest",
    "AppendResult",
    "AuditPage",
    "CertRecord",
    "ChannelMeta",
    "ChannelStats",
    "EventStream",
    "LogState",
    "MemberRecord",
    "PrincipalRecord",
    "Store",
    "StoredAlert",
    "StoredCheckpoint",
]

__all__ += ["AUDIT_KEY", "CHANNELS_KEY", "CRL_KEY", "EVENTS_CHANNEL", "MEMBERS_KEY"]
