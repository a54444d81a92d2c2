"""``cordon`` — one command, several subcommands. Every entry point is
``main(argv=None) -> int`` so tests can call it.

Exit codes (all subcommands): 0 success, 1 unexpected failure, 2 bad usage,
3 refused or unreachable (hub, store, CA), 4 bad input data.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.config import Settings

__all__ = ["main", "serve_main"]

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_REFUSED, EXIT_INPUT = 0, 1, 2, 3, 4


def _lazy(module: str, func: str) -> Callable[[list[str]], int]:
    def run(argv: list[str]) -> int:
        import importlib

        entry: Callable[[list[str]], int] = getattr(importlib.import_module(module), func)
        return entry(argv)

    return run


COMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "serve": (_lazy("hub.cli", "serve_main"), "run the hub"),
    "probe": (_lazy("hub.cli", "probe_main"), "is a hub ready? (its /readyz; healthchecks)"),
    "demo": (_lazy("hub.demo", "main"), "run a throwaway operation end to end"),
    "ca": (_lazy("certs.cli", "main"), "the certificate authority"),
    "publish": (_lazy("client.cli", "publish_main"), "publish alerts (JSON lines in)"),
    "tail": (_lazy("client.cli", "tail_main"), "follow a channel (JSON lines out)"),
    "admin": (_lazy("client.admin_cli", "main"), "administer a running hub (admin certificate)"),
    "key": (_lazy("client.keys", "main"), "your own key and certificate request (key new)"),
    "report": (_lazy("client.report", "main"), "an operation's results from a channel"),
    "export": (_lazy("client.export", "main"), "a channel's alerts as JSON lines or CSV"),
    "checkpoint": (_lazy("client.checkpoint", "main"),
                   "your copy of a channel's log as a fingerprint, to compare by phone"),
    "evidence": (_lazy("client.evidence", "main"),
                 "evidence bundles: export alerts with their proofs; verify one offline"),
    "desk": (_lazy("client.desktop.app", "main"), "the desktop client for liaison officers"),
    "completion": (_lazy("client.completion", "main"), "shell completion script (bash, zsh)"),
}


def _complete(argv: list[str]) -> int:
    from client.completion import candidates

    index = int(argv[0]) if argv and argv[0].isdigit() else 0
    words = argv[1:][: index + 1]
    words += [""] * (index + 1 - len(words))
    if index < 1:
        return EXIT_OK
    found = candidates(words, {name: entry for name, (entry, _) in COMMANDS.items()})
    print("\n".join(found))
    return EXIT_OK


def version() -> str:
    """The installed package's version (``importlib.metadata``)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("cordon")
    except PackageNotFoundError:  # pragma: no cover - running from an uninstalled tree
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        lines = [f"  {name:<9} {desc}" for name, (_, desc) in COMMANDS.items()]
        out = sys.stdout if argv else sys.stderr
        print("usage: cordon [--version] <command> [options]\n\ncommands:\n"
              + "\n".join(lines)
              + "\n\noptions:\n  -h, --help     this help\n  -V, --version  the installed "
              "version (from the package metadata)\n\n'cordon <command> --help' for a "
              "command's options.\n\nExit codes: 0 ok, 1 unexpected failure, 2 usage, 3 "
              "refused or unreachable (hub, store, CA), 4 bad input data.", file=out)
        return EXIT_OK if argv else EXIT_USAGE
    if argv[0] == "--complete":  # asked by the completion script: --complete INDEX WORD...
        return _complete(argv[1:])
    if argv[0] in ("--version", "-V"):
        print(f"cordon {version()}")
        return EXIT_OK
    entry = COMMANDS.get(argv[0])
    if entry is None:
        print(f"cordon: unknown command {argv[0]!r} (see 'cordon --help')", file=sys.stderr)
        return EXIT_USAGE
    return entry[0](argv[1:])


