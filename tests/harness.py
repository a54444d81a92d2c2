"""A real hub for tests: throwaway CA, real TLS on 127.0.0.1 port 0, real Valkey.

::

    async with HubHarness(tmp_path, valkey_url) as h:
        fr = await h.member("fr", "ops")          # Leaf, registered with the hub
        await h.channel("stop-iii", {"fr": "contributor", "de": "reader"})
        async with h.client(fr) as c: ...         # client.sdk.Client
        await h.restart()                         # stop and start on the same store

The CA folder is synced into the hub's registry explicitly (``await h.sync()``),
so a test can also hold a certificate the CA issued but the hub never imported.
"""

from __future__ import annotations

import asyncio
import ssl
from pathlib import Path
from typing import Any

from client.sdk import Client
from hub import admin
from hub.config import Settings
from hub.server import SUBPROTOCOL, Hub
from hub.storage import ChannelMeta
from tests.pki import Leaf, Pki, make_pki

__all__ = ["HubHarness", "client_context", "first_alert"]


def client_context(pki: Pki, leaf: Leaf | None) -> ssl.SSLContext:
    """A raw client TLS context (for tests that speak the protocol by hand)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(pki.ca)
    if leaf is not None:
        ctx.load_cert_chain(leaf.cert, leaf.key)
    return ctx


class HubHarness:
    def __init__(self, tmp_path: Path, redis_url: str | None, **overrides: Any) -> None:
        self.tmp = tmp_path
        self.pki = make_pki(tmp_path)
        self.settings = Settings(
            host="127.0.0.1", port=0, data_dir=tmp_path / "hub", redis_url=redis_url,
            ca_dir=self.pki.dir, server_cert=self.pki.server.cert,
            server_key=self.pki.server.key, registry_poll_s=3600.0,
            http_listen="127.0.0.1:0",
        ).replace(**overrides)
        self.hub: Hub | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"wss://127.0.0.1:{self.port}/"

    @property
    def subprotocol(self) -> str:
        return SUBPROTOCOL

    async def start(self) -> Hub:
        settings = self.settings
        if self.port:
            settings = settings.replace(port=self.port)  # same port across restarts
        self.hub = Hub(settings)
        await self.hub.start()
        self.port = self.hub.port
        return self.hub

    async def stop(self) -> None:
        if self.hub is not None:
            await self.hub.stop()
            self.hub = None

    async def restart(self) -> Hub:
        await self.stop()
        return await self.start()

    async def __aenter__(self) -> HubHarness:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def store(self) -> Any:
        assert self.hub is not None
        return self.hub.store

    async def sync(self) -> None:
        """Import the CA folder (new certificates, revocations, CRL) into the hub now."""
        assert self.hub is not None
        await self.hub.casync.sync_once()

    async def member(self, member: str = "fr", name: str = "ops", *, sync: bool = True
                     ) -> Leaf:
        leaf = self.pki.member(member, name)
        if sync:
            await self.sync()
        return leaf

    async def admin_leaf(self, name: str = "alice") -> Leaf:
        leaf = self.pki.admin(name)
        await self.sync()
        return leaf

    async def channel(self, name: str, roles: dict[str, str], *, title: str = ""
                      ) -> ChannelMeta:
        meta = await admin.create_channel(self.store, name, title=title or name)
        for member, role in roles.items():
            if await self.store.member(member) is None:
                await self.store.add_member(member, name=member.upper(), country="")
            await admin.grant(self.store, name, member, role)
        return meta

    async def revoke(self, leaf: Leaf) -> None:
        self.pki.revoke(leaf)
        await self.sync()

    def client(self, leaf: Leaf, **options: Any) -> Client:
        return Client(self.url, cert=leaf.cert, key=leaf.key, ca=self.pki.ca, **options)

    async def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:
        """Poll ``predicate()`` until true (bounded); fails the test on timeout."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not predicate():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("condition not met in time")
            await asyncio.sleep(0.02)


async def first_alert(sub: Any) -> Any:
    """The first alert a subscription yields (raising what it raises), or None."""
    async with sub:
        async for item in sub:
            return item
    return None
