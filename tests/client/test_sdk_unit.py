"""client.sdk without a hub: credentials, alert ids, signing, result types, error mapping."""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path

import pytest
from cryptography import x509
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosedError, InvalidStatus
from websockets.frames import Close
from websockets.http11 import Response

from client._conn import classify_open_error
from client._model import Page, Received
from client.sdk import (
    Client,
    ConnectionLost,
    SessionRefused,
    load_credentials,
    new_alert_id,
)
from hub.protocol.chain import ZERO_HASH
from hub.protocol.envelope import alert_hash, decode_envelope, key_id
from hub.protocol.errors import BadSignature, FrameTooLarge, InvalidAlert
from hub.protocol.identity import ALERT_ID_PATTERN, Identity
from hub.protocol.limits import MAX_ALERT_BYTES
from hub.protocol.trust import verify_signed_alert
from tests.bodies import note, seizure
from tests.pki import Pki, make_pki


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("unit"))


@pytest.fixture(scope="module")
def client(pki: Pki) -> Client:
    ops = pki.member("fr", "ops")
    return Client("wss://localhost:1/", cert=ops.cert, key=ops.key, ca=pki.ca)


def ca_cert(pki: Pki) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pki.ca.read_bytes())


# --- alert ids ------------------------------------------------------------------


def test_new_alert_id_matches_the_protocol_pattern() -> None:
    ids = {new_alert_id() for _ in range(1000)}
    assert len(ids) == 1000
    for alert_id in ids:
        assert len(alert_id) == 26
        assert ALERT_ID_PATTERN.fullmatch(alert_id)


def test_new_alert_id_sorts_by_time() -> None:
    early, late = new_alert_id(1_700_000_000_000), new_alert_id(1_700_000_000_001)
    assert early < late
    assert new_alert_id(0).startswith("0000000000")


