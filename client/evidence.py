"""``cordon evidence``: evidence bundles a member can hand over and anyone can check offline.

::

    cordon evidence export CHANNEL --ids ID,... [--out FILE] [--crl CRL]
    cordon evidence verify FILE [--ca PEM] [--json]
    cordon evidence permit CHANNEL --ids ID,... [--text TEXT]

``export`` reads the channel's history, picks the alerts named, fetches a hub-signed
checkpoint of the channel's log and the alerts' inclusion proofs, and writes ONE file
(PROTOCOL.md Appendix D, mode 0600: it holds handling-coded records) with the alerts'
exact bytes and signatures, their senders' certificates, the checkpoint and the log
key's certificate, the CA certificate and the CRL of the day (the one the hub serves,
verified against --ca; ``--crl``/``CORDON_CRL`` give another). It checks the file as
``verify`` would before writing it. Alerts whose handling code (H1 not as evidence in
court, H2 not to be passed on, H3 other restrictions) forbids it are refused unless
the sender's administration recorded its permission in the channel (``permit``): the
permission notice then goes into the bundle too.

``verify`` needs nothing but the file (no hub, no network, no local state) and prints
who said what (member, principal, kind, headline fields), when (the alert's own time
and the checkpoint's), and that the channel's log at size N (fingerprint) contained it.

``permit`` publishes, as the sender's administration, the notice that permits the
alerts named (``permission: evidence``, Appendix A.9).

Exit codes: 0 verified / written / published; 1 unexpected failure; 2 usage; 3 the
hub refused or is unreachable; 4 unreadable (not a bundle, truncated, wrong version;
unknown alert ids or an unreadable CRL for export); 5 tampered (a signature, proof or
chain link does not verify); 6 unverifiable (a certificate revoked, expired or of the
wrong purpose, the CRL expired, another CA than --ca; export: the hub's CRL is not
--ca's, or expired); 7 restricted (a handling code
forbids it and no permission of the sender is recorded).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from certs.files import write_atomic
from client._options import add_channel_argument, add_connection_options, connection_problem
from client.report import collect, open_client, run_refusable
from client.sdk import Client, CRLError, Received, SignedCheckpoint
from hub.protocol.envelope import Envelope
from hub.protocol.errors import InvalidFrame
from hub.protocol.evidence import (
    MAX_EVIDENCE_ALERTS,
    PERMISSION_EVIDENCE,
    RESTRICTED_HANDLING,
    BundleAlert,
    EvidenceAlert,
    EvidenceError,
    EvidenceReport,
    SignedCheckpointParts,
    encode_bundle,
    handling_codes,
    permits,
    verify_bundle,
)
from hub.protocol.identity import check_alert_id

__all__ = ["EXIT_CODES", "ExportRefused", "export_bundle", "headline", "main", "make_bundle",
           "permission_body", "read_ca", "read_crl", "render_report", "report_json",
           "write_private"]

PROG = "cordon evidence"
EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3
#: verify's outcome -> exit code (also export's, when its own bundle fails the check).
EXIT_CODES: Mapping[str, int] = {"unreadable": 4, "tampered": 5, "unverifiable": 6,
                                 "restricted": 7}
EXIT_INPUT = EXIT_CODES["unreadable"]
_EPILOG = ("Exit codes: 0 verified (export: written; permit: published); 1 unexpected "
           "failure; 2 usage; 3 the hub refused or is unreachable; 4 unreadable (not a "
           "bundle, truncated, wrong version; export: unknown ids, unreadable CRL); 5 "
           "tampered (a signature, proof or chain link does not verify); 6 unverifiable "
           "(a certificate revoked, expired or of the wrong purpose, the CRL expired, "
           "another CA than --ca; export: the hub's CRL not --ca's, or expired); 7 "
           "restricted (a handling code forbids it and the sender's permission is not recorded).")
#: How long export waits for a checkpoint that covers the newest alert asked for.
CHECKPOINT_WAIT_S = 10.0
_FILE_MODE = 0o600

log = logging.getLogger("cordon.evidence")


# --- what the report says -----------------------------------------------------------------
def _utc(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _short(text: object, limit: int = 160) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def headline(env: Envelope) -> dict[str, Any]:
    """The fields that say what an alert said, by kind (for the report)."""
    b = env.body
    keys = {
        "warning": ("summary", "category", "hs_code", "route"),
        "feedback": ("ref", "outcome", "remarks"),
        "seizure": ("date", "country", "place", "status", "detection"),
        "notice": ("title", "text", "permission", "links"),
        "amendment": ("ref", "of", "reason"),
        "withdrawal": ("ref", "reason"),
    }.get(env.kind, ())
    out = {k: b[k] for k in keys if k in b}
    if env.kind == "seizure" and isinstance(b.get("goods"), list):
        out["goods"] = [f"{g.get('quantity')} {g.get('unit')} {g.get('category')}"
                        f" ({_short(g.get('description', ''), 60)})"
                        for g in b["goods"] if isinstance(g, Mapping)]
    return out


def _alert_json(a: EvidenceAlert, report: EvidenceReport) -> dict[str, Any]:
    env = a.envelope
    return {
        "offset": a.offset, "id": env.id, "from": env.sender,
        "member": env.sender.split("/")[0], "kind": env.kind, "ts": env.ts,
        "time": _utc(env.ts), "handling": list(a.handling), "headline": headline(env),
        "seq": env.seq, "sha256": a.alert_hash, "kid": a.kid,
        "revoked_later": None if a.revoked_later is None else {
            "time": _utc(a.revoked_later[0]), "reason": a.revoked_later[1]},
        "permitted_by": a.permitted_by, "permission": a.is_permission,
        "in_log": {"size": report.checkpoint.size, "fingerprint": report.fingerprint},
    }


def report_json(report: EvidenceReport) -> dict[str, Any]:
    """What ``verify --json`` prints."""
    cp = report.checkpoint
    return {
        "verified": True, "channel": cp.channel, "epoch": cp.epoch, "size": cp.size,
        "root": cp.root.hex(), "fingerprint": report.fingerprint,
        "checkpoint_time": _utc(cp.time), "log_key": report.log_identity,
        "log_kid": report.log_kid, "ca": report.ca_subject, "ca_sha256": report.ca_sha256,
        "crl": {"number": report.crl_number, "this_update": _utc(report.crl_this_update),
                "next_update": _utc(report.crl_next_update)},
        "exported_by": report.exporter, "exported": _utc(report.created),
        "alerts": [_alert_json(a, report) for a in report.alerts],
    }


def _value(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(_short(v, 80) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return _short(value)


def render_report(report: EvidenceReport, name: str = "bundle") -> str:
    """The report an officer reads: who said what, when, and that the log contained it."""
    cp = report.checkpoint
    lines = [
        f"VERIFIED: {name}",
        f"Channel {cp.channel} (epoch {cp.epoch}): the log of {cp.size} alerts with "
        f"fingerprint {report.fingerprint} (root {cp.root.hex()})",
        f"  signed by the log key of hub {report.log_identity} (key id "
        f"{report.log_kid[:16]}…) at {_utc(cp.time)}",
        f"  CA {report.ca_subject}, SHA-256 {report.ca_sha256} — compare it with your "
        "CA certificate's (or pass --ca)",
        f"  CRL no. {report.crl_number} of {_utc(report.crl_this_update)}, next update "
        f"{_utc(report.crl_next_update)}",
        f"  exported by {report.exporter or '?'} on {_utc(report.created)} (not signed: "
        "says who made the file, proves nothing)",
        "",
    ]
    for n, a in enumerate(report.alerts, 1):
        env = a.envelope
        role = " — the sender's permission" if a.is_permission else ""
        lines.append(f"{n}. alert {env.id}: {env.kind}, handling "
                     f"{'/'.join(a.handling) or '?'}{role}")
        lines.append(f"   who:  {env.sender} (administration {env.sender.split('/')[0]}), "
                     f"certificate {a.kid[:16]}…")
        for key, value in headline(env).items():
            lines.append(f"   {key}: {_value(value)}")
        lines.append(f"   when: signed {_utc(env.ts)} (the sender's clock); in the log by "
                     f"{_utc(cp.time)} (the hub's checkpoint)")
        chain = f", sender's alert no. {env.seq}" if env.seq is not None else ", unchained"
        lines.append(f"   log:  offset {a.offset} of the channel's log at size {cp.size} "
                     f"({report.fingerprint}){chain}; SHA-256 {a.alert_hash}")
        if a.permitted_by:
            lines.append(f"   permitted: the sender's administration permitted its use as "
                         f"evidence in alert {a.permitted_by}")
        if a.revoked_later is not None:
            lines.append(f"   NOTE: the sender's certificate was revoked on "
                         f"{_utc(a.revoked_later[0])} ({a.revoked_later[1]}), after signing"
                         " this alert; the signature stands, but if the key was compromised "
                         "its time is only the sender's claim")
    return "\n".join(lines) + "\n"


# --- verify ----------------------------------------------------------------------------------
def read_ca(path: Path) -> bytes:
    data = path.read_bytes()
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)[0].public_bytes(
            serialization.Encoding.DER)
    return x509.load_der_x509_certificate(data).public_bytes(serialization.Encoding.DER)


def _verify(args: argparse.Namespace) -> int:
    path: Path = args.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"{PROG} verify: UNREADABLE: cannot read {path}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_INPUT
    expected = None
    if args.ca is not None:
        try:
            expected = read_ca(args.ca)
        except Exception as exc:  # any unreadable file: one line, exit 2
            print(f"{PROG} verify: error: cannot read the CA certificate {args.ca}: {exc}",
                  file=sys.stderr)
            return EXIT_USAGE
    try:
        report = verify_bundle(data, expected_ca=expected)
    except EvidenceError as exc:
        print(f"{PROG} verify: {exc.outcome.upper()}: {path}: {exc.message}", file=sys.stderr)
        return EXIT_CODES[exc.outcome]
    text = (json.dumps(report_json(report), ensure_ascii=False, indent=1) + "\n"
            if args.json else render_report(report, str(path)))
    sys.stdout.write(text)
    return EXIT_OK


# --- export ----------------------------------------------------------------------------------
class ExportRefused(Exception):
    """The export cannot be made; ``code`` is the exit code, the message says why."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def select(items: Sequence[Received], ids: Sequence[str]) -> list[Received]:
    """The alerts named, plus the permission notices their handling codes need, in offset
    order; :class:`ExportRefused` for an unknown, unverified or restricted alert."""
    by_id: dict[str, Received] = {r.envelope.id: r for r in items if r.envelope is not None}
    chosen: dict[int, Received] = {}
    for aid in ids:
        found = by_id.get(aid)
        if found is None:
            raise ExportRefused(EXIT_INPUT, f"alert {aid} is not in the channel's history")
        if not found.verified:
            raise ExportRefused(EXIT_CODES["tampered"], f"alert {aid} (offset "
                                f"{found.offset}) fails verification: {found.reason}")
        chosen[found.offset] = found
    permissions = [r for r in items if r.verified and r.envelope is not None
                   and r.envelope.kind == "notice"
                   and r.envelope.body.get("permission") == PERMISSION_EVIDENCE]
    for r in list(chosen.values()):
        env = r.envelope
        assert env is not None
        needs = RESTRICTED_HANDLING.intersection(handling_codes(env))
        if not needs:
            continue
        granted = next((p for p in permissions if p.envelope is not None
                        and permits(p.envelope, env)), None)
        if granted is None:
            raise ExportRefused(EXIT_CODES["restricted"], (
                f"alert {env.id} is handling {', '.join(sorted(needs))}: it may not be "
                f"passed on or used as evidence without the permission of its sender's "
                f"administration ({env.sender.split('/')[0]}), and none is recorded in the "
                f"channel. Ask them to run: cordon evidence permit {env.channel} --ids "
                f"{env.id}"))
        chosen[granted.offset] = granted
    return [chosen[o] for o in sorted(chosen)]


