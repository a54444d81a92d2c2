"""Every way a command can fail to connect names the cause and the next step, in one line.

Real sockets on 127.0.0.1, real TLS, a real hub where the hub matters: nothing listening,
a plain-HTTP server, a service that hangs up, a hub whose certificate is from another
CA, a revoked certificate, an expired one, a key that is not the certificate's, a file
that is not PEM, a channel that does not exist; and the CLI tries once unless told.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from client import admin_cli
from client.cli import publish_main, tail_main
from client.export import main as export_main
from client.report import main as report_main
from tests.client.common import CH
from tests.client.fakehub import FakeHub
from tests.harness import HubHarness
from tests.pki import Leaf, Pki, make_pki

pytestmark = pytest.mark.usefixtures("clean_env")


def creds(url: str, leaf: Leaf, ca: Path) -> list[str]:
    return ["--hub", url, "--cert", str(leaf.cert), "--key", str(leaf.key), "--ca", str(ca)]


def _tail(argv: list[str]) -> int:
    return tail_main([CH, *argv, "--limit", "1"])


def _publish(argv: list[str]) -> int:
    return publish_main([CH, *argv, "--file", "/dev/null"])


def _report(argv: list[str]) -> int:
    return report_main([CH, *argv])


def _export(argv: list[str]) -> int:
    return export_main([CH, *argv])


def _admin(argv: list[str]) -> int:
    return admin_cli.main(["channel", "list", *argv])


COMMANDS: dict[str, Callable[[list[str]], int]] = {
    "tail": _tail, "publish": _publish, "report": _report, "export": _export, "admin": _admin,
}


async def run(command: str, argv: list[str], capsys: pytest.CaptureFixture[str]
              ) -> tuple[int, str]:
    capsys.readouterr()
    code = await asyncio.to_thread(COMMANDS[command], argv)
    err = capsys.readouterr().err
    return code, err


class Listener:
    """A TCP service on 127.0.0.1 that counts connections and answers each with ``reply``
    (then hangs up), or hangs up at once (``reply`` None)."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply, self.accepted = reply, 0

    async def __aenter__(self) -> Listener:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        if self.reply is not None:
            await reader.read(4096)
            writer.write(self.reply)
            await writer.drain()
        writer.close()


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("command", sorted(COMMANDS))
async def test_nothing_listening_one_try_one_line_exit_3(
    command: str, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _dead_port()
    code, err = await run(command, creds(f"wss://127.0.0.1:{port}/", pki.member("fr", "ops"),
                                         pki.ca), capsys)
    assert code == 3
    assert err.count("\n") == 1, err
    assert f"nothing listens at 127.0.0.1:{port}" in err and "is the hub running" in err


@pytest.mark.parametrize("command", ["tail", "admin"])
async def test_one_connection_attempt_unless_retries(
    command: str, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    leaf = pki.member("fr", "ops")
    async with Listener(None) as hangs_up:
        url = f"wss://127.0.0.1:{hangs_up.port}/"
        code, err = await run(command, creds(url, leaf, pki.ca), capsys)
        assert code == 3 and hangs_up.accepted == 1
        assert "closed the connection before the TLS handshake finished" in err
        assert err.count("\n") == 1
        code, err = await run(command, [*creds(url, leaf, pki.ca), "--retries", "3"], capsys)
        assert code == 3 and hangs_up.accepted == 1 + 3


@pytest.mark.parametrize("command", sorted(COMMANDS))
async def test_plain_http_server_is_not_a_tls_server(
    command: str, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    async with Listener(reply) as http:
        url = f"wss://127.0.0.1:{http.port}/"
        code, err = await run(command, creds(url, pki.member("fr", "ops"), pki.ca), capsys)
    assert code == 3
    assert f"not a TLS server at that address (127.0.0.1:{http.port})" in err
    assert "WRONG_VERSION_NUMBER" not in err and err.count("\n") == 1


@pytest.mark.parametrize("command", ["tail", "report", "admin"])
async def test_hub_from_another_ca_names_the_ca_file(
    command: str, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = make_pki(tmp_path / "other")  # a hub certified by another CA (same CA name)
    async with FakeHub(other) as foreign:
        code, err = await run(command, creds(foreign.url, pki.member("fr", "ops"), pki.ca),
                              capsys)
    assert code == 3
    assert f"the hub's certificate is not from the CA you gave ({pki.ca})" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize("command", ["tail", "publish", "admin"])
async def test_own_certificate_checked_before_connecting(
    command: str, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Listener(None) as nobody:
        url = f"wss://127.0.0.1:{nobody.port}/"
        expired = pki.expired_member("fr", "old")
        code, err = await run(command, creds(url, expired, pki.ca), capsys)
        assert code == 3
        assert f"certificate {expired.cert} expired on" in err
        assert "ask the hub's administrator for a new certificate" in err

        future = pki.not_yet_valid_member("fr", "new")
        code, err = await run(command, creds(url, future, pki.ca), capsys)
        assert code == 3 and "is not valid before" in err

        ops, other = pki.member("fr", "ops"), pki.member("fr", "other")
        code, err = await run(command, [*creds(url, ops, pki.ca), "--key", str(other.key)],
                              capsys)
        assert code == 2
        assert f"private key {other.key} does not belong to the certificate {ops.cert}" in err

        foreign = pki.foreign_ca_member("fr", "alien")
        code, err = await run(command, creds(url, foreign, pki.ca), capsys)
        assert code == 2
        assert f"certificate {foreign.cert} is not issued by the CA in {pki.ca}" in err

        junk = tmp_path / "junk.pem"
        junk.write_text("not a certificate\n")
        for option, what in (("--cert", "certificate"), ("--ca", "CA certificate"),
                             ("--key", "private key")):
            code, err = await run(command, [*creds(url, ops, pki.ca), option, str(junk)],
                                  capsys)
            assert code == 2 and f"{what} {junk} is not a PEM" in err, err
        code, err = await run(command, [*creds(url, ops, pki.ca), "--cert",
                                        str(tmp_path / "missing.pem")], capsys)
        assert code == 2 and f"cannot read certificate {tmp_path / 'missing.pem'}" in err
        assert nobody.accepted == 0  # none of these reached the network


async def test_revoked_certificate_says_the_hub_refused_it(
    hub: HubHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    fr = await hub.member("fr", "ops")
    await hub.channel(CH, {"fr": "reader"})
    await hub.revoke(fr)
    for command in ("tail", "admin"):
        code, err = await run(command, creds(hub.url, fr, hub.pki.ca), capsys)
        assert code == 3
        assert "refused your certificate (revoked, expired, unknown or from another CA" in err
        assert "ask the hub's administrator" in err
        assert "did not receive a valid HTTP response" not in err


async def test_no_such_channel_says_so_once_and_mentions_roles(
    hub: HubHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    fr = await hub.member("fr", "ops")
    await hub.channel(CH, {})  # exists, but fr has no role in it
    for command in ("tail", "report", "export"):
        for channel in ("pangea", CH):
            capsys.readouterr()
            argv = [channel, *creds(hub.url, fr, hub.pki.ca)]
            main = {"tail": tail_main, "report": report_main, "export": export_main}[command]
            code = await asyncio.to_thread(main, [*argv, "--limit", "1"] if command == "tail"
                                           else argv)
            err = capsys.readouterr().err
            assert code == 3
            assert f"404 no such channel '{channel}', or you have no role in it" in err
            assert "no such channel: no such channel" not in err


@pytest.fixture
async def fake(pki: Pki) -> AsyncIterator[FakeHub]:
    async with FakeHub(pki) as hub:
        hub.add_channel(CH)
        yield hub


async def test_channel_named_the_same_way_everywhere(
    fake: FakeHub, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    ops = pki.member("fr", "ops")
    base = creds(fake.url, ops, pki.ca)
    for argv in ([CH, *base], ["--channel", CH, *base], [CH, "--channel", CH, *base]):
        assert await asyncio.to_thread(export_main, argv) == 0, capsys.readouterr().err
        assert await asyncio.to_thread(publish_main, [*argv, "--file", "/dev/null"]) == 0
    capsys.readouterr()
    assert await asyncio.to_thread(export_main, ["other", "--channel", CH, *base]) == 2
    assert "two channels given" in capsys.readouterr().err
    assert await asyncio.to_thread(tail_main, base) == 2
    assert "the channel is required" in capsys.readouterr().err
    json.dumps(base)
