"""Who may connect: TLS refusals (real handshakes, throwaway CA), registry refusals, revocation.

A certificate the TLS layer refuses never reaches the hub's session code: the
client gets no HTTP answer at all, no session exists, and the audit log gets one
``tls`` record naming the peer and OpenSSL's reason (no ``connect`` record). Which
check refused it is also read from the hub's side of the handshake (asyncio reports
the OpenSSL verification error only in debug mode, so these tests turn it on).

Certificates that TLS must refuse are imported into the registry first, so the
registry alone would have let them in: only TLS can make these tests pass.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from pathlib import Path

import pytest

from client.sdk import SessionRefused
from hub.protocol import frames as f
from hub.protocol.errors import CloseCode
from hub.tls import ReloadableTLS
from tests.harness import HubHarness, client_context
from tests.hub.conftest import MakeHub
from tests.hub.wire import (
    CH,
    WAIT,
    Raw,
    cast,
    close_code,
    connect_raw,
    eventually,
    tls_probe,
    tls_refusal,
)
from tests.pki import Leaf, make_pki

# OpenSSL X509_V_ERR_* codes
NOT_YET_VALID = 9
EXPIRED = 10
UNKNOWN_ISSUER = 20  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
REVOKED = 23
INVALID_PURPOSE = 26


class HandshakeLog(logging.Handler):
    """Collects the exceptions of failed TLS handshakes reported by asyncio's debug log."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.errors: list[ssl.SSLError] = []

    def emit(self, record: logging.LogRecord) -> None:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, ssl.SSLError):
            self.errors.append(error)


async def tls_audit_after(h: HubHarness, count: int) -> dict[str, str]:
    """The next ``tls`` audit record after the first ``count`` (waits for it, bounded)."""
    async def arrived() -> bool:
        return len(await h.store.audit_log(action="tls")) > count

    await eventually(arrived)
    records: list[dict[str, str]] = await h.store.audit_log(action="tls")
    return records[count]


async def refused(h: HubHarness, leaf: Leaf | None, *, reason: str) -> ssl.SSLError:
    """Connect with ``leaf``; assert TLS refused it before any HTTP and before the hub's
    session code saw it (no session, no ``connect`` record), that the refusal was
    audited as ``tls`` with ``reason``; return the hub-side handshake error."""
    assert h.hub is not None
    audited = await h.store.audit_log(action="connect")
    tls_before = len(await h.store.audit_log(action="tls"))
    sessions = {p: set(s) for p, s in h.hub.sessions.items()}
    loop = asyncio.get_running_loop()
    handler = HandshakeLog()
    logger = logging.getLogger("asyncio")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    loop.set_debug(True)
    try:
        outcome = await asyncio.to_thread(tls_refusal, h, leaf)
        assert outcome is not None, "the hub completed the handshake and answered HTTP"
        await eventually(lambda: bool(handler.errors))
    finally:
        loop.set_debug(False)
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    # No session was opened by the refused attempt (earlier ones may have ended meanwhile).
    for principal, now in h.hub.sessions.items():
        assert set(now) <= sessions.get(principal, set()), principal
    assert await h.store.audit_log(action="connect") == audited
    record = await tls_audit_after(h, tls_before)
    assert (record["principal"], record["result"]) == ("?", "refused"), record
    assert record["reason"] == f"TLS handshake: {reason}", record
    assert record["peer"].startswith("127.0.0.1:"), record
    return handler.errors[0]


def verify_code(error: ssl.SSLError) -> int | None:
    return getattr(error, "verify_code", None)


async def test_a_good_certificate_gets_a_session(h: HubHarness) -> None:
    fr = (await cast(h))["fr"]
    assert await asyncio.to_thread(tls_refusal, h, fr) is None
    async with Raw.open(h, fr) as c:
        assert (c.welcome.principal, c.welcome.member, c.welcome.admin) == ("fr/ops", "fr", False)


