"""Admin operations on the wire (``adm``), against a real hub: real TLS, real Valkey.

Every operation, its refusals, and what it does to the rest of the hub: suspended
members and revoked certificates are cut off at once, closed channels refuse
publishing, archived ones end subscriptions, removed members lose theirs.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from certs.ca import ADMIN_EKU, issue_member, load_index
from client.sdk import Client, SessionRefused
from hub.admin import OPS
from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.enrol import (
    CSR_BAD_SIGNATURE,
    CSR_MALFORMED,
    CSR_NOT_ED25519,
    CSR_TOO_LARGE,
    CSR_WEAK_KEY,
    CSR_WRONG_SUBJECT,
    MAX_CSR_BYTES,
    build_request,
    principal_subject,
)
from hub.protocol.envelope import key_id
from hub.protocol.errors import (
    AccessDenied,
    ChannelClosed,
    CloseCode,
    Conflict,
    CordonError,
    InvalidFrame,
    NoSuchChannel,
    NotFound,
)
from hub.protocol.identity import Identity
from hub.refusals import SUPPRESSED_ACTION
from hub.registry import AuthFailure, authenticate
from tests.harness import HubHarness, client_context
from tests.hub.conftest import MakeHub
from tests.pki import Leaf
from tests.protocol.test_trust import CA as TrustCA

CH = "stop-iii"
WAIT = 20.0  # generous bound for "soon"; the one-second promises are asserted separately


def note(text: str) -> dict[str, Any]:
    return {"schema": 1, "handling": "H0", "text": text}


@asynccontextmanager
async def admin(hub: HubHarness, name: str = "alice") -> AsyncIterator[Client]:
    leaf = await hub.admin_leaf(name)
    async with hub.client(leaf, reconnect=False) as c:
        yield c


@asynccontextmanager
async def raw(hub: HubHarness, leaf: Leaf, port: int | None = None
              ) -> AsyncIterator[ClientConnection]:
    """A bare connection (welcome already read), to see exactly how the hub closes it."""
    ws = await connect(f"wss://127.0.0.1:{port or hub.port}/", ssl=client_context(hub.pki, leaf),
                       subprotocols=[Subprotocol("cordon.v1")], compression=None, proxy=None,
                       open_timeout=WAIT)
    try:
        welcome = codec.decode_server(await asyncio.wait_for(ws.recv(), WAIT))  # type: ignore[arg-type]
        assert isinstance(welcome, f.Welcome)
        yield ws
    finally:
        await ws.close()


def leaf_of(result: dict[str, Any], out: Path) -> Leaf:
    """Write credentials returned by principal.add/issue; the Leaf the tests connect with."""
    out.mkdir(parents=True, exist_ok=True)
    base = result["principal"].replace("/", "-") + "-" + result["kid"][:8]
    cert, key = out / f"{base}.pem", out / f"{base}.key"
    cert.write_text(result["cert"])
    key.write_text(result["key"])
    return Leaf(cert, key, result["kid"], int(result["serial"], 16), result["principal"])


async def enrol(c: Client, hub: HubHarness, member: str, name: str = "ops",
                kind: str = "system") -> Leaf:
    if await hub.store.member(member) is None:
        await c.admin("member.add", {"id": member, "name": member.upper(), "country": "FR"})
    result = await c.admin("principal.add", {"member": member, "name": name, "kind": kind,
                                             "generate_key": True})
    return leaf_of(result, hub.tmp / "issued")


async def until(predicate: Any, timeout: float = WAIT) -> None:
    """Poll ``predicate()`` until true; fail after ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def refused(call: Any, error: type[Exception], detail: str | None = None) -> Exception:
    with pytest.raises(error) as info:
        await call
    if detail is not None:
        assert detail in str(info.value)
    return info.value


# --- members -----------------------------------------------------------------------------


async def test_member_add_list_show_and_refusals(hub: HubHarness) -> None:
    async with admin(hub) as c:
        r = await c.admin("member.add", {"id": "fr", "name": "Douane française",
                                         "country": "fr"})
        assert r["member"] | {"created": 0} == {
            "id": "fr", "name": "Douane française", "country": "FR", "status": "active",
            "created": 0, "principals": 0}
        await c.admin("member.add", {"id": "de", "name": "Zoll", "country": "DE"})
        listed = (await c.admin("member.list", {}))["members"]
        assert [(m["id"], m["country"], m["status"]) for m in listed] == [
            ("de", "DE", "active"), ("fr", "FR", "active")]
        shown = await c.admin("member.show", {"id": "fr"})
        assert shown["principals"] == [] and shown["roles"] == {}

        await refused(c.admin("member.add", {"id": "fr", "name": "x", "country": "FR"}),
                      Conflict, "member already exists")
        for bad in ({"id": "FR!", "name": "x", "country": "FR"},
                    {"id": "admin", "name": "x", "country": "FR"},
                    {"id": "it", "name": "x", "country": "XX"},
                    {"id": "it", "name": " ", "country": "IT"},
                    {"id": "it", "name": "a\nb", "country": "IT"},
                    {"id": "it", "name": "x" * 201, "country": "IT"},
                    {"id": "it", "name": "x"},
                    {"id": "it", "name": "x", "country": "IT", "extra": 1},
                    {"id": 7, "name": "x", "country": "IT"}):
            await refused(c.admin("member.add", bad), InvalidFrame)
        await refused(c.admin("member.show", {"id": "zz"}), NotFound, "unknown member")
        await refused(c.admin("member.show", {"id": "Z Z"}), InvalidFrame)
        assert await hub.store.member("it") is None


async def test_suspended_member_is_cut_off_until_reinstated(hub: HubHarness) -> None:
    async with admin(hub) as c:
        fr = await enrol(c, hub, "fr")
        async with raw(hub, fr) as ws:
            await c.admin("member.suspend", {"id": "fr"})
            await asyncio.wait_for(ws.wait_closed(), 1.0)
            assert ws.close_code == 4010
        with pytest.raises(SessionRefused) as info:
            async with hub.client(fr, reconnect=False):
                pass
        assert info.value.code == 4010
        refusals = await hub.store.audit_log(action="connect", principal="fr/ops")
        assert refusals[-1]["result"] == "refused" and refusals[-1]["reason"] == "member suspended"
        assert (await c.admin("member.show", {"id": "fr"}))["member"]["status"] == "suspended"
        await refused(c.admin("member.suspend", {"id": "fr"}), Conflict, "already suspended")

        await c.admin("member.reinstate", {"id": "fr"})
        async with hub.client(fr, reconnect=False) as member:
            assert (await member.connect()).principal == "fr/ops"
        await refused(c.admin("member.reinstate", {"id": "fr"}), Conflict, "already active")
        await refused(c.admin("member.suspend", {"id": "zz"}), NotFound, "unknown member")
    actions = [r["action"] for r in await hub.store.audit_log(principal="admin/alice")]
    assert "member.suspend" in actions and "member.reinstate" in actions


