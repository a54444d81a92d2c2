"""Hub-signed channel checkpoints and proofs (PROTOCOL.md §6.9, Appendix C) against a real
hub, real mutual TLS and a real Valkey — and the attacks on them.

A dishonest hub (or whoever holds its store, or its log key) is simulated with raw Valkey
commands on the channel's stream, leaf string and stored checkpoint, and with keys the CA
issued for other purposes. Every attack must end in :class:`CheckpointError` (does not
verify) or :class:`LogInconsistent` (contradicts a checkpoint verified before).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certs.ca import CLIENT_AUTH, issue_log, revoke
from client._log import verify_alert_inclusion
from client.sdk import CheckpointError, Client, LogInconsistent
from hub.protocol.checkpoint import (
    Checkpoint,
    decode_checkpoint,
    encode_checkpoint,
    sign_checkpoint,
)
from hub.protocol.envelope import key_id
from hub.protocol.errors import EpochMismatch, InvalidFrame, NoSuchChannel, NotFound
from hub.protocol.identity import ChannelName
from hub.protocol.merkle import leaf_hash, root
from tests.bodies import note
from tests.client.common import CH, FAST, checkpoint_now
from tests.harness import HubHarness
from tests.pki import Leaf

LOG = "cordon:{ch:stop-iii}:log"
META = "cordon:{ch:stop-iii}:meta"
LEAVES = "cordon:{ch:stop-iii}:leaves"
CKPT = "cordon:{ch:stop-iii}:ckpt"


@pytest.fixture
def hub_options() -> dict[str, Any]:
    # a long interval: the tests sign when they want to (checkpoint_now)
    return {"checkpoint_interval_ms": 3_600_000}


@pytest.fixture
async def members(h: HubHarness) -> dict[str, Leaf]:
    leaves = {m: await h.member(m, n) for m, n in (("fr", "ops"), ("de", "zoll"))}
    await h.channel(CH, {"fr": "contributor", "de": "reader"})
    return leaves


async def publish(client: Client, first: int, n: int) -> None:
    for i in range(first, first + n):
        await client.publish(CH, "notice", note(f"fr {i}"), alert_id=f"FR-{i}")


def log_key(h: HubHarness) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(
        (h.pki.dir / "out" / "log.key").read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


async def forge(raw: Any, h: HubHarness, cp: Checkpoint, *, key: Ed25519PrivateKey,
                kid: str) -> None:
    """Store a checkpoint signed with ``key`` as the channel's latest (what a dishonest hub
    would serve)."""
    data = encode_checkpoint(cp)
    await raw.hset(CKPT, mapping={"epoch": cp.epoch, "size": cp.size, "cp": data,
                                  "sig": sign_checkpoint(key, data), "kid": kid})


async def test_checkpoints_inclusion_and_consistency(h: HubHarness,
                                                     members: dict[str, Leaf],
                                                     tmp_path: Path) -> None:
    """Every received alert's inclusion verifies against the signed checkpoint; the log
    grows consistently; the state file carries the last checkpoint across a restart."""
    state = tmp_path / "cp.json"
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 1, 5)
    assert await checkpoint_now(h) == 1
    async with h.client(members["de"], checkpoint_state=state, **FAST) as de:
        first = await de.checkpoint(CH)
        cp = first.checkpoint
        assert (cp.channel, cp.size, cp.prev) == (CH, 5, None)
        assert first.kid == key_id(first.cert_der) and first.fingerprint.count("-") == 3
        page = await de.history(CH, limit=100)
        alerts = {item.offset: item.alert for item in page.items}
        assert cp.root == root([leaf_hash(alerts[o]) for o in range(1, 6)])
        paths = await de.prove_inclusion(CH, cp.epoch, 5, range(1, 6), alerts=alerts)
        for off, path in paths.items():
            assert verify_alert_inclusion(cp, off, alerts[off], path)
        assert not verify_alert_inclusion(cp, 1, alerts[2], paths[1])
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 6, 4)
    assert await checkpoint_now(h) == 1
    assert await checkpoint_now(h) == 0  # nothing moved: no new signature
    async with h.client(members["de"], checkpoint_state=state, **FAST) as de:
        assert de.checkpoints[CH].checkpoint.size == 5  # from the state file
        second = await de.checkpoint(CH)  # checked 5 -> 9 by a consistency proof
        assert second.checkpoint.size == 9
        proof = await de.prove_consistency(CH, cp.epoch, 5, 9)
        assert proof and len(proof) <= 8
        with pytest.raises(InvalidFrame, match="beyond the latest signed"):
            await de.prove_inclusion(CH, cp.epoch, 10, [1])
        with pytest.raises(InvalidFrame, match="outside"):
            await de.prove_inclusion(CH, cp.epoch, 9, [10])
        with pytest.raises(EpochMismatch):
            await de.prove_inclusion(CH, "0" * 32, 9, [1])
    outsider = await h.member("it", "gdf")
    async with h.client(outsider, **FAST) as it:
        with pytest.raises(NoSuchChannel):
            await it.checkpoint(CH)
        with pytest.raises(NoSuchChannel):
            await it.prove_inclusion(CH, cp.epoch, 9, [1])


async def test_equivocation_and_rewritten_history_are_detected(
        h: HubHarness, members: dict[str, Leaf], raw: Any) -> None:
    """A hub holding the log key signs another history: for the same size (two members
    shown different logs: different fingerprints, and the member who saw the first gets
    LogInconsistent) and for a larger size that does not extend the first."""
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 1, 4)
    await checkpoint_now(h)
    de = h.client(members["de"], **FAST)
    async with de:
        honest = await de.checkpoint(CH)
        cp = honest.checkpoint
        entries = await raw.xrange(LOG)
        swapped = [entries[1][1][b"a"], entries[0][1][b"a"], entries[2][1][b"a"],
                   entries[3][1][b"a"]]
        other = Checkpoint(ChannelName(CH), cp.epoch, 4, root([leaf_hash(a) for a in swapped]),
                           cp.time + 1)
        await forge(raw, h, other, key=log_key(h), kid=honest.kid)
        async with h.client(members["fr"], **FAST) as fr_reader:
            shown = await fr_reader.checkpoint(CH)  # verifies: correctly signed
        assert shown.fingerprint != honest.fingerprint
        with pytest.raises(LogInconsistent, match="two different roots"):
            await de.checkpoint(CH)
        # a larger forged log (history rewritten, then grown)
        bigger = Checkpoint(ChannelName(CH), cp.epoch, 5,
                            root([leaf_hash(a) for a in [*swapped, b"x"]]), cp.time + 2)
        await forge(raw, h, bigger, key=log_key(h), kid=honest.kid)
        await raw.rpush("unused", 1)
        await raw.append(LEAVES, leaf_hash(b"x"))
        await raw.hset(META, mapping={"head": 5, "durable": 5})
        with pytest.raises(LogInconsistent, match="does not extend"):
            await de.checkpoint(CH)
        assert de.checkpoints[CH].checkpoint.root == cp.root  # the honest one is kept


async def test_tampered_store_gets_no_signature_and_proofs_fail(
        h: HubHarness, members: dict[str, Leaf], raw: Any) -> None:
    """Someone edits the leaf string in the store (without the log key): the hub refuses
    to sign a log that no longer extends its checkpoint, and inclusion proofs computed
    from the edited leaves do not verify against the checkpoint the member holds."""
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 1, 4)
    await checkpoint_now(h)
    assert h.hub is not None
    async with h.client(members["de"], **FAST) as de:
        held = await de.checkpoint(CH)
        alerts = {i.offset: i.alert for i in (await de.history(CH)).items}
        leaves = await raw.get(LEAVES)
        await raw.set(LEAVES, leaves[32:64] + leaves[:32] + leaves[64:])  # swap leaves 0, 1
        await raw.hset(META, mapping={"head": 4, "durable": 4})
        h.hub.translog._trees.clear()  # a hub process that starts now reads the store
        async with h.client(members["fr"], **FAST) as fr:
            await publish(fr, 5, 1)
        assert await checkpoint_now(h) == 0 and CH in h.hub.translog.refused
        with pytest.raises(CheckpointError, match="not in the log"):
            await de.prove_inclusion(CH, held.checkpoint.epoch, 4, [1, 2], alerts=alerts)


@pytest.mark.parametrize("attack", ["edited", "member-key", "no-eku", "revoked"])
async def test_bad_checkpoints_are_refused(h: HubHarness, members: dict[str, Leaf],
                                           raw: Any, attack: str) -> None:
    """A stored checkpoint edited after signing; one signed with a member's key (in the
    directory, but not a log key); with a CA-issued key whose certificate lacks the
    cordon-log EKU; with a revoked log key (the client has the CRL): each refused."""
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 1, 3)
    await checkpoint_now(h)
    honest = decode_checkpoint(await raw.hget(CKPT, "cp"))
    lie = Checkpoint(ChannelName(CH), honest.epoch, 3, b"\x07" * 32, honest.time)
    match = ""
    if attack == "edited":
        data = await raw.hget(CKPT, "cp")
        await raw.hset(CKPT, "cp", data.replace(honest.root, b"\x07" * 32))
        match = "signature"
    elif attack == "member-key":
        leaf = members["fr"]
        key = serialization.load_pem_private_key(leaf.key.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        await forge(raw, h, lie, key=key, kid=leaf.kid)
        match = "cordon-log"
    elif attack == "no-eku":
        issued = issue_log(h.pki.dir, hub="rogue", eku=[CLIENT_AUTH], basename="rogue")
        await h.sync()
        key = serialization.load_pem_private_key(issued.key.read_bytes(), password=None)
        assert isinstance(key, Ed25519PrivateKey)
        await forge(raw, h, lie, key=key, kid=issued.kid)
        match = "cordon-log"
    else:
        revoke(h.pki.dir, principal="log:main", reason="keyCompromise")
        await h.sync()
        match = "revoked"
    async with h.client(members["de"], crl=h.pki.crl, **FAST) as de:
        with pytest.raises(CheckpointError, match=match):
            await de.checkpoint(CH)
    if attack == "revoked":
        assert h.hub is not None
        async with h.client(members["fr"], **FAST) as fr:
            await publish(fr, 4, 1)
        assert await checkpoint_now(h) == 0  # the hub stops signing with a revoked log key


async def test_epoch_change_links_the_old_log(h: HubHarness, members: dict[str, Leaf],
                                              raw: Any) -> None:
    """A channel deleted and created again has a new epoch; its checkpoints carry the link
    (SHA-256 of the old epoch's last signed checkpoint), served with it; a member holding
    that old checkpoint accepts the new log, one holding a larger one is told."""
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 1, 3)
    await checkpoint_now(h)
    async with h.client(members["de"], **FAST) as de:
        old = await de.checkpoint(CH)
        await h.store.delete_channel(CH)
        await h.channel(CH, {"fr": "contributor", "de": "reader"})
        assert h.hub is not None
        h.hub.access.apply({"type": "channel", "ch": CH})
        async with h.client(members["fr"], **FAST) as fr:
            await publish(fr, 11, 2)
        await checkpoint_now(h)
        new = await de.checkpoint(CH)
        assert new.checkpoint.epoch != old.checkpoint.epoch
        assert new.checkpoint.prev == hashlib.sha256(old.data).digest()
        assert new.checkpoint.prev_epoch == old.checkpoint.epoch
        assert new.link is not None and new.link.data == old.data
    # a member that held a checkpoint the link does not reach (forged: size 4 of old epoch)
    async with h.client(members["de"], **FAST) as de2:
        bigger = Checkpoint(ChannelName(CH), old.checkpoint.epoch, 4, b"\x01" * 32,
                            int(time.time() * 1000))
        data = encode_checkpoint(bigger)
        de2._remember(CH, de2._verify_checkpoint(CH, data, sign_checkpoint(log_key(h), data),
                                                 old.kid, old.cert_der))
        with pytest.raises(LogInconsistent, match="dropped"):
            await de2.checkpoint(CH)


async def test_cli_show_and_verify(h: HubHarness, members: dict[str, Leaf], raw: Any,
                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                   ) -> None:
    """`cordon checkpoint show` prints the verified checkpoint and saves it for a peer;
    `verify` accepts the peer's fingerprint at the same size and the peer's file at an
    older size (consistency proof), and exits 1 on a forged second history."""
    import asyncio

    from client.checkpoint import main as checkpoint_main

    def argv(command: str, leaf: Leaf, *rest: str) -> list[str]:
        peer = [r for r in rest if not r.startswith("--") and command == "verify"]
        opts = [r for r in rest if r not in peer]
        return [command, CH, *peer, "--hub", h.url, "--cert", str(leaf.cert), "--key",
                str(leaf.key), "--ca", str(h.pki.ca), "--crl", str(h.pki.crl), *opts]

    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 1, 3)
    await checkpoint_now(h)
    peer_file = tmp_path / "peer.json"
    assert await asyncio.to_thread(
        checkpoint_main, argv("show", members["fr"], "--save", str(peer_file))) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["size"] == 3 and shown["channel"] == CH and len(shown["root"]) == 64
    assert await asyncio.to_thread(
        checkpoint_main, argv("verify", members["de"], shown["fingerprint"].lower())) == 0
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 4, 2)
    await checkpoint_now(h)
    assert await asyncio.to_thread(
        checkpoint_main, argv("verify", members["de"], str(peer_file))) == 0
    assert "consistency proof verified" in capsys.readouterr().err
    assert await asyncio.to_thread(
        checkpoint_main, argv("verify", members["de"], shown["fingerprint"])) == 1
    # a second history signed with the log key at size 5
    cp = decode_checkpoint(await raw.hget(CKPT, "cp"))
    kid = (await raw.hget(CKPT, "kid")).decode()
    await forge(raw, h, Checkpoint(ChannelName(CH), cp.epoch, 5, b"\x09" * 32, cp.time + 1),
                key=log_key(h), kid=kid)
    assert await asyncio.to_thread(
        checkpoint_main, argv("verify", members["de"], str(peer_file))) == 1
    assert "DIFFERENT" in capsys.readouterr().err
    # the local mode still works
    assert await asyncio.to_thread(checkpoint_main, argv("show", members["de"])[1:10]) == 0
    assert json.loads(capsys.readouterr().out)["size"] == 5


async def test_trimmed_alerts_stay_provable(h: HubHarness, members: dict[str, Leaf],
                                            raw: Any) -> None:
    """Retention drops alerts from the stream, not their leaf hashes: the hub still
    proves the inclusion of a trimmed alert (whose bytes the member kept)."""
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 1, 5)
    async with h.client(members["de"], **FAST) as de:
        kept = {i.offset: i.alert for i in (await de.history(CH)).items}
        await raw.xtrim(LOG, minid="0-4", approximate=False)
        await raw.hset(META, "first", 4)
        await checkpoint_now(h)
        cp = (await de.checkpoint(CH)).checkpoint
        assert [i.offset for i in (await de.history(CH)).items] == [4, 5]
        paths = await de.prove_inclusion(CH, cp.epoch, 5, [1, 2, 3], alerts=kept)
        assert all(verify_alert_inclusion(cp, o, kept[o], p) for o, p in paths.items())


async def test_a_channel_without_leaves_is_not_signed(h: HubHarness, members: dict[str, Leaf],
                                                      raw: Any) -> None:
    """Alerts stored before the hub kept logs (no leaf string): no checkpoint is signed
    that would claim a log without them, and no leaves are appended out of place."""
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 1, 2)
        await raw.delete(LEAVES)
        await publish(fr, 3, 1)
    assert await raw.strlen(LEAVES) == 0
    assert await checkpoint_now(h) == 0
    assert h.hub is not None and CH in h.hub.translog.refused
    async with h.client(members["de"], **FAST) as de:
        with pytest.raises(NotFound):
            await de.checkpoint(CH)


async def test_signing_off(tmp_path: Path, valkey_url: str, raw: Any) -> None:
    """checkpoint_interval_ms = 0: the hub signs nothing and `ckpt` answers 406."""
    await raw.flushdb()
    async with HubHarness(tmp_path, valkey_url, checkpoint_interval_ms=0) as h:
        leaf = await h.member("fr", "ops")
        await h.channel(CH, {"fr": "contributor"})
        async with h.client(leaf, **FAST) as fr:
            await publish(fr, 1, 1)
            assert h.hub is not None and not h.hub.translog.signing
            with pytest.raises(NotFound):
                await fr.checkpoint(CH)
        assert not (h.pki.dir / "out" / "log.pem").exists()  # nor issued a log key


async def test_an_older_checkpoint_served_again_is_not_a_rollback(
        h: HubHarness, members: dict[str, Leaf], raw: Any) -> None:
    """The store loses its latest checkpoint (restored to an older signed one, as after a
    crash before the write reached the disk): the member keeps the newer one it holds, and
    checks it against the next checkpoint when the log grows past it."""
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 1, 3)
    await checkpoint_now(h)
    older = await raw.hgetall(CKPT)
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 4, 2)
    await checkpoint_now(h)
    async with h.client(members["de"], **FAST) as de:
        assert (await de.checkpoint(CH)).checkpoint.size == 5
        await raw.delete(CKPT)
        await raw.hset(CKPT, mapping=older)
        assert (await de.checkpoint(CH)).checkpoint.size == 3
        assert de.checkpoints[CH].checkpoint.size == 5
        async with h.client(members["fr"], **FAST) as fr:
            await publish(fr, 6, 1)
        await checkpoint_now(h)
        assert (await de.checkpoint(CH)).checkpoint.size == 6  # checked from 5


async def test_one_signature_per_interval_across_hub_processes(
        h: HubHarness, members: dict[str, Leaf]) -> None:
    """Two hub processes on one store (a second TransLog with the same log key): one
    signature per channel per interval between them, and both serve the same one."""
    from hub.translog import TransLog

    assert h.hub is not None
    first = h.hub.translog
    other = TransLog(h.store, key=first.key, interval_ms=first.interval_ms)
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 1, 2)
    assert await first.sign_due() + await other.sign_due() == 1
    async with h.client(members["fr"], **FAST) as fr:
        await publish(fr, 3, 1)
    assert await other.sign_due() + await first.sign_due() == 0  # within the interval
    assert (await first.latest(CH)).cp == (await other.latest(CH)).cp