async def test_no_client_certificate(h: HubHarness) -> None:
    error = await refused(h, None, reason="peer did not return a certificate")
    assert error.reason == "PEER_DID_NOT_RETURN_A_CERTIFICATE"


@pytest.mark.parametrize(
    ("make", "code", "reason"),
    [
        ("foreign_ca_member", UNKNOWN_ISSUER, "unable to get local issuer certificate"),
        ("expired_member", EXPIRED, "certificate has expired"),
        ("not_yet_valid_member", NOT_YET_VALID, "certificate is not yet valid"),
        ("wrong_eku_member", INVALID_PURPOSE, "unsuitable certificate purpose"),
    ],
)
async def test_tls_refuses_bad_certificates(h: HubHarness, make: str, code: int,
                                            reason: str) -> None:
    leaf = getattr(h.pki, make)("fr", "ops")
    await h.sync()  # the registry knows every certificate this CA issued: TLS must refuse
    error = await refused(h, leaf, reason=reason)
    assert verify_code(error) == code, error


async def test_revoked_certificate_is_refused_by_tls_after_a_crl_reload(h: HubHarness) -> None:
    """The CRL is swapped into the running listener (sni_callback): no restart, and the
    registry is not told, so only the TLS layer can refuse."""
    fr = (await cast(h))["fr"]
    hub_before = h.hub
    assert await asyncio.to_thread(tls_refusal, h, fr) is None
    h.pki.revoke(fr)
    assert h.hub is not None
    assert h.hub.tls.reload()
    error = await refused(h, fr, reason="certificate revoked")
    assert verify_code(error) == REVOKED
    assert h.hub is hub_before
    record = await h.store.cert(fr.kid)
    assert record is not None and record.status == "active"  # registry untouched
    # Other principals are unaffected.
    async with Raw.open(h, await h.member("pt", "at")) as c:
        assert c.welcome.principal == "pt/at"


async def test_crl_change_is_picked_up_by_the_running_hub(make_hub: MakeHub) -> None:
    """The hub's own CA-folder poll notices the new CRL and applies it, without restart."""
    h = await make_hub(registry_poll_s=0.05)
    fr = (await cast(h))["fr"]
    assert await asyncio.to_thread(tls_refusal, h, fr) is None
    h.pki.revoke(fr)

    async def refused_now() -> bool:
        return await asyncio.to_thread(tls_refusal, h, fr) is not None

    await eventually(refused_now)
    assert verify_code(await refused(h, fr, reason="certificate revoked")) == REVOKED


async def test_a_crl_that_appears_after_start_is_checked(tmp_path: Path) -> None:
    """ReloadableTLS on a real listener started while the CA folder had no CRL: once a CRL
    is loaded, new handshakes are checked against it (the connection's verification flags
    come from the listening context, not from the context swapped in)."""
    pki = make_pki(tmp_path)
    fr, de = pki.member("fr", "ops"), pki.member("de", "zoll")
    pki.crl.unlink()
    tls = ReloadableTLS(ca_cert=pki.ca, crl=pki.crl, server_cert=pki.server.cert,
                        server_key=pki.server.key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 101 Switching Protocols\r\n\r\n")
            await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0, ssl=tls.listening)
    port = server.sockets[0].getsockname()[1]
    try:
        assert await asyncio.to_thread(tls_probe, port, client_context(pki, fr)) is None
        pki.revoke(fr)  # writes crl.pem
        assert tls.reload()
        assert await asyncio.to_thread(tls_probe, port, client_context(pki, fr)) is not None
        assert await asyncio.to_thread(tls_probe, port, client_context(pki, de)) is None
    finally:
        server.close()
        await server.wait_closed()


