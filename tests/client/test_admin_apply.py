"""Provisioning at scale: idempotent admin writes, ``cordon admin apply FILE`` (111 members
with their principals and roles, over one connection), and certificate status that never
calls an expired certificate active. A real hub, real mutual TLS, the real CLI."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from client.keys import new_key_and_request
from tests.client.test_admin_cli import Cli, table
from tests.harness import HubHarness


@pytest.fixture
async def cli(hub: HubHarness, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(hub, await hub.admin_leaf("alice"), capsys)

CH = "stop-iii"


async def test_rerunning_the_same_writes_is_unchanged_exit_0(cli: Cli, tmp_path: Path) -> None:
    add = ("member", "add", "fr", "--name", "Douane", "--country", "FR")
    assert (await cli(*add))[0] == 0
    code, out, err = await cli(*add)
    assert code == 0 and out.strip() == "member fr unchanged (already enrolled as Douane, FR)"
    assert (await cli.json(*add))["unchanged"] is True
    code, _, err = await cli("member", "add", "fr", "--name", "Other", "--country", "FR")
    assert code == 4 and "member already exists (407 conflict)" in err

    create = ("channel", "create", CH, "--title", "STOP III", "--retention", "30")
    assert (await cli(*create))[0] == 0
    code, out, _ = await cli(*create)
    assert code == 0 and out.startswith(f"channel {CH} unchanged (exists with these settings")
    code, _, err = await cli("channel", "create", CH, "--title", "STOP III")
    assert code == 4 and "channel already exists (407 conflict)" in err

    assert (await cli("role", "grant", CH, "fr", "reader"))[0] == 0
    code, out, _ = await cli("role", "grant", CH, "fr", "reader")
    assert code == 0 and out.strip() == f"fr is already reader in {CH}: unchanged"
    code, out, _ = await cli("role", "grant", CH, "fr", "contributor")
    assert code == 0 and "(was reader)" in out

    request = new_key_and_request("fr/ops", tmp_path / "fr")
    issue = ("principal", "add", "fr/ops", "--kind", "system", "--csr", str(request.csr),
             "--out", str(tmp_path / "fr"))
    code, out, err = await cli(*issue)
    assert code == 0 and out.startswith("issued system certificate"), err
    first = (tmp_path / "fr" / "fr-ops.pem").read_bytes()
    code, out, err = await cli(*issue)
    assert code == 0, err
    assert out.startswith("principal fr/ops unchanged: it already holds a certificate")
    assert (tmp_path / "fr" / "fr-ops.pem").read_bytes() == first
    other = new_key_and_request("fr/ops", tmp_path / "other")
    code, _, err = await cli("principal", "add", "fr/ops", "--kind", "system", "--csr",
                             str(other.csr), "--out", str(tmp_path / "other"))
    assert code == 4 and "principal already exists (407 conflict)" in err
    code, _, err = await cli("principal", "add", "fr/ops", "--kind", "officer", "--csr",
                             str(request.csr), "--out", str(tmp_path / "fr"))
    assert code == 4 and "principal already exists" in err

    audit = await cli.hub.store.audit_log(principal="admin/alice")
    unchanged = [r["action"] for r in audit if r.get("result") == "unchanged"]
    assert unchanged == ["member.add", "member.add", "channel.create", "role.grant",
                         "principal.add"]


async def test_expired_certificate_is_never_active(cli: Cli) -> None:
    await cli("member", "add", "fr", "--name", "FR", "--country", "FR")
    cli.hub.pki.expired_member("fr", "old")
    await cli.hub.sync()
    shown = await cli.json("member", "show", "fr")
    old = next(p for p in shown["principals"] if p["id"] == "fr/old")
    assert old["status"] == "expired"
    assert {c["status"] for c in old["certs"]} == {"expired"}
    _, out, _ = await cli("member", "show", "fr")
    row = next(r for r in table(out) if r[0] == "fr/old")
    assert row[2] == "expired"
    listed = await cli.json("principal", "list", "--member", "fr")
    assert next(p for p in listed["principals"] if p["id"] == "fr/old")["certs"] == 0


def _provisioning_file(folder: Path, members: int) -> Path:
    lines = ["[defaults]", 'out = "creds"', ""]
    roles = []
    for i in range(members):
        mid = f"m{i:03d}"
        new_key_and_request(f"{mid}/ops", folder / "requests")
        lines += ["[[members]]", f'id = "{mid}"', f'name = "Customs {i}"',
                  'country = "FR"', "",
                  "[[principals]]", f'id = "{mid}/ops"', 'kind = "system"',
                  f'csr = "requests/{mid}-ops.csr"', ""]
        roles.append(f'{mid} = "{"coordinator" if i == 0 else "contributor"}"')
    lines += ["[[channels]]", f'name = "{CH}"', 'title = "Operation STOP III"',
              'starts = "2026-03-01"', 'ends = "2026-03-12"', "retention_days = 90",
              f"roles = {{ {', '.join(roles)} }}", ""]
    path = folder / "operation.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


async def test_apply_enrols_111_members_over_one_connection(cli: Cli, tmp_path: Path,
                                                            hub: HubHarness) -> None:
    path = _provisioning_file(tmp_path, 111)

    code, out, err = await cli("apply", str(path), "--dry-run")
    assert code == 0, err
    assert out.strip().splitlines()[-1] == (
        "plan: 334 add, 0 change, 0 check, 0 unchanged, 0 conflict")
    assert await hub.store.members() == []  # a dry run changes nothing

    before = len(await hub.store.audit_log())
    started = time.monotonic()
    code, out, err = await cli("apply", str(path))
    elapsed = time.monotonic() - started
    assert code == 0, err
    print(f"apply: 111 members, 111 principals (from requests), 1 channel, 111 roles in "
          f"{elapsed:.2f} s", file=sys.__stderr__)
    assert "applied" in out and "334 added, 0 changed, 0 unchanged, 0 refused" in out
    records = (await hub.store.audit_log())[before:]
    assert len(records) >= 334 and len({r["peer"] for r in records}) == 1  # one connection
    assert len(await hub.store.members()) == 111
    assert (await hub.store.roles(CH))["m000"] == "coordinator"
    assert len(await hub.store.roles(CH)) == 111
    assert (tmp_path / "creds" / "m110-ops.pem").exists()
    assert not (tmp_path / "creds" / "m110-ops.key").exists()  # the key stayed with it

    # the new member's own credentials work
    from tests.pki import Leaf

    leaf = Leaf(tmp_path / "creds" / "m042-ops.pem", tmp_path / "requests" / "m042-ops.key",
                "", 0, "m042/ops")
    async with hub.client(leaf, reconnect=False) as member:
        ack = await member.publish(CH, "notice", {"schema": 1, "handling": "H0", "text": "hi"})
        assert ack.offset == 1

    # again: nothing to do, nothing sent but the principals' key checks
    code, out, err = await cli("apply", str(path))
    assert code == 0, err
    assert "0 added, 0 changed, 334 unchanged, 0 refused" in out

    # a conflicting file: refused before anything is written, exit 4
    text = path.read_text().replace('name = "Customs 5"', 'name = "Renamed"')
    text = text.replace('[[members]]\nid = "m000"', '[[members]]\nid = "new1"\nname = "New"\n'
                        'country = "DE"\n\n[[members]]\nid = "m000"', 1)
    path.write_text(text)
    code, out, err = await cli("apply", str(path), "--dry-run")
    assert code == 4 and "conflict   member m005 (exists as 'Customs 5', FR)" in out
    assert "1 conflict(s)" in err and "nothing was changed" in err
    code, out, err = await cli("apply", str(path))
    assert code == 4 and await hub.store.member("new1") is None


@pytest.mark.parametrize(("text", "message"), [
    ('[[members]]\nid = "fr"\nname = "x"\n', "members[0]: missing 'country'"),
    ('[[members]]\nid = "fr"\nname = "x"\ncountry = "FR"\nnmae = "y"\n',
     "members[0]: unknown key 'nmae'"),
    ('[[members]]\nid = "FR!"\nname = "x"\ncountry = "FR"\n', "invalid member id 'FR!'"),
    ('[[principals]]\nid = "fr/ops"\nkind = "system"\n', "give exactly one of csr"),
    ('[[principals]]\nid = "fr/ops"\nkind = "system"\ncsr = "nope.csr"\n',
     "cannot read the certificate request"),
    ('[[channels]]\nname = "x"\nstarts = "2026-02-30"\n', "invalid starts date"),
    ('[[channels]]\nname = "x"\nroles = { fr = "boss" }\n', "reader, contributor or"),
    ('[[channels]]\nname = "x"\n[[channels]]\nname = "x"\n', "channel x is given twice"),
    ("[[members]\n", "is not valid TOML"),
    ("[other]\n", "unknown section 'other'"),
])
async def test_apply_checks_the_whole_file_before_connecting(
    cli: Cli, tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    before = len(await cli.hub.store.audit_log())
    code, out, err = await cli("apply", str(path))
    assert code == 4 and message in err, err
    assert len(await cli.hub.store.audit_log()) == before  # never connected
    json.dumps(out)