def _serve_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cordon serve", description="Run the Cordon hub.",
                                epilog="Exit codes: 0 stopped cleanly, 1 unexpected failure, "
                                "2 usage or bad settings, 3 the store or the port refused, "
                                "4 a certificate file is missing.")
    p.add_argument("--config", type=Path, help="TOML file with a [hub] table")
    p.add_argument("--host", help="listen address (default 127.0.0.1)")
    p.add_argument("--port", type=int, help="listen port (default 8443; 0 picks one)")
    p.add_argument("--data-dir", type=Path, help="hub data folder (embedded store lives here)")
    p.add_argument("--redis", dest="redis_url", metavar="URL",
                   help="external Redis/Valkey URL instead of the embedded store")
    p.add_argument("--sentinel", dest="sentinels", action="append", metavar="HOST:PORT",
                   help="a Sentinel of the store deployment (repeat for each; instead of "
                        "--redis); passwords only in the config file or environment")
    p.add_argument("--sentinel-service", metavar="NAME",
                   help="the name the sentinels monitor the store under (default cordon)")
    p.add_argument("--store-tls", action="store_const", const=True,
                   help="TLS to the store (--redis; rediss:// implies it) or to its nodes and "
                        "sentinels (--sentinel)")
    p.add_argument("--store-tls-ca", type=Path, metavar="PEM",
                   help="CA certificate(s) the store's TLS certificates are checked against "
                        "(default: the system's)")
    p.add_argument("--store-tls-cert", type=Path, metavar="PEM",
                   help="a client certificate for a store that requires one "
                        "(tls-auth-clients yes), with --store-tls-key")
    p.add_argument("--store-tls-key", type=Path, metavar="PEM",
                   help="the private key of --store-tls-cert")
    p.add_argument("--ack-replicas", type=int, metavar="N",
                   help="acknowledge an alert only once N replicas fsynced it too (default 0)")
    p.add_argument("--ca-dir", type=Path, help="CA folder (ca.pem, crl.pem, index.json)")
    p.add_argument("--server-cert", type=Path, help="the hub's certificate (default: "
                   "CA_DIR/out/server.pem)")
    p.add_argument("--server-key", type=Path, help="its private key (default: "
                   "CA_DIR/out/server.key)")
    p.add_argument("--log-key", type=Path, help="the log key that signs channel checkpoints "
                   "(default: CA_DIR/out/log.key; issued there when missing and the CA key "
                   "is in CA_DIR)")
    p.add_argument("--log-cert", type=Path, help="its certificate (default: "
                   "CA_DIR/out/log.pem)")
    p.add_argument("--checkpoint-interval-ms", type=int, metavar="MS",
                   help="sign each channel's checkpoint at most once per MS when it moved "
                   "(default 1000; 0: sign none)")
    p.add_argument("--no-durable", dest="durable", action="store_const", const=False,
                   help="acknowledge before fsync (faster, loses the last second on power loss)")
    p.add_argument("--workers", type=int, default=1, metavar="N",
                   help="hub processes sharing the port and the store (default 1)")
    p.add_argument("--http-listen", metavar="HOST:PORT",
                   help="ops listener for /healthz, /readyz, /metrics (default 127.0.0.1:9090; "
                        "'off' for none; with --workers N, worker i uses PORT+i)")
    p.add_argument("--log-format", choices=("text", "json"),
                   help="log lines for people (text, default) or one JSON object each")
    p.add_argument("--log-level", metavar="LEVELS",
                   help="e.g. info,cordon.session=debug (default info)")
    p.add_argument("-v", "--verbose", action="store_true", help="same as --log-level debug")
    return p


