"""cordon publish / cordon tail: usage errors, input errors, and round trips with the fake hub."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from client.cli import (
    alert_json,
    main,
    parse_line,
    publish_main,
    read_state,
    tail_main,
    write_state,
)
from client.sdk import Client, Received
from hub.protocol.errors import BadSignature
from hub.protocol.schema import example
from tests.bodies import feedback, note, seizure
from tests.client.common import CH
from tests.client.fakehub import FakeHub
from tests.pki import Leaf, Pki

pytestmark = pytest.mark.usefixtures("clean_env")


@pytest.fixture
def hub(fake_hub: FakeHub) -> FakeHub:
    """The fake hub (conftest.py), under the name these tests use."""
    return fake_hub



@pytest.fixture
def ops(pki: Pki) -> Leaf:
    return pki.member("fr", "ops")


def creds(url: str, leaf: Leaf, pki: Pki) -> list[str]:
    return ["--hub", url, "--cert", str(leaf.cert), "--key", str(leaf.key), "--ca", str(pki.ca)]


def lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines()]


# --- usage -----------------------------------------------------------------------------


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert publish_main(["--help"]) == 0
    assert "cordon publish" in capsys.readouterr().out
    assert tail_main(["--help"]) == 0


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--channel", CH],  # no hub, cert, key, ca
        ["--channel", CH, "--bogus"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert publish_main(argv) == 2
    assert tail_main(argv) == 2
    assert "error" in capsys.readouterr().err


def test_missing_credentials_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert tail_main(["--channel", CH, "--hub", "wss://h/"]) == 2
    assert "missing --cert, --key, --ca" in capsys.readouterr().err


def test_hub_must_be_wss(ops: Leaf, pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    assert publish_main(["--channel", CH, *creds("ws://h/", ops, pki)]) == 2
    assert "wss://" in capsys.readouterr().err


@pytest.mark.parametrize("extra", [["--limit", "0"], ["--since", "-1"], ["--since", "x"]])
def test_tail_option_values(ops: Leaf, pki: Pki, extra: list[str]) -> None:
    assert tail_main(["--channel", CH, *creds("wss://h/", ops, pki), *extra]) == 2


def test_unreadable_credentials_exit_2(
    ops: Leaf, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--channel",
        CH,
        "--hub",
        "wss://h/",
        "--cert",
        str(tmp_path / "nope.pem"),
        "--key",
        str(ops.key),
        "--ca",
        str(pki.ca),
    ]
    assert publish_main(argv) == 2
    assert "cannot read certificate" in capsys.readouterr().err
    other = pki.member("fr", "other")
    argv = [
        "--channel",
        CH,
        "--hub",
        "wss://h/",
        "--cert",
        str(ops.cert),
        "--key",
        str(other.key),
        "--ca",
        str(pki.ca),
    ]
    assert tail_main(argv) == 2


def test_environment_supplies_options(
    ops: Leaf, pki: Pki, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CORDON_HUB", "wss://127.0.0.1:9/")
    monkeypatch.setenv("CORDON_CERT", str(ops.cert))
    monkeypatch.setenv("CORDON_KEY", str(ops.key))
    monkeypatch.setenv("CORDON_CA", str(pki.ca))
    # Everything is configured; the hub is unreachable (port 9): exit 3, not 2.
    assert tail_main(["--channel", CH, "--retries", "1"]) == 3
    assert "nothing listens at 127.0.0.1:9" in capsys.readouterr().err


def test_dispatcher(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert main(["tail", "--help"]) == 0


def test_missing_input_file_exits_4(ops: Leaf, pki: Pki, tmp_path: Path) -> None:
    argv = ["--channel", CH, *creds("wss://h/", ops, pki), "--file", str(tmp_path / "none")]
    assert publish_main(argv) == 4


# --- input lines and state files ---------------------------------------------------------


def test_parse_line() -> None:
    assert parse_line('{"kind": "notice", "body": {"t": 1}}') == ("notice", {"t": 1}, None, None)
    assert parse_line('{"kind": "seizure", "id": "A-1", "ts": 5}') == ("seizure", {}, "A-1", 5)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("{nope", "not JSON"),
        ("[1, 2]", "JSON object"),
        ('{"kind": "notice", "extra": 1}', "unknown key 'extra'"),
        ('{"kind": "gossip"}', "kind must be one of"),
        ('{"body": {}}', "kind must be one of"),
        ('{"kind": "notice", "body": [1]}', "body must be"),
        ('{"kind": "notice", "id": 7}', "id must be"),
        ('{"kind": "notice", "ts": "today"}', "ts must be"),
        ('{"kind": "notice", "ts": true}', "ts must be"),
        ('{"kind": "notice", "ts": -5}', "ts must be"),
    ],
)
def test_parse_line_errors(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        parse_line(text)


def test_state_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "tail.json"
    assert read_state(path, CH) is None
    write_state(path, CH, "e" * 32, 41)
    assert read_state(path, CH) == ("e" * 32, 41)
    assert json.loads(path.read_text()) == {"channel": CH, "epoch": "e" * 32, "offset": 41}
    assert [p.name for p in tmp_path.iterdir()] == ["tail.json"]


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{",
        "[]",
        '{"epoch": "e"}',
        '{"epoch": 1, "offset": 2}',
        '{"epoch": "e", "offset": -1}',
        '{"epoch": "e", "offset": "3"}',
        '{"channel": "pangea", "epoch": "e", "offset": 3}',
    ],
)
def test_bad_state_file_exits_4(
    content: str, ops: Leaf, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state.json"
    state.write_text(content)
    assert tail_main(["--channel", CH, *creds("wss://h/", ops, pki), "--state", str(state)]) == 4
    assert "state file" in capsys.readouterr().err


def test_alert_json_of_an_undecodable_alert() -> None:
    received = Received(CH, 3, None, b"x", b"y", verified=False, error=BadSignature("nope"))
    assert alert_json(received) == {
        "channel": CH,
        "offset": 3,
        "id": None,
        "from": None,
        "kind": None,
        "ts": None,
        "body": None,
        "verified": False,
        "error": "nope",
        "seq": None,
        "chain": "unchecked",
        "chain_error": None,
    }


# --- against the fake hub ---------------------------------------------------------------------


async def test_publish_lines_report_bad_ones_and_are_idempotent(
    hub: FakeHub, ops: Leaf, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "alerts.jsonl"
    source.write_text(
        json.dumps({"kind": "seizure", "body": seizure(), "id": "FR-0001", "ts": 1750000000000})
        + "\n"
        "not json\n"
        "\n" + json.dumps({"kind": "warning", "body": example("warning")}) + "\n"
        '{"kind": "rumour", "body": {}}\n'
        '{"kind": "notice", "body": {}, "id": "bad id!"}\n'
    )
    argv = ["--channel", CH, *creds(hub.url, ops, pki), "--file", str(source)]
    assert await asyncio.to_thread(publish_main, argv) == 4
    out, err = capsys.readouterr()
    acks = lines(out)
    assert [(a["offset"], a["dup"]) for a in acks] == [(1, False), (2, False)]
    assert acks[0]["id"] == "FR-0001"
    assert acks[0]["epoch"] == hub.channels[CH].epoch
    assert "line 2: not JSON" in err
    assert "line 5: kind must be one of" in err
    assert "line 6:" in err
    assert "line 3" not in err
    assert "line 1:" not in err

    # A re-run stores nothing new for the line with id and ts.
    source.write_text(source.read_text().splitlines()[0] + "\n")
    assert await asyncio.to_thread(publish_main, argv) == 0
    (again,) = lines(capsys.readouterr().out)
    assert (again["offset"], again["dup"]) == (1, True)
    assert hub.channels[CH].head == 2


async def test_publish_reads_stdin(
    hub: FakeHub,
    ops: Leaf,
    pki: Pki,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import io

    line = json.dumps({"kind": "notice", "body": note("x")}) + "\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(line))
    assert await asyncio.to_thread(publish_main, ["--channel", CH, *creds(hub.url, ops, pki)]) == 0
    assert lines(capsys.readouterr().out)[0]["offset"] == 1


async def test_publish_refused_channel_exits_3(
    hub: FakeHub, ops: Leaf, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "a.jsonl"
    source.write_text((json.dumps({"kind": "notice", "body": note()}) + "\n") * 3)
    argv = ["--channel", "pangea", *creds(hub.url, ops, pki), "--file", str(source)]
    assert await asyncio.to_thread(publish_main, argv) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert "404 no such channel" in err


async def test_publish_id_conflict_is_a_bad_line(
    hub: FakeHub, ops: Leaf, pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "a.jsonl"
    source.write_text(
        json.dumps({"kind": "notice", "body": note("v1"), "id": "X-1"}) + "\n"
        + json.dumps({"kind": "notice", "body": note("v2"), "id": "X-1"}) + "\n"
        + json.dumps({"kind": "notice", "body": note("v3")}) + "\n"
    )
    argv = ["--channel", CH, *creds(hub.url, ops, pki), "--file", str(source)]
    assert await asyncio.to_thread(publish_main, argv) == 4
    out, err = capsys.readouterr()
    assert [a["offset"] for a in lines(out)] == [1, 2]
    assert "line 2: 409" in err


async def test_tail_round_trip_with_state_resume(
    hub: FakeHub,
    ops: Leaf,
    pki: Pki,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    de = pki.member("de", "zoll")
    hub.register(de)
    sender = Client(hub.url, cert=de.cert, key=de.key, ca=pki.ca)
    with monkeypatch.context() as m:  # bodies with binary values (not schema-valid) stored
        m.setattr("hub.protocol.schema.validate", lambda kind, body: None)
        for i in range(3):
            signed = sender.sign(CH, "seizure", {"n": i, "photo": b"\x89PNG"})
            hub.append(CH, signed.alert, signed.sig)
    state = tmp_path / "tail-state.json"
    argv = ["--channel", CH, *creds(hub.url, ops, pki), "--state", str(state)]

    assert await asyncio.to_thread(tail_main, [*argv, "--since", "0", "--limit", "2"]) == 0
    first = lines(capsys.readouterr().out)
    assert [a["offset"] for a in first] == [1, 2]
    assert first[0]["from"] == "de/zoll"
    assert first[0]["kind"] == "seizure"
    assert first[0]["body"] == {"n": 0, "photo": "iVBORw=="}
    assert first[0]["verified"] is True
    assert first[0]["error"] is None
    assert json.loads(state.read_text())["offset"] == 2

    # Restarted: the state file wins over --since; more alerts arrive meanwhile.
    signed = sender.sign(CH, "feedback", feedback(str(first[0]["id"])))
    hub.append(CH, signed.alert, signed.sig)
    hub.append(CH, b"\xc1", b"\0" * 64)  # garbage stored by a broken hub
    assert await asyncio.to_thread(tail_main, [*argv, "--since", "0", "--limit", "3"]) == 0
    second = lines(capsys.readouterr().out)
    assert [a["offset"] for a in second] == [3, 4, 5]
    assert second[1]["kind"] == "feedback"
    assert second[2]["verified"] is False
    assert "msgpack" in str(second[2]["error"])
    assert json.loads(state.read_text())["offset"] == 5


async def test_tail_no_verify(
    hub: FakeHub, ops: Leaf, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    signed = Client(hub.url, cert=ops.cert, key=ops.key, ca=pki.ca).sign(CH, "notice", note())
    hub.append(CH, signed.alert, signed.sig)
    argv = [
        "--channel",
        CH,
        *creds(hub.url, ops, pki),
        "--since",
        "0",
        "--limit",
        "1",
        "--no-verify",
    ]
    assert await asyncio.to_thread(tail_main, argv) == 0
    (alert,) = lines(capsys.readouterr().out)
    assert (alert["verified"], alert["error"]) == (False, None)


@pytest.mark.parametrize(
    ("state", "first", "message"),
    [
        ({"epoch": "0" * 32, "offset": 0}, 1, "re-created"),
        (None, 3, "history no longer covers"),
    ],
)
async def test_tail_refusals_exit_3(
    hub: FakeHub,
    ops: Leaf,
    pki: Pki,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    state: dict[str, object] | None,
    first: int,
    message: str,
) -> None:
    signed = Client(hub.url, cert=ops.cert, key=ops.key, ca=pki.ca).sign(CH, "notice", note())
    for _ in range(3):
        hub.append(CH, signed.alert, signed.sig)
    hub.channels[CH].first = first
    argv = ["--channel", CH, *creds(hub.url, ops, pki), "--since", "0", "--limit", "1"]
    if state is not None:
        path = tmp_path / "s.json"
        path.write_text(json.dumps(state))
        argv += ["--state", str(path)]
    assert await asyncio.to_thread(tail_main, argv) == 3
    out, err = capsys.readouterr()
    assert out == ""
    assert message in err


async def test_tail_revoked_exits_3(
    hub: FakeHub, ops: Leaf, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    hub.refuse_with = 4010
    argv = ["--channel", CH, *creds(hub.url, ops, pki)]
    assert await asyncio.to_thread(tail_main, argv) == 3
    assert "4010" in capsys.readouterr().err