# --- principals and certificates ----------------------------------------------------------


async def test_principal_add_issues_working_credentials(hub: HubHarness) -> None:
    async with admin(hub) as c:
        await c.admin("member.add", {"id": "fr", "name": "Douane", "country": "FR"})
        r = await c.admin("principal.add", {"generate_key": True, "member": "fr", "name": "ops",
                                            "kind": "officer",
                                            "days": 30})
        cert = x509.load_pem_x509_certificate(r["cert"].encode())
        assert r["kid"] == key_id(cert.public_bytes(Encoding.DER))
        assert r["principal"] == "fr/ops" and r["kind"] == "officer"
        assert r["serial"] == f"{cert.serial_number:016x}" and r["status"] == "active"
        assert r["ca"] == hub.pki.ca.read_text()
        assert "PRIVATE KEY" in r["key"]
        assert 29 * 86_400_000 < r["not_after"] - int(cert.not_valid_before_utc.timestamp()
                                                       * 1000) <= 31 * 86_400_000
        # the CA folder recorded it, and nothing private was left behind by the hub
        assert [x.kid for x in load_index(hub.pki.dir) if x.principal == "fr/ops"] == [r["kid"]]
        assert not [p for p in (hub.tmp / "hub").rglob("*") if p.suffix == ".key"]

        leaf = leaf_of(r, hub.tmp / "issued")
        async with hub.client(leaf, reconnect=False) as member:
            welcome = await member.connect()
            assert (welcome.principal, welcome.admin) == ("fr/ops", False)

        shown = (await c.admin("principal.show", {"principal": "fr/ops"}))["principal"]
        assert (shown["kind"], shown["status"], shown["expires"]) == (
            "officer", "active", r["not_after"])
        assert shown["certs"] == [{"kid": r["kid"], "serial": r["serial"],
                                   "not_after": r["not_after"], "status": "active"}]

        again = await c.admin("principal.issue", {"generate_key": True, "principal": "fr/ops"})
        assert again["kid"] != r["kid"] and again["kind"] == "officer"
        listed = (await c.admin("principal.list", {"member": "fr"}))["principals"]
        assert [(p["id"], p["status"], p["certs"]) for p in listed] == [("fr/ops", "active", 2)]
        fr_shown = await c.admin("member.show", {"id": "fr"})
        assert fr_shown["member"]["principals"] == 1
        assert {x["kid"] for x in fr_shown["principals"][0]["certs"]} == {r["kid"],
                                                                          again["kid"]}
        assert (await c.admin("principal.list", {}))["principals"] == listed

        await refused(c.admin("principal.add", {"generate_key": True, "member": "fr",
                                                "name": "ops",
                                                "kind": "system"}), Conflict, "already exists")
        await refused(c.admin("principal.add", {"generate_key": True, "member": "zz",
                                                "name": "ops",
                                                "kind": "system"}), NotFound, "unknown member")
        for bad in ({"member": "fr", "name": "ops!", "kind": "system"},
                    {"member": "fr", "name": "x", "kind": "robot"},
                    {"member": "fr", "name": "x", "kind": "system", "days": 0},
                    {"member": "fr", "name": "x", "kind": "system", "days": 100_000},
                    {"member": "admin", "name": "x", "kind": "system"}):
            await refused(c.admin("principal.add", {**bad, "generate_key": True}), InvalidFrame)
        # the key's source must be explicit: a request, or central generation asked for
        explicit: tuple[dict[str, Any], ...] = ({}, {"generate_key": False}, {"generate_key": 1},
                                                {"generate_key": True, "csr": "x"})
        for bad in explicit:
            await refused(c.admin("principal.add", {"member": "fr", "name": "x",
                                                    "kind": "system", **bad}),
                          InvalidFrame, "csr" if bad != {"generate_key": 1} else None)
            await refused(c.admin("principal.issue", {"principal": "fr/ops", **bad}),
                          InvalidFrame)
        await refused(c.admin("principal.issue", {"generate_key": True,
                                                  "principal": "fr/nobody"}), NotFound,
                      "unknown principal")
        await refused(c.admin("principal.issue", {"generate_key": True,
                                                  "principal": "nonsense"}), InvalidFrame)
        await refused(c.admin("principal.show", {"principal": "fr/nobody"}), NotFound)
        await refused(c.admin("principal.list", {"member": "zz"}), NotFound)
        admin_shown = (await c.admin("principal.show", {"principal": "admin/alice"}))
        assert admin_shown["principal"]["kind"] == "admin"


async def test_principals_issued_offline_are_listed(hub: HubHarness) -> None:
    """``cordon ca issue`` on the CA host: the registry sync records the principal too."""
    await hub.member("fr", "ops")
    async with admin(hub) as c:
        listed = (await c.admin("principal.list", {"member": "fr"}))["principals"]
        assert [(p["id"], p["kind"], p["status"]) for p in listed] == [
            ("fr/ops", "system", "active")]


