"""Load-generator roles against Mosquitto (paho-mqtt, MQTT 3.1.1, QoS 1), mirroring
bench.gen_hub. paho's clients are driven by the asyncio loop (add_reader/add_writer),
as in paho's own asyncio example, so one process holds many clients.

Payload: 8-byte sequence number + signature + the signed 1 KiB Cordon alert.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import ssl
import struct
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgpack
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench.common import Creds, MemberSigner, load_key, sign_alerts, signed_now
from bench.procs import Ctl, open_and_hold
from bench.wsclient import client_tls

__all__ = ["hold_idle", "idle", "publisher", "subscribers"]

_unpackb = msgpack.unpackb
_contexts: dict[str, ssl.SSLContext] = {}
_OPEN_CONCURRENCY = 64


def _ctx(c: Creds) -> ssl.SSLContext:
    ctx = _contexts.get(c.cert)
    if ctx is None:
        ctx = _contexts[c.cert] = client_tls(c.ca, c.cert, c.key)
    return ctx


class _Paho:
    """One paho client on the running asyncio loop."""

    def __init__(self, c: Creds, client_id: str) -> None:
        self.loop = asyncio.get_running_loop()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv311, clean_session=True)
        self.client.tls_set_context(_ctx(c))
        self.client.max_queued_messages_set(0)
        self.client.on_socket_open = self._open
        self.client.on_socket_close = self._close
        self.client.on_socket_register_write = self._want_write
        self.client.on_socket_unregister_write = self._no_write
        self.client.on_connect = self._connected
        self.connected: asyncio.Future[None] = self.loop.create_future()
        self.sock: Any = None
        self._misc: asyncio.Task[None] | None = None

    def _open(self, client: Any, userdata: Any, sock: Any) -> None:
        self.sock = sock
        self.loop.add_reader(sock, self._read)
        self._misc = self.loop.create_task(self._misc_loop())

    def _read(self) -> None:
        while True:
            if self.client.loop_read() != mqtt.MQTT_ERR_SUCCESS or self.sock is None:
                return
            try:
                if not self.sock.pending():
                    return
            except (AttributeError, OSError, ValueError):
                return

    def _close(self, client: Any, userdata: Any, sock: Any) -> None:
        with contextlib.suppress(Exception):
            self.loop.remove_reader(sock)
            self.loop.remove_writer(sock)
        self.sock = None
        if self._misc is not None:
            self._misc.cancel()

    def _want_write(self, client: Any, userdata: Any, sock: Any) -> None:
        self.loop.add_writer(sock, self.client.loop_write)

    def _no_write(self, client: Any, userdata: Any, sock: Any) -> None:
        self.loop.remove_writer(sock)

    async def _misc_loop(self) -> None:
        while self.client.loop_misc() == mqtt.MQTT_ERR_SUCCESS:  # noqa: ASYNC110 (paho)
            await asyncio.sleep(1)

    def _connected(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if not self.connected.done():
            if rc == 0:
                self.connected.set_result(None)
            else:
                self.connected.set_exception(ConnectionError(f"CONNACK {rc}"))

    async def connect(self, host: str, port: int) -> None:
        # paho's connect is blocking (TCP + TLS handshake, a few ms on loopback); the
        # socket is then driven by this loop.
        self.client.connect(host, port, 600)
        await asyncio.wait_for(self.connected, 30)

    def disconnect(self) -> None:
        with contextlib.suppress(Exception):
            self.client.disconnect()


def _topic_channel(topic: str) -> str:
    return topic.replace("/", "-")


class _Sub:
    def __init__(self, expect: int, *, latency: bool, decode_alerts: bool = False) -> None:
        self.expect = expect
        self.decode_alerts = decode_alerts
        self.count = 0
        self.last = -1
        self.in_order = True
        self.t_done = 0.0
        self.latency = latency
        self.lat_ns: list[int] = []
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        payload = msg.payload
        seq = struct.unpack_from(">Q", payload)[0]
        if seq != self.last + 1:
            self.in_order = False
        self.last = seq
        self.count += 1
        if self.latency:
            env = _unpackb(payload[72:])
            self.lat_ns.append(time.time_ns() - int(env["body"]["title"][5:]))
        elif self.decode_alerts:  # a member system reads every alert it receives
            _unpackb(payload[72:])
        if self.count >= self.expect and not self.done.done():
            self.t_done = time.monotonic()
            self.done.set_result(None)

    def on_subscribe(self, client: Any, userdata: Any, mid: Any, rcs: Any, props: Any) -> None:
        if not self.subscribed.done():
            self.subscribed.set_result(None)


async def subscribers(spec: dict[str, Any], ctl: Ctl) -> dict[str, Any]:
    from bench.gen_hub import _until_done

    creds = [Creds(**c) for c in spec["creds"]]
    topic, expect = spec["channel"], spec["expect"]
    subs = [_Sub(expect, latency=spec.get("latency", False),
                 decode_alerts=bool(spec.get("decode_alerts"))) for _ in creds]
    clients = []
    for i, (c, st) in enumerate(zip(creds, subs, strict=True)):
        p = _Paho(c, f"{ctl_name(spec)}-s{i}")
        p.client.on_message = st.on_message
        p.client.on_subscribe = st.on_subscribe
        await p.connect(spec["host"], spec["port"])
        p.client.subscribe(topic, qos=1)
        clients.append(p)
    await asyncio.wait_for(asyncio.gather(*(s.subscribed for s in subs)), 30)
    ctl.send("ready")
    await ctl.go()
    timed_out = await _until_done([s.done for s in subs], ctl, spec["deadline_s"])
    usage = ctl.usage()
    for p in clients:
        p.disconnect()
    return {
        **usage, "t_go": ctl.t0, "t_sub": ctl.t0, "timed_out": timed_out,
        "counts": [s.count for s in subs], "in_order": all(s.in_order for s in subs),
        "t_done": [s.t_done for s in subs], "errors": [], "verified": 0,
        "lat_ns": [v for s in subs for v in s.lat_ns],
        "lat_first_ns": subs[0].lat_ns if subs else [],
    }


def ctl_name(spec: dict[str, Any]) -> str:
    """A prefix for client ids, unique per process (MQTT drops the older of two sessions
    with the same client id)."""
    base = str(spec.get("tag") or spec.get("channel", "bench")).replace("/", "-")
    return f"{base}-{os.getpid()}"


async def publisher(spec: dict[str, Any], ctl: Ctl) -> dict[str, Any]:
    creds = [Creds(**c) for c in spec["creds"]]
    topic, window, rate = spec["channel"], spec.get("window", 256), spec.get("rate")
    rate_f = float(rate or 0)
    channel = _topic_channel(topic)
    member = bool(spec.get("member"))
    payloads: list[list[bytes]] = []
    signers: list[MemberSigner | None] = [None] * len(creds)
    if rate is None and member:  # signed at publish time (bench.gen_hub.publisher)
        signers = [MemberSigner(c, channel) for c in creds]
        payloads = [[b""] * spec["count"] for _ in creds]
    elif rate is None:
        for i, c in enumerate(creds):
            alerts = sign_alerts(c, channel, spec["count"], tag=f"{spec['tag']}-{i}")
            payloads.append([struct.pack(">Q", n) + sig + alert
                             for n, (alert, sig) in enumerate(alerts)])
    clients = []
    for i, c in enumerate(creds):
        p = _Paho(c, f"{ctl_name(spec)}-p{i}")
        p.client.max_inflight_messages_set(max(window, 1))
        await p.connect(spec["host"], spec["port"])
        clients.append(p)
    ctl.send("ready")
    await ctl.go()
    state = {"acked": 0, "t_last": 0.0}
    finished: list[asyncio.Future[None]] = []

    def fast(p: _Paho, todo: list[bytes], signer: MemberSigner | None) -> asyncio.Future[None]:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        it = iter(enumerate(todo))
        left = [len(todo)]

        def send_next() -> None:
            for n, payload in it:
                if signer is not None:
                    alert, sig = signer.sign()
                    payload = struct.pack(">Q", n) + sig + alert
                p.client.publish(topic, payload, qos=1)
                return

        def on_publish(client: Any, userdata: Any, mid: Any, rc: Any, props: Any) -> None:
            state["acked"] += 1
            state["t_last"] = time.monotonic()
            left[0] -= 1
            send_next()
            if left[0] == 0 and not fut.done():
                fut.set_result(None)

        p.client.on_publish = on_publish
        for _ in range(min(window, len(todo))):
            send_next()
        return fut

    async def paced(p: _Paho, c: Creds) -> None:
        key = load_key(c.key)
        pad = "x" * 850
        signer = MemberSigner(c, channel, pad=850) if member else None
        n = int(rate_f * spec["duration_s"])
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_publish(client: Any, userdata: Any, mid: Any, rc: Any, props: Any) -> None:
            state["acked"] += 1
            state["t_last"] = time.monotonic()
            if state["acked"] >= n and not fut.done():
                fut.set_result(None)

        p.client.on_publish = on_publish
        loop = asyncio.get_running_loop()
        start = loop.time()
        for i in range(n):
            delay = start + i / rate_f - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if signer is not None:
                alert, sig = signer.sign(f"t_ns {time.time_ns()}")
            else:
                alert, sig, _t = signed_now(key, c, channel, f"{spec['tag']}-{i:09d}", pad)
            p.client.publish(topic, struct.pack(">Q", i) + sig + alert, qos=1)
        await fut

    timed_out = False
    try:
        async with asyncio.timeout(spec["deadline_s"]):
            if rate is None:
                finished = [fast(p, todo, sg) for p, todo, sg in
                            zip(clients, payloads, signers, strict=True)]
                await asyncio.gather(*finished)
            else:
                await paced(clients[0], creds[0])
    except TimeoutError:
        timed_out = True
    usage = ctl.usage()
    for p in clients:
        p.disconnect()
    return {**usage, "t_go": ctl.t0, "timed_out": timed_out, "acked": state["acked"],
            "errors": {}, "t_last_ack": state["t_last"]}


def _connect_packet(client_id: str) -> bytes:
    cid = client_id.encode()
    var = b"\x00\x04MQTT\x04\x02" + struct.pack(">H", 600)
    body = var + struct.pack(">H", len(cid)) + cid
    n, rem = len(body), b""
    while True:
        byte, n = n % 128, n // 128
        rem += bytes([byte | (0x80 if n else 0)])
        if not n:
            break
    return b"\x10" + rem + body


async def _raw_connect(host: str, port: int, ctx: ssl.SSLContext, client_id: str
                       ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A bare MQTT 3.1.1 connection over mutual TLS: CONNECT, CONNACK accepted."""
    reader, writer = await asyncio.open_connection(host, port, ssl=ctx, server_hostname=host)
    try:
        writer.write(_connect_packet(client_id))
        await writer.drain()
        ack = await reader.readexactly(4)
        if ack[0] != 0x20 or ack[3] != 0:
            raise ConnectionError(f"CONNACK refused: {ack!r}")
    except BaseException:
        writer.transport.abort()
        raise
    return reader, writer


