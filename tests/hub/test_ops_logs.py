"""Structured logs: JSON lines that parse one by one and carry the fields; refusals and
closes say why; no alert body is ever logged; per-component levels; the CLI flags."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.logs import JsonFormatter, TextFormatter, parse_levels, setup_logging
from hub.protocol import frames as f
from tests.harness import HubHarness, client_context
from tests.hub.wire import CH, Raw, Signer, cast, eventually, tls_refusal
from tests.pki import make_pki


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Every ``cordon.*`` line at debug, as JSON, into a buffer (pytest's own handlers on
    the root logger stay as they are)."""
    buf = io.StringIO()
    handler = logging.StreamHandler(buf)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("cordon")
    old = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield buf
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


def lines(buf: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buf.getvalue().splitlines()]


async def test_json_lines_carry_the_fields_and_never_an_alert_body(h: HubHarness,
                                                                   json_log: io.StringIO):
    assert h.hub is not None
    leaves = await cast(h)
    fr, it = leaves["fr"], leaves["it"]
    marker = "BODY-MARKER-7f3a"
    async with Raw.open(h, fr) as c:
        ack = await c.publish(CH, *Signer(fr).sign(CH, body={"schema": 1, "handling": "H1",
                                                             "text": marker}))
        assert isinstance(ack, f.Ack)
    async with Raw.open(h, it) as reader:  # refused: a reader may not publish
        refused = await reader.publish(CH, *Signer(it).sign(CH, body={
            "schema": 1, "handling": "H1", "text": marker}))
        assert isinstance(refused, f.ErrorFrame) and refused.code == 403
    await h.store.set_member_status("nl", "suspended")
    with pytest.raises(Exception):  # noqa: B017 (closed 4010 during the opening)
        async with Raw.open(h, leaves["nl"]):
            pass
    foreign = h.pki.foreign_ca_member()
    assert await asyncio.to_thread(tls_refusal, h, foreign,
                                   ssl_context=client_context(h.pki, foreign)) is not None
    await eventually(lambda: any(r.get("event") == "tls.refused" for r in lines(json_log)))
    records = lines(json_log)  # every line parses on its own
    assert marker not in json_log.getvalue()
    for r in records:
        assert {"time", "level", "logger", "event", "msg"} <= set(r)
        assert str(r["time"]).endswith("Z")
    opened = [r for r in records if r["event"] == "connection.open"]
    assert {(r["principal"], r["member"], r["kind"]) for r in opened} >= {
        ("fr/ops", "fr", "system"), ("it/gdf", "it", "system")}
    assert all(str(r["peer"]).startswith("127.0.0.1:") for r in opened)
    closed = [r for r in records if r["event"] == "connection.closed"]
    assert {(r["principal"], r["code"]) for r in closed} >= {("fr/ops", 1000), ("it/gdf", 1000)}
    pub = [r for r in records if r["event"] == "pub.refused"]
    assert len(pub) == 1
    assert (pub[0]["principal"], pub[0]["channel"], pub[0]["code"]) == ("it/gdf", CH, 403)
    assert pub[0]["reason"] and pub[0]["level"] == "debug"
    conn_refused = [r for r in records if r["event"] == "connection.refused"]
    assert [(r["principal"], r["code"], r["reason"]) for r in conn_refused] == [
        ("nl/fiod", 4010, "member suspended")]
    tls = [r for r in records if r["event"] == "tls.refused"]
    assert tls[0]["reason"] == "unknown_ca" and str(tls[0]["peer"]).startswith("127.0.0.1:")


def test_levels_per_component_and_text_format():
    assert parse_levels("info,cordon.session=debug, cordon.storage=warning") == (
        logging.INFO, {"cordon.session": logging.DEBUG, "cordon.storage": logging.WARNING})
    assert parse_levels("warning")[0] == logging.WARNING
    for bad in ("loud", "cordon.session=loud", "=debug", "bad name=info"):
        with pytest.raises(ValueError):
            parse_levels(bad)
    record = logging.LogRecord("cordon.hub", logging.INFO, __file__, 1, "connection closed",
                               None, None)
    record.event, record.peer, record.code, record.reason = (
        "connection.closed", "127.0.0.1:5", 4008, "slow consumer: resume from last offset")
    record.alert = b"never shown"  # not a logged field: dropped
    text = TextFormatter(worker=2).format(record)
    assert "cordon.hub[w2]: connection closed event=connection.closed" in text
    assert 'code=4008 reason="slow consumer: resume from last offset"' in text
    assert "never shown" not in text
    doc = json.loads(JsonFormatter(worker=2).format(record))
    assert doc["worker"] == 2 and "alert" not in doc


def test_setup_logging_sets_levels_and_format():
    buf = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level, logging.getLogger("cordon.session").level)
    try:
        setup_logging("json", "warning,cordon.session=debug", stream=io.StringIO())
        assert buf.getvalue() == ""
        before = list(root.handlers)
        setup_logging("text", "info", stream=io.StringIO())  # pytest's handlers: left alone
        assert root.handlers == before
        setup_logging("json", "warning,cordon.session=debug", stream=buf, force=True)
        logging.getLogger("cordon.session").debug("seen", extra={"event": "x.y"})
        logging.getLogger("cordon.feeds").info("not seen")
        assert [json.loads(line)["event"] for line in buf.getvalue().splitlines()] == ["x.y"]
        with pytest.raises(ValueError):
            setup_logging("yaml", force=True)
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
        logging.getLogger("cordon.session").setLevel(saved[2])


async def test_cordon_serve_log_format_json(tmp_path: Path, valkey_url: str):
    """The flags reach the process: every stderr line of ``cordon serve --log-format json``
    parses, and the start is logged with its event."""
    pki = make_pki(tmp_path)
    argv = [sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main())",
            "serve", "--port", "0", "--http-listen", "127.0.0.1:0", "--redis", valkey_url,
            "--data-dir", str(tmp_path / "hub"), "--ca-dir", str(pki.dir),
            "--server-cert", str(pki.server.cert), "--server-key", str(pki.server.key),
            "--log-format", "json", "--log-level", "info,cordon.session=debug"]
    proc = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ})
    assert proc.stdout is not None and proc.stderr is not None
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 60)).decode()
        assert "ops http://127.0.0.1:" in line, line
    finally:
        proc.terminate()
        _out, err = await asyncio.wait_for(proc.communicate(), 30)
    records = [json.loads(x) for x in err.decode().splitlines() if x.strip()]
    events = {r["event"] for r in records}
    assert {"ops.listening", "hub.listening"} <= events
