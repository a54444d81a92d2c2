"""Load-generator roles against NATS JetStream (nats-py), mirroring bench.gen_hub.

Payload: the same signed 1 KiB Cordon alert (signature + envelope bytes), so the bytes
on the wire match. Subscribers are JetStream push consumers: ordered consumers (no
acks) by default, or explicit-ack consumers acking every message (``acks``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from typing import Any

import msgpack
import nats
from nats.aio.client import Client as NATS
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from bench.common import Creds, MemberSigner, load_key, sign_alerts, signed_now
from bench.procs import Ctl
from bench.wsclient import client_tls

__all__ = ["idle", "publisher", "subscribers"]

_unpackb = msgpack.unpackb
_contexts: dict[str, ssl.SSLContext] = {}


def _ctx(c: Creds) -> ssl.SSLContext:
    ctx = _contexts.get(c.cert)
    if ctx is None:
        ctx = _contexts[c.cert] = client_tls(c.ca, c.cert, c.key)
    return ctx


async def _connect(spec: dict[str, Any], c: Creds) -> NATS:
    # A cluster target gives all its servers' URLs (nats-py picks one at random).
    servers = spec.get("servers") or f"tls://{spec['host']}:{spec['port']}"
    return await nats.connect(servers, tls=_ctx(c),
                              tls_hostname=spec["host"], allow_reconnect=False,
                              connect_timeout=30, max_outstanding_pings=10)


def _sseq(reply: str) -> int:
    tokens = reply.split(".")
    return int(tokens[5] if len(tokens) == 9 else tokens[7])


class _Sub:
    def __init__(self, expect: int, *, latency: bool, acks: bool,
                 decode_alerts: bool = False) -> None:
        self.expect = expect
        self.decode_alerts = decode_alerts
        self.count = 0
        self.last = 0
        self.in_order = True
        self.t_done = 0.0
        self.latency = latency
        self.acks = acks
        self.lat_ns: list[int] = []
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def on_msg(self, msg: Any) -> None:
        seq = _sseq(msg.reply)
        if seq != self.last + 1:
            self.in_order = False
        self.last = seq
        self.count += 1
        if self.latency:
            env = _unpackb(msg.data[64:])
            self.lat_ns.append(time.time_ns() - int(env["body"]["title"][5:]))
        elif self.decode_alerts:  # a member system reads every alert it receives
            _unpackb(msg.data[64:])
        if self.acks:
            await msg.ack()
        if self.count >= self.expect and not self.done.done():
            self.t_done = time.monotonic()
            self.done.set_result(None)


async def subscribers(spec: dict[str, Any], ctl: Ctl) -> dict[str, Any]:
    from bench.gen_hub import _until_done

    creds = [Creds(**c) for c in spec["creds"]]
    subject, expect = spec["channel"], spec["expect"]
    acks = bool(spec.get("acks"))
    ncs = [await _connect(spec, c) for c in creds]
    subs = [_Sub(expect, latency=spec.get("latency", False), acks=acks,
                 decode_alerts=bool(spec.get("decode_alerts"))) for _ in creds]

    async def subscribe_all() -> None:
        for nc, st in zip(ncs, subs, strict=True):
            js = nc.jetstream()
            if acks:
                await js.subscribe(subject, cb=st.on_msg, manual_ack=True,
                                   config=ConsumerConfig(ack_policy=AckPolicy.EXPLICIT,
                                                         deliver_policy=DeliverPolicy.ALL),
                                   pending_msgs_limit=1_000_000,
                                   pending_bytes_limit=2**31)
            else:
                await js.subscribe(subject, cb=st.on_msg, ordered_consumer=True,
                                   pending_msgs_limit=1_000_000,
                                   pending_bytes_limit=2**31)

    if not spec.get("subscribe_on_go"):
        await subscribe_all()
    ctl.send("ready")
    await ctl.go()
    t_sub = time.monotonic()
    if spec.get("subscribe_on_go"):
        await subscribe_all()
    timed_out = await _until_done([s.done for s in subs], ctl, spec["deadline_s"])
    usage = ctl.usage()
    for nc in ncs:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(nc.close(), 5)
    return {
        **usage, "t_go": ctl.t0, "t_sub": t_sub, "timed_out": timed_out,
        "counts": [s.count for s in subs], "in_order": all(s.in_order for s in subs),
        "t_done": [s.t_done for s in subs], "errors": [], "verified": 0,
        "lat_ns": [v for s in subs for v in s.lat_ns],
        "lat_first_ns": subs[0].lat_ns if subs else [],
    }


async def publisher(spec: dict[str, Any], ctl: Ctl) -> dict[str, Any]:
    creds = [Creds(**c) for c in spec["creds"]]
    subject, window, rate = spec["channel"], spec.get("window", 256), spec.get("rate")
    rate_f = float(rate or 0)
    member = bool(spec.get("member"))
    payloads: list[list[bytes]] = []
    signers: list[MemberSigner | None] = [None] * len(creds)
    if rate is None and member:  # signed at publish time (bench.gen_hub.publisher)
        signers = [MemberSigner(c, subject.replace(".", "-")) for c in creds]
        payloads = [[b""] * spec["count"] for _ in creds]
    elif rate is None:
        for i, c in enumerate(creds):
            alerts = sign_alerts(c, subject.replace(".", "-"), spec["count"],
                                 tag=f"{spec['tag']}-{i}")
            payloads.append([sig + alert for alert, sig in alerts])
    ncs = [await _connect(spec, c) for c in creds]
    # Which server each connection landed on (a cluster target gives several URLs).
    ports = [nc.connected_url.port if nc.connected_url else None for nc in ncs]
    ctl.send("ready")
    await ctl.go()
    acked = 0
    errors: dict[str, int] = {}
    t_last = 0.0

    async def one(js: Any, payload: bytes) -> None:
        nonlocal acked, t_last
        try:
            await js.publish(subject, payload, timeout=30)
            acked += 1
            t_last = time.monotonic()
        except Exception as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1

    async def fast(nc: NATS, todo: list[bytes], signer: MemberSigner | None) -> None:
        js = nc.jetstream()
        it = iter(todo)

        async def lane() -> None:
            for payload in it:
                if signer is not None:
                    alert, sig = signer.sign()
                    payload = sig + alert
                await one(js, payload)

        await asyncio.gather(*(lane() for _ in range(min(window, len(todo)))))

    async def paced(nc: NATS, c: Creds) -> None:
        js = nc.jetstream()
        key = load_key(c.key)
        pad = "x" * 850
        signer = MemberSigner(c, subject.replace(".", "-"), pad=850) if member else None
        n = int(rate_f * spec["duration_s"])
        loop = asyncio.get_running_loop()
        start = loop.time()
        tasks = []
        for i in range(n):
            delay = start + i / rate_f - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if signer is not None:
                alert, sig = signer.sign(f"t_ns {time.time_ns()}")
            else:
                alert, sig, _t = signed_now(key, c, subject.replace(".", "-"),
                                            f"{spec['tag']}-{i:09d}", pad)
            tasks.append(asyncio.create_task(one(js, sig + alert)))
        await asyncio.gather(*tasks)

    timed_out = False
    try:
        async with asyncio.timeout(spec["deadline_s"]):
            if rate is None:
                await asyncio.gather(*(fast(nc, p, sg) for nc, p, sg in
                                       zip(ncs, payloads, signers, strict=True)))
            else:
                await paced(ncs[0], creds[0])
    except TimeoutError:
        timed_out = True
    usage = ctl.usage()
    for nc in ncs:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(nc.close(), 5)
    return {**usage, "t_go": ctl.t0, "timed_out": timed_out, "acked": acked,
            "errors": errors, "t_last_ack": t_last, "connected_ports": ports}


_CONNECT = (b'CONNECT {"verbose":false,"pedantic":false,"tls_required":true,'
            b'"lang":"python","version":"bench","protocol":1}\r\nPING\r\n')


async def _raw_connect(host: str, port: int, ctx: ssl.SSLContext
                       ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A bare NATS client connection: INFO, TLS upgrade (client certificate), CONNECT, PONG."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        info = await reader.readline()
        if not info.startswith(b"INFO"):
            raise ConnectionError("no INFO from nats-server")
        await writer.start_tls(ctx, server_hostname=host)
        writer.write(_CONNECT)
        await writer.drain()
        while True:
            line = await reader.readline()
            if line.startswith(b"PONG"):
                break
            if not line or line.startswith(b"-ERR"):
                raise ConnectionError(line.decode(errors="replace").strip() or "closed")
    except BaseException:
        writer.transport.abort()
        raise
    return reader, writer


async def idle(spec: dict[str, Any], ctl: Ctl) -> dict[str, Any]:
    from bench.gen_mqtt import hold_idle

    return await hold_idle(spec, ctl, _raw_connect, _ctx)
