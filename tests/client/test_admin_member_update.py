"""``member.update`` (adm op) and ``cordon admin member update``: name and country of a
member, e.g. one auto-imported from the CA folder (name = id, no country)."""

from __future__ import annotations

import pytest

from hub import admin
from hub.protocol.errors import InvalidFrame, NotFound
from hub.storage import Store
from tests.client.test_admin_cli import Cli, cli  # noqa: F401  (fixture)
from tests.harness import HubHarness


async def test_update_member_in_process(store: Store) -> None:
    await store.add_member("fr", name="fr", country="")
    m = await admin.update_member(store, "fr", name=" Douane française ", by="admin/alice")
    assert (m.name, m.country, m.status) == ("Douane française", "", "active")
    m = await admin.update_member(store, "fr", country="fr")
    assert (m.name, m.country) == ("Douane française", "FR")
    assert await store.member("fr") == m
    audit = await store.audit_log(action="member.update")
    assert audit[0]["name"] == "Douane française" and "country" not in audit[0]
    assert audit[1]["country"] == "FR" and "name" not in audit[1]
    with pytest.raises(InvalidFrame):
        await admin.update_member(store, "fr")
    with pytest.raises(InvalidFrame):
        await admin.update_member(store, "fr", country="XX")
    with pytest.raises(InvalidFrame):
        await admin.update_member(store, "fr", name="  ")
    with pytest.raises(NotFound):
        await admin.update_member(store, "zz", name="x")
    assert await store.member("zz") is None


async def test_cli_member_update(cli: Cli, hub: HubHarness) -> None:  # noqa: F811
    await hub.member("de", "zoll")  # auto-imported from the CA folder: name = id, no country
    before = await hub.store.member("de")
    assert before is not None and before.country == ""
    code, out, err = await cli("member", "update", "de", "--name", "Zoll", "--country", "de")
    assert code == 0, err
    assert out.strip() == "updated member de (Zoll, DE)"
    r = await cli.json("member", "update", "de", "--name", "Generalzolldirektion")
    assert r["member"]["name"] == "Generalzolldirektion" and r["member"]["country"] == "DE"
    code, out, err = await cli("member", "update", "de", connect=False)
    assert code == 2 and "--name and/or --country" in err
    code, out, err = await cli("member", "update", "zz", "--name", "x")
    assert code == 4 and "unknown member" in err
    code, out, err = await cli("member", "update", "de", "--country", "XX")
    assert code == 4 and "ISO 3166-1" in err
    results = [r["result"] for r in await hub.store.audit_log(principal="admin/alice",
                                                              action="member.update")]
    assert results == ["ok", "ok", "refused", "refused"]