async def test_revocation_cuts_off_at_once_and_history_stays_verifiable(
    hub: HubHarness,
) -> None:
    async with admin(hub) as c:
        fr = await enrol(c, hub, "fr")
        de = await enrol(c, hub, "de", "zoll")
        await c.admin("channel.create", {"name": CH})
        await c.admin("role.grant", {"channel": CH, "member": "fr", "role": "contributor"})
        await c.admin("role.grant", {"channel": CH, "member": "de", "role": "reader"})
        async with hub.client(fr, reconnect=False) as member:
            ack = await member.publish(CH, "notice", note("before the revocation"))
        number_before = hub.hub.casync.crl_number if hub.hub else 0

        async with raw(hub, fr) as ws:
            loop = asyncio.get_running_loop()
            started = loop.time()
            revoke = asyncio.ensure_future(c.admin("cert.revoke", {"principal": "fr/ops",
                                                                   "reason": "keyCompromise"}))
            await asyncio.wait_for(ws.wait_closed(), 1.0)
            assert ws.close_code == 4010 and loop.time() - started < 1.0
            r = await revoke
        assert [x["kid"] for x in r["revoked"]] == [fr.kid]
        assert r["revoked"][0]["status"] == "revoked"
        assert r["crl"] is not None and r["crl"] > number_before

        # new connections are refused (TLS now has the CRL; the registry refuses too)
        with pytest.raises(SessionRefused):
            async with hub.client(fr, reconnect=False):
                pass
        assert (await hub.store.cert(fr.kid)).status == "revoked"
        crl = x509.load_pem_x509_crl(hub.pki.crl.read_bytes())
        assert crl.get_revoked_certificate_by_serial_number(fr.serial) is not None
        assert hub.hub is not None and hub.hub.casync.crl_number == r["crl"]

        # what it published before stays verifiable by everyone
        async with hub.client(de, reconnect=False) as reader:
            page = await reader.history(CH)
        assert [(a.offset, a.verified) for a in page.items] == [(ack.offset, True)]

        shown = (await c.admin("principal.show", {"principal": "fr/ops"}))["principal"]
        assert shown["status"] == "revoked"
        await refused(c.admin("cert.revoke", {"principal": "fr/ops"}), Conflict, "already")
        await refused(c.admin("cert.revoke", {"kid": fr.kid}), Conflict, "already")
        await refused(c.admin("cert.revoke", {"principal": "fr/nobody"}), NotFound)
        await refused(c.admin("cert.revoke", {"kid": "0" * 64}), NotFound)
        for bad in ({"kid": "xyz"}, {}, {"principal": "fr/ops", "kid": fr.kid},
                    {"principal": "de/zoll", "reason": "boredom"}):
            await refused(c.admin("cert.revoke", bad), InvalidFrame)

        # a new certificate for the same principal works; the revoked one stays revoked
        fresh = leaf_of(await c.admin("principal.issue", {"generate_key": True,
                                                          "principal": "fr/ops"}),
                        hub.tmp / "issued")
        async with hub.client(fresh, reconnect=False) as member:
            assert (await member.connect()).principal == "fr/ops"
    done = [r for r in await hub.store.audit_log(action="cert.revoke") if r["result"] == "ok"]
    assert [(r["principal"], r["subject"], r["kid"], r["revocation"]) for r in done] == [
        ("admin/alice", "fr/ops", fr.kid, "keyCompromise")]
    refusals = [r for r in await hub.store.audit_log(action="cert.revoke")
                if r["result"] == "refused"]
    assert [r["code"] for r in refusals] == ["407", "407", "406", "406", "401", "401", "401",
                                             "401"]


async def test_revoking_one_certificate_by_kid_keeps_the_others(hub: HubHarness) -> None:
    async with admin(hub) as c:
        first = await enrol(c, hub, "fr")
        second = leaf_of(await c.admin("principal.issue", {"generate_key": True,
                                                           "principal": "fr/ops"}),
                         hub.tmp / "issued")
        async with raw(hub, first) as one, raw(hub, second) as two:
            await c.admin("cert.revoke", {"kid": first.kid.upper()})
            await asyncio.wait_for(one.wait_closed(), 1.0)
            assert one.close_code == 4010
            await two.send(codec.encode(f.ChannelsRequest(rid=1)))
            assert isinstance(codec.decode_server(await asyncio.wait_for(two.recv(), WAIT)),  # type: ignore[arg-type]
                              f.ChannelsResult)


async def test_revocation_reaches_every_hub_process(hub: HubHarness, tmp_path: Path) -> None:
    """A second hub process shares the store but not the CA folder: it closes the revoked
    session, refuses the certificate, and loads the new CRL from the store."""
    other = await start_second_process(hub, tmp_path)
    folder = tmp_path / "copy-of-ca"
    try:
        async with admin(hub) as c:
            fr = await enrol(c, hub, "fr")
            async with raw(hub, fr, port=other.port) as ws:
                r = await c.admin("cert.revoke", {"principal": "fr/ops"})
                await asyncio.wait_for(ws.wait_closed(), 1.0)
                assert ws.close_code == 4010
            await until(lambda: other.casync.crl_number == r["crl"], timeout=1.0)
            assert other.tls.crl_path == tmp_path / "other" / "crl.pem"
            assert other.tls.crl_path.read_bytes() == hub.pki.crl.read_bytes()
            assert (folder / "crl.pem").read_bytes() != hub.pki.crl.read_bytes()
            # refused during the TLS handshake now, before any application code
            outcome = await asyncio.to_thread(_tls_probe, other.port,
                                              client_context(hub.pki, fr))
            assert outcome is not None
            with pytest.raises(SessionRefused):
                async with Client(f"wss://127.0.0.1:{other.port}/", cert=fr.cert, key=fr.key,
                                  ca=hub.pki.ca, reconnect=False):
                    pass
    finally:
        await other.stop()


async def start_second_process(hub: HubHarness, tmp_path: Path) -> Any:
    """Another hub process on the same store, with a copy of the CA folder without the
    CA key (it can verify, not issue), its own data folder and port."""
    from hub.server import Hub

    folder = tmp_path / "copy-of-ca"
    folder.mkdir()
    for name in ("ca.pem", "crl.pem", "index.json"):
        (folder / name).write_bytes((hub.pki.dir / name).read_bytes())
    other = Hub(hub.settings.replace(ca_dir=folder, data_dir=tmp_path / "other", port=0))
    await other.start()
    return other


async def test_offline_revocation_reaches_every_process(hub: HubHarness, tmp_path: Path
                                                        ) -> None:
    """``cordon ca revoke`` on the CA host: the process watching the CA folder publishes
    the new CRL through the store; the others load it."""
    fr = await hub.member("fr", "ops")
    other = await start_second_process(hub, tmp_path)
    try:
        async with raw(hub, fr, port=other.port) as ws:
            await hub.revoke(fr)  # the CA folder changes; the harness's process syncs it
            await asyncio.wait_for(ws.wait_closed(), 1.0)
            assert ws.close_code == 4010
        assert hub.hub is not None
        stored = await hub.store.crl()
        assert stored is not None and stored[0] == hub.hub.casync.crl_number
        await until(lambda: other.casync.crl_number == stored[0])
        assert other.tls.crl_path.read_bytes() == stored[1]
    finally:
        await other.stop()


async def test_revoking_on_a_process_without_the_ca_key(hub: HubHarness, tmp_path: Path
                                                        ) -> None:
    """The registry still refuses the certificate everywhere; the answer says the CRL
    could not be republished (crl: None), and issuing is refused as unavailable (503)."""
    from hub.protocol.errors import Unavailable

    other = await start_second_process(hub, tmp_path)
    try:
        async with admin(hub) as c:
            fr = await enrol(c, hub, "fr")
        alice = await hub.admin_leaf("alice2")
        async with Client(f"wss://127.0.0.1:{other.port}/", cert=alice.cert, key=alice.key,
                          ca=hub.pki.ca, reconnect=False) as c, raw(hub, fr) as ws:
            r = await c.admin("cert.revoke", {"principal": "fr/ops"})
            assert r["crl"] is None and [x["kid"] for x in r["revoked"]] == [fr.kid]
            await asyncio.wait_for(ws.wait_closed(), 1.0)
            assert ws.close_code == 4010
            await refused(c.admin("principal.issue", {"generate_key": True,
                                                      "principal": "fr/ops"}), Unavailable,
                          "certificate authority unavailable")
        with pytest.raises(SessionRefused):
            async with hub.client(fr, reconnect=False):
                pass
    finally:
        await other.stop()


