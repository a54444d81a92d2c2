"""Load-generator roles against the Cordon hub (run in child processes, see bench.procs)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable
from typing import Any

import msgpack

from bench.common import Creds, MemberSigner, load_key, pub_frame, sign_alerts, signed_now
from bench.procs import Ctl, open_and_hold
from bench.wsclient import LeanConnection, client_tls, open_lean
from client._conn import PUB_CHUNK
from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.checkpoint import decode_checkpoint
from hub.protocol.envelope import decode_envelope, verify_alert

__all__ = ["idle", "prover", "publisher", "subscribers"]

_unpackb = msgpack.unpackb
_packb = msgpack.packb
#: Bytes of a ``pubs`` frame besides its alerts and signatures (type, rid, channel), and
#: per item (array and bin headers), rounded up.
_PUBS_OVERHEAD = 256
_ITEM_OVERHEAD = 16


def _pub_limits(conn: LeanConnection) -> tuple[int, int]:
    """The hub's ``max_pub_items`` and ``max_frame_bytes`` from its welcome."""
    limits = conn.welcomed.result().get("limits", {})
    items = int(limits.get("max_pub_items", 0))
    if items < 2:
        raise RuntimeError("this hub does not accept pubs frames (no max_pub_items)")
    return items, int(limits.get("max_frame_bytes", 64 * 1024))
_OPEN_CONCURRENCY = 64
#: A signing publisher gives the loop a turn (acks read) after this many alerts.
_YIELD_EVERY = 32


def _creds(raw: dict[str, str]) -> Creds:
    return Creds(**raw)


_contexts: dict[str, ssl.SSLContext] = {}


def _ctx(c: Creds) -> ssl.SSLContext:
    ctx = _contexts.get(c.cert)
    if ctx is None:
        ctx = _contexts[c.cert] = client_tls(c.ca, c.cert, c.key)
    return ctx


class _Sub:
    """One subscribing connection's bookkeeping (runs inside data_received)."""

    def __init__(self, since: int, expect: int, *, latency: bool,
                 verify_keys: dict[str, Any] | None, decode_alerts: bool = False) -> None:
        loop = asyncio.get_running_loop()
        self.decode_alerts = decode_alerts
        self.last = since
        self.expect = expect
        self.count = 0
        self.in_order = True
        self.t_done = 0.0
        self.latency = latency
        self.lat_ns: list[int] = []
        self.verify_keys = verify_keys
        self.verified = 0
        self.errors: list[int] = []
        self.subok: asyncio.Future[dict[str, Any]] = loop.create_future()
        self.synced: asyncio.Future[None] = loop.create_future()
        self.done: asyncio.Future[None] = loop.create_future()
        if expect == 0:
            self.done.set_result(None)

    def on_alert(self, off: int, alert: bytes, sig: bytes) -> None:
        if off != self.last + 1:
            self.in_order = False
        self.last = off
        self.count += 1
        if self.latency:
            env = _unpackb(alert)
            self.lat_ns.append(time.time_ns() - int(env["body"]["title"][5:]))
        elif self.decode_alerts:  # a member system reads every alert it receives
            _unpackb(alert)
        if self.verify_keys is not None:
            # What a recipient does: decode and check the envelope, verify the signature
            # with the sender's key (certificates fetched once and cached).
            checked = decode_envelope(alert)
            verify_alert(self.verify_keys[checked.kid], alert, sig)
            self.verified += 1
        if self.count >= self.expect and not self.done.done():
            self.t_done = time.monotonic()
            self.done.set_result(None)

    def on_message(self, data: bytes) -> None:
        frame = _unpackb(data)
        t = frame["t"]
        if t == "alert":
            self.on_alert(frame["off"], frame["alert"], frame["sig"])
        elif t == "alerts":  # several consecutive alerts in one message
            for off, alert, sig in frame["items"]:
                self.on_alert(off, alert, sig)
        elif t == "subok":
            if not self.subok.done():
                self.subok.set_result(frame)
        elif t == "synced":
            if not self.synced.done():
                self.synced.set_result(None)
        elif t == "err":
            self.errors.append(int(frame.get("code", 0)))
            for fut in (self.subok, self.synced, self.done):
                if not fut.done():
                    fut.set_exception(RuntimeError(f"hub error {frame.get('code')}"))


