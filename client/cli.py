"""``cordon publish`` and ``cordon tail``: a member system's command-line link to the hub.

Common options (each also read from the environment)::

    --hub URL            CORDON_HUB     wss://host:port/
    --cert PEM           CORDON_CERT    the principal's certificate
    --key PEM            CORDON_KEY     its Ed25519 private key
    --ca PEM             CORDON_CA      the hub's CA certificate
    --server-name NAME   CORDON_SERVER_NAME   host name to expect in the hub's certificate
    --retries N          tries for the first connection (with back-off), default 1

The channel is the first argument (``cordon publish CHANNEL``), as for
``cordon report`` and ``cordon export``; ``--channel C`` is the older form and
still accepted. Before connecting, the command checks its own credentials (the
files are readable PEM, the key is the certificate's, the certificate is from the
CA given and within its validity) and says what is wrong. When nothing answers,
it gives up after one try with one line on stderr (exit 3); ``--retries N``
tries N times with back-off. Once connected, a lost connection is reopened and
resumed as the SDK does (8 tries with back-off) — the SDK's reconnection is for
long-running clients.

``cordon publish CHANNEL [--file F]`` reads JSON lines (stdin by default),
one alert each: ``{"kind": "seizure", "body": {...}, "id": "...", "ts": ms}``
(``id`` and ``ts`` optional). For each alert the hub stored it prints
``{"id", "offset", "epoch", "dup"}``. Alerts are sent one after another, in
input order. Give every line an ``id`` *and* a ``ts`` to make re-runs safe:
the same line signs to the same bytes, and the hub answers ``"dup": true``
with the original offset instead of storing it twice. A line that is not
valid (bad JSON, unknown kind, refused by the hub as invalid, id conflict,
stale time) is reported on stderr with its line number and skipped; the
others are still published, and the exit code is 4.

``cordon tail CHANNEL [--since N] [--state FILE] [--limit N] [--no-verify]
[--format jsonl|stix|misp [--include-restricted]]`` prints one JSON line per
alert: ``{"channel", "offset", "id", "from", "kind", "ts", "body", "verified",
"error", "seq", "chain", "chain_error"}`` (binary values in bodies as base64
strings; ``error`` says why an alert is not verified, null otherwise; ``chain`` is
the sender chain's state, PROTOCOL.md §4: ``ok``, ``unchained``, ``unchecked``
(not verified) or a break — ``gap``, ``reorder``, ``duplicate``, ``fork`` — which is
as serious as a failed signature and is also reported on stderr, with
``chain_error`` saying what broke). ``--format stix`` prints each verified
alert as a STIX 2.1 bundle on one line, ``misp`` as a MISP event, for a
continuous feed into those tools; alerts with handling H2/H3 are left out
(stderr says which) unless ``--include-restricted``, as in ``cordon export``.
Without ``--since`` it starts with the next live alert; ``--since 0`` replays
all retained history first. ``--state FILE`` holds ``{"channel", "epoch",
"offset"}``: read at start (it then takes precedence over ``--since``) and
replaced atomically after each printed alert, so a restarted tail resumes
after the last alert it printed. A crash between printing an alert and saving
the state prints that one alert again on restart: deduplicate on ``offset``
(or ``id``) downstream. If the hub's history no longer reaches the saved
offset (410) or the channel was re-created (412), tail stops with exit 3
rather than skip anything.

Exit codes: 0 ok, 2 usage (bad options, unreadable or mismatched credentials),
3 the hub refused or is unreachable, or the certificate has expired (message on
stderr), 4 bad input (input lines, input or state file), 130 interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any

from certs.files import write_atomic
from client._options import EXIT_CODES_EPILOG, add_channel_argument, add_connection_options
from client._preflight import build_client, explain, refusal
from client.sdk import Client, ClientError, Received
from hub.protocol.envelope import KINDS
from hub.protocol.errors import (
    AlertIdConflict,
    CordonError,
    EpochMismatch,
    FrameTooLarge,
    HistoryGone,
    InvalidAlert,
    InvalidFrame,
    StaleTimestamp,
)

__all__ = [
    "EXIT_INPUT",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "key_main",
    "main",
    "publish_main",
    "tail_main",
]

EXIT_OK, EXIT_USAGE, EXIT_REFUSED, EXIT_INPUT, EXIT_INTERRUPTED = 0, 2, 3, 4, 130

#: Tries per reconnection once a long-running command (publish, tail) is connected.
RECONNECT_ATTEMPTS = 8

#: Hub refusals caused by one input line: report it, skip it, go on.
_LINE_REFUSALS = (AlertIdConflict, InvalidAlert, StaleTimestamp, FrameTooLarge, InvalidFrame)
_LINE_KEYS = frozenset({"kind", "body", "id", "ts"})


class _InputError(Exception):
    """Bad input data (a line, the input or state file): exit 4."""


# --- shared ------------------------------------------------------------------------------


def _parser(prog: str, description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog, description=description, epilog=EXIT_CODES_EPILOG)
    add_channel_argument(p)
    add_connection_options(
        p, server_name_help="host name expected in the hub's certificate (default: from the URL)"
    )
    p.add_argument(
        "--retries",
        type=_positive,
        default=1,
        metavar="N",
        help="tries for the first connection, with back-off (default 1: fail fast); "
        f"once connected, a lost connection is retried {RECONNECT_ATTEMPTS} times",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log connection events")
    return p


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace | int:
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if resolve_channel(parser, args) is None:
        return EXIT_USAGE
    missing = [f"--{name}" for name in ("hub", "cert", "key", "ca") if not getattr(args, name)]
    if missing:
        parser.print_usage(sys.stderr)
        print(
            f"{parser.prog}: error: missing {', '.join(missing)} (option or environment)",
            file=sys.stderr,
        )
        return EXIT_USAGE
    if args.hub and not str(args.hub).startswith("wss://"):
        print(f"{parser.prog}: error: --hub must be a wss:// URL", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format=f"{parser.prog}: %(message)s",
        stream=sys.stderr,
    )
    return args


def resolve_channel(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """``CHANNEL`` or its older form ``--channel C`` into ``args.channel``; None (after a
    usage message) if neither or two different ones were given."""
    positional, option = args.channel, getattr(args, "channel_option", None)
    if positional and option and positional != option:
        print(f"{parser.prog}: error: two channels given ({positional!r} and --channel "
              f"{option!r})", file=sys.stderr)
        return None
    args.channel = positional or option
    if not args.channel:
        parser.print_usage(sys.stderr)
        print(f"{parser.prog}: error: the channel is required (CHANNEL)", file=sys.stderr)
        return None
    return str(args.channel)


def _client(prog: str, args: argparse.Namespace) -> Client | int:
    """The command's client: ``--retries`` tries for the first connection; once connected,
    a lost connection is retried like a long-running client's (at least
    RECONNECT_ATTEMPTS times)."""
    client: Client | int = build_client(
        prog, args.hub, cert=args.cert, key=args.key, ca=args.ca,
        server_hostname=args.server_name, connect_attempts=args.retries,
        max_attempts=max(args.retries, RECONNECT_ATTEMPTS),
    )  # fmt: skip
    return client


def _run(prog: str, main: Callable[[], Any], *, channel: str | None = None,
         ca: Path | None = None) -> int:
    """Run the command's coroutine; map failures to exit codes with a message on stderr."""
    try:
        code: int = asyncio.run(main())
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except _InputError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except CordonError as exc:
        print(f"{prog}: hub refused: {refusal(exc, channel=channel)}", file=sys.stderr)
        return EXIT_REFUSED
    except ClientError as exc:
        print(f"{prog}: {explain(exc, ca=ca)}", file=sys.stderr)
        return EXIT_REFUSED
    return code