async def test_a_crl_about_to_expire_is_rewritten_and_published(hub: HubHarness) -> None:
    """An expired CRL makes TLS refuse everyone; the hub holding the CA key rewrites it
    before that (and an already expired one at the next sync), then publishes it."""
    from datetime import UTC, datetime, timedelta

    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from certs.crl import build_crl, crl_number
    from certs.index import read_index

    fr = await hub.member("fr", "ops")
    assert hub.hub is not None
    ca_cert = x509.load_pem_x509_certificate(hub.pki.ca.read_bytes())
    ca_key: Any = load_pem_private_key((hub.pki.dir / "ca.key").read_bytes(), None)
    number = crl_number(hub.pki.crl, ca_key.public_key()) + 1
    expired = build_crl(issuer=ca_cert, key=ca_key, records=read_index(hub.pki.dir / "index.json"),
                        number=number, now=datetime.now(UTC) - timedelta(days=10), days=1)
    hub.pki.crl.write_bytes(expired.public_bytes(Encoding.PEM))
    assert hub.hub.tls.reload(hub.pki.crl)
    ctx = client_context(hub.pki, fr)
    assert await asyncio.to_thread(_tls_probe, hub.port, ctx) is not None  # everyone refused

    await hub.sync()
    fresh = x509.load_pem_x509_crl(hub.pki.crl.read_bytes())
    assert fresh.next_update_utc is not None
    assert fresh.next_update_utc > datetime.now(UTC) + timedelta(days=6)
    assert hub.hub.casync.crl_number == number + 1
    assert (await hub.store.crl())[0] == number + 1
    assert await asyncio.to_thread(_tls_probe, hub.port, ctx) is None
    await hub.sync()  # still fresh: nothing rewritten
    assert hub.hub.casync.crl_number == number + 1


async def test_a_swallowed_cancellation_still_stops_the_crl_loop() -> None:
    """Python 3.11's wait_for (inside redis-py) can swallow a cancellation that meets a
    reply; the registry's loops re-raise it instead of running on."""
    from hub.registry import _cancel_point

    async def body() -> str:
        asyncio.current_task().cancel()  # type: ignore[union-attr]
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            pass  # what asyncio.wait_for does when the awaited reply is already there
        _cancel_point()
        return "ran on"

    with pytest.raises(asyncio.CancelledError):
        await asyncio.ensure_future(body())
    _cancel_point()  # not cancelled: nothing happens


async def test_a_forged_crl_in_the_store_is_ignored(hub: HubHarness, tmp_path: Path) -> None:
    from tests.pki import make_pki

    foreign = make_pki(tmp_path / "foreign")
    assert hub.hub is not None
    before = hub.hub.casync.crl_number
    await hub.store.set_crl(foreign.crl.read_bytes(), before + 100)
    assert not await hub.hub.casync.apply_crl()
    assert hub.hub.casync.crl_number == before


def _tls_probe(port: int, ctx: ssl.SSLContext) -> str | None:
    """Blocking TLS connection with a WebSocket upgrade request: None if the hub answered,
    else what ended it (TLS 1.3 refusals of the client certificate show on the first read)."""
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=WAIT) as sock, \
            ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
        try:
            tls.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                        b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        b"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: cordon.v1\r\n\r\n")
            reply = tls.recv(4096)
        except ssl.SSLError as exc:
            return str(exc.reason)
        except ConnectionResetError:
            return "connection dropped"
        return None if reply.startswith(b"HTTP/1.1 101") else "connection dropped"


# --- channels and roles ------------------------------------------------------------------


async def test_channel_create_list_show(hub: HubHarness) -> None:
    async with admin(hub) as c:
        fr = await enrol(c, hub, "fr")
        r = await c.admin("channel.create", {
            "name": CH, "title": "Operation STOP III", "starts": "2025-03-01",
            "ends": "2025-03-12", "retention_ms": 90 * 86_400_000})
        ch = r["channel"]
        assert (ch["name"], ch["title"], ch["state"], ch["starts"], ch["ends"],
                ch["retention_ms"], ch["members"], ch["alerts"], ch["last_activity"]) == (
            CH, "Operation STOP III", "open", "2025-03-01", "2025-03-12", 90 * 86_400_000,
            0, 0, 0)
        assert len(ch["epoch"]) == 32
        await c.admin("channel.create", {"name": "other"})
        await c.admin("role.grant", {"channel": CH, "member": "fr", "role": "contributor"})
        async with hub.client(fr, reconnect=False) as member:
            await member.publish(CH, "notice", note("one"))
            await member.publish(CH, "notice", note("two"))
        listed = {x["name"]: x for x in (await c.admin("channel.list", {}))["channels"]}
        assert sorted(listed) == ["other", CH]
        assert (listed[CH]["members"], listed[CH]["alerts"]) == (1, 2)
        assert listed[CH]["last_activity"] > 0 and listed["other"]["last_activity"] == 0
        shown = await c.admin("channel.show", {"name": CH})
        assert shown["roles"] == {"fr": "contributor"}
        assert shown["channel"]["head"] == 2

        await refused(c.admin("channel.create", {"name": CH}), Conflict, "already exists")
        for bad in ({"name": "Bad Name"}, {"name": "x", "starts": "2025-13-01"},
                    {"name": "x", "starts": "20250301"},
                    {"name": "x", "starts": "2025-03-12", "ends": "2025-03-01"},
                    {"name": "x", "retention_ms": -1}, {"name": "x", "title": "a\x00b"},
                    {"title": "no name"}):
            await refused(c.admin("channel.create", bad), InvalidFrame)
        await refused(c.admin("channel.show", {"name": "nope"}), NoSuchChannel)


async def test_closed_channel_refuses_publishing_but_keeps_history(hub: HubHarness) -> None:
    async with admin(hub) as c:
        fr = await enrol(c, hub, "fr")
        await c.admin("channel.create", {"name": CH})
        await c.admin("role.grant", {"channel": CH, "member": "fr", "role": "contributor"})
        async with hub.client(fr, reconnect=False) as member:
            ack = await member.publish(CH, "notice", note("before closing"))
            r = await c.admin("channel.state", {"name": CH, "state": "closed"})
            assert r["channel"]["state"] == "closed"
            await refused(member.publish(CH, "notice", note("after")), ChannelClosed)
            page = await member.history(CH)
            assert [(a.offset, a.verified) for a in page.items] == [(ack.offset, True)]
            chans = {ch.ch: ch.state for ch in await member.channels()}
            assert chans == {CH: "closed"}
            await refused(c.admin("channel.state", {"name": CH, "state": "closed"}),
                          Conflict, "already closed")
            await c.admin("channel.state", {"name": CH, "state": "open"})
            assert (await member.publish(CH, "notice", note("reopened"))).offset == 2
        await refused(c.admin("channel.state", {"name": CH, "state": "frozen"}), InvalidFrame)
        await refused(c.admin("channel.state", {"name": "nope", "state": "closed"}),
                      NoSuchChannel)
    actions = [r["action"] for r in await hub.store.audit_log(principal="admin/alice")]
    assert "channel.closed" in actions and "channel.open" in actions