async def subscribers(spec: dict[str, Any], ctl: Ctl) -> dict[str, Any]:
    """Open one connection per creds, subscribe (now, or on ``go`` when
    ``subscribe_on_go``), and count alerts until each has ``expect`` of them."""
    host, port, channel = spec["host"], spec["port"], spec["channel"]
    since, expect = spec.get("since", 0), spec["expect"]
    verify_keys: dict[str, Any] | None = None
    if spec.get("verify_certs"):
        from cryptography import x509
        from cryptography.hazmat.primitives.serialization import Encoding

        from hub.protocol.envelope import key_id

        verify_keys = {}
        for path in spec["verify_certs"]:
            with open(path, "rb") as fh:  # noqa: ASYNC230 (set-up, before timing)
                cert = x509.load_pem_x509_certificate(fh.read())
            verify_keys[key_id(cert.public_bytes(Encoding.DER))] = cert.public_key()
    subs: list[_Sub] = []
    conns: list[LeanConnection] = []
    sem = asyncio.Semaphore(_OPEN_CONCURRENCY)

    async def open_one(c: Creds) -> None:
        st = _Sub(since, expect, latency=spec.get("latency", False), verify_keys=verify_keys,
                  decode_alerts=bool(spec.get("decode_alerts")))
        async with sem:
            conn = await open_lean(_ctx(c), host=host, port=port, on_message=st.on_message)
        subs.append(st)
        conns.append(conn)

    await asyncio.gather(*(open_one(_creds(c)) for c in spec["creds"]))

    def subscribe_all() -> None:
        for conn in conns:
            conn.send(codec.encode(f.Subscribe(rid=1, ch=channel, since=since)))

    if not spec.get("subscribe_on_go"):
        subscribe_all()
        await asyncio.gather(*(s.synced for s in subs))
    ctl.send("ready")
    await ctl.go()
    t_sub = time.monotonic()
    if spec.get("subscribe_on_go"):
        subscribe_all()
    timed_out = await _until_done([s.done for s in subs], ctl, spec["deadline_s"])
    usage = ctl.usage()
    for conn in conns:
        conn.abort()
    lat: list[int] = []
    own: list[int] = []
    for i, s in enumerate(subs):
        lat.extend(s.lat_ns)
        if i == 0:
            own = list(s.lat_ns)
    return {
        **usage, "t_go": ctl.t0, "t_sub": t_sub, "timed_out": timed_out,
        "counts": [s.count for s in subs], "in_order": all(s.in_order for s in subs),
        "t_done": [s.t_done for s in subs], "errors": [e for s in subs for e in s.errors],
        "verified": sum(s.verified for s in subs), "lat_ns": lat, "lat_first_ns": own,
    }


async def _until_done(futures: list[asyncio.Future[None]], ctl: Ctl, deadline_s: float) -> bool:
    """Wait until every future is done, or ``grace`` seconds after the parent's ``stop``
    (sent once the publishers are finished); True when that ran out."""
    all_done = asyncio.ensure_future(asyncio.gather(*futures, return_exceptions=True))
    stop = asyncio.ensure_future(ctl.wait("stop"))
    try:
        async with asyncio.timeout(deadline_s):
            await asyncio.wait({all_done, stop}, return_when=asyncio.FIRST_COMPLETED)
            grace = await stop
            if not all_done.done():
                async with asyncio.timeout(grace):
                    await all_done
    except TimeoutError:
        return True
    finally:
        all_done.cancel()
    return False


class _Pub:
    def __init__(self, window: int) -> None:
        self.window = window
        self.in_flight = 0
        self.acked = 0
        self.errors: dict[int, int] = {}
        self.room = asyncio.Event()
        self.room.set()
        self.finished = asyncio.get_running_loop().create_future()
        self.expect = 0
        self.t_last = 0.0
        #: rid -> alerts of each pubs frame in flight (an err answers all of them)
        self.batches: dict[int, int] = {}

    def on_message(self, data: bytes) -> None:
        frame = _unpackb(data)
        t = frame["t"]
        answered = 1
        if t == "ack":
            self.acked += 1
        elif t == "err":
            code = int(frame.get("code", 0))
            self.errors[code] = self.errors.get(code, 0) + 1
            answered = self.batches.pop(frame.get("rid"), 1)
            if answered > 1:  # a whole pubs frame refused
                self.errors[code] += answered - 1
        elif t == "acks":  # the answer to a pubs frame: an item per alert, in order
            answered = len(frame["items"])
            self.batches.pop(frame.get("rid"), None)
            for item in frame["items"]:
                if "off" in item:
                    self.acked += 1
                else:
                    code = int(item.get("code", 0))
                    self.errors[code] = self.errors.get(code, 0) + 1
        else:
            return
        self.in_flight -= answered
        self.room.set()
        if self.acked + sum(self.errors.values()) >= self.expect and not self.finished.done():
            self.t_last = time.monotonic()
            self.finished.set_result(None)


