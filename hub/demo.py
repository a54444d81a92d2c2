"""``cordon demo`` — Cordon's main job, end to end, on the embedded store.

Creates a throwaway CA and hub (embedded Valkey), enrols member
administrations, opens an operation channel, and has them exchange signed
alerts through the hub over mutual TLS: live delivery, a late joiner catching
up from history, an idempotent retry, and a forged alert caught by the
recipient. Everything it creates lives in one folder (a temporary one unless
``--dir`` is given) and is removed at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cordon demo", description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, help="folder for the CA, hub data and store "
                   "(default: a temporary folder)")
    p.add_argument("--keep", action="store_true", help="keep the folder afterwards")
    p.add_argument("--alerts", type=int, default=12, help="alerts each reporting member "
                   "publishes (default 12)")
    return p


def _say(text: str) -> None:
    print(text, flush=True)


async def _run(root: Path, alerts: int) -> int:
    from certs.ca import init_ca, issue_member, issue_server
    from client.sdk import Client
    from hub import admin
    from hub.config import Settings
    from hub.protocol.errors import CordonError
    from hub.server import Hub

    ca_dir = root / "ca"
    t0 = time.perf_counter()
    init_ca(ca_dir, name="Cordon Demo CA")
    server = issue_server(ca_dir, dns_names=["localhost"], ip_addresses=["127.0.0.1"])
    members = {"fr": "Direction générale des douanes", "de": "Generalzolldirektion",
               "nl": "Douane Nederland", "be": "AGD&A / AAD&A"}
    creds = {m: issue_member(ca_dir, member=m, name="ops") for m in members}
    _say(f"1. CA created in {ca_dir}; server certificate and {len(creds)} member "
         f"certificates issued (Ed25519)")

    settings = Settings(host="127.0.0.1", port=0, data_dir=root / "hub", ca_dir=ca_dir,
                        server_cert=server.cert, server_key=server.key)
    hub = Hub(settings)
    await hub.start()
    try:
        url = f"wss://127.0.0.1:{hub.port}/"
        _say(f"2. Hub listening on {url} — embedded Valkey, durability: "
             f"{hub.store.durability}")
        for member, name in members.items():
            rec = await hub.store.member(member)
            if rec is not None:
                _say(f"   enrolled {member}/ops ({name})")
        await admin.create_channel(hub.store, "stop-iii", title="Operation STOP III")
        roles = {"fr": "coordinator", "de": "contributor", "nl": "contributor",
                 "be": "reader"}
        for member, role in roles.items():
            await admin.grant(hub.store, "stop-iii", member, role)
        _say("3. Channel stop-iii opened: " + ", ".join(f"{m} {r}" for m, r in roles.items()))

        def client(member: str) -> Client:
            c = creds[member]
            return Client(url, cert=c.cert, key=c.key, ca=c.ca)

        received: list[str] = []
        async with client("fr") as fr, client("de") as de, client("nl") as nl:
            live = fr.subscribe("stop-iii", since=0)

            async def follow() -> None:
                async with live:
                    async for item in live:
                        env = item.envelope
                        mark = "verified" if item.verified else f"NOT VERIFIED ({item.reason})"
                        sender = env.sender if env else "?"
                        received.append(f"#{item.offset} {sender} {env.kind if env else '?'}")
                        if item.offset <= 3 or not item.verified:
                            _say(f"   fr received #{item.offset} from {sender}: "
                                 f"{env.kind if env else '?'} — signature {mark}")

            follower = asyncio.create_task(follow())
            await asyncio.sleep(0.2)
            _say(f"4. fr follows the channel live; de and nl publish {alerts} alerts each, "
                 "concurrently")
            t1 = time.perf_counter()
            body: dict[str, Any] = {"place": "DEHAM", "goods": "falsified medicines"}
            acks = await asyncio.gather(*(
                c.publish("stop-iii", "seizure", {**body, "n": i})
                for i in range(alerts) for c in (de, nl)
            ))
            dt = time.perf_counter() - t1
            offsets = sorted(a.offset for a in acks)
            _say(f"   {len(acks)} acks, offsets {offsets[0]}..{offsets[-1]}, each durable "
                 f"before acknowledged ({len(acks) / dt:,.0f} alerts/s)")

            signed = de.sign("stop-iii", "notice", {"text": "retry me"}, alert_id="de-retry-1")
            a1 = await de.publish_signed("stop-iii", signed.alert, signed.sig)
            a2 = await de.publish_signed("stop-iii", signed.alert, signed.sig)
            _say(f"5. de retries alert de-retry-1: first ack offset {a1.offset}, retry ack "
                 f"offset {a2.offset} dup={a2.dup} — stored once")

            other = nl.sign("stop-iii", "notice", {"text": "tampered"}, alert_id="nl-tamper-1")
            tampered = bytes([other.sig[0] ^ 0xFF]) + other.sig[1:]
            try:
                await nl.publish_signed("stop-iii", other.alert, tampered)
            except CordonError as exc:
                _say(f"6. a tampered signature is refused by the hub: {exc.phrase} "
                     f"(code {exc.code}); nothing stored")

            total = 2 * alerts + 1
            async with client("be") as be:
                late = be.subscribe("stop-iii", since=0)
                got = []
                async with late:
                    async for item in late:
                        got.append(item)
                        if len(got) == total:
                            break
                ok = all(i.verified for i in got)
                _say(f"7. be joins late and gets {len(got)} alerts from history, offsets "
                     f"{got[0].offset}..{got[-1].offset}, gap-free: "
                     f"{[i.offset for i in got] == list(range(1, total + 1))}, all verified: "
                     f"{ok}")
            await asyncio.sleep(0.3)
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        _say(f"8. fr received {len(received)} alerts live, in offset order: "
             f"{[int(r.split()[0][1:]) for r in received] == list(range(1, len(received) + 1))}")
        _say(f"Done in {time.perf_counter() - t0:.1f} s.")
    finally:
        await hub.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.alerts < 1 or args.alerts > 100_000:
        print("cordon demo: error: --alerts must be 1..100000", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    root = args.dir or Path(tempfile.mkdtemp(prefix="cordon-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        return asyncio.run(_run(root, args.alerts))
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(root, ignore_errors=True)