async def test_archiving_ends_subscriptions_for_good(hub: HubHarness) -> None:
    async with admin(hub) as c:
        fr = await enrol(c, hub, "fr")
        await c.admin("channel.create", {"name": CH})
        await c.admin("role.grant", {"channel": CH, "member": "fr", "role": "contributor"})
        async with raw(hub, fr) as ws:
            await ws.send(codec.encode(f.Subscribe(rid=1, ch=CH, since=0)))
            assert isinstance(codec.decode_server(await ws.recv()), f.Subscribed)  # type: ignore[arg-type]
            await c.admin("channel.state", {"name": CH, "state": "archived"})
            frames: list[f.ServerFrame] = []
            async with asyncio.timeout(WAIT):
                while not any(isinstance(x, f.Ended) for x in frames):
                    frames.append(codec.decode_server(await ws.recv()))  # type: ignore[arg-type]
            ended = next(x for x in frames if isinstance(x, f.Ended))
            assert (ended.ch, ended.code) == (CH, 404)
        async with hub.client(fr, reconnect=False) as member:
            await refused(member.publish(CH, "notice", note("too late")), ChannelClosed)
        for state in ("open", "closed", "archived"):
            await refused(c.admin("channel.state", {"name": CH, "state": state}), Conflict,
                          "archived")


async def test_roles_grant_change_remove(hub: HubHarness) -> None:
    async with admin(hub) as c:
        fr = await enrol(c, hub, "fr")
        await c.admin("member.add", {"id": "de", "name": "Zoll", "country": "DE"})
        await c.admin("channel.create", {"name": CH})
        assert (await c.admin("role.grant", {"channel": CH, "member": "fr", "role": "reader"})
                )["previous"] is None
        async with hub.client(fr, reconnect=False) as member:
            await refused(member.publish(CH, "notice", note("reader")), AccessDenied)
            r = await c.admin("role.grant", {"channel": CH, "member": "fr",
                                             "role": "contributor"})
            assert r == {"channel": CH, "member": "fr", "role": "contributor",
                         "previous": "reader", "unchanged": False}
            await member.publish(CH, "notice", note("contributor now"))
            again = await c.admin("role.grant", {"channel": CH, "member": "fr",
                                                 "role": "contributor"})  # idempotent
            assert again["unchanged"] is True and again["previous"] == "contributor"

            async with member.subscribe(CH, since=0) as sub:
                first = await anext(sub)
                assert first.offset == 1
                removed = await c.admin("role.remove", {"channel": CH, "member": "fr"})
                assert removed["previous"] == "contributor"
                with pytest.raises(NoSuchChannel):
                    async with asyncio.timeout(1.0):
                        await anext(sub)
            await refused(member.history(CH), NoSuchChannel)
        await refused(c.admin("role.remove", {"channel": CH, "member": "fr"}), NotFound,
                      "no role")
        await refused(c.admin("role.grant", {"channel": CH, "member": "zz", "role": "reader"}),
                      NotFound, "unknown member")
        await refused(c.admin("role.grant", {"channel": "nope", "member": "de",
                                             "role": "reader"}), NoSuchChannel)
        await refused(c.admin("role.remove", {"channel": "nope", "member": "de"}),
                      NoSuchChannel)
        await refused(c.admin("role.grant", {"channel": CH, "member": "de", "role": "boss"}),
                      InvalidFrame)
    records = [r for r in await hub.store.audit_log(principal="admin/alice")
               if r["action"].startswith("role.")]
    assert [(r["action"], r["result"]) for r in records] == [
        ("role.grant", "ok"), ("role.change", "ok"), ("role.grant", "unchanged"),
        ("role.remove", "ok"), ("role.remove", "refused"), ("role.grant", "refused"),
        ("role.grant", "refused"), ("role.remove", "refused"), ("role.grant", "refused")]
    assert records[1]["previous"] == "reader" and records[1]["role"] == "contributor"


# --- authorisation and the audit log ------------------------------------------------------

#: Plausible arguments for every operation (what a member might try).
ATTEMPTS: dict[str, dict[str, Any]] = {
    "member.add": {"id": "xx", "name": "X", "country": "FR"},
    "member.list": {},
    "member.show": {"id": "fr"},
    "member.update": {"id": "de", "name": "X"},
    "member.suspend": {"id": "de"},
    "member.reinstate": {"id": "de"},
    "principal.add": {"member": "fr", "name": "intruder", "kind": "system",
                      "generate_key": True},
    "principal.issue": {"principal": "fr/ops", "generate_key": True},
    "principal.list": {},
    "principal.show": {"principal": "fr/ops"},
    "cert.revoke": {"principal": "de/zoll"},
    "channel.create": {"name": "mine"},
    "channel.list": {},
    "channel.show": {"name": CH},
    "channel.state": {"name": CH, "state": "closed"},
    "role.grant": {"channel": CH, "member": "fr", "role": "coordinator"},
    "role.remove": {"channel": CH, "member": "de"},
    "audit.list": {},
    "status": {},
}


async def test_member_certificate_is_refused_every_admin_operation(make_hub: MakeHub) -> None:
    # Every refusal audited: a budget above the number of attempts (hub.refusals).
    hub = await make_hub(audit_refusals_per_s=len(ATTEMPTS) + 1)
    assert set(ATTEMPTS) == set(OPS)
    async with admin(hub) as c:
        fr = await enrol(c, hub, "fr")
        await enrol(c, hub, "de", "zoll")
        await c.admin("channel.create", {"name": CH})
        await c.admin("role.grant", {"channel": CH, "member": "fr", "role": "reader"})
        await c.admin("role.grant", {"channel": CH, "member": "de", "role": "reader"})
    async with hub.client(fr, reconnect=False) as member:
        for op, args in ATTEMPTS.items():
            await refused(member.admin(op, args), AccessDenied)
        await refused(member.admin("no.such.op", {}), AccessDenied)
    refusals = [r for r in await hub.store.audit_log(principal="fr/ops")
                if r.get("result") == "refused"]
    assert [r["action"] for r in refusals] == [*ATTEMPTS, "adm"]
    assert all(r["code"] == "403" and r["peer"].startswith("127.0.0.1:") for r in refusals)
    assert refusals[-1]["op"] == "no.such.op"
    assert {r["member"] for r in refusals if r["action"] == "member.add"} == {"xx"}
    assert {r["subject"] for r in refusals if r["action"] == "cert.revoke"} == {"de/zoll"}
    # and nothing was done
    assert await hub.store.member("xx") is None
    assert await hub.store.channel("mine") is None
    assert (await hub.store.channel(CH)).state == "open"
    assert await hub.store.role(CH, "de") == "reader"
    assert all(c.status == "active" for c in await hub.store.certs_of("de/zoll"))