async def hold_idle(spec: dict[str, Any], ctl: Ctl, connect: Callable[..., Awaitable[Any]],
                    ctx_of: Callable[[Creds], ssl.SSLContext]) -> dict[str, Any]:
    """W4 for the peers: open ``count`` bare connections, report, hold until ``close``."""
    host, port = spec["host"], spec["port"]
    creds = [Creds(**c) for c in spec["creds"]]
    for c in creds:
        ctx_of(c)
    ctl.send("ready")
    await ctl.go()
    mqtt_style = connect is _raw_connect

    async def open_conn(i: int) -> Callable[[], None]:
        ctx = ctx_of(creds[i % len(creds)])
        async with asyncio.timeout(spec.get("timeout_s", 30.0)):
            if mqtt_style:
                r, w = await connect(host, port, ctx, f"{ctl_name(spec)}-{i}")
            else:
                r, w = await connect(host, port, ctx)
        # The abort must keep the stream objects alive: a StreamWriter that is garbage
        # collected closes its transport (CPython 3.11.5+), and the connection with it.
        return functools.partial(_abort, r, w)

    return await open_and_hold(ctl, spec, open_conn,
                               concurrency=spec.get("concurrency", _OPEN_CONCURRENCY))


def _abort(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.transport.abort()


async def idle(spec: dict[str, Any], ctl: Ctl) -> dict[str, Any]:
    return await hold_idle(spec, ctl, _raw_connect, _ctx)
