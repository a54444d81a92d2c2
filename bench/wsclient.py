"""A lean Cordon client for load generation: websockets' sans-I/O protocol on an asyncio
Protocol, frames handled synchronously in ``data_received`` (no task switch per message).

It speaks the real protocol (mutual TLS 1.3, ``cordon.v1`` subprotocol, msgpack frames)
but does none of the SDK's bookkeeping, so the generator's CPU goes to the wire.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Callable
from typing import Any

import msgpack
from websockets.client import ClientProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Response
from websockets.protocol import State
from websockets.typing import Subprotocol
from websockets.uri import parse_uri

__all__ = ["LeanConnection", "client_tls", "open_lean"]

def client_tls(ca: str, cert: str, key: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(cafile=ca)
    ctx.load_cert_chain(cert, key)
    return ctx


def decode(data: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = msgpack.unpackb(data, raw=False)
    return obj


class LeanConnection(asyncio.Protocol):
    """One connection. ``on_message(frame_bytes)`` is called for each binary message."""

    def __init__(self, url: str, on_message: Callable[[bytes], None] | None = None) -> None:
        self.proto = ClientProtocol(parse_uri(url),
                                    subprotocols=[Subprotocol("cordon.v1")], max_size=None)
        self.on_message = on_message or (lambda _data: None)
        loop = asyncio.get_running_loop()
        self.opened: asyncio.Future[None] = loop.create_future()
        self.welcomed: asyncio.Future[dict[str, Any]] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None
        self._writable = asyncio.Event()
        self._writable.set()

    # --- asyncio.Protocol ----------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.proto.send_request(self.proto.connect())
        self._flush()

    def data_received(self, data: bytes) -> None:
        self.proto.receive_data(data)
        for event in self.proto.events_received():
            if isinstance(event, Response):
                if self.proto.state is State.OPEN:
                    if not self.opened.done():
                        self.opened.set_result(None)
                elif not self.opened.done():
                    self.opened.set_exception(ConnectionError(f"handshake: {event.status_code}"))
            elif isinstance(event, Frame) and event.opcode is Opcode.BINARY:
                data = bytes(event.data)
                if not self.welcomed.done():
                    self.welcomed.set_result(decode(data))
                else:
                    self.on_message(data)
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        err = exc or ConnectionError("connection closed")
        for fut in (self.opened, self.welcomed):
            if not fut.done():
                fut.set_exception(err)
        if not self.closed.done():
            self.closed.set_result(None)
        self._writable.set()

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    # --- use -----------------------------------------------------------------------
    def _flush(self) -> None:
        transport = self.transport
        if transport is None:
            return
        for data in self.proto.data_to_send():
            if data:
                transport.write(data)
            else:
                transport.close()

    def send(self, frame: bytes) -> None:
        self.proto.send_binary(frame)
        self._flush()

    def send_many(self, frames: list[bytes]) -> None:
        for frame in frames:
            self.proto.send_binary(frame)
        if self.transport is not None:
            self.transport.writelines([d for d in self.proto.data_to_send() if d])

    async def writable(self) -> None:
        await self._writable.wait()

    async def close(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if self.proto.state is State.OPEN:
            self.proto.send_close(1000)
            self._flush()
        try:
            async with asyncio.timeout(2):
                await asyncio.shield(self.closed)
        except TimeoutError:
            self.transport.abort()

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()


async def open_lean(ctx: ssl.SSLContext, *, host: str, port: int,
                    on_message: Callable[[bytes], None] | None = None,
                    open_timeout_s: float = 30.0) -> LeanConnection:
    """Connect, handshake and wait for ``welcome``; frames after it go to ``on_message``."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(open_timeout_s):
        _t, conn = await loop.create_connection(
            lambda: LeanConnection(f"wss://{host}:{port}/", on_message), host, port,
            ssl=ctx, server_hostname=host)
        await conn.opened
        await conn.welcomed
    return conn