async def test_admin_refusals_and_reads_are_audited(hub: HubHarness) -> None:
    async with admin(hub) as c:
        await refused(c.admin("no.such.op", {}), InvalidFrame, "unknown admin operation")
        await refused(c.admin("member.show", {"id": "zz"}), NotFound)
        await c.admin("channel.list", {})
    records = await hub.store.audit_log(principal="admin/alice")
    assert [(r["action"], r["result"], r.get("code")) for r in records] == [
        ("adm", "refused", "401"), ("member.show", "refused", "406"),
        ("channel.list", "ok", None)]
    assert records[1]["member"] == "zz" and records[1]["detail"] == "unknown member"


async def test_refused_connections_name_the_principal(hub: HubHarness, raw: Any) -> None:
    unknown = await hub.member("fr", "ghost")
    await raw.delete(f"cordon:cert:{unknown.kid}")  # a certificate the registry never had
    with pytest.raises(SessionRefused):
        async with hub.client(unknown, reconnect=False):
            pass
    record = (await hub.store.audit_log(action="connect"))[-1]
    assert (record["principal"], record["result"], record["reason"]) == (
        "fr/ghost", "refused", "certificate unknown to the registry")


async def test_audit_list_filters_and_pages(hub: HubHarness) -> None:
    async with admin(hub) as c:
        for i in range(5):
            await c.admin("member.add", {"id": f"m{i}", "name": f"M{i}", "country": "FR"})
        everything = (await c.admin("audit.list", {}))["records"]
        assert [r["action"] for r in everything] == ["member.add"] * 5
        adds = (await c.admin("audit.list", {"action": "member.add"}))["records"]
        assert [r["member"] for r in adds] == [f"m{i}" for i in range(5)]
        page = await c.admin("audit.list", {"action": "member.add", "limit": 2})
        assert [r["member"] for r in page["records"]] == ["m0", "m1"]
        page = await c.admin("audit.list", {"action": "member.add", "limit": 2,
                                            "after": page["next"]})
        assert [r["member"] for r in page["records"]] == ["m2", "m3"]
        page = await c.admin("audit.list", {"action": "member.add", "after": page["next"]})
        assert [r["member"] for r in page["records"]] == ["m4"] and page["next"] is None
        since = int(adds[3]["id"].split("-")[0])
        later = (await c.admin("audit.list", {"since_ms": since, "action": "member.add"}))
        assert [r["member"] for r in later["records"]][-1] == "m4"
        assert (await c.admin("audit.list", {"principal": "nobody/x"}))["records"] == []
        for bad in ({"after": "yesterday"}, {"limit": 0}, {"limit": 201},
                    {"action": "Bad Action"}, {"since_ms": -1}, {"principal": "x" * 81}):
            await refused(c.admin("audit.list", bad), InvalidFrame)


async def test_in_process_operations_keep_working(hub: HubHarness) -> None:
    """The demo and the harness call these directly, without a session."""
    from hub import admin as ops

    await hub.store.add_member("fr", name="FR", country="FR")
    await ops.create_channel(hub.store, "direct", title="Direct")
    assert await ops.grant(hub.store, "direct", "fr", "reader") is None
    await ops.set_channel_state(hub.store, "direct", "closed")
    await ops.revoke_role(hub.store, "direct", "fr")
    assert await hub.store.roles("direct") == {}
    assert hub.hub is not None
    r = await ops.run_admin(hub.hub, "local", "channel.show", {"name": "direct"})
    assert r["channel"]["state"] == "closed"
    with pytest.raises(InvalidFrame):
        await ops.run_admin(hub.hub, "local", "nope", {})
    with pytest.raises(InvalidFrame):
        await ops.set_channel_state(hub.store, "direct", "frozen")


# --- enrolment by certificate request (members keep their own keys) -------------------------

#: The longest names the protocol allows (§3): 32-character member and principal names
#: (a 65-character principal id), a 64-character channel name and alert id.
LONG_MEMBER = "m" + "0123456789-abcdefghijklmnopqrs" + "z"
LONG_NAME = "n" + "abcdefghijklmnopqrstuvwxyz-012" + "9"
LONG_CHANNEL = "c" + "0123456789abcdefghijklmnopqrstuvwxyz_.-0123456789abcdefghijklm" + "z"
LONG_ALERT_ID = "A" + "b" * 63


def member_request(out: Path, member: str, name: str) -> tuple[str, Path]:
    """What ``cordon key new`` does: an Ed25519 key kept here (0600) and its request."""
    key = Ed25519PrivateKey.generate()
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{member}-{name}.key"
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return build_request(key, Identity.for_member(member, name)).decode(), path


def certified_leaf(result: dict[str, Any], key: Path) -> Leaf:
    cert = key.with_name(f"{result['kid'][:12]}.pem")
    cert.write_text(result["cert"])
    return Leaf(cert, key, result["kid"], int(result["serial"], 16), result["principal"])


async def test_every_name_works_end_to_end_at_its_maximum(hub: HubHarness) -> None:
    """Enrol (by request and by central generation), issue, connect, publish, read the
    audit log, with the longest names of §3. A 65-character principal id used to go into
    the 64-character CN and come back as err 500."""
    assert (len(LONG_MEMBER), len(LONG_NAME), len(LONG_CHANNEL), len(LONG_ALERT_ID)) == (
        32, 32, 64, 64)
    pid = f"{LONG_MEMBER}/{LONG_NAME}"
    async with admin(hub, "a" * 32) as c:
        await c.admin("member.add", {"id": LONG_MEMBER, "name": "M" * 200, "country": "FR"})
        csr, key = member_request(hub.tmp / "member", LONG_MEMBER, LONG_NAME)
        added = await c.admin("principal.add", {"member": LONG_MEMBER, "name": LONG_NAME,
                                                "kind": "officer", "csr": csr})
        assert added["principal"] == pid and added["key"] is None  # the key never left
        cert = x509.load_pem_x509_certificate(added["cert"].encode())
        loaded = serialization.load_pem_private_key(key.read_bytes(), None)
        assert isinstance(loaded, Ed25519PrivateKey)
        assert cert.public_key() == loaded.public_key()
        renewed = await c.admin("principal.issue", {"principal": pid, "generate_key": True})
        await c.admin("channel.create", {"name": LONG_CHANNEL})
        await c.admin("role.grant", {"channel": LONG_CHANNEL, "member": LONG_MEMBER,
                                     "role": "contributor"})
        for n, leaf in enumerate((certified_leaf(added, key),
                                  leaf_of(renewed, hub.tmp / "issued"))):
            async with hub.client(leaf, reconnect=False) as member:
                assert (await member.connect()).principal == pid
                ack = await member.publish(LONG_CHANNEL, "notice", note("long names"),
                                           alert_id=f"{LONG_ALERT_ID[:-1]}{n}")
                assert ack.offset >= 1
        page = await c.history(LONG_CHANNEL)
        assert [(a.envelope and a.envelope.sender, a.verified) for a in page.items] == [
            (pid, True)] * 2
        records = (await c.admin("audit.list", {"principal": f"admin/{'a' * 32}"}))["records"]
    enrolled = {r["action"]: r for r in records}
    assert enrolled["principal.add"]["subject"] == pid
    assert enrolled["principal.add"]["member"] == LONG_MEMBER
    assert enrolled["principal.issue"]["subject"] == pid