# --- publish -----------------------------------------------------------------------------


def parse_line(text: str) -> tuple[str, dict[str, Any], str | None, int | None]:
    """One input line to ``(kind, body, id, ts)``; ``ValueError`` says what is wrong."""
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    unknown = sorted(set(obj) - _LINE_KEYS)
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r} (expected kind, body, id, ts)")
    kind, body = obj.get("kind"), obj.get("body", {})
    alert_id, ts = obj.get("id"), obj.get("ts")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(sorted(KINDS))}")
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    if alert_id is not None and not isinstance(alert_id, str):
        raise ValueError("id must be a string")
    if ts is not None and (type(ts) is not int or ts < 0):
        raise ValueError("ts must be milliseconds since the epoch (an integer)")
    return kind, body, alert_id, ts


async def _publish(args: argparse.Namespace, client: Client, source: IO[str]) -> int:
    prog = "cordon publish"
    bad = 0
    async with client:
        number = 0
        while True:
            line = await asyncio.to_thread(source.readline)
            if not line:
                break
            number += 1
            if not line.strip():
                continue
            try:
                kind, body, alert_id, ts = parse_line(line)
                ack = await client.publish(args.channel, kind, body, alert_id=alert_id, ts_ms=ts)
            except ValueError as exc:
                error = str(exc)
            except _LINE_REFUSALS as exc:
                error = f"{exc.code} {exc.phrase}: {exc}" if exc.detail else str(exc)
            else:
                out = {
                    "id": ack.alert_id,
                    "offset": ack.offset,
                    "epoch": ack.epoch,
                    "dup": ack.dup,
                }
                print(json.dumps(out), flush=True)
                continue
            bad += 1
            print(f"{prog}: line {number}: {error}", file=sys.stderr, flush=True)
    return EXIT_INPUT if bad else EXIT_OK