async def publisher(spec: dict[str, Any], ctl: Ctl) -> dict[str, Any]:
    """Connections that publish as fast as a bounded in-flight window allows (``rate``
    absent), or one connection at a fixed rate, each alert signed just before it is sent
    with its send time inside (``rate`` set: latency runs).

    ``member`` (the default of the workloads): each alert is signed when there is room
    for it in the window, as a member system does (:class:`bench.common.MemberSigner`:
    the SDK's sign, sender chain included) and sent as a message of its own; the
    signing is inside the measured time. Without it (``--presigned``, the bench before
    issue 17) every alert is signed before ``go`` and a window's worth is written at
    once."""
    host, port, channel = spec["host"], spec["port"], spec["channel"]
    creds = [_creds(c) for c in spec["creds"]]
    per_conn, window, rate = spec.get("count", 0), spec.get("window", 256), spec.get("rate")
    rate_f = float(rate or 0)
    member = bool(spec.get("member"))
    batched = bool(spec.get("pubs"))
    chunk = max(1, int(spec.get("pub_chunk", PUB_CHUNK)))
    frames: list[list[bytes]] = []
    chained = bool(spec.get("chained", True))
    signers = ([MemberSigner(c, channel, chained=chained) for c in creds]
               if member and rate is None else [])
    if rate is None and not member:
        for i, c in enumerate(creds):
            alerts = sign_alerts(c, channel, per_conn, tag=f"{spec['tag']}-{i}")
            frames.append([pub_frame(n + 1, channel, a, s) for n, (a, s) in enumerate(alerts)])
    pubs = [_Pub(window) for _ in creds]
    sem = asyncio.Semaphore(_OPEN_CONCURRENCY)

    async def open_one(c: Creds, p: _Pub) -> LeanConnection:
        async with sem:
            return await open_lean(_ctx(c), host=host, port=port, on_message=p.on_message)

    conns = await asyncio.gather(*(open_one(c, p) for c, p in zip(creds, pubs, strict=True)))
    ctl.send("ready")
    await ctl.go()

    async def fast(conn: LeanConnection, pub: _Pub, todo: list[bytes]) -> None:
        pub.expect = len(todo)
        i = 0
        while i < len(todo):
            room = pub.window - pub.in_flight
            if room <= 0:
                pub.room.clear()
                await pub.room.wait()
                continue
            batch = todo[i:i + room]
            pub.in_flight += len(batch)
            conn.send_many(batch)
            i += len(batch)
            await conn.writable()
        await pub.finished

    async def signing(conn: LeanConnection, pub: _Pub, signer: MemberSigner) -> None:
        pub.expect = per_conn
        rid = 0
        while rid < per_conn:
            room = min(pub.window - pub.in_flight, per_conn - rid)
            if room <= 0:
                pub.room.clear()
                await pub.room.wait()
                continue
            if batched:
                # What the SDK does with concurrent publishes: at most pub_chunk alerts
                # signed, then sent as one pubs frame (within the hub's max_pub_items and
                # max_frame_bytes) and the loop gets a turn (acks read) before the next
                # ones are signed, so a chunk travels and is committed meanwhile.
                max_items, max_bytes = _pub_limits(conn)
                items: list[tuple[bytes, bytes]] = []
                size = _PUBS_OVERHEAD
                while len(items) < min(room, max_items, chunk):
                    alert, sig = signer.sign()
                    items.append((alert, sig))
                    size += len(alert) + len(sig) + _ITEM_OVERHEAD
                    if size + len(alert) + len(sig) + _ITEM_OVERHEAD > max_bytes:
                        break
                rid += len(items)
                pub.in_flight += len(items)
                pub.batches[rid] = len(items)
                conn.send(_packb({"t": "pubs", "rid": rid, "ch": channel,
                                  "items": [[a, sg] for a, sg in items]}, use_bin_type=True))
                await conn.writable()
                if room > len(items):
                    await asyncio.sleep(0)
                continue
            for k in range(room):
                rid += 1
                alert, sig = signer.sign()
                pub.in_flight += 1
                conn.send(pub_frame(rid, channel, alert, sig))
                if k % _YIELD_EVERY == _YIELD_EVERY - 1:
                    await asyncio.sleep(0)  # let acks in, as a member's other tasks would
            await conn.writable()
        await pub.finished

    async def paced(conn: LeanConnection, pub: _Pub, c: Creds) -> None:
        key = load_key(c.key)
        signer = (MemberSigner(c, channel, pad=int(spec.get("pad", 900)), chained=chained)
                  if member else None)
        pad = "x" * int(spec.get("pad", 900))
        n = int(rate_f * spec["duration_s"])
        pub.expect = n
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
            pub.in_flight += 1
            conn.send(pub_frame(i + 1, channel, alert, sig))
        await pub.finished

    timed_out = False
    try:
        async with asyncio.timeout(spec["deadline_s"]):
            if rate is None and member:
                await asyncio.gather(*(signing(c, p, sg) for c, p, sg in
                                       zip(conns, pubs, signers, strict=True)))
            elif rate is None:
                await asyncio.gather(*(fast(c, p, fr) for c, p, fr in
                                       zip(conns, pubs, frames, strict=True)))
            else:
                await paced(conns[0], pubs[0], creds[0])
    except TimeoutError:
        timed_out = True
    usage = ctl.usage()
    for conn in conns:
        with contextlib.suppress(Exception):
            await conn.close()
    errors: dict[int, int] = {}
    for p in pubs:
        for code, n in p.errors.items():
            errors[code] = errors.get(code, 0) + n
    return {**usage, "t_go": ctl.t0, "timed_out": timed_out,
            "acked": sum(p.acked for p in pubs), "errors": errors,
            "t_last_ack": max(p.t_last for p in pubs)}