async def test_certificate_requests_are_checked_before_anything_is_issued(
        hub: HubHarness) -> None:
    """Each bad request is refused with 401 and its fixed text; nothing is issued."""
    out = hub.tmp / "member"
    good, _key = member_request(out, "fr", "ops")
    der = x509.load_pem_x509_csr(good.encode()).public_bytes(serialization.Encoding.DER)
    flipped = bytearray(der)
    flipped[-1] ^= 1  # the last byte of the self-signature
    raw_key = x509.load_pem_x509_csr(good.encode()).public_key()
    assert isinstance(raw_key, Ed25519PublicKey)
    weak = der.replace(raw_key.public_bytes_raw(),
                       bytes([1]) + bytes(31))  # the neutral element: a small-order key
    ec = (x509.CertificateSigningRequestBuilder()
          .subject_name(principal_subject(Identity.for_member("fr", "ops")))
          .sign(ec_key(), hashes.SHA256()))
    other, _ = member_request(out, "fr", "other")
    foreign_san = (x509.CertificateSigningRequestBuilder()
                   .subject_name(principal_subject(Identity.for_member("fr", "ops")))
                   .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(
                       "urn:cordon:principal:de/ops")]), critical=False)
                   .sign(Ed25519PrivateKey.generate(), None))
    cases = {
        pem(bytes(flipped)): CSR_BAD_SIGNATURE,
        pem(weak): CSR_WEAK_KEY,
        ec.public_bytes(serialization.Encoding.PEM).decode(): CSR_NOT_ED25519,
        other: CSR_WRONG_SUBJECT,
        foreign_san.public_bytes(serialization.Encoding.PEM).decode(): CSR_WRONG_SUBJECT,
        "-----BEGIN CERTIFICATE REQUEST-----\nnot base64\n-----END CERTIFICATE REQUEST-----\n":
            CSR_MALFORMED,
        good + "#" * MAX_CSR_BYTES: CSR_TOO_LARGE,
    }
    async with admin(hub) as c:
        before = load_index(hub.pki.dir)
        await c.admin("member.add", {"id": "fr", "name": "FR", "country": "FR"})
        for csr, text in cases.items():
            error = await refused(c.admin("principal.add", {"member": "fr", "name": "ops",
                                                            "kind": "system", "csr": csr}),
                                  InvalidFrame)
            assert error.detail == text  # type: ignore[attr-defined]
        assert await hub.store.principal("fr/ops") is None
        assert load_index(hub.pki.dir) == before
        await c.admin("principal.add", {"member": "fr", "name": "ops", "kind": "system",
                                         "csr": good})
        for csr, text in cases.items():
            error = await refused(c.admin("principal.issue", {"principal": "fr/ops",
                                                              "csr": csr}), InvalidFrame)
            assert error.detail == text  # type: ignore[attr-defined]
        assert len(await hub.store.certs_of("fr/ops")) == 1
    # More refusals than the connection's audit budget (10/s): the rest are counted in a
    # refusals.suppressed record, written when the connection ends (which may be done
    # by now, or not yet).
    refusals = [r for r in await hub.store.audit_log(principal="admin/alice")
                if r["result"] == "refused" and r["action"] != SUPPRESSED_ACTION]
    assert {r["detail"] for r in refusals} == set(cases.values())
    assert {(r["member"], r["subject"]) for r in refusals} == {("fr", "fr/ops")}


def pem(der: bytes) -> str:
    body = base64.encodebytes(der).decode().replace("\n", "")
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    return "\n".join(["-----BEGIN CERTIFICATE REQUEST-----", *lines,
                      "-----END CERTIFICATE REQUEST-----", ""])


def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


# --- the hub checks a certificate's purpose itself -------------------------------------------


async def test_certificate_without_extended_key_usage_is_closed_4013(hub: HubHarness) -> None:
    """Issued by the real CA key and imported into the registry, so only the hub's own
    purpose check can refuse it: OpenSSL's handshake accepts a client certificate that
    has no extendedKeyUsage at all."""
    await hub.store.add_member("fr", name="FR", country="FR")
    no_eku = Leaf.of(issue_member(hub.pki.dir, member="fr", name="ops", out=hub.pki.out,
                                  basename="fr-ops-no-eku", eku=[]))
    cert = x509.load_pem_x509_certificate(no_eku.cert.read_bytes())
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    await hub.sync()
    record = await hub.store.cert(no_eku.kid)
    assert record is not None and record.status == "active"
    ws = await connect(f"wss://127.0.0.1:{hub.port}/", ssl=client_context(hub.pki, no_eku),
                       subprotocols=[Subprotocol("cordon.v1")], compression=None, proxy=None,
                       open_timeout=WAIT)  # the TLS handshake and the upgrade succeed
    try:
        with pytest.raises(ConnectionClosed) as info:
            await asyncio.wait_for(ws.recv(), WAIT)
    finally:
        await ws.close()
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (
        CloseCode.WRONG_PURPOSE, "certificate of the wrong purpose")
    record = (await hub.store.audit_log(action="connect"))[-1]
    assert (record["principal"], record["result"], record["reason"]) == (
        "fr/ops", "refused", "certificate of the wrong purpose")
    assert hub.hub is not None and not hub.hub.sessions
    with pytest.raises(SessionRefused) as refusal:
        async with hub.client(no_eku, reconnect=False):
            pass
    assert refusal.value.code == CloseCode.WRONG_PURPOSE


# --- every admin operation's audit record names its subject, done or refused ----------------

