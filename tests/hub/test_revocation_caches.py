"""Revocation reaches every cached access decision, on every hub process (hub.access).

A principal holds two certificates: it connects with the first and signs with the
second. Once the second has signed an alert (its key is then cached by the hub), it
is revoked — by the admin operation, through the CA folder (the event alone), in the
store with no event at all (the periodic re-check), or with the event stream cut (the
re-read after resubscribing), or on one of two worker processes — and the next alert
it signs on the *same* connection must be refused with 422 (PROTOCOL §4, §8) and not
stored, while the connection itself, on a valid certificate, goes on. The same for
the other cached decisions a publish rests on: a role removed, a channel closed, a
member suspended, each without its event.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from typing import cast as typing_cast

import pytest
from websockets.exceptions import ConnectionClosed

import hub.session
from hub import admin, alertcheck
from hub.protocol import frames as f
from hub.protocol.envelope import Envelope
from hub.protocol.errors import CloseCode
from hub.storage import Store
from tests.harness import HubHarness
from tests.hub.conftest import MakeHub
from tests.hub.wire import CH, Raw, Signer, cast, close_code, log_len
from tests.images import JPEG
from tests.pki import Leaf, make_pki

#: The periodic re-check, when a test relies on it (the lost-event path).
RECHECK_S = 0.2
#: Far beyond any test: shows that the event, not the re-check, did it.
NEVER_S = 3600.0
#: How long a lost event may take to be applied: many re-check periods, and well below
#: the 5 s cache lifetime the hub used to have (so the old behaviour fails these tests).
BOUND_S = 3.0


def code_of(frame: f.ServerFrame) -> int | None:
    return frame.code if isinstance(frame, f.ErrorFrame) else None


async def until_refused(publish: Callable[[], Awaitable[f.ServerFrame]],
                        bound_s: float) -> tuple[int, int]:
    """Publish (a fresh alert each time, or upload) until refused; return (the code, how
    many were accepted before). Fails if nothing is refused within ``bound_s``."""
    acked = 0
    async with asyncio.timeout(bound_s):
        while True:
            answer = await publish()
            code = code_of(answer)
            if code is not None:
                return code, acked
            assert isinstance(answer, f.Ack | f.AttachmentStored), answer
            acked += 1
            await asyncio.sleep(0.02)


async def revoke_over_the_wire(h: HubHarness, kid: str) -> None:
    """``cordon admin cert revoke KID``: the adm frame, from an admin certificate."""
    async with Raw.open(h, await h.admin_leaf()) as adm:
        answer = await adm.request(f.AdminRequest(rid=adm.rid(), op="cert.revoke",
                                                  args={"kid": kid}))
        assert isinstance(answer, f.AdminResult), answer
        assert [c["kid"] for c in answer.result["revoked"]] == [kid]


async def second_certificate_signing(h: HubHarness, c: Raw) -> Signer:
    """fr/ops's second certificate (not the connection's) signs an alert on ``c``, acked
    (the hub now has its key cached); returns its signer."""
    second = Signer(await h.member("fr", "ops"))
    assert await log_len(h) == 0
    ack = await c.publish(CH, *second.sign(CH))
    assert isinstance(ack, f.Ack), ack
    return second


# --- signer keys: the admin operation, the event alone, no event ------------------------------


async def test_revoked_signing_certificate_is_refused_on_the_same_connection(
        make_hub: MakeHub) -> None:
    h = await make_hub(session_recheck_s=NEVER_S)
    fr = (await cast(h))["fr"]
    own = Signer(fr)
    async with Raw.open(h, fr) as c:
        second = await second_certificate_signing(h, c)
        await revoke_over_the_wire(h, second.kid)
        # The very next alert it signs, on the connection that already used it.
        assert code_of(await c.publish(CH, *second.sign(CH))) == 422
        assert code_of(await c.publish(CH, *second.sign(CH))) == 422
        assert await log_len(h) == 1
        # The connection's own certificate was not revoked: it goes on.
        assert isinstance(await c.publish(CH, *own.sign(CH)), f.Ack)


async def test_revocation_event_alone_reaches_the_cached_signer(make_hub: MakeHub) -> None:
    """Revoked in the CA folder: the hub imports it and publishes the revoke event; no
    admin operation runs in this process, and the re-check never runs."""
    h = await make_hub(session_recheck_s=NEVER_S)
    fr = (await cast(h))["fr"]
    leaf = await h.member("fr", "ops")
    second = Signer(leaf)
    async with Raw.open(h, fr) as c:
        assert isinstance(await c.publish(CH, *second.sign(CH)), f.Ack)
        await h.revoke(leaf)
        code, _acked = await until_refused(lambda: c.publish(CH, *second.sign(CH)), BOUND_S)
        assert code == 422


async def test_revocation_without_event_is_applied_by_the_recheck(make_hub: MakeHub) -> None:
    h = await make_hub(session_recheck_s=RECHECK_S)
    fr = (await cast(h))["fr"]
    async with Raw.open(h, fr) as c:
        second = await second_certificate_signing(h, c)
        assert await h.store.revoke_certs([second.kid]) == [second.kid]  # no event
        code, _acked = await until_refused(lambda: c.publish(CH, *second.sign(CH)), BOUND_S)
        assert code == 422
        assert isinstance(await c.publish(CH, *Signer(fr).sign(CH)), f.Ack)


async def test_revocation_lost_with_the_event_stream_is_read_on_resubscribing(
        make_hub: MakeHub, raw: Any) -> None:
    """The event stream is lost (its store connection killed, and reconnecting refused
    for a moment, so the store client gives up) while a revocation is made: the hub
    re-reads what it may have missed when it resubscribes, not only at the next
    periodic re-check (here: never)."""
    h = await make_hub(session_recheck_s=NEVER_S)
    fr = (await cast(h))["fr"]
    async with Raw.open(h, fr) as c:
        second = await second_certificate_signing(h, c)
        before = (await raw.config_get("maxclients"))["maxclients"]
        await raw.config_set("maxclients", 1)  # new connections are refused
        try:
            assert await raw.client_kill_filter(_type="pubsub") >= 1
            await asyncio.sleep(1.0)  # the store client's reconnection attempts fail
            assert await h.store.revoke_certs([second.kid]) == [second.kid]  # event lost
        finally:
            await raw.config_set("maxclients", before)
        code, _acked = await until_refused(lambda: c.publish(CH, *second.sign(CH)), BOUND_S)
        assert code == 422


async def test_revocation_lost_in_a_silent_reconnect_of_the_event_stream_is_read(
        make_hub: MakeHub, raw: Any) -> None:
    """The event stream's connection is killed and the store client reconnects and
    resubscribes by itself (its retries), raising nothing: events published in that gap
    are lost without an error. The stream says so (a ``resync`` event) and the hub
    re-reads at once; the periodic re-check never runs here."""
    h = await make_hub(session_recheck_s=NEVER_S)
    fr = (await cast(h))["fr"]
    async with Raw.open(h, fr) as c:
        second = await second_certificate_signing(h, c)
        assert await h.store.revoke_certs([second.kid]) == [second.kid]  # its event lost
        assert await raw.client_kill_filter(_type="pubsub") >= 1  # reconnects silently
        code, _acked = await until_refused(lambda: c.publish(CH, *second.sign(CH)), BOUND_S)
        assert code == 422


async def test_publish_waiting_in_the_pipeline_is_refused_after_a_revocation(
        make_hub: MakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    """A publish already past its signer check (its body check held open here) when the
    revocation is acknowledged to the administrator is refused, not stored."""
    h = await make_hub(session_recheck_s=NEVER_S)
    fr = (await cast(h))["fr"]
    async with Raw.open(h, fr) as c:
        second = await second_certificate_signing(h, c)
        reached, release = asyncio.Event(), asyncio.Event()

        async def held(store: Store, env: Envelope) -> None:
            if env.kid == second.kid:
                reached.set()
                await release.wait()
            await alertcheck.check_alert(store, env)

        monkeypatch.setattr(hub.session, "check_alert", held)
        rid = c.rid()
        alert, sig = second.sign(CH)
        await c.send(f.Publish(rid=rid, ch=CH, alert=alert, sig=sig))
        await asyncio.wait_for(reached.wait(), 10)
        await revoke_over_the_wire(h, second.kid)  # admok received
        release.set()
        answer = await c.recv()
        assert getattr(answer, "rid", None) == rid
        assert code_of(answer) == 422
        assert await log_len(h) == 1


# --- roles, channel state, member status ------------------------------------------------------


async def test_role_removed_without_event_refuses_the_next_publish(make_hub: MakeHub) -> None:
    h = await make_hub(session_recheck_s=RECHECK_S)
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        assert isinstance(await c.publish(CH, *signer.sign(CH)), f.Ack)  # role now cached
        await h.store.set_role(CH, "fr", None)  # no event
        code, _acked = await until_refused(lambda: c.publish(CH, *signer.sign(CH)), BOUND_S)
        assert code == 404  # as for a channel that does not exist (§6.7)


async def test_role_downgraded_by_the_event_refuses_the_next_publish(h: HubHarness) -> None:
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        assert isinstance(await c.publish(CH, *signer.sign(CH)), f.Ack)
        await admin.grant(h.store, CH, "fr", "reader")  # with its event
        code, _acked = await until_refused(lambda: c.publish(CH, *signer.sign(CH)), BOUND_S)
        assert code == 403


async def test_channel_closed_without_event_refuses_uploads(make_hub: MakeHub) -> None:
    """Publishing into a closed channel is refused by the store itself (405); uploads rest
    on the cached channel state alone."""
    h = await make_hub(session_recheck_s=RECHECK_S)
    fr = (await cast(h))["fr"]
    async with Raw.open(h, fr) as c:

        def put() -> Awaitable[f.ServerFrame]:
            return c.request(f.AttachmentUpload(rid=c.rid(), ch=CH, media="image/jpeg",
                                                data=JPEG))

        assert isinstance(await put(), f.AttachmentStored)  # channel state now cached
        await h.store.set_channel_state(CH, "closed")  # no event
        code, _acked = await until_refused(put, BOUND_S)
        assert code == 405
        assert code_of(await c.publish(CH, *Signer(fr).sign(CH))) == 405


async def test_member_suspended_without_event_gets_no_more_acks(make_hub: MakeHub) -> None:
    h = await make_hub(session_recheck_s=RECHECK_S)
    fr = (await cast(h))["fr"]
    signer = Signer(fr)
    async with Raw.open(h, fr) as c:
        assert isinstance(await c.publish(CH, *signer.sign(CH)), f.Ack)
        await h.store.set_member_status("fr", "suspended")  # no event
        with pytest.raises(ConnectionClosed) as closed:
            await until_refused(lambda: c.publish(CH, *signer.sign(CH)), BOUND_S)
        assert close_code(closed.value) == CloseCode.REVOKED


# --- two worker processes -------------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_REUSEPORT and /proc")
async def test_revocation_reaches_the_cached_signer_on_every_worker(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``cordon serve --workers 2``: a connection on each worker has used the second
    certificate; the administrator revokes it (its adm frame served by one of them); on
    both connections the next alert it signs is refused."""
    from tests.faults.procs import worker_of_client_ports
    from tests.hub.test_workers import _wait_registered
    from tests.serve import Serve

    monkeypatch.setenv("CORDON_SESSION_RECHECK_S", str(NEVER_S))
    pki = make_pki(tmp_path)
    first, second_leaf, adm_leaf = (pki.member("fr", "ops"), pki.member("fr", "ops"),
                                    pki.admin("alice"))
    w = Serve(pki, tmp_path / "hub", workers=2, env={"CORDON_REGISTRY_POLL_S": "0.2"})
    await w.start()
    store = await Store.connect(w.store_url)
    target = typing_cast(HubHarness, _Target(f"wss://127.0.0.1:{w.port}/", pki))
    try:
        await _wait_registered(store, [first, second_leaf, adm_leaf])
        await admin.create_channel(store, CH, title="workers")
        await admin.grant(store, CH, "fr", "contributor")
        second, own = Signer(second_leaf), Signer(first)
        async with _on_each_worker(target, first, w.pids, w.port,
                                   worker_of_client_ports) as conns:
            for c in conns:
                assert isinstance(await c.publish(CH, *second.sign(CH)), f.Ack)
            async with Raw.open(target, adm_leaf) as adm:
                answer = await adm.request(f.AdminRequest(
                    rid=adm.rid(), op="cert.revoke", args={"kid": second.kid}))
                assert isinstance(answer, f.AdminResult), answer
            for c in conns:
                code, _acked = await until_refused(
                    lambda c=c: c.publish(CH, *second.sign(CH)), BOUND_S)  # type: ignore[misc]
                assert code == 422
                assert isinstance(await c.publish(CH, *own.sign(CH)), f.Ack)
    finally:
        await store.close()
    assert await w.stop() == 0


