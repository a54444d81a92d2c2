"""``cordon admin`` end to end: the real CLI (in a thread, as a user runs it) against a real
hub; every command, its output for people and for scripts, and every error path with its
exit code and message."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import stat
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.typing import Subprotocol

from client.admin_cli import AUDIT_COLUMNS, main, parse_since
from client.keys import main as keys_main
from client.sdk import SessionRefused
from hub.cli import main as cordon
from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.errors import ChannelClosed
from tests.harness import HubHarness, client_context
from tests.pki import Leaf

CH = "stop-iii"


class Cli:
    """Runs ``cordon admin`` as one administrator; returns (exit code, stdout, stderr)."""

    def __init__(self, hub: HubHarness, leaf: Leaf, capsys: pytest.CaptureFixture[str]
                 ) -> None:
        self.hub, self.leaf, self.capsys = hub, leaf, capsys

    def argv(self, *extra: str) -> list[str]:
        return ["--hub", self.hub.url, "--cert", str(self.leaf.cert), "--key",
                str(self.leaf.key), "--ca", str(self.hub.pki.ca), *extra]

    async def __call__(self, *args: str, connect: bool = True) -> tuple[int, str, str]:
        self.capsys.readouterr()
        argv = [*args, *self.argv()] if connect else list(args)
        code = await asyncio.to_thread(main, argv)
        out, err = self.capsys.readouterr()
        return code, out, err

    async def json(self, *args: str) -> Any:
        code, out, err = await self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
async def cli(hub: HubHarness, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(hub, await hub.admin_leaf("alice"), capsys)


def table(out: str) -> list[list[str]]:
    """Rows of an aligned table (columns separated by two or more spaces)."""
    import re

    return [re.split(r"\s{2,}", line.strip()) for line in out.strip().splitlines()]


async def enrol(cli: Cli, member: str = "fr", name: str = "ops", *, kind: str = "system"
                ) -> Leaf:
    if await cli.hub.store.member(member) is None:
        code, _, err = await cli("member", "add", member, "--name", member.upper(),
                                 "--country", "fr")
        assert code == 0, err
    out_dir = cli.hub.tmp / "creds" / member / name
    # the recommended path: the member makes its key and request, the hub certifies it
    assert keys_main(["new", "--principal", f"{member}/{name}", "--out", str(out_dir)]) == 0
    r = await cli.json("principal", "add", f"{member}/{name}", "--kind", kind,
                       "--csr", str(out_dir / f"{member}-{name}.csr"), "--out", str(out_dir))
    assert "key" not in r["files"]
    return Leaf(Path(r["files"]["cert"]), out_dir / f"{member}-{name}.key", r["kid"],
                int(r["serial"], 16), r["principal"])


# --- usage, connection, authorisation -------------------------------------------------------


async def test_help_and_dispatcher(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for group in ("member", "principal", "cert", "channel", "role", "audit"):
        assert group in out
    assert "Exit codes" in out
    assert cordon(["admin", "member", "--help"]) == 0
    assert "suspend" in capsys.readouterr().out
    assert cordon(["--help"]) == 0
    assert "admin" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    [], ["member"], ["member", "frobnicate"], ["channel", "create"],
    ["principal", "add", "fr/ops"],  # --kind is required
    ["principal", "add", "fr/ops", "--kind", "robot"],
    ["role", "grant", CH, "fr", "boss"], ["audit", "--limit", "0"],
    ["audit", "--since", "last tuesday"], ["channel", "create", "x", "--retention", "-1"],
    ["principal", "add", "fr/ops", "--kind", "system", "--csr", "x.csr", "--generate-key"],
    ["principal", "issue", "fr/ops", "--csr", "x.csr", "--generate-key"],
    ["principal", "revoke", "fr/ops", "--reason", "boredom"],  # the reasons are listed
])
async def test_usage_errors_exit_2(cli: Cli, argv: list[str]) -> None:
    code, out, err = await cli(*argv)
    assert code == 2 and "error" in err and out == ""


async def test_missing_credentials_and_bad_url_exit_2(cli: Cli, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("CORDON_HUB", "CORDON_CERT", "CORDON_KEY", "CORDON_CA"):
        monkeypatch.delenv(var, raising=False)
    code, _, err = await cli("member", "list", "--hub", cli.hub.url, connect=False)
    assert code == 2 and "missing --cert, --key, --ca" in err
    code, _, err = await cli("member", "list", *cli.argv()[2:], "--hub", "https://x/",
                             connect=False)
    assert code == 2 and "wss://" in err
    missing = tmp_path / "nope.pem"
    code, _, err = await cli("member", "list", "--hub", cli.hub.url, "--cert", str(missing),
                             "--key", str(cli.leaf.key), "--ca", str(cli.hub.pki.ca),
                             connect=False)
    assert code == 2 and "cannot read certificate" in err


async def test_environment_and_options_after_the_command(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CORDON_HUB", cli.hub.url)
    monkeypatch.setenv("CORDON_CERT", str(cli.leaf.cert))
    monkeypatch.setenv("CORDON_KEY", str(cli.leaf.key))
    monkeypatch.setenv("CORDON_CA", str(cli.hub.pki.ca))
    assert await asyncio.to_thread(main, ["--json", "member", "list"]) == 0
    assert json.loads(capsys.readouterr().out) == {"members": []}


async def test_unreachable_hub_exits_3(cli: Cli) -> None:
    argv = cli.argv()
    argv[1] = "wss://127.0.0.1:9/"  # nothing listens on the discard port
    code, out, err = await cli("member", "list", *argv, "--timeout", "5", connect=False)
    assert code == 3 and out == ""
    assert "member list: nothing listens at 127.0.0.1:9 (connection refused)" in err


async def test_member_certificate_is_refused_exit_3_and_audited(cli: Cli) -> None:
    fr = await cli.hub.member("fr", "ops")
    member = Cli(cli.hub, fr, cli.capsys)
    attempts = [("member", "list"), ("member", "add", "xx", "--name", "X", "--country", "FR"),
                ("principal", "revoke", "fr/ops"), ("channel", "create", "mine"),
                ("audit",)]
    for argv in attempts:
        code, out, err = await member(*argv)
        assert code == 3 and out == ""
        assert "403 access denied" in err
        assert "the certificate names fr/ops, not a hub administrator" in err
    refusals = await cli.hub.store.audit_log(principal="fr/ops")
    assert [r["action"] for r in refusals] == ["member.list", "member.add", "cert.revoke",
                                               "channel.create", "audit.list"]
    assert {r["result"] for r in refusals} == {"refused"}
    assert await cli.hub.store.member("xx") is None


async def test_revoked_administrator_is_refused_exit_3(cli: Cli) -> None:
    bob = await cli.hub.admin_leaf("bob")
    code, out, _ = await cli("principal", "revoke", "admin/bob")
    assert code == 0 and "revoked admin/bob" in out
    code, _, err = await Cli(cli.hub, bob, cli.capsys)("member", "list")
    assert code == 3 and "refused" in err


# --- members ---------------------------------------------------------------------------------


async def test_member_commands(cli: Cli) -> None:
    code, out, err = await cli("member", "add", "fr", "--name", "Douane française",
                               "--country", "fr")
    assert (code, out.strip(), err) == (0, "added member fr (Douane française, FR)", "")
    await cli("member", "add", "de", "--name", "Zoll", "--country", "DE")
    code, out, _ = await cli("member", "list")
    rows = table(out)
    assert rows[0] == ["ID", "NAME", "COUNTRY", "STATUS", "PRINCIPALS", "SINCE"]
    assert [r[:5] for r in rows[1:]] == [["de", "Zoll", "DE", "active", "0"],
                                         ["fr", "Douane française", "FR", "active", "0"]]
    listed = await cli.json("member", "list")
    assert [m["id"] for m in listed["members"]] == ["de", "fr"]

    await enrol(cli, "fr", "ops")
    code, out, _ = await cli("member", "show", "fr")
    assert code == 0
    assert "member   fr" in out and "status   active" in out
    assert "PRINCIPAL" in out and "FINGERPRINT (KID)" in out
    assert "no channel roles" in out
    shown = await cli.json("member", "show", "fr")
    kid = shown["principals"][0]["certs"][0]["kid"]
    assert kid in out

    code, out, _ = await cli("member", "suspend", "fr")
    assert code == 0 and "suspended" in out
    code, out, _ = await cli("member", "reinstate", "fr")
    assert code == 0 and "reinstated" in out


@pytest.mark.parametrize(("argv", "message"), [
    (("member", "add", "fr", "--name", "Again", "--country", "FR"),
     "member add fr: member already exists (407 conflict)"),
    (("member", "add", "FR!", "--name", "X", "--country", "FR"), "invalid id 'FR!'"),
    (("member", "add", "admin", "--name", "X", "--country", "FR"), "invalid id 'admin'"),
    (("member", "add", "it", "--name", "X", "--country", "France"), "invalid country"),
    (("member", "add", "it", "--name", "X", "--country", "XX"),
     "country must be an ISO 3166-1 alpha-2 code (401 invalid frame)"),
    (("member", "add", "it", "--name", "", "--country", "IT"), "invalid member name"),
    (("member", "show", "zz"), "member show zz: unknown member (406 not found)"),
    (("member", "suspend", "zz"), "unknown member"),
    (("member", "reinstate", "fr"), "member is already active (407 conflict)"),
])
async def test_member_errors_exit_4(cli: Cli, argv: Sequence[str], message: str) -> None:
    await cli("member", "add", "fr", "--name", "FR", "--country", "FR")
    code, out, err = await cli(*argv)
    assert code == 4 and out == ""
    assert err.startswith("cordon admin: ") and message in err


# --- principals and certificates --------------------------------------------------------


async def test_principal_add_writes_credentials_that_work(cli: Cli, tmp_path: Path) -> None:
    await cli("member", "add", "fr", "--name", "FR", "--country", "FR")
    out_dir = tmp_path / "creds"
    code, out, err = await cli("principal", "add", "fr/ops", "--kind", "officer", "--days",
                               "30", "--out", str(out_dir), "--generate-key")
    assert code == 0, err
    key, cert, ca = out_dir / "fr-ops.key", out_dir / "fr-ops.pem", out_dir / "ca.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(cert.stat().st_mode) == 0o644
    assert ca.read_bytes() == cli.hub.pki.ca.read_bytes()
    assert "issued officer certificate for fr/ops" in out
    assert f"{key}  (private, mode 0600)" in out
    assert "PRIVATE KEY" not in out and "PRIVATE KEY" in key.read_text()
    leaf = Leaf(cert, key, "", 0, "fr/ops")
    async with cli.hub.client(leaf, reconnect=False) as member:
        assert (await member.connect()).principal == "fr/ops"

    # never replaces credentials without --force, and then asks the hub for nothing
    before = await cli.hub.store.audit_log(action="principal.issue")
    code, out, err = await cli("principal", "issue", "fr/ops", "--out", str(out_dir),
                               "--generate-key")
    assert code == 4 and "already exists (use --force to replace it)" in err
    assert await cli.hub.store.audit_log(action="principal.issue") == before
    r = await cli.json("principal", "issue", "fr/ops", "--out", str(out_dir), "--force",
                       "--generate-key")
    assert r["files"] == {"cert": str(cert), "key": str(key), "ca": str(ca)}
    assert "key" not in r and "cert" not in r and r["kind"] == "officer"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600

    code, out, _ = await cli("principal", "list")
    assert table(out)[0] == ["PRINCIPAL", "KIND", "STATUS", "ACTIVE CERTS", "EXPIRES"]
    assert table(out)[1][:4] == ["fr/ops", "officer", "active", "2"]
    code, out, _ = await cli("principal", "show", "fr/ops")
    assert code == 0 and r["kid"] in out and r["serial"] in out
    listed = await cli.json("principal", "list", "--member", "fr")
    assert listed["principals"][0]["certs"] == 2


@pytest.mark.parametrize(("argv", "message"), [
    (("principal", "add", "fr/ops", "--kind", "system"), "principal already exists"),
    (("principal", "add", "zz/ops", "--kind", "system"), "unknown member (406 not found)"),
    (("principal", "add", "fr", "--kind", "system"), "invalid principal 'fr'"),
    (("principal", "add", "admin/x", "--kind", "system"), "invalid principal 'admin/x'"),
    (("principal", "issue", "fr/nobody"), "unknown principal (406 not found)"),
    (("principal", "show", "fr/nobody"), "principal show fr/nobody: unknown principal"),
    (("principal", "list", "--member", "zz"), "unknown member"),
    (("principal", "revoke", "fr/nobody"), "unknown principal"),
    (("cert", "revoke", "abc"), "invalid kid 'abc'"),
    (("cert", "revoke", "0" * 64), "unknown certificate"),
])
async def test_principal_errors_exit_4(cli: Cli, argv: Sequence[str], message: str,
                                       tmp_path: Path) -> None:
    await enrol(cli, "fr", "ops")
    code, out, err = await cli(*argv, "--out", str(tmp_path), "--generate-key") if argv[1] in (
        "add", "issue") else await cli(*argv)
    assert code == 4 and out == "", err
    assert message in err


async def test_unwritable_output_folder_exit_4(cli: Cli, tmp_path: Path) -> None:
    await cli("member", "add", "fr", "--name", "FR", "--country", "FR")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    code, _, err = await cli("principal", "add", "fr/ops", "--kind", "system", "--out",
                             str(blocker), "--generate-key")
    assert code == 4 and "is not a folder" in err
    assert await cli.hub.store.principal("fr/ops") is None  # nothing was issued


async def test_revoke_cuts_off_the_principal_within_one_second(cli: Cli) -> None:
    hub = cli.hub
    fr = await enrol(cli, "fr", "ops")
    de = await enrol(cli, "de", "zoll")
    await cli("channel", "create", CH)
    await cli("role", "grant", CH, "fr", "contributor")
    await cli("role", "grant", CH, "de", "reader")
    async with hub.client(fr, reconnect=False) as member:
        ack = await member.publish(CH, "notice", {"schema": 1, "handling": "H0",
                                                  "text": "signed before the revocation"})
    ws = await connect(hub.url, ssl=client_context(hub.pki, fr), compression=None,
                       subprotocols=[Subprotocol("cordon.v1")], proxy=None)
    try:
        assert isinstance(codec.decode_server(await ws.recv()), f.Welcome)  # type: ignore[arg-type]
        code, out, err = await cli("principal", "revoke", "fr/ops", "--reason",
                                   "keyCompromise")
        await asyncio.wait_for(ws.wait_closed(), 1.0)
        assert ws.close_code == 4010
    finally:
        await ws.close()
    assert code == 0, err
    assert f"revoked fr/ops certificate {fr.kid}" in out and "CRL " in out
    with pytest.raises(SessionRefused):
        async with hub.client(fr, reconnect=False):
            pass
    async with hub.client(de, reconnect=False) as reader:
        page = await reader.history(CH)
    assert [(a.offset, a.verified) for a in page.items] == [(ack.offset, True)]
    code, _, err = await cli("principal", "revoke", "fr/ops")
    assert code == 4 and "already revoked (407 conflict)" in err


async def test_cert_revoke_by_kid_json(cli: Cli) -> None:
    fr = await enrol(cli, "fr", "ops")
    r = await cli.json("cert", "revoke", fr.kid.upper())
    assert [x["kid"] for x in r["revoked"]] == [fr.kid] and isinstance(r["crl"], int)


# --- channels and roles ----------------------------------------------------------------------


async def test_channel_commands(cli: Cli) -> None:
    fr = await enrol(cli, "fr", "ops")
    code, out, err = await cli("channel", "create", CH, "--title", "Operation STOP III",
                               "--starts", "2025-03-01", "--ends", "2025-03-12",
                               "--retention", "90")
    assert code == 0 and out.startswith(f"created channel {CH} (epoch "), err
    await cli("channel", "create", "quiet")
    code, out, _ = await cli("role", "grant", CH, "fr", "reader")
    assert out.strip() == f"fr is now reader in {CH}"
    code, out, _ = await cli("role", "grant", CH, "fr", "contributor")
    assert out.strip() == f"fr is now contributor in {CH} (was reader)"
    async with cli.hub.client(fr, reconnect=False) as member:
        await member.publish(CH, "notice", {"schema": 1, "handling": "H0", "text": "hello"})

    code, out, _ = await cli("channel", "list")
    rows = table(out)
    assert rows[0] == ["CHANNEL", "TITLE", "STATE", "OPERATION", "RETENTION", "CREATED",
                       "MEMBERS", "ALERTS", "LAST ACTIVITY"]
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert rows[1] == ["quiet", "-", "open", "-", "forever", today, "0", "0", "-"]
    assert rows[2][:8] == [CH, "Operation STOP III", "open", "2025-03-01 .. 2025-03-12",
                           "90 days", today, "1", "1"]
    assert rows[2][8] != "-"
    code, out, _ = await cli("channel", "show", CH)
    assert "operation      2025-03-01 .. 2025-03-12" in out
    assert "retention      90 days" in out and "1 retained (offsets 1..1)" in out
    assert table(out)[-1] == ["fr", "contributor"]
    shown = await cli.json("channel", "show", CH)
    assert shown["channel"]["retention_ms"] == 90 * 86_400_000

    code, out, _ = await cli("channel", "close", CH)
    assert out.strip() == f"channel {CH} is now closed (read-only: history stays readable)"
    async with cli.hub.client(fr, reconnect=False) as member:
        with pytest.raises(ChannelClosed):
            await member.publish(CH, "notice", {"schema": 1, "handling": "H0", "text": "x"})
        assert len((await member.history(CH)).items) == 1
    code, out, _ = await cli("channel", "reopen", CH)
    assert out.strip() == f"channel {CH} is now open"
    code, out, _ = await cli("channel", "archive", CH)
    assert "archived" in out
    code, _, err = await cli("channel", "reopen", CH)
    assert code == 4 and "channel is archived (407 conflict)" in err

    code, out, _ = await cli("role", "remove", "quiet", "fr")
    assert code == 4
    await cli("role", "grant", "quiet", "fr", "reader")
    code, out, _ = await cli("role", "remove", "quiet", "fr")
    assert code == 0 and out.startswith("removed fr (reader) from quiet")


@pytest.mark.parametrize(("argv", "message"), [
    (("channel", "create", CH, "--title", "Another"), "channel already exists (407 conflict)"),
    (("channel", "create", "Bad Name"), "invalid name 'Bad Name'"),
    (("channel", "create", "x", "--starts", "2025-02-30"), "invalid starts '2025-02-30'"),
    (("channel", "create", "x", "--starts", "2025-03-12", "--ends", "2025-03-01"),
     "--ends is before --starts"),
    (("channel", "show", "nope"), "channel show nope: no such channel (404 no such channel)"),
    (("channel", "close", "nope"), "no such channel"),
    (("channel", "reopen", CH), "channel is already open (407 conflict)"),
    (("role", "grant", "nope", "fr", "reader"), "no such channel"),
    (("role", "grant", CH, "zz", "reader"), "unknown member (406 not found)"),
    (("role", "grant", CH, "Z!", "reader"), "invalid member 'Z!'"),
    (("role", "remove", CH, "fr"), "member has no role in this channel (406 not found)"),
])
async def test_channel_and_role_errors_exit_4(cli: Cli, argv: Sequence[str],
                                              message: str) -> None:
    await cli("member", "add", "fr", "--name", "FR", "--country", "FR")
    await cli("channel", "create", CH)
    code, out, err = await cli(*argv)
    assert code == 4 and out == ""
    assert message in err


async def test_role_remove_ends_the_live_subscription(cli: Cli) -> None:
    fr = await enrol(cli, "fr", "ops")
    await cli("channel", "create", CH)
    await cli("role", "grant", CH, "fr", "reader")
    ws = await connect(cli.hub.url, ssl=client_context(cli.hub.pki, fr), compression=None,
                       subprotocols=[Subprotocol("cordon.v1")], proxy=None)
    try:
        await ws.recv()  # welcome
        await ws.send(codec.encode(f.Subscribe(rid=1, ch=CH)))
        assert isinstance(codec.decode_server(await ws.recv()), f.Subscribed)  # type: ignore[arg-type]
        code, _, err = await cli("role", "remove", CH, "fr")
        assert code == 0, err
        async with asyncio.timeout(1.0):
            while True:
                frame = codec.decode_server(await ws.recv())  # type: ignore[arg-type]
                if isinstance(frame, f.Ended):
                    break
        assert (frame.ch, frame.code) == (CH, 404)
    finally:
        await ws.close()


# --- the audit log -----------------------------------------------------------------------------


async def test_audit_table_filters_and_exports(cli: Cli, tmp_path: Path) -> None:
    await cli("member", "add", "fr", "--name", "=HYPERLINK(\"x\")", "--country", "FR")
    await cli("member", "add", "de", "--name", "Zoll", "--country", "DE")
    await cli("member", "show", "zz")  # a refusal
    code, out, _ = await cli("audit")
    rows = table(out)
    assert rows[0] == ["TIME", "ACTION", "PRINCIPAL", "FROM", "RESULT", "DETAILS"]
    assert [(r[1], r[2], r[4]) for r in rows[1:4]] == [
        ("member.add", "admin/alice", "ok"), ("member.add", "admin/alice", "ok"),
        ("member.show", "admin/alice", "refused")]
    assert "code=406" in rows[3][5] and "member=zz" in rows[3][5]
    assert rows[1][5] == "member=fr country=FR"

    code, out, _ = await cli("audit", "--action", "member.add", "--format", "jsonl")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [r["member"] for r in lines] == ["fr", "de"]
    code, out, _ = await cli("audit", "--principal", "admin/alice", "--limit", "1",
                             "--format", "jsonl")
    assert len(out.splitlines()) == 1
    code, out, _ = await cli("audit", "--since", "1h", "--action", "member.show")
    assert len(table(out)) == 2
    code, out, _ = await cli("audit", "--since", "2999-01-01", "--action", "member.add")
    assert out.strip() == "no audit records"
    everything = await cli.json("audit")
    assert len(everything["records"]) >= 4

    export = tmp_path / "audit.csv"
    code, out, _ = await cli("audit", "--format", "csv", "--output", str(export))
    assert code == 0 and out == ""
    rows_csv = list(csv.reader(io.StringIO(export.read_text())))
    assert tuple(rows_csv[0]) == AUDIT_COLUMNS
    first = dict(zip(AUDIT_COLUMNS, rows_csv[1], strict=True))
    assert (first["action"], first["principal"], first["result"], first["member"]) == (
        "member.add", "admin/alice", "ok", "fr")
    assert first["time"].endswith("Z") and first["peer"].startswith("127.0.0.1:")
    assert "country=FR" in first["extra"]
    code, _, err = await cli("audit", "--output", str(tmp_path / "no" / "such" / "dir.csv"))
    assert code == 4 and "cannot write" in err
    code, _, err = await cli("audit", "--action", "Bad Action!")
    assert code == 4 and "invalid action" in err


async def test_audit_pages_through_many_records(cli: Cli) -> None:
    for i in range(450):
        await cli.hub.store.audit({"action": "connect", "principal": f"x/{i}",
                                   "result": "refused"})
    code, out, _ = await cli("audit", "--action", "connect", "--format", "jsonl")
    assert code == 0
    assert [json.loads(line)["principal"] for line in out.splitlines()] == [
        f"x/{i}" for i in range(450)]
    code, out, _ = await cli("audit", "--action", "connect", "--format", "jsonl",
                             "--limit", "250")
    assert len(out.splitlines()) == 250


def test_parse_since() -> None:
    from datetime import UTC, datetime

    now = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_since("30m", now=now) == int(datetime(2025, 3, 1, 11, 30, tzinfo=UTC)
                                               .timestamp() * 1000)
    assert parse_since("2d", now=now) == int(datetime(2025, 2, 27, 12, tzinfo=UTC)
                                             .timestamp() * 1000)
    assert parse_since("2025-03-01", now=now) == int(datetime(2025, 3, 1, tzinfo=UTC)
                                                     .timestamp() * 1000)
    assert parse_since("2025-03-01T10:00:00Z") == parse_since("2025-03-01T11:00:00+01:00")


# --- enrolment by certificate request ------------------------------------------------------


@pytest.mark.parametrize("verb", [["add", "fr/ops", "--kind", "system"], ["issue", "fr/ops"]])
async def test_without_csr_or_generate_key_is_a_usage_error_that_says_what_to_do(
        cli: Cli, verb: list[str]) -> None:
    before = await cli.hub.store.audit_log()
    code, out, err = await cli("principal", *verb)
    assert code == 2 and out == ""
    assert "give --csr FILE" in err and "cordon key new --principal fr/ops" in err
    assert "--generate-key" in err
    assert await cli.hub.store.audit_log() == before  # the hub was not asked


async def test_member_key_stays_with_the_member(cli: Cli, tmp_path: Path) -> None:
    """``cordon key new`` on the member's side, ``principal add --csr`` on the
    administrator's, ``principal issue --csr`` for a renewal: no private key travels."""
    member_dir, admin_dir = tmp_path / "member", tmp_path / "admin"
    await cli("member", "add", "fr", "--name", "FR", "--country", "FR")
    assert cordon(["key", "new", "--principal", "fr/ops", "--out", str(member_dir)]) == 0
    said = cli.capsys.readouterr().out
    key, csr = member_dir / "fr-ops.key", member_dir / "fr-ops.csr"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(csr.stat().st_mode) == 0o644
    assert "Send fr-ops.csr to the hub administrator" in said and "PRIVATE" not in said
    assert "cordon admin principal add fr/ops" in said

    code, out, err = await cli("principal", "add", "fr/ops", "--kind", "officer", "--csr",
                               str(csr), "--out", str(admin_dir))
    assert code == 0, err
    assert "kept by the member" in out and "Send fr-ops.pem and ca.pem to the member" in out
    assert sorted(p.name for p in admin_dir.iterdir()) == ["ca.pem", "fr-ops.pem"]
    cert = admin_dir / "fr-ops.pem"
    async with cli.hub.client(Leaf(cert, key, "", 0, "fr/ops"), reconnect=False) as member:
        assert (await member.connect()).principal == "fr/ops"
    # a renewal from the same request; into the member's own folder, beside its key
    r = await cli.json("principal", "issue", "fr/ops", "--csr", str(csr), "--out",
                       str(member_dir))
    assert r["files"] == {"cert": str(member_dir / "fr-ops.pem"),
                          "ca": str(member_dir / "ca.pem")}
    assert stat.S_IMODE(key.stat().st_mode) == 0o600  # untouched
    async with cli.hub.client(Leaf(member_dir / "fr-ops.pem", key, "", 0, "fr/ops"),
                              reconnect=False) as member:
        assert (await member.connect()).principal == "fr/ops"