async def idle(spec: dict[str, Any], ctl: Ctl) -> dict[str, Any]:
    """Open up to ``count`` idle connections (``concurrency`` handshakes at a time), report,
    hold them until ``close``."""
    host, port = spec["host"], spec["port"]
    creds = [_creds(c) for c in spec["creds"]]
    concurrency = spec.get("concurrency", _OPEN_CONCURRENCY)
    for c in creds:
        _ctx(c)
    ctl.send("ready")
    await ctl.go()

    async def open_conn(i: int) -> Callable[[], None]:
        conn: LeanConnection = await open_lean(
            _ctx(creds[i % len(creds)]), host=host, port=port,
            open_timeout_s=spec.get("timeout_s", 30.0))
        return conn.abort

    return await open_and_hold(ctl, spec, open_conn, concurrency=concurrency)


#: Offsets a prover asks an inclusion proof for with each ``prove``.
_PROVE_OFFS = 8


async def prover(spec: dict[str, Any], ctl: Ctl) -> dict[str, Any]:
    """One reader checking the channel's log while others publish (issue 16): every
    ``interval_s`` it asks the latest signed checkpoint (``ckpt``) and then, against it, an
    inclusion proof of ``_PROVE_OFFS`` random offsets and the consistency proof from the
    previous checkpoint's size (``prove`` with ``from``), until ``stop``. Proofs are not
    verified here (the hub's cost is what is measured)."""
    import random

    host, port, channel = spec["host"], spec["port"], spec["channel"]
    c = _creds(spec["creds"][0])
    interval = float(spec.get("interval_s", 1.0))
    loop = asyncio.get_running_loop()
    pending: dict[int, asyncio.Future[dict[str, Any]]] = {}

    def on_message(data: bytes) -> None:
        frame = _unpackb(data)
        fut = pending.pop(frame.get("rid", -1), None)
        if fut is not None and not fut.done():
            fut.set_result(frame)

    conn = await open_lean(_ctx(c), host=host, port=port, on_message=on_message)
    ctl.send("ready")
    await ctl.go()
    stop = asyncio.ensure_future(ctl.wait("stop"))
    rid = 0
    rtt_ms: list[float] = []
    counts = {"ckptok": 0, "proof": 0, "err": 0}
    err_codes: dict[int, int] = {}
    last_size = 0
    sizes: list[int] = []

    async def ask(frame: dict[str, Any]) -> dict[str, Any]:
        nonlocal rid
        rid += 1
        fut: asyncio.Future[dict[str, Any]] = loop.create_future()
        pending[rid] = fut
        t0 = time.monotonic()
        conn.send(_packb({**frame, "rid": rid}, use_bin_type=True))
        answer = await asyncio.wait_for(fut, 30)
        rtt_ms.append((time.monotonic() - t0) * 1e3)
        kind = str(answer.get("t"))
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "err":
            code = int(answer.get("code", 0))
            err_codes[code] = err_codes.get(code, 0) + 1
        return answer

    while not stop.done():
        t0 = loop.time()
        answer = await ask({"t": "ckpt", "ch": channel})
        if answer.get("t") == "ckptok":
            cp = decode_checkpoint(answer["cp"])
            sizes.append(cp.size)
            if cp.size:
                offs = sorted({random.randint(1, cp.size) for _ in range(_PROVE_OFFS)})
                req: dict[str, Any] = {"t": "prove", "ch": channel, "epoch": cp.epoch,
                                       "size": cp.size, "offs": offs}
                if 0 < last_size <= cp.size:
                    req["from"] = last_size
                await ask(req)
                last_size = cp.size
        await asyncio.wait({stop}, timeout=max(0.0, interval - (loop.time() - t0)))
    usage = ctl.usage()
    with contextlib.suppress(Exception):
        await conn.close()
    rtt_ms.sort()
    return {**usage, "answers": counts, "err_codes": err_codes, "sizes": sizes,
            "rtt_ms_median": rtt_ms[len(rtt_ms) // 2] if rtt_ms else None,
            "rtt_ms_max": rtt_ms[-1] if rtt_ms else None}