def serve_main(argv: list[str] | None = None) -> int:
    from hub.config import ConfigError, load_settings
    from hub.protocol.errors import CordonError
    from hub.server import Hub

    try:
        args = _serve_parser().parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2, message printed)
        return int(exc.code or 0)
    try:
        settings = load_settings(args.config, overrides={
            k: getattr(args, k) for k in ("host", "port", "data_dir", "redis_url", "ca_dir",
                                          "server_cert", "server_key", "durable",
                                          "http_listen", "log_format", "log_level", "sentinels",
                                          "sentinel_service", "store_tls", "store_tls_ca",
                                          "store_tls_cert", "store_tls_key",
                                          "ack_replicas", "log_key", "log_cert",
                                          "checkpoint_interval_ms")
        })
    except ConfigError as exc:
        print(f"cordon serve: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from hub.logs import setup_logging

    setup_logging(settings.log_format, "debug" if args.verbose else settings.log_level)
    for path, make in ((settings.ca_cert, f"cordon ca init --dir {settings.ca_dir}"),
                       (settings.server_cert, f"cordon ca issue-server --dir {settings.ca_dir}"
                                              " --dns HOST --ip ADDRESS"),
                       (settings.server_key, f"cordon ca issue-server --dir {settings.ca_dir}"
                                             " --dns HOST --ip ADDRESS")):
        if not path.exists():
            print(f"cordon serve: error: {path} not found (create it with '{make}', or "
                  "name it with --ca-dir / --server-cert / --server-key)", file=sys.stderr)
            return EXIT_INPUT

    if args.workers != 1:
        from hub.workers import MAX_WORKERS, serve_workers

        if not 1 <= args.workers <= MAX_WORKERS:
            print(f"cordon serve: error: --workers must be 1..{MAX_WORKERS}", file=sys.stderr)
            return EXIT_USAGE
        try:
            return serve_workers(settings, args.workers, verbose=args.verbose)
        except (CordonError, OSError) as exc:
            print(f"cordon serve: error: {_store_hint(exc, settings)}",
                  file=sys.stderr)
            return EXIT_REFUSED

    async def run() -> None:
        hub = Hub(settings)
        await hub.start()
        ops = f"; ops http://{hub.ops.server.host}:{hub.ops.port}/" if hub.ops.server else ""
        print(f"cordon hub listening on wss://{settings.host}:{hub.port} "
              f"(store durability: {hub.store.durability}{ops})", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await stop.wait()
        finally:
            await hub.stop()

    try:
        asyncio.run(run())
    except (CordonError, OSError) as exc:
        print(f"cordon serve: error: {_store_hint(exc, settings)}", file=sys.stderr)
        return EXIT_REFUSED
    return EXIT_OK


def _store_hint(exc: BaseException, settings: Settings) -> str:
    """The error, naming the external store (its address with the password redacted, or
    the sentinels) when the store is what failed; where the store's own answer did not
    already say why (TLS, credentials), what to check."""
    from hub.config import _redact
    from hub.protocol.errors import Unavailable

    if not isinstance(exc, Unavailable) or settings.embedded_store:
        return str(exc)
    where = (f"the store at {_redact(settings.redis_url)} (--redis)" if settings.redis_url
             else f"the store the sentinels {', '.join(settings.sentinels)} name (--sentinel)")
    if ": " in str(exc):  # diagnosed (hub.storage: TLS, credentials, durability)
        return f"{exc} — {where}"
    return f"{exc}: {where} — is it running, and are its address and password right?"


#: Seconds ``cordon probe`` waits for an answer.
PROBE_TIMEOUT_S = 5.0


def probe_main(argv: list[str] | None = None) -> int:
    """``cordon probe [URL]``: GET a hub's ``/readyz`` (or ``/healthz``) on its ops
    listener; exit 0 if it answers 200, 3 otherwise (503, unreachable, timeout), with its
    answer or the reason on one line. For container healthchecks and service managers:
    the image has no curl."""
    import urllib.error
    import urllib.request
    from urllib.parse import urlsplit

    p = argparse.ArgumentParser(prog="cordon probe", description=(
        "Ask a hub's ops listener whether it is ready: exit 0 if URL answers 200, "
        "3 if not (503, unreachable, timeout)."), epilog="Exit codes: 0 ready (200), "
        "2 usage, 3 not ready, unreachable or no answer in time.")
    p.add_argument("url", nargs="?", default="http://127.0.0.1:9090/readyz",
                   help="default http://127.0.0.1:9090/readyz")
    p.add_argument("--timeout", type=float, default=PROBE_TIMEOUT_S, metavar="S",
                   help=f"seconds to wait for the answer (default {PROBE_TIMEOUT_S:g})")
    try:
        args = p.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if urlsplit(args.url).scheme != "http":
        print("cordon probe: error: the ops listener speaks plain http://", file=sys.stderr)
        return EXIT_USAGE
    try:
        with urllib.request.urlopen(args.url, timeout=args.timeout) as answer:  # noqa: S310
            print(answer.read(4096).decode("utf-8", "replace").strip())
            return EXIT_OK if answer.status == 200 else EXIT_REFUSED
    except urllib.error.HTTPError as exc:
        print(exc.read(4096).decode("utf-8", "replace").strip() or f"HTTP {exc.code}")
        return EXIT_REFUSED
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        print(f"cordon probe: {args.url}: {reason}", file=sys.stderr)
        return EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