async def test_certificate_unknown_to_the_registry_is_closed_4011(h: HubHarness) -> None:
    await cast(h)
    stranger = await h.member("fr", "ghost", sync=False)  # issued, never imported
    with pytest.raises(Exception) as info:
        async with Raw.open(h, stranger):
            pass
    closed = info.value
    assert getattr(closed, "rcvd", None) is not None, closed
    assert closed.rcvd.code == CloseCode.IDENTITY  # type: ignore[attr-defined]
    assert closed.rcvd.reason == "certificate unknown to the registry"  # type: ignore[attr-defined]
    audit = await h.store.audit_log(action="connect")
    assert [(a["result"], a["reason"]) for a in audit] == [
        ("refused", "certificate unknown to the registry")
    ]
    with pytest.raises(SessionRefused) as refusal:
        await h.client(stranger, max_attempts=1).connect()
    assert refusal.value.code == CloseCode.IDENTITY


async def test_suspended_member_is_closed_4010(h: HubHarness) -> None:
    fr = (await cast(h))["fr"]
    await h.store.set_member_status("fr", "suspended")
    async with connect_raw(h, fr) as ws:
        with pytest.raises(Exception) as info:
            await asyncio.wait_for(ws.recv(), WAIT)
    assert close_code(info.value) == CloseCode.REVOKED  # type: ignore[arg-type]


async def test_revocation_closes_the_live_session_and_it_cannot_come_back(
    h: HubHarness,
) -> None:
    leaves = await cast(h)
    fr, de = leaves["fr"], leaves["de"]
    async with Raw.open(h, fr) as c, Raw.open(h, de) as other:
        sub = await c.request(f.Subscribe(rid=c.rid(), ch=CH, since=0))
        assert isinstance(sub, f.Subscribed)
        await h.revoke(fr)  # CA revokes, registry sync imports it and announces it
        closed = await c.closed()
        assert close_code(closed) == CloseCode.REVOKED
        # de/zoll's session is untouched.
        answer = await other.request(f.ChannelsRequest(rid=other.rid()))
        assert isinstance(answer, f.ChannelsResult)
    assert h.hub is not None
    assert "fr/ops" not in h.hub.sessions
    # New handshakes fail in TLS, and the SDK treats it as final.
    assert verify_code(await refused(h, fr, reason="certificate revoked")) == REVOKED
    with pytest.raises(SessionRefused):
        await h.client(fr, max_attempts=1).connect()


async def test_client_context_without_hub_trust_is_refused_by_the_client(h: HubHarness) -> None:
    """Mutual: a client that does not trust the hub's CA refuses the hub (and nothing opens)."""
    fr = (await cast(h))["fr"]
    foreign = h.pki.foreign_ca_member()
    bare = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    bare.load_cert_chain(fr.cert, fr.key)
    bare.load_verify_locations(foreign.cert.parent.parent / "ca.pem")  # trusts another CA
    with pytest.raises(ssl.SSLCertVerificationError):
        await asyncio.to_thread(tls_refusal, h, fr, ssl_context=bare)
    assert h.hub is not None and not h.hub.sessions


async def test_tls_refusals_share_one_audit_budget(make_hub: MakeHub) -> None:
    """A peer hammering the listener with a bad certificate cannot flood the audit log:
    at most ``audit_refusals_per_s`` ``tls`` records per second for all such peers, the
    rest counted in one ``refusals.suppressed`` record (written at the latest when the
    hub stops)."""
    h = await make_hub(audit_refusals_per_s=2)
    stranger = h.pki.foreign_ca_member("fr", "ops")
    for _ in range(6):
        assert await asyncio.to_thread(tls_refusal, h, stranger) is not None
    await tls_audit_after(h, 1)  # the two within budget
    await h.restart()  # stop (writes the pending summary), start again on the same store
    tls = await h.store.audit_log(action="tls")
    summaries = await h.store.audit_log(action="refusals.suppressed")
    assert len(tls) + sum(int(s["count"]) for s in summaries) == 6
    assert 2 <= len(tls) < 6
    assert all(s["actions"] == "tls" for s in summaries)
