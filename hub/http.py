"""The operations listener: ``/healthz``, ``/readyz`` and ``/metrics`` over plain HTTP/1.1,
on an address of its own (``http_listen``, loopback by default), never the hub's TLS port.

Why a small server of our own on :func:`asyncio.start_server`, and not a library:

- readiness must be computed on the hub's event loop (its store, its sessions, its
  CRL), with ``await``: prometheus-client's ``start_http_server`` runs a WSGI server on a
  thread of its own and serves only metrics;
- aiohttp would serve it well but brings its own HTTP stack, multidicts, yarl and
  frozenlist into a process whose only other HTTP is websockets' opening handshake,
  for three fixed GET routes;
- websockets' ``process_request`` could answer plain HTTP, but only on the TLS port,
  which an operator's probes and Prometheus should not need client certificates for.

So this module reads one request and answers it, strictly, with every bound named:
the request line and headers together at most :data:`MAX_REQUEST_BYTES` (else 431),
read within :data:`REQUEST_TIMEOUT_S` (else the connection is dropped), no body
(``Content-Length`` other than 0 or any ``Transfer-Encoding``: 413), ``GET`` and
``HEAD`` only (else 405 with ``Allow``), HTTP/1.0 or 1.1 only (else 505), a path
among the routes (else 404; a query string is ignored), at most
:data:`MAX_CONNECTIONS` connections at once (the rest are closed at once). One request
per connection (``Connection: close``): probes and scrapes open one connection each.
Nothing from the request is echoed back.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_CONNECTIONS",
    "MAX_REQUEST_BYTES",
    "REQUEST_TIMEOUT_S",
    "Answer",
    "OpsServer",
    "parse_listen",
]

log = logging.getLogger("cordon.http")

#: Request line plus headers, in bytes (a probe or a scrape sends a few hundred).
MAX_REQUEST_BYTES = 8192
#: Seconds a client has to send its whole request (a slow or silent peer is dropped).
REQUEST_TIMEOUT_S = 5.0
#: Seconds an answer may take to be written before the connection is dropped.
WRITE_TIMEOUT_S = 10.0
#: Connections served at once; more are closed without an answer.
MAX_CONNECTIONS = 64

_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            413: "Content Too Large", 431: "Request Header Fields Too Large",
            500: "Internal Server Error", 503: "Service Unavailable",
            505: "HTTP Version Not Supported"}


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "application/json"

    @classmethod
    def json(cls, status: int, doc: Mapping[str, Any]) -> Answer:
        return cls(status, json.dumps(doc, separators=(",", ":")).encode() + b"\n")


Route = Callable[[], Awaitable[Answer]]


def parse_listen(value: str) -> tuple[str, int] | None:
    """``host:port`` (``[v6]:port`` for IPv6) -> (host, port); ``""`` or ``off`` -> None.
    ValueError if malformed."""
    text = value.strip()
    if text.lower() in ("", "off", "none"):
        return None
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError("expected HOST:PORT, '' or 'off'")
    if host.startswith("["):
        if not host.endswith("]"):
            raise ValueError("expected [IPv6]:PORT")
        host = host[1:-1]
    number = int(port)
    if not 0 <= number <= 65535:
        raise ValueError("port must be 0-65535")
    return host, number


class _Refused(Exception):
    def __init__(self, status: int, reason: str, *, allow: str | None = None) -> None:
        super().__init__(reason)
        self.status, self.reason, self.allow = status, reason, allow


class OpsServer:
    """``await OpsServer(routes).start(host, port)``; ``port`` after start; ``await stop()``."""

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self.routes = dict(routes)
        self.server: asyncio.Server | None = None
        self.port = 0
        self.host = ""
        self._active = 0
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self, host: str, port: int) -> None:
        self.server = await asyncio.start_server(self._serve, host, port,
                                                 limit=MAX_REQUEST_BYTES)
        self.host = host
        self.port = self.server.sockets[0].getsockname()[1] if self.server.sockets else 0

    async def stop(self) -> None:
        server, self.server = self.server, None
        if server is None:
            return
        server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._active >= MAX_CONNECTIONS:
            writer.transport.abort()
            return
        self._active += 1
        self._writers.add(writer)
        try:
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    method, path = await _read_request(reader)
                route = self.routes.get(path)
                if route is None:
                    raise _Refused(404, "no such path")
                if method not in ("GET", "HEAD"):
                    raise _Refused(405, "method not allowed", allow="GET, HEAD")
                try:
                    answer = await route()
                except Exception:
                    log.exception("ops endpoint %s failed", path)
                    answer = Answer.json(500, {"status": "error", "error": "internal error"})
                await _write(writer, answer, head_only=method == "HEAD")
            except _Refused as exc:
                extra = {"Allow": exc.allow} if exc.allow else {}
                await _write(writer, Answer.json(exc.status, {"error": exc.reason}),
                             extra=extra)
            except TimeoutError:
                log.debug("ops listener: request not complete in %g s; dropped",
                          REQUEST_TIMEOUT_S, extra={"event": "http.timeout"})
        except (ConnectionError, TimeoutError):
            pass
        finally:
            self._active -= 1
            self._writers.discard(writer)
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError:
        raise _Refused(431, "request too large") from None
    except asyncio.IncompleteReadError as exc:
        if len(exc.partial) >= MAX_REQUEST_BYTES:
            raise _Refused(431, "request too large") from None
        raise ConnectionError("incomplete request") from None
    if len(head) > MAX_REQUEST_BYTES:
        raise _Refused(431, "request too large")
    try:
        text = head.decode("ascii")
    except UnicodeDecodeError:
        raise _Refused(400, "malformed request") from None
    lines = text[:-4].split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[0].isalpha() or not parts[1].startswith("/"):
        raise _Refused(400, "malformed request line")
    method, target, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise _Refused(505, "HTTP/1.0 or HTTP/1.1 only")
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or not name.isascii():
            raise _Refused(400, "malformed header")
        key = name.lower()
        if key == "transfer-encoding" or (key == "content-length" and value.strip() != "0"):
            raise _Refused(413, "no request body accepted")
    return method, target.partition("?")[0]


async def _write(writer: asyncio.StreamWriter, answer: Answer, *, head_only: bool = False,
                 extra: Mapping[str, str] | None = None) -> None:
    headers = {"Content-Type": answer.content_type, "Content-Length": str(len(answer.body)),
               "Cache-Control": "no-store", "Connection": "close", **(extra or {})}
    status = f"HTTP/1.1 {answer.status} {_REASONS.get(answer.status, 'Unknown')}\r\n"
    head = status + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    writer.write(head.encode("ascii") + (b"" if head_only else answer.body))
    async with asyncio.timeout(WRITE_TIMEOUT_S):
        await writer.drain()