def read_crl(path: Path) -> bytes:
    data = path.read_bytes()
    crl = (x509.load_pem_x509_crl(data) if b"-----BEGIN" in data
           else x509.load_der_x509_crl(data))
    return crl.public_bytes(serialization.Encoding.DER)


async def _checkpoint_covering(client: Client, channel: str, offset: int,
                               epoch: str) -> SignedCheckpoint:
    """The hub's newest signed checkpoint once it covers ``offset`` (checkpoints are
    signed in batches: waits up to :data:`CHECKPOINT_WAIT_S`)."""
    deadline = time.monotonic() + CHECKPOINT_WAIT_S
    while True:
        signed = await client.checkpoint(channel)
        cp = signed.checkpoint
        if cp.epoch != epoch:
            raise ExportRefused(EXIT_REFUSED, f"the channel's epoch changed ({epoch} → "
                                f"{cp.epoch}) while exporting: run the export again")
        if cp.size >= offset:
            return signed
        if time.monotonic() > deadline:
            raise ExportRefused(EXIT_REFUSED, f"the hub's newest checkpoint covers "
                                f"{cp.size} alerts, not yet offset {offset}: try again "
                                "in a moment")
        await asyncio.sleep(0.5)


async def export_bundle(client: Client, channel: str, ids: Sequence[str], *, ca: bytes,
                        crl: bytes | None = None) -> bytes:
    """Connect, collect and prove the alerts ``ids`` of ``channel``; the bundle's bytes,
    checked (``verify_bundle`` with ``ca`` pinned) before they are returned. ``crl``
    (DER): the CRL to carry; None: the one the hub serves, verified against the client's
    CA (:meth:`Client.crl`)."""
    async with client:
        return await make_bundle(client, channel, ids, ca=ca, crl=crl)