def publish_main(argv: list[str] | None = None) -> int:
    """``cordon publish``: JSON lines in, one acknowledgement per stored alert out."""
    prog = "cordon publish"
    parser = _parser(prog, "Publish signed alerts to a channel, one per JSON input line.")
    parser.add_argument("--file", type=Path, help="read lines from FILE instead of stdin")
    args = _parse(parser, argv)
    if isinstance(args, int):
        return args
    client = _client(prog, args)
    if isinstance(client, int):
        return client
    where = {"channel": args.channel, "ca": args.ca}
    if args.file is None:
        return _run(prog, lambda: _publish(args, client, sys.stdin), **where)
    try:
        source = args.file.open(encoding="utf-8")
    except OSError as exc:
        print(f"{prog}: error: cannot read {args.file}: {exc.strerror}", file=sys.stderr)
        return EXIT_INPUT
    with source:
        return _run(prog, lambda: _publish(args, client, source), **where)


# --- tail --------------------------------------------------------------------------------


def read_state(path: Path, channel: str) -> tuple[str, int] | None:
    """The saved ``(epoch, offset)``, or None if there is no state file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise _InputError(f"cannot read state file {path}: {exc.strerror}") from exc
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    if (
        not isinstance(obj, dict)
        or not isinstance(obj.get("epoch"), str)
        or type(obj.get("offset")) is not int
        or obj["offset"] < 0
    ):
        raise _InputError(f'state file {path} is not {{"epoch": str, "offset": int}}')
    if obj.get("channel", channel) != channel:
        raise _InputError(f"state file {path} belongs to channel {obj['channel']!r}")
    return obj["epoch"], obj["offset"]


def write_state(path: Path, channel: str, epoch: str, offset: int) -> None:
    """Replace the state file atomically (write, fsync, rename, fsync the folder)."""
    data = json.dumps({"channel": channel, "epoch": epoch, "offset": offset})
    try:
        write_atomic(path, data.encode(), mode=0o644)
    except OSError as exc:
        raise _InputError(f"cannot write state file {path}: {exc.strerror}") from exc


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {(k if isinstance(k, str) else _jsonable(k)): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def alert_json(received: Received) -> dict[str, Any]:
    """The JSON object ``cordon tail`` prints for one alert."""
    env = received.envelope
    return {
        "channel": received.channel,
        "offset": received.offset,
        "id": env.id if env else None,
        "from": env.sender if env else None,
        "kind": env.kind if env else None,
        "ts": env.ts if env else None,
        "body": _jsonable(env.body) if env else None,
        "verified": received.verified,
        "error": received.reason,
        "seq": env.seq if env else None,
        "chain": received.chain,
        "chain_error": received.chain_detail or None,
    }


async def _tail(args: argparse.Namespace, client: Client) -> int:
    state_path: Path | None = args.state
    since, epoch = args.since, None
    if state_path is not None:
        saved = read_state(state_path, args.channel)
        if saved is not None:
            epoch, since = saved
    printed = 0
    await client.connect()
    async with (
        client,
        client.subscribe(args.channel, since=since, epoch=epoch, verify=not args.no_verify) as sub,
    ):
        async for received in sub:
            try:
                line = _tail_line(args, received)
                if line is not None:
                    print(line, flush=True)
            except BrokenPipeError:
                # The reader went away: stop quietly, without saving this alert as done.
                with contextlib.suppress(OSError):
                    os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                return EXIT_OK
            if state_path is not None:
                assert sub.epoch is not None
                write_state(state_path, args.channel, sub.epoch, received.offset)
            printed += 1
            if args.limit is not None and printed >= args.limit:
                break
    return EXIT_OK


def _tail_line(args: argparse.Namespace, received: Received) -> str | None:
    """The line ``cordon tail`` prints for one alert; None when ``--format stix|misp``
    leaves it out (unverified, or handling H2/H3 without ``--include-restricted``:
    said on stderr)."""
    if received.chain_broken:
        print(f"cordon tail: offset {received.offset}: sender chain broken"
              f" ({received.chain}): {received.chain_detail}", file=sys.stderr, flush=True)
    if args.format == "jsonl":
        return json.dumps(alert_json(received), ensure_ascii=False)
    from client import interop

    chosen = interop.select([received], args.channel,
                            include_restricted=args.include_restricted)
    if not chosen.alerts:
        why = ("its signature did not verify" if chosen.unverified else
               "handling H2/H3: not to be passed on (--include-restricted to include it)")
        print(f"cordon tail: offset {received.offset} left out: {why}", file=sys.stderr,
              flush=True)
        return None
    doc = interop.to_stix(chosen) if args.format == "stix" else interop.to_misp(chosen)
    return json.dumps(doc, ensure_ascii=False)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _offset(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def tail_main(argv: list[str] | None = None) -> int:
    """``cordon tail``: follow a channel, one JSON line per alert."""
    prog = "cordon tail"
    parser = _parser(
        prog,
        "Follow a channel: history from --since or the state file, then "
        "live alerts, one JSON line each.",
    )
    parser.add_argument(
        "--since",
        type=_offset,
        metavar="N",
        help="start after offset N (0: all retained history; default: live)",
    )
    parser.add_argument(
        "--state",
        type=Path,
        metavar="FILE",
        help="resume from and save {channel, epoch, offset} in FILE",
    )
    parser.add_argument("--limit", type=_positive, metavar="N", help="exit after N alerts")
    parser.add_argument(
        "--no-verify",
        action="store_true",
        help="do not verify signatures (verified is then always false)",
    )
    parser.add_argument(
        "--format",
        choices=("jsonl", "stix", "misp"),
        default="jsonl",
        help="jsonl (default); stix: one STIX 2.1 bundle per line; misp: one MISP event "
        "per line (verified alerts only; see cordon export)",
    )
    parser.add_argument(
        "--include-restricted",
        action="store_true",
        help="stix/misp: include alerts with handling H2/H3 (left out by default)",
    )
    args = _parse(parser, argv)
    if not isinstance(args, int) and args.format != "jsonl" and args.no_verify:
        print(f"{prog}: error: --format {args.format} exports verified alerts only: "
              "drop --no-verify", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(args, int):
        return args
    client = _client(prog, args)
    if isinstance(client, int):
        return client

    async def run() -> int:
        try:
            return await _tail(args, client)
        except HistoryGone as exc:
            raise _Refused(
                f"history no longer covers the requested offset ({exc}); "
                "nothing was skipped — restart from a retained offset"
            ) from exc
        except EpochMismatch as exc:
            raise _Refused(
                "the channel was re-created (epoch changed); the saved offset "
                "belongs to its previous life"
            ) from exc

    return _run(prog, run, channel=args.channel, ca=args.ca)


def key_main(argv: list[str] | None = None) -> int:
    """``cordon key new``: the member's own key and certificate request (:mod:`client.keys`)."""
    from client import keys

    return keys.main(argv)


class _Refused(ClientError):
    """A refusal with a friendlier explanation (exit 3)."""


def main(argv: list[str] | None = None) -> int:
    """``python -m client.cli publish|tail ...``"""
    argv = sys.argv[1:] if argv is None else argv
    commands = {"publish": publish_main, "tail": tail_main, "key": key_main}
    if not argv or argv[0] not in commands:
        print("usage: python -m client.cli {publish,tail,key} [options]", file=sys.stderr)
        return EXIT_USAGE
    return commands[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
