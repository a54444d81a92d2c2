"""Administrative operations: the one place that changes members, principals, certificates,
channels and roles.

Each operation checks its arguments, writes the store, announces the change to every
hub process (so caches, subscriptions and sessions follow at once) and records it in
the audit log. The functions are used in-process (demo, tests) and by the ``adm``
frame through :func:`run_session_admin`, which authorises the caller (admin
certificates only: anyone else gets 403), runs the operation named on the wire
(``OPS``; PROTOCOL.md §6.8) and audits every refusal and every read.

Audit records are maps of strings: ``action`` (the operation), ``principal`` (who did
it), ``peer`` (from where: ``host:port``, or ``local`` for in-process callers),
``result`` (``ok``, ``refused`` or ``failed``), for refusals ``code``, ``reason`` and
``detail``, and the objects concerned: ``member``, ``subject`` (a principal acted
on), ``channel``, ``kid``, ``role``, ``state`` ... The store stamps the time. An
operation's record names the same objects whether it was done or refused
(:data:`~hub.admin.wire.SUBJECT_ARGS`, :func:`~hub.admin.wire.audit_subject`).

``principal.add`` / ``principal.issue`` certify the member's own key from its
certificate request (``csr``), or generate one only when asked (``generate_key``).

The package: :mod:`~hub.admin.operations` (the operations), :mod:`~hub.admin.wire` (the
``adm`` frame), ``_common`` (limits, checks, records on the wire). Import from
``hub.admin`` itself.
"""

from __future__ import annotations

from hub.admin._common import (
    AUDIT_PAGE_MAX,
    COUNTRIES,
    LIST_PAGE_MAX,
    AdminCaller,
    AdminHost,
)
from hub.admin.operations import (
    Credentials,
    add_member,
    add_principal,
    create_channel,
    grant,
    issue_certificate,
    revoke_certificates,
    revoke_role,
    set_channel_state,
    set_member_status,
    update_member,
)
from hub.admin.wire import OPS, SUBJECT_ARGS, audit_subject, run_admin, run_session_admin

__all__ = [
    "AUDIT_PAGE_MAX",
    "COUNTRIES",
    "LIST_PAGE_MAX",
    "OPS",
    "SUBJECT_ARGS",
    "AdminCaller",
    "AdminHost",
    "Credentials",
    "add_member",
    "add_principal",
    "audit_subject",
    "create_channel",
    "grant",
    "issue_certificate",
    "revoke_certificates",
    "revoke_role",
    "run_admin",
    "run_session_admin",
    "set_channel_state",
    "set_member_status",
    "update_member",
]