#: For every operation: arguments that succeed (after the setup below), arguments the
#: hub refuses for their content, and the subject fields both records must carry.
SUBJECTS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, str]]] = {
    "member.add": ({"id": "it", "name": "IT", "country": "IT"},
                   {"id": "it", "name": "IT", "country": "ZZ"}, {"member": "it"}),
    "member.list": ({}, {"x": 1}, {}),
    "member.show": ({"id": "fr"}, {"id": "fr", "x": 1}, {"member": "fr"}),
    "member.update": ({"id": "de", "name": "Zoll"}, {"id": "de"}, {"member": "de"}),
    "member.suspend": ({"id": "de"}, {"id": "de"}, {"member": "de"}),  # 407 the 2nd time
    "member.reinstate": ({"id": "de"}, {"id": "de"}, {"member": "de"}),
    "principal.add": ({"member": "fr", "name": "ops", "kind": "system", "generate_key": True},
                      {"member": "fr", "name": "ops", "kind": "system", "generate_key": True},
                      {"member": "fr", "subject": "fr/ops"}),
    "principal.issue": ({"principal": "fr/ops", "generate_key": True},
                        {"principal": "fr/ops"}, {"member": "fr", "subject": "fr/ops"}),
    "principal.list": ({"member": "fr"}, {"member": "fr", "x": 1}, {"member": "fr"}),
    "principal.show": ({"principal": "fr/ops"}, {"principal": "fr/ops", "x": 1},
                       {"member": "fr", "subject": "fr/ops"}),
    "cert.revoke": ({"principal": "fr/ops"}, {"principal": "fr/ops"},
                    {"member": "fr", "subject": "fr/ops"}),
    "channel.create": ({"name": "ops-1"}, {"name": "ops-1", "title": "other"},
                       {"channel": "ops-1"}),  # the same again is "unchanged", not refused
    "channel.list": ({}, {"x": 1}, {}),
    "channel.show": ({"name": "ops-1"}, {"name": "ops-1", "x": 1}, {"channel": "ops-1"}),
    "channel.state": ({"name": "ops-1", "state": "closed"},
                      {"name": "ops-1", "state": "closed"}, {"channel": "ops-1"}),
    "role.grant": ({"channel": "ops-1", "member": "fr", "role": "reader"},
                   {"channel": "ops-1", "member": "fr", "role": "boss"},
                   {"channel": "ops-1", "member": "fr"}),
    "role.remove": ({"channel": "ops-1", "member": "fr"}, {"channel": "ops-1", "member": "fr"},
                    {"channel": "ops-1", "member": "fr"}),
    "audit.list": ({"limit": 1}, {"limit": 0}, {}),
    "status": ({}, {"x": 1}, {}),
}
SUBJECT_FIELDS = ("member", "subject", "channel")


@pytest.mark.parametrize("op", list(OPS))
async def test_admin_audit_records_name_the_subject(make_hub: MakeHub, op: str) -> None:
    """Done, refused for its content, and refused to a member certificate (403): the same
    subject fields each time. A refused ``principal.add fr/ops`` used to be recorded with
    ``channel: ops``."""
    assert set(SUBJECTS) == set(OPS)
    hub = await make_hub(audit_refusals_per_s=50)
    done, bad, subject = SUBJECTS[op]
    async with admin(hub) as c:
        for member in ("fr", "de"):
            await c.admin("member.add", {"id": member, "name": member, "country": "FR"})
        outsider = await enrol(c, hub, "pl", "zoll")  # a member certificate: 403
        if op not in ("principal.add",):
            await enrol(c, hub, "fr", "ops")
        if op not in ("channel.create",):
            await c.admin("channel.create", {"name": "ops-1"})
        if op == "role.remove":
            await c.admin("role.grant", {"channel": "ops-1", "member": "fr", "role": "reader"})
        if op == "member.reinstate":
            await c.admin("member.suspend", {"id": "de"})
        before = len(await hub.store.audit_log(principal="admin/alice"))
        await c.admin(op, done)
        with pytest.raises(CordonError):
            await c.admin(op, bad)
    async with hub.client(outsider, reconnect=False) as someone:
        await refused(someone.admin(op, done), AccessDenied)
    mine = (await hub.store.audit_log(principal="admin/alice"))[before:]
    theirs = [r for r in await hub.store.audit_log(principal="pl/zoll") if r["action"] == op]
    ok = [r for r in mine if r["result"] == "ok" and r["action"].split(".")[0] == op.split(".")[0]]
    no = [r for r in mine if r["result"] == "refused"]
    assert len(ok) == 1 and len(no) == 1 and len(theirs) == 1, (ok, no, theirs)
    for record in (*ok, *no, *theirs):
        assert {k: record[k] for k in SUBJECT_FIELDS if k in record} == subject, record
    if "kid" in ok[0]:  # what the operation produced (issued or revoked certificates)
        assert op in ("principal.add", "principal.issue", "cert.revoke")


@pytest.mark.parametrize(("options", "code"), [
    ({"ekus": None}, CloseCode.WRONG_PURPOSE),  # no EKU: OpenSSL's handshake accepts it
    ({"ekus": [ExtendedKeyUsageOID.SERVER_AUTH]}, CloseCode.WRONG_PURPOSE),
    ({"digital_signature": None}, CloseCode.WRONG_PURPOSE),
    ({"digital_signature": False}, CloseCode.WRONG_PURPOSE),
    ({"ca": True}, CloseCode.WRONG_PURPOSE),
    ({"uris": ["urn:cordon:admin:eve"], "ekus": [ADMIN_EKU]}, CloseCode.WRONG_PURPOSE),
    ({"uris": ["urn:cordon:admin:eve"], "ekus": None}, CloseCode.IDENTITY),
    ({"uris": ["urn:cordon:admin:eve"]}, CloseCode.IDENTITY),  # clientAuth, no admin EKU
])
async def test_purpose_is_checked_before_the_registry(hub: HubHarness, options: dict[str, Any],
                                                      code: int) -> None:
    """What :func:`hub.registry.authenticate` does with a certificate the handshake let
    through: the wrong purpose is 4013 (an administrator's purpose includes its admin EKU,
    part of its identity: 4011 without it)."""
    cert, _key = TrustCA().issue(**options)
    with pytest.raises(AuthFailure) as info:
        await authenticate(hub.store, cert.public_bytes(Encoding.DER))
    assert info.value.close_code == code
    good, _key = TrustCA().issue(uris=["urn:cordon:admin:eve"],
                                 ekus=[ExtendedKeyUsageOID.CLIENT_AUTH, ADMIN_EKU])
    with pytest.raises(AuthFailure) as info:  # the right purpose: on to the registry
        await authenticate(hub.store, good.public_bytes(Encoding.DER))
    assert (info.value.close_code, info.value.reason) == (
        CloseCode.IDENTITY, "certificate unknown to the registry")