class _Target:
    """What :class:`Raw` needs of a hub: its URL, the CA, the subprotocol."""

    subprotocol = "cordon.v1"

    def __init__(self, url: str, pki: Any) -> None:
        self.url, self.pki = url, pki


@contextlib.asynccontextmanager
async def _on_each_worker(target: HubHarness, leaf: Leaf, pids: list[int], port: int,
                          owners_of: Any) -> AsyncIterator[list[Raw]]:
    """One connection of ``leaf`` on each worker (others opened on the way are closed)."""
    async with contextlib.AsyncExitStack() as stack:
        chosen: dict[int, Raw] = {}
        for _ in range(16):  # the per-principal connection limit of one worker
            c = await stack.enter_async_context(Raw.open(target, leaf))
            pid = owners_of(pids, port)[int(c.ws.local_address[1])]
            chosen.setdefault(pid, c)
            if len(chosen) == len(pids):
                break
        assert len(chosen) == len(pids), "the kernel put every connection on one worker"
        yield list(chosen.values())



# --- one place to reach ---------------------------------------------------------------------


def test_sessions_and_admin_take_access_decisions_from_hub_access_not_the_server() -> None:
    """Revocation has one place to reach: hub.access holds every cached access decision,
    and neither sessions, admin operations nor hub.access import the server (not even
    for type checking); hub.access imports neither sessions nor admin."""
    import ast

    root = Path(__file__).resolve().parents[2]

    def imported(path: Path) -> set[str]:
        out: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.module:
                out.add(node.module)
            elif isinstance(node, ast.Import):
                out.update(a.name for a in node.names)
        return out

    for path in [root / "hub" / "session.py", root / "hub" / "access.py",
                 *sorted((root / "hub" / "admin").glob("*.py"))]:
        assert "hub.server" not in imported(path), path
    assert not imported(root / "hub" / "access.py") & {"hub.session", "hub.admin"}
