"""The ``cordon admin`` commands: one coroutine per command, run on a connected client;
they print for people (tables) or scripts (``--json``)."""

from __future__ import annotations

import argparse
import csv
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from certs.files import write_atomic
from client._admin_common import (
    _AUDIT_PAGE,
    _DAY_MS,
    AUDIT_COLUMNS,
    EXIT_OK,
    _BadInput,
    _clean,
    _Failed,
    _fields,
    _json,
    _table,
    _when,
)
from client.sdk import Client

# --- members ---------------------------------------------------------------------------------


async def _member_add(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("member.add", {"id": args.id, "name": args.name,
                                     "country": args.country})
    m = r["member"]
    if args.json:
        _json(r, out)
    elif r.get("unchanged"):
        print(f"member {m['id']} unchanged (already enrolled as {_clean(m['name'])}, "
              f"{m['country']})", file=out)
    else:
        print(f"added member {m['id']} ({_clean(m['name'])}, {m['country']})", file=out)
    return EXIT_OK


#: Pages fetched by one listing at most (each up to 1,000 records; PROTOCOL.md §6.8).
_MAX_PAGES = 10_000


async def list_all(c: Client, op: str, key: str, args: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
    """Every record of a paged list operation (``member.list``, ``principal.list``,
    ``channel.list``: PROTOCOL.md §6.8), fetched page by page: ``{key: [...]}``."""
    records: list[dict[str, Any]] = []
    after: str | None = None
    for _ in range(_MAX_PAGES):
        page = await c.admin(op, {**(args or {}), **({"after": after} if after else {})})
        records += page[key]
        after = page.get("next")
        if not after:
            break
    return {key: records}


async def _member_list(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await list_all(c, "member.list", "members")
    if args.json:
        _json(r, out)
    elif not r["members"]:
        print("no members", file=out)
    else:
        _table(("ID", "NAME", "COUNTRY", "STATUS", "PRINCIPALS", "SINCE"),
               [(m["id"], m["name"], m["country"], m["status"], m["principals"],
                 _when(m["created"], day=True)) for m in r["members"]], out)
    return EXIT_OK


def _cert_rows(pid: str, kind: str, certs: list[dict[str, Any]]) -> list[tuple[object, ...]]:
    return [(pid, kind, c["status"], _when(c["not_after"], day=True), c["serial"], c["kid"])
            for c in certs] or [(pid, kind, "no certificate", "-", "-", "-")]


_CERT_HEADERS = ("PRINCIPAL", "KIND", "STATUS", "EXPIRES", "SERIAL", "FINGERPRINT (KID)")


async def _member_show(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("member.show", {"id": args.id})
    if args.json:
        _json(r, out)
        return EXIT_OK
    m = r["member"]
    _fields([("member", m["id"]), ("name", m["name"]), ("country", m["country"]),
             ("status", m["status"]), ("since", _when(m["created"]))], out)
    print(file=out)
    rows = [row for p in r["principals"] for row in _cert_rows(p["id"], p["kind"], p["certs"])]
    if rows:
        _table(_CERT_HEADERS, rows, out)
    else:
        print("no principals", file=out)
    print(file=out)
    if r["roles"]:
        _table(("CHANNEL", "ROLE"), sorted(r["roles"].items()), out)
    else:
        print("no channel roles", file=out)
    return EXIT_OK


async def _member_update(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    changes = {k: v for k, v in (("name", args.name), ("country", args.country))
               if v is not None}
    r = await c.admin("member.update", {"id": args.id, **changes})
    m = r["member"]
    if args.json:
        _json(r, out)
    else:
        print(f"updated member {m['id']} ({_clean(m['name'])}, {m['country'] or '-'})",
              file=out)
    return EXIT_OK


async def _member_suspend(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("member.suspend", {"id": args.id})
    if args.json:
        _json(r, out)
    else:
        print(f"member {args.id} suspended: its sessions are closed and it cannot connect "
              "until reinstated", file=out)
    return EXIT_OK


async def _member_reinstate(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("member.reinstate", {"id": args.id})
    if args.json:
        _json(r, out)
    else:
        print(f"member {args.id} reinstated", file=out)
    return EXIT_OK


# --- principals and certificates ------------------------------------------------------------


def _paths(args: argparse.Namespace) -> tuple[Path, Path, Path]:
    base = str(args.principal).replace("/", "-")
    return args.out / f"{base}.pem", args.out / f"{base}.key", args.out / "ca.pem"


def _prepare_out(args: argparse.Namespace) -> None:
    """Before asking the hub to issue anything: is the request readable, can the
    credentials be written? (With --csr the member's key may already sit in --out.)"""
    cert, key, _ca = _paths(args)
    if args.csr is not None:
        try:
            args.csr_text = args.csr.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise _BadInput(f"cannot read the certificate request {args.csr}: "
                            f"{getattr(exc, 'strerror', None) or 'not PEM text'}") from exc
    if args.out.exists() and not args.out.is_dir():
        raise _BadInput(f"{args.out} is not a folder")
    if not args.force:
        for path in (cert,) if args.csr is not None else (cert, key):
            if path.exists() and not (args.csr is not None and _same_key(path, args.csr_text)):
                raise _BadInput(f"{path} already exists (use --force to replace it)")
    try:
        args.out.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise _BadInput(f"cannot create {args.out}: {exc.strerror}") from exc
    if not os.access(args.out, os.W_OK):
        raise _BadInput(f"cannot write to {args.out}")


def _same_key(cert_path: Path, csr_pem: str) -> bool:
    """Is ``cert_path`` a certificate for the key of ``csr_pem``? Then a re-run of the same
    ``principal add --csr`` may rewrite it: it can only get that key's certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        csr = x509.load_pem_x509_csr(csr_pem.encode("ascii"))
        raw = [k.public_bytes(Encoding.Raw, PublicFormat.Raw)
               for k in (cert.public_key(), csr.public_key())]
    except (OSError, ValueError, TypeError):
        return False
    return raw[0] == raw[1]


def _write(path: Path, data: str, mode: int) -> None:
    """Write ``data`` to ``path`` with exactly ``mode``, atomically (temp file, rename)."""
    write_atomic(path, data.encode("ascii"), mode=mode)


def _save_credentials(args: argparse.Namespace, r: dict[str, Any]) -> dict[str, str]:
    cert, key, ca = _paths(args)
    files = {"cert": str(cert), "ca": str(ca)}
    try:
        if r.get("key") is not None:  # central generation (--generate-key) only
            _write(key, r["key"], 0o600)
            files["key"] = str(key)
        _write(cert, r["cert"], 0o644)
        if not ca.exists() or ca.read_text(encoding="ascii", errors="replace") != r["ca"]:
            _write(ca, r["ca"], 0o644)
    except OSError as exc:
        raise _Failed(f"certificate {r['kid']} was issued but cannot be written "
                      f"({exc.strerror}); revoke it with 'cordon admin cert revoke "
                      f"{r['kid']}' and issue again") from exc
    return files


async def _issue(args: argparse.Namespace, c: Client, out: IO[str], op: str,
                 request: dict[str, Any]) -> int:
    r = await c.admin(op, request)
    files = _save_credentials(args, r)
    shown = {k: v for k, v in r.items() if k not in ("cert", "key", "ca")}
    if args.json:
        _json({**shown, "files": files}, out)
        return EXIT_OK
    if r.get("unchanged"):
        print(f"principal {r['principal']} unchanged: it already holds a certificate for "
              "this request's key", file=out)
    else:
        print(f"issued {r['kind']} certificate for {r['principal']}", file=out)
    key = (f"{files['key']}  (private, mode 0600)" if "key" in files
           else "kept by the member (issued from its certificate request)")
    _fields([("  kid", r["kid"]), ("  serial", r["serial"]),
             ("  expires", _when(r["not_after"])), ("  cert", files["cert"]),
             ("  key", key), ("  ca", files["ca"])], out)
    if "key" not in files:
        print(f"Send {Path(files['cert']).name} and {Path(files['ca']).name} to the member.",
              file=out)
    return EXIT_OK


def _key_source(args: argparse.Namespace) -> dict[str, Any]:
    if args.csr is not None:
        return {"csr": args.csr_text}
    return {"generate_key": True}


async def _principal_add(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    member, name = args.principal.split("/")
    return await _issue(args, c, out, "principal.add",
                        {"member": member, "name": name, "kind": args.kind, "days": args.days,
                         **_key_source(args)})


async def _principal_issue(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    return await _issue(args, c, out, "principal.issue",
                        {"principal": args.principal, "days": args.days,
                         **_key_source(args)})


async def _principal_list(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await list_all(c, "principal.list", "principals",
                       None if args.member is None else {"member": args.member})
    if args.json:
        _json(r, out)
    elif not r["principals"]:
        print("no principals", file=out)
    else:
        _table(("PRINCIPAL", "KIND", "STATUS", "ACTIVE CERTS", "EXPIRES"),
               [(p["id"], p["kind"] or "-", p["status"], p["certs"],
                 _when(p["expires"], day=True)) for p in r["principals"]], out)
    return EXIT_OK


async def _principal_show(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("principal.show", {"principal": args.principal})
    if args.json:
        _json(r, out)
    else:
        p = r["principal"]
        _fields([("principal", p["id"]), ("kind", p["kind"] or "-"), ("status", p["status"]),
                 ("expires", _when(p["expires"]))], out)
        print(file=out)
        _table(_CERT_HEADERS, _cert_rows(p["id"], p["kind"] or "-", p["certs"]), out)
    return EXIT_OK


async def _revoke(args: argparse.Namespace, c: Client, out: IO[str],
                  request: dict[str, Any]) -> int:
    r = await c.admin("cert.revoke", {**request, "reason": args.reason})
    if args.json:
        _json(r, out)
    else:
        for cert in r["revoked"]:
            print(f"revoked {cert['principal']} certificate {cert['kid']} "
                  f"(serial {cert['serial']}): its sessions are closed, new connections "
                  "refused", file=out)
        if r["crl"] is not None:
            print(f"CRL {r['crl']} published; every hub process reloads it", file=out)
    if r["crl"] is None:
        raise _Failed("revoked in the hub's registry, but the CA folder's CRL could not be "
                      "republished: check the hub's CA folder, then run 'cordon ca crl'")
    return EXIT_OK


async def _principal_revoke(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    return await _revoke(args, c, out, {"principal": args.principal})


async def _cert_revoke(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    return await _revoke(args, c, out, {"kid": args.kid})


# --- channels and roles ---------------------------------------------------------------------


async def _channel_create(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("channel.create", {
        "name": args.name, "title": args.title, "starts": args.starts, "ends": args.ends,
        "retention_ms": args.retention * _DAY_MS,
    })  # fmt: skip
    if args.json:
        _json(r, out)
    elif r.get("unchanged"):
        print(f"channel {args.name} unchanged (exists with these settings; "
              f"{r['channel']['state']}, epoch {r['channel']['epoch']})", file=out)
    else:
        print(f"created channel {args.name} (epoch {r['channel']['epoch']})", file=out)
    return EXIT_OK


def _period(ch: dict[str, Any]) -> str:
    if not ch["starts"] and not ch["ends"]:
        return "-"
    return f"{ch['starts'] or '?'} .. {ch['ends'] or '?'}"


async def _channel_list(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await list_all(c, "channel.list", "channels")
    if args.json:
        _json(r, out)
    elif not r["channels"]:
        print("no channels", file=out)
    else:
        _table(("CHANNEL", "TITLE", "STATE", "OPERATION", "RETENTION", "CREATED", "MEMBERS",
                "ALERTS", "LAST ACTIVITY"),
               [(ch["name"], ch["title"] or "-", ch["state"], _period(ch), _retention(ch),
                 _when(ch["created"], day=True), ch["members"], ch["alerts"],
                 _when(ch["last_activity"])) for ch in r["channels"]], out)
    return EXIT_OK


def _retention(ch: dict[str, Any]) -> str:
    return f"{ch['retention_ms'] // _DAY_MS} days" if ch["retention_ms"] else "forever"


async def _channel_show(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("channel.show", {"name": args.name})
    if args.json:
        _json(r, out)
        return EXIT_OK
    ch = r["channel"]
    retention = _retention(ch)
    _fields([("channel", ch["name"]), ("title", ch["title"] or "-"), ("state", ch["state"]),
             ("operation", _period(ch)), ("retention", retention), ("epoch", ch["epoch"]),
             ("alerts", f"{ch['alerts']} retained (offsets {ch['first']}..{ch['head']})"),
             ("last activity", _when(ch["last_activity"])), ("created", _when(ch["created"]))],
            out)
    print(file=out)
    if r["roles"]:
        _table(("MEMBER", "ROLE"), sorted(r["roles"].items()), out)
    else:
        print("no members", file=out)
    return EXIT_OK


async def _channel_state(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("channel.state", {"name": args.name, "state": args.state})
    if args.json:
        _json(r, out)
    else:
        note = {"closed": " (read-only: history stays readable)",
                "archived": " (for good; live subscriptions ended)"}.get(args.state, "")
        print(f"channel {args.name} is now {args.state}{note}", file=out)
    return EXIT_OK


async def _role_grant(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("role.grant", {"channel": args.channel, "member": args.member,
                                     "role": args.role})
    if args.json:
        _json(r, out)
    elif r.get("unchanged"):
        print(f"{args.member} is already {args.role} in {args.channel}: unchanged", file=out)
    else:
        was = f" (was {r['previous']})" if r["previous"] else ""
        print(f"{args.member} is now {args.role} in {args.channel}{was}", file=out)
    return EXIT_OK


async def _role_remove(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("role.remove", {"channel": args.channel, "member": args.member})
    if args.json:
        _json(r, out)
    else:
        print(f"removed {args.member} ({r['previous']}) from {args.channel}; its live "
              "subscriptions ended", file=out)
    return EXIT_OK


# --- audit -------------------------------------------------------------------------------------


def _audit_row(rec: dict[str, str]) -> dict[str, str]:
    ms = int(rec.get("id", "0-0").partition("-")[0] or 0)
    row = {col: rec.get(col, "") for col in AUDIT_COLUMNS}
    row["time"] = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
    row["time"] = row["time"].replace("+00:00", "Z")
    extra = {k: v for k, v in rec.items() if k not in AUDIT_COLUMNS}
    row["extra"] = ";".join(f"{k}={v}" for k, v in sorted(extra.items()))
    return row


def _csv_cell(value: str) -> str:
    """Neutralise spreadsheet formulas (a cell starting with = + - @ or a control)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


async def _audit_records(args: argparse.Namespace, c: Client) -> Any:
    after: str | None = None
    left = args.limit
    while True:
        request: dict[str, Any] = {"since_ms": args.since,
                                   "limit": _AUDIT_PAGE if left is None else
                                   min(_AUDIT_PAGE, left)}
        for key in ("principal", "action"):
            if getattr(args, key):
                request[key] = getattr(args, key)
        if after is not None:
            request["after"] = after
        page = await c.admin("audit.list", request)
        for rec in page["records"]:
            yield rec
        if left is not None:
            left -= len(page["records"])
        after = page["next"]
        if after is None or (left is not None and left <= 0):
            return


async def _audit(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    if args.output is not None:
        try:
            with args.output.open("w", encoding="utf-8", newline="") as fh:
                return await _audit_to(args, c, fh)
        except OSError as exc:
            raise _BadInput(f"cannot write {args.output}: {exc.strerror}") from exc
    return await _audit_to(args, c, out)


async def _audit_to(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    records = _audit_records(args, c)
    if args.json:
        _json({"records": [rec async for rec in records]}, out)
    elif args.format == "jsonl":
        async for rec in records:
            print(json.dumps(rec, ensure_ascii=False, sort_keys=True), file=out)
    elif args.format == "csv":
        writer = csv.writer(out)
        writer.writerow(AUDIT_COLUMNS)
        async for rec in records:
            row = _audit_row(rec)
            writer.writerow([_csv_cell(row[col]) for col in AUDIT_COLUMNS])
    else:
        rows = []
        async for rec in records:
            row = _audit_row(rec)
            details = [f"{k}={row[k]}" for k in ("code", "reason", "detail", "member",
                                                 "subject", "channel", "role", "state", "kid")
                       if row[k]]
            if row["extra"]:
                details.append(row["extra"].replace(";", " "))
            rows.append((row["time"], row["action"], row["principal"], row["peer"],
                         row["result"], " ".join(details)))
        if rows:
            _table(("TIME", "ACTION", "PRINCIPAL", "FROM", "RESULT", "DETAILS"), rows, out)
        else:
            print("no audit records", file=out)
    return EXIT_OK


# --- status ------------------------------------------------------------------------------------


def _counts(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "none"


async def _status(args: argparse.Namespace, c: Client, out: IO[str]) -> int:
    r = await c.admin("status", {})
    if args.json:
        _json(r, out)
        return EXIT_OK
    failed = [name for name, check in r["checks"].items() if not check["ok"]]
    print(f"answered by {r['node']}: "
          + ("ready" if r["ready"] else "NOT READY (" + ", ".join(
              f"{n}: {r['checks'][n]['detail']}" for n in failed) + ")"), file=out)
    print("\nhub nodes sharing the store", file=out)
    _table(("NODE", "PID", "WORKER", "READY", "CONNECTIONS", "DURABILITY", "STARTED"),
           [(n.get("node"), n.get("pid"), "-" if n.get("worker", -1) < 0 else n.get("worker"),
             "yes" if n.get("ready") else f"no: {n.get('reason', '')}", n.get("connections"),
             n.get("durability"), _when(n.get("started"))) for n in r["nodes"]], out)
    store, conns = r["store"], r["connections"]
    print("", file=out)
    _fields([("store", f"{store['kind']} {store['role']}, durability "
                       f"{store['durability']}, {store['restarts']} restart(s) seen"),
             ("connections", f"{conns['total']} (admin {conns['admin']}, officer "
                             f"{conns['officer']}, system {conns['system']}, unknown "
                             f"{conns['unknown']})"),
             ("send queues", f"{conns['send_queue_frames']} frames "
                             f"(fullest {conns['send_queue_frames_max']}), "
                             f"{conns['send_queue_bytes']} bytes"),
             ("publishes", f"{r['counters']['publishes_acked']} acked, "
                           f"{r['counters']['publishes_duplicate']} duplicate; refused "
                           f"{_counts(r['refused']['publishes'])}"),
             ("deliveries", f"{r['counters']['deliveries_live']} live, "
                            f"{r['counters']['deliveries_history']} from history"),
             ("refused", f"connections {_counts(r['refused']['connections'])}; TLS "
                         f"{_counts(r['refused']['tls'])}; slow consumers closed "
                         f"{r['counters']['slow_consumer_closes']:g}"),
             ], out)
    print("\nchannels", file=out)
    if r["channels"]:
        _table(("CHANNEL", "STATE", "HEAD", "FIRST", "SUBSCRIBERS", "EPOCH"),
               [(ch["name"], ch["state"], ch["head"], ch["first"], ch["subscribers"],
                 ch["epoch"]) for ch in r["channels"]], out)
    else:
        print("no channels", file=out)
    print("\nrecent refusals (this node)", file=out)
    if r["recent_refusals"]:
        _table(("TIME", "ACTION", "PRINCIPAL", "FROM", "CODE", "REASON"),
               [(_when(int(x["time"])), x.get("action"), x.get("principal"), x.get("peer"),
                 x.get("code", ""), x.get("reason", "")) for x in r["recent_refusals"]], out)
    else:
        print("none", file=out)
    return EXIT_OK