async def make_bundle(client: Client, channel: str, ids: Sequence[str], *, ca: bytes,
                      crl: bytes | None = None,
                      items: Sequence[Received] | None = None) -> bytes:
    """:func:`export_bundle` on a client already in use (the desk's): ``items`` are the
    channel's verified alerts when the caller holds them (else the history is read)."""
    epoch = next((c.epoch for c in await client.channels() if c.ch == channel), "")
    if items is None:
        items = await collect(client, channel)
    chosen = select(items, ids)
    for r in chosen:
        if r.chain_broken:
            log.warning("alert %s shows a broken sender chain (%s): %s",
                        r.envelope.id if r.envelope else "?", r.chain, r.chain_detail)
    if crl is None:  # first: the checkpoint's log key is then checked against it too
        try:
            crl = (await client.crl()).public_bytes(serialization.Encoding.DER)
        except CRLError as exc:
            raise ExportRefused(EXIT_CODES["unverifiable"], f"{exc}: give the CA's CRL of "
                                "the day with --crl FILE") from exc
    signed = await _checkpoint_covering(client, channel, chosen[-1].offset, epoch)
    size = signed.checkpoint.size
    proofs = await client.prove_inclusion(channel, epoch, size, [r.offset for r in chosen],
                                          alerts={r.offset: r.alert for r in chosen})
    certs = await client.directory([r.envelope.kid for r in chosen if r.envelope])
    alerts = [BundleAlert(alert=r.alert, sig=r.sig, cert=certs.get(r.envelope.kid, b"")
                          if r.envelope else b"", offset=r.offset,
                          proof=proofs.get(r.offset, [])) for r in chosen]
    data = encode_bundle(
        alerts=alerts,
        checkpoint=SignedCheckpointParts(data=signed.data, sig=signed.sig,
                                         cert=signed.cert_der),
        ca=ca, crl=crl, created=time.time_ns() // 1_000_000,
        exporter=str(client.identity.principal))
    try:
        verify_bundle(data, expected_ca=ca)
    except EvidenceError as exc:
        raise ExportRefused(EXIT_CODES[exc.outcome], f"the bundle made from what the hub "
                            f"sent does not verify ({exc.outcome}): {exc.message}") from exc
    return data


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` (mode 0600: handling-coded records), atomically."""
    write_atomic(path, data, mode=_FILE_MODE)


def _ids(text: str) -> list[str]:
    ids = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not 1 <= len(ids) <= MAX_EVIDENCE_ALERTS:
        raise ValueError(f"--ids must name 1 to {MAX_EVIDENCE_ALERTS} alerts")
    for aid in ids:
        try:
            check_alert_id(aid)
        except InvalidFrame:
            raise ValueError(f"--ids: {aid!r} is not an alert id") from None
    return ids


def _crl_override(args: argparse.Namespace) -> Path | None:
    """``--crl``, else ``CORDON_CRL``; None: the CRL the hub serves (verified)."""
    if args.crl is not None:
        return Path(args.crl)
    env = os.environ.get("CORDON_CRL")
    return Path(env) if env else None


def _export(args: argparse.Namespace) -> int:
    prog = f"{PROG} export"
    crl_path = _crl_override(args)
    try:
        crl = None if crl_path is None else read_crl(crl_path)
        ca = read_ca(Path(args.ca))
    except Exception as exc:  # any unreadable file: one line, exit 4
        print(f"{prog}: error: cannot read {crl_path or '(no CRL file)'} / {args.ca}: {exc}",
              file=sys.stderr)
        return EXIT_INPUT
    out: Path = args.out or Path(
        f"{args.channel}-evidence-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.cordon-evidence")
    client = open_client(prog, args)
    if isinstance(client, int):
        return client
    if crl_path is not None:  # the log key is checked against the same CRL
        client.configure_checkpoints(crl=crl_path)
    try:
        data = run_refusable(prog, export_bundle(client, args.channel, args.ids, ca=ca,
                                                 crl=crl), channel=args.channel, ca=args.ca)
    except ExportRefused as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return exc.code
    if isinstance(data, int):
        return data
    try:
        write_private(out, data)
    except OSError as exc:
        print(f"{prog}: error: cannot write {out}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    report = verify_bundle(data, expected_ca=ca)
    extra = sum(1 for a in report.alerts if a.is_permission)
    print(f"{prog}: wrote {out} ({len(data)} bytes): {len(report.alerts) - extra} alert(s)"
          + (f" and {extra} permission(s)" if extra else "")
          + f", the log at size {report.checkpoint.size} ({report.fingerprint}); check it "
          f"with: cordon evidence verify {out}", file=sys.stderr)
    return EXIT_OK


# --- permit ----------------------------------------------------------------------------------
def permission_body(ids: Iterable[str], text: str | None = None) -> dict[str, Any]:
    """The notice body that permits ``ids`` in evidence bundles (Appendix A.9)."""
    links = list(ids)
    return {"schema": 1, "handling": "H0", "title": "Permission: evidence",
            "text": text or ("Our administration permits the alerts linked to be passed "
                             "on and used as evidence."),
            "permission": PERMISSION_EVIDENCE, "links": links}


async def _publish_permission(client: Client, channel: str, ids: list[str],
                              text: str | None) -> Any:
    async with client:
        return await client.publish(channel, "notice", permission_body(ids, text))


def _permit(args: argparse.Namespace) -> int:
    prog = f"{PROG} permit"
    client = open_client(prog, args)
    if isinstance(client, int):
        return client
    ack = run_refusable(prog, _publish_permission(client, args.channel, args.ids, args.text),
                        channel=args.channel, ca=args.ca)
    if isinstance(ack, int):
        return ack
    print(json.dumps({"id": ack.alert_id, "offset": ack.offset, "epoch": ack.epoch,
                      "dup": ack.dup, "permits": args.ids}))
    return EXIT_OK


# --- command line ----------------------------------------------------------------------------
def _connected(p: argparse.ArgumentParser) -> None:
    add_channel_argument(p)
    add_connection_options(p)
    p.add_argument("--ids", required=True, metavar="ID,…", help="the alert ids, comma-"
                   "separated")
    p.add_argument("--retries", type=int, default=1, metavar="N",
                   help="connection tries, with back-off (default 1: fail fast)")
    p.add_argument("-v", "--verbose", action="store_true", help="log connection events")


def parser() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The command's parser and its sub-commands' (export, verify, permit)."""
    p = argparse.ArgumentParser(prog=PROG, description="Evidence bundles: export alerts "
                                "with the proof that the channel's log contained them, and "
                                "verify such a file offline.", epilog=_EPILOG)
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    exp = sub.add_parser("export", help="write the alerts named and their proofs to one file",
                         description="Write ONE self-contained evidence file (PROTOCOL.md "
                         "Appendix D) for the alerts named.", epilog=_EPILOG)
    _connected(exp)
    exp.add_argument("--out", "-o", type=Path, metavar="FILE", help="the file to write "
                     "(default CHANNEL-evidence-TIME.cordon-evidence; mode 0600)")
    exp.add_argument("--crl", type=Path, metavar="CRL", help="carry this CRL (PEM or DER; "
                     "env CORDON_CRL) instead of the one the hub serves, which is verified "
                     "against --ca (default)")
    ver = sub.add_parser("verify", help="check an evidence file offline and say what it proves",
                         description="Check an evidence file with nothing else (no hub, no "
                         "network) and print who said what, when, and that the channel's "
                         "log contained it.", epilog=_EPILOG)
    ver.add_argument("file", type=Path, metavar="FILE", help="the evidence file")
    ver.add_argument("--ca", type=Path, metavar="PEM", help="trust only this CA (else the "
                     "bundle's own CA, whose SHA-256 the report prints for you to compare)")
    ver.add_argument("--json", action="store_true", help="the report as JSON")
    per = sub.add_parser("permit", help="permit alerts of your administration in evidence "
                         "bundles (publishes the permission notice)",
                         description="Publish, as the sender's administration, the notice "
                         "that permits the alerts named (handling H1/H2/H3) to be passed on "
                         "and used as evidence.", epilog=_EPILOG)
    _connected(per)
    per.add_argument("--text", metavar="TEXT", help="the notice's text (default: a standard "
                     "sentence)")
    return p, {"export": exp, "verify": ver, "permit": per}


def main(argv: list[str] | None = None) -> int:
    p, subs = parser()
    try:
        args = p.parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        p.print_usage(sys.stderr)
        print(f"{PROG}: error: choose export, verify or permit", file=sys.stderr)
        return EXIT_USAGE
    if args.command == "verify":
        return _verify(args)
    from client.cli import resolve_channel

    if resolve_channel(subs[args.command], args) is None:
        return EXIT_USAGE
    problem = None
    try:
        args.ids = _ids(args.ids)
    except ValueError as exc:
        problem = str(exc)
    if conn_problem := connection_problem(args):
        problem = conn_problem
    elif args.retries < 1:
        problem = "--retries must be at least 1"
    if problem:
        print(f"{PROG} {args.command}: error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format=f"{PROG}: %(message)s", stream=sys.stderr)
    return _export(args) if args.command == "export" else _permit(args)