async def test_bad_requests_exit_4_with_the_hubs_reason(cli: Cli, tmp_path: Path) -> None:
    await cli("member", "add", "fr", "--name", "FR", "--country", "FR")
    assert keys_main(["new", "--principal", "fr/other", "--out", str(tmp_path)]) == 0
    code, out, err = await cli("principal", "add", "fr/ops", "--kind", "system", "--csr",
                               str(tmp_path / "fr-other.csr"), "--out", str(tmp_path))
    assert code == 4 and out == ""
    assert "certificate request does not name this principal (401 invalid frame)" in err
    missing = tmp_path / "missing.csr"
    code, _, err = await cli("principal", "add", "fr/ops", "--kind", "system", "--csr",
                             str(missing), "--out", str(tmp_path))
    assert code == 4 and f"cannot read the certificate request {missing}" in err
    assert await cli.hub.store.principal("fr/ops") is None


async def test_key_new(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert keys_main(["new", "--principal", "fr/ops", "--out", str(tmp_path)]) == 0
    key = (tmp_path / "fr-ops.key").read_bytes()
    assert keys_main(["new", "--principal", "fr/ops", "--out", str(tmp_path)]) == 4
    assert "already exists (use --force" in capsys.readouterr().err
    assert (tmp_path / "fr-ops.key").read_bytes() == key  # never replaced silently
    assert keys_main(["new", "--principal", "fr/ops", "--out", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "fr-ops.key").read_bytes() != key
    assert keys_main(["new", "--principal", "admin/alice", "--out", str(tmp_path)]) == 0
    assert "cordon ca issue --admin --name alice --csr admin-alice.csr" in \
        capsys.readouterr().out
    for bad in (["new", "--principal", "FR/ops"], ["new", "--principal", "admin/x/y"],
                ["new"], [], ["old", "--principal", "fr/ops"]):
        assert keys_main([*bad, "--out", str(tmp_path)]) == 2