def test_new_alert_id_is_the_ulid_of_its_time_and_random_bits(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The digits, two at a time from a table, are the ULID's: 48 bits of milliseconds
    then 80 random bits, most significant first, in Crockford's base32."""
    import os

    def ulid(ms: int, rnd: bytes) -> str:
        value = (ms << 80) | int.from_bytes(rnd, "big")
        return "".join("0123456789ABCDEFGHJKMNPQRSTVWXYZ"[(value >> (5 * i)) & 31]
                       for i in range(25, -1, -1))

    for ms, rnd in [(0, bytes(10)), (2**48 - 1, b"\xff" * 10),
                    (1_700_000_000_123, bytes(range(10))), (1, b"\x80" + bytes(9))]:
        monkeypatch.setattr(os, "urandom", lambda n, r=rnd: r)
        assert new_alert_id(ms) == ulid(ms, rnd)
    assert ulid(2**48 - 1, b"\xff" * 10) == "7" + "Z" * 25


# --- credentials -------------------------------------------------------------------


def test_load_credentials(pki: Pki) -> None:
    ops = pki.member("fr", "ops")
    cert, der, _key, identity = load_credentials(ops.cert, ops.key)
    assert identity == Identity.for_member("fr", "ops")
    assert key_id(der) == ops.kid
    assert cert.serial_number == ops.serial


def test_load_credentials_key_of_another_certificate(pki: Pki) -> None:
    ops, other = pki.member("fr", "ops"), pki.member("fr", "other")
    with pytest.raises(ValueError, match="does not match"):
        load_credentials(ops.cert, other.key)


def test_load_credentials_not_ed25519(pki: Pki, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ops = pki.member("fr", "ops")
    key = tmp_path / "ec.key"
    key.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(ValueError, match="not an Ed25519"):
        load_credentials(ops.cert, key)


def test_load_credentials_server_cert_names_no_identity(pki: Pki) -> None:
    with pytest.raises(ValueError, match="exactly one Cordon identity"):
        load_credentials(pki.server.cert, pki.server.key)


def test_client_constructor_checks(pki: Pki) -> None:
    ops = pki.member("fr", "ops")
    with pytest.raises(ValueError):
        Client("wss://x/", cert=ops.cert, key=ops.key, ca=pki.ca, max_attempts=0)
    with pytest.raises(FileNotFoundError):
        Client("wss://x/", cert=ops.cert, key=ops.key, ca=pki.ca.with_name("missing.pem"))


def test_client_identity_and_kid(client: Client) -> None:
    assert client.identity.principal == "fr/ops"
    assert len(client.kid) == 64
    assert "fr/ops" in repr(client)
    assert not client.connected
    assert not client.closed


# --- signing -------------------------------------------------------------------------


def test_sign_builds_a_verifiable_envelope(client: Client, pki: Pki) -> None:
    signed = client.sign("stop-iii", "seizure", seizure())
    env = signed.envelope
    assert env.sender == "fr/ops"
    assert env.kid == client.kid
    assert env.channel == "stop-iii"
    assert ALERT_ID_PATTERN.fullmatch(env.id)
    assert decode_envelope(signed.alert) == env
    der = client._cert_der
    assert verify_signed_alert(signed.alert, signed.sig, der, ca_cert(pki), channel="stop-iii")


def test_sign_gives_the_signature_sign_alert_gives(client: Client) -> None:
    """The SDK signs with libsodium (faster); Ed25519 is deterministic, so its signature
    is the one hub.protocol.envelope.sign_alert (OpenSSL) makes of the same bytes."""
    from hub.protocol.envelope import sign_alert

    for _ in range(5):
        signed = client.sign("stop-iii", "notice", note("same signature"))
        assert signed.sig == sign_alert(client._key, signed.alert)
        assert len(signed.sig) == 64


def test_sign_is_deterministic_for_the_same_id_time_and_chain_position(pki: Pki) -> None:
    body = seizure()
    ops = pki.member("fr", "ops")
    client = Client("wss://localhost:1/", cert=ops.cert, key=ops.key, ca=pki.ca)
    a = client.sign("stop-iii", "seizure", body, alert_id="FR-2025-0001", ts_ms=1_700_000_000_000)
    b = client.sign("stop-iii", "seizure", body, alert_id="FR-2025-0001", ts_ms=1_700_000_000_000)
    # Each signing advances the sender's chain in the channel (PROTOCOL.md §4).
    assert (a.envelope.seq, a.envelope.prev) == (1, ZERO_HASH)
    assert (b.envelope.seq, b.envelope.prev) == (2, alert_hash(a.alert))
    other = client.sign("other-op", "seizure", body, alert_id="FR-2025-0001")
    assert other.envelope.seq == 1
    again = Client("wss://localhost:1/", cert=ops.cert, key=ops.key, ca=pki.ca)
    a2 = again.sign("stop-iii", "seizure", body, alert_id="FR-2025-0001", ts_ms=1_700_000_000_000)
    assert (a2.alert, a2.sig) == (a.alert, a.sig)
    c = again.sign("stop-iii", "seizure", body, alert_id="FR-2025-0001")
    assert c.alert != b.alert
    plain = Client("wss://localhost:1/", cert=ops.cert, key=ops.key, ca=pki.ca, chained=False)
    u1 = plain.sign("stop-iii", "seizure", body, alert_id="FR-2025-0001", ts_ms=1_700_000_000_000)
    u2 = plain.sign("stop-iii", "seizure", body, alert_id="FR-2025-0001", ts_ms=1_700_000_000_000)
    assert u1.alert == u2.alert and u1.envelope.seq is None


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"kind": "rumour"}, InvalidAlert, "unknown alert kind"),
        ({"alert_id": "-bad id"}, InvalidAlert, "alert id"),
        ({"channel": "Stop III"}, InvalidAlert, "channel"),
        ({"body": {"when": object()}}, InvalidAlert, "cannot be encoded"),
        ({"body": {1: "int key"}}, InvalidAlert, None),
        ({"ts_ms": -1}, InvalidAlert, "ts"),
        ({"body": {"blob": b"x" * MAX_ALERT_BYTES}}, FrameTooLarge, "over"),
    ],
)
def test_sign_refuses_before_sending(
    client: Client, kwargs: dict[str, object], error: type[Exception], match: str | None
) -> None:
    args: dict[str, object] = {"channel": "stop-iii", "kind": "notice", "body": {}}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        client.sign(**args)  # type: ignore[arg-type]


# --- result types -----------------------------------------------------------------------


def test_received_reason_and_page_before(client: Client) -> None:
    signed = client.sign("stop-iii", "notice", note("hello"))
    ok = Received("stop-iii", 7, signed.envelope, signed.alert, signed.sig, verified=True)
    bad = Received("stop-iii", 8, None, b"x", b"y", verified=False, error=BadSignature("nope"))
    assert ok.reason is None
    assert bad.reason == "nope"
    assert Page("stop-iii", "e", [ok, bad], more=True).before == 7
    assert Page("stop-iii", "e", [ok], more=False).before is None
    assert Page("stop-iii", "e", [], more=False).before is None


