"""Every ``admok`` fits in one frame (PROTOCOL.md §6.8, §9): the lists (``member.list``,
``principal.list``, ``channel.list``) are paged — at most ``limit`` (1,000) records and
no more than fit in the frame, ``next`` to go on — and any other answer that would not
fit is refused with 413 instead of an oversized message (for a change: "done, but …").

Before, ``member.list`` of 2,100 members was one ~270 KiB message, over the 256 KiB a
client accepts: the SDK closed the connection (1009) and the administrator got nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgpack
import pytest

from client.admin_cli import main as admin_main
from client.sdk import Client
from hub.admin import LIST_PAGE_MAX, grant
from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.errors import FrameTooLarge, InvalidFrame
from hub.protocol.limits import MAX_FRAME_BYTES
from tests.harness import HubHarness
from tests.hub.conftest import MakeHub

pytestmark = pytest.mark.timeout(120)


async def _members(h: HubHarness, n: int, prefix: str = "m") -> list[str]:
    ids = [f"{prefix}{i:05d}" for i in range(n)]
    await asyncio.gather(*(h.store.add_member(m, name=f"Administration {m} " + "x" * 60,
                                               country="FR") for m in ids))
    return ids


def _admok_size(result: dict[str, Any]) -> int:
    return len(codec.encode(f.AdminResult(rid=2**64 - 1, result=result)))


async def _pages(c: Client, op: str, key: str, **args: Any) -> list[dict[str, Any]]:
    pages, after = [], None
    while True:
        page = await c.admin(op, {**args, **({"after": after} if after else {})})
        pages.append(page)
        after = page["next"]
        if after is None:
            return pages


async def test_member_list_of_2100_members_comes_in_pages_within_the_frame(
        h: HubHarness, capsys: pytest.CaptureFixture[str]) -> None:
    ids = await _members(h, 2100)
    alice = await h.admin_leaf("alice")
    async with h.client(alice) as c:
        pages = await _pages(c, "member.list", "members")
        assert len(pages) >= 2
        for page in pages:
            assert _admok_size(page) <= MAX_FRAME_BYTES
            assert len(page["members"]) <= LIST_PAGE_MAX
        listed = [m["id"] for page in pages for m in page["members"]]
        assert listed == ids  # every member once, by id
        assert all(page["next"] == page["members"][-1]["id"] for page in pages[:-1])
        # limit, and a page after the end
        first = await c.admin("member.list", {"limit": 7})
        assert [m["id"] for m in first["members"]] == ids[:7] and first["next"] == ids[6]
        assert await c.admin("member.list", {"after": ids[-1]}) == {"members": [],
                                                                    "next": None}
        for bad in ({"limit": 0}, {"limit": LIST_PAGE_MAX + 1}, {"after": ""},
                    {"after": "x" * 66}, {"after": 5}):
            with pytest.raises(InvalidFrame):
                await c.admin("member.list", bad)
    # the CLI lists them all, page after page
    argv = ["member", "list", "--json", "--hub", h.url, "--cert", str(alice.cert),
            "--key", str(alice.key), "--ca", str(h.pki.ca)]
    capsys.readouterr()
    assert await asyncio.to_thread(admin_main, argv) == 0
    import json
    assert [m["id"] for m in json.loads(capsys.readouterr().out)["members"]] == ids


async def test_principal_and_channel_lists_are_paged_by_frame_size(make_hub: MakeHub) -> None:
    h = await make_hub(max_frame_bytes=4096)
    members = await _members(h, 3, prefix="a")
    await h.store.add_member("a-b", name="A-B", country="DE")
    names = ["a-b", *members]
    for m in names:
        for i in range(30):
            await h.store.add_principal(m, f"p{i:02d}", kind="system")
    for i in range(60):
        await h.channel(f"op-{i:03d}", {}, title="Operation " + "t" * 40)
    async with h.client(await h.admin_leaf("alice")) as c:
        pages = await _pages(c, "principal.list", "principals")
        assert len(pages) > 2 and all(_admok_size(p) <= 4096 for p in pages)
        listed = [p["id"] for page in pages for p in page["principals"]]
        # by member, then name ("a-b/…" before "a00000/…"; as strings "a-b/x" > "a/y")
        assert listed == [f"{m}/p{i:02d}" for m in sorted(names) for i in range(30)]
        one = await _pages(c, "principal.list", "principals", member="a-b")
        assert [p["id"] for page in one for p in page["principals"]] == [
            f"a-b/p{i:02d}" for i in range(30)]
        pages = await _pages(c, "channel.list", "channels")
        assert len(pages) > 2 and all(_admok_size(p) <= 4096 for p in pages)
        assert [ch["name"] for page in pages for ch in page["channels"]] == [
            f"op-{i:03d}" for i in range(60)]


async def test_any_other_answer_over_the_frame_is_413_and_the_connection_stays(
        make_hub: MakeHub) -> None:
    h = await make_hub(max_frame_bytes=4096)
    await h.channel("op", {})
    for m in await _members(h, 500):
        await grant(h.store, "op", m, "reader")
    # a principal with 40 certificates: revoking them all answers each one
    leaves = [h.pki.member("fr", "ops") for _ in range(40)]
    await h.sync()
    async with h.client(await h.admin_leaf("alice")) as c:
        with pytest.raises(FrameTooLarge, match="result too large for one frame"):
            await c.admin("channel.show", {"name": "op"})  # 500 roles
        with pytest.raises(FrameTooLarge, match="done, but its result is too large"):
            await c.admin("cert.revoke", {"principal": "fr/ops"})
        assert c.connected  # an err, not a closed connection
        for leaf in leaves:  # it was done
            cert = await h.store.cert(leaf.kid)
            assert cert is not None and cert.status == "revoked"
        assert (await c.admin("member.list", {"limit": 1}))["next"] is not None  # still open
        records = (await c.admin("audit.list", {"action": "channel.show"}))["records"]
        assert records[-1]["code"] == "413"


def test_a_page_budget_counts_the_encoded_records() -> None:
    """The page budget uses msgpack sizes as the frame does (same packer settings)."""
    record = {"id": "fr", "name": "é" * 10, "created": 2**40}
    assert len(msgpack.packb(record, use_bin_type=True)) < _admok_size({"x": [record]})