# --- mapping connection failures ------------------------------------------------------


def _closed(code: int, reason: str = "") -> ConnectionClosedError:
    return ConnectionClosedError(Close(code, reason), None)


@pytest.mark.parametrize(
    ("exc", "final", "code"),
    [
        (_closed(4010, "certificate revoked"), True, 4010),
        (_closed(4011, "unknown certificate"), True, 4011),
        (_closed(4002), True, 4002),
        (_closed(1002, "subprotocol cordon.v1 required"), True, 1002),
        (_closed(1001), False, 1001),
        (_closed(1011), False, 1011),
        (_closed(4008), False, 4008),
        (_closed(4009, "peer unresponsive"), False, 4009),
        (_closed(4030, "too many pings"), True, 4030),
        (_closed(4029), False, 4029),
        (ConnectionClosedError(None, None), False, 1006),
        (ConnectionRefusedError(111, "refused"), False, None),
        (TimeoutError(), False, None),
    ],
)
def test_classify_close_and_network_errors(
    exc: BaseException, final: bool, code: int | None
) -> None:
    error = classify_open_error(exc)
    assert isinstance(error, SessionRefused) is final
    assert error.code == code


def test_classify_tls_errors() -> None:
    verify = ssl.SSLCertVerificationError(1, "certificate verify failed")
    verify.verify_message = "unable to get local issuer certificate"
    assert isinstance(classify_open_error(verify), SessionRefused)
    alert = ssl.SSLError(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED] alert")
    alert.reason = "TLSV13_ALERT_CERTIFICATE_REQUIRED"
    wrapped = EOFError("connection closed")
    wrapped.__cause__ = alert
    assert isinstance(classify_open_error(wrapped), SessionRefused)
    eof = ssl.SSLEOFError(8, "EOF occurred in violation of protocol")
    assert not isinstance(classify_open_error(eof), SessionRefused)


@pytest.mark.parametrize(
    ("status", "final"), [(403, True), (404, True), (429, False), (503, False)]
)
def test_classify_http_status(status: int, final: bool) -> None:
    error = classify_open_error(InvalidStatus(Response(status, "x", Headers())))
    assert isinstance(error, ConnectionLost)
    assert isinstance(error, SessionRefused) is final


def test_no_module_outside_the_sdk_sets_its_private_connection_fields() -> None:
    """The CLIs once set ``Client._max_attempts`` / ``_reconnect`` after connecting; they
    use ``connect_attempts`` / ``reconnect`` now, and nothing outside the SDK's own
    modules reaches into them."""
    import re

    root = Path(__file__).parents[2] / "client"
    own = {"sdk.py", "_subscription.py"}
    offenders = [str(path.relative_to(root)) for path in root.rglob("*.py")
                 if path.name not in own
                 and re.search(r"\._(max_attempts|reconnect|connect_attempts)\b",
                               path.read_text())]
    assert offenders == []


# --- publish turns (pub_chunk) ---------------------------------------------------------


class _HubNotReading:
    """A connection whose hub stopped reading: every send waits (a full TCP buffer)."""

    async def recv(self) -> bytes:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    async def send(self, data: bytes) -> None:
        await asyncio.Event().wait()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        return None


async def test_a_publish_waiting_its_turn_times_out_when_nothing_is_written() -> None:
    """``pub_chunk`` publishes are queued and their frame cannot be written: the next
    publish's turn ends with TimeoutError after ``within`` (as a request's answer would),
    not never; it leaves no waiter behind."""
    from client._conn import Connection
    from hub.protocol import frames as f

    welcome = f.Welcome(principal="fr/ops", member="fr", admin=False, server="t", time=0,
                        limits={"max_pub_items": 256})
    conn = Connection(_HubNotReading(), welcome, pub_chunk=2)  # type: ignore[arg-type]
    try:
        await conn.publish_turn(within=1.0)  # nothing queued: no wait
        stuck = [asyncio.ensure_future(conn.request(
            f.Publish(rid=r, ch="stop-iii", alert=b"a", sig=b"s"), answer_within=5.0))
            for r in (1, 2)]
        await asyncio.sleep(0.01)  # their frame is being written, forever
        with pytest.raises(TimeoutError):
            await conn.publish_turn(within=0.05)
        assert not conn._turns and conn._let_through == 0
        for waiting in stuck:
            waiting.cancel()
        await asyncio.gather(*stuck, return_exceptions=True)
    finally:
        conn._reader.cancel()
        for sender in list(conn._senders):
            sender.cancel()
