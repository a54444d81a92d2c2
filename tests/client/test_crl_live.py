"""The CA's CRL served by the hub (``crl`` → ``crlok``, PROTOCOL.md §6.10) against a real hub,
real mutual TLS and a real Valkey: it verifies, follows a revocation once the hub reloads
its CRL, is used for checkpoint checks when the client has no CRL file, and goes into
evidence bundles exported without ``--crl``. A dishonest hub (or store) serving another
CA's CRL, an expired one, an older one or none is simulated by writing the store's CRL
record directly (with the number left as it is, so no hub process reloads it into TLS):
the SDK refuses each with its documented error.
"""

from __future__ import annotations

import asyncio
import base64
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certs.ca import revoke
from client.checkpoint import main as checkpoint_main
from client.evidence import main as evidence_main
from client.evidence import read_ca
from client.sdk import CheckpointError, CRLError, ForeignCRL, StaleCRL
from hub.protocol.errors import FrameTooLarge, InternalError, NotFound
from hub.protocol.evidence import verify_bundle
from hub.protocol.limits import MAX_CRL_BYTES
from hub.storage import CRL_KEY
from tests.bodies import note
from tests.client.common import CH, FAST, checkpoint_now
from tests.harness import HubHarness
from tests.pki import Leaf


@pytest.fixture
def hub_options() -> dict[str, Any]:
    return {"checkpoint_interval_ms": 100}


@pytest.fixture
async def members(h: HubHarness) -> dict[str, Leaf]:
    leaves = {"fr": await h.member("fr", "ops"), "de": await h.member("de", "zoll"),
              "nl": await h.member("nl", "douane")}  # nl: no role in any channel
    await h.channel(CH, {"fr": "contributor", "de": "contributor"})
    return leaves


def _der_of_pem(pem: bytes) -> bytes:
    body = re.search(rb"-----BEGIN X509 CRL-----(.+?)-----END X509 CRL-----", pem, re.S)
    assert body is not None
    return base64.b64decode(body.group(1))


def _ca_key(h: HubHarness) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key((h.pki.dir / "ca.key").read_bytes(),
                                             password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def _crl(issuer: x509.Name, key: Ed25519PrivateKey, *, number: int, this: datetime,
         nxt: datetime) -> bytes:
    crl = (x509.CertificateRevocationListBuilder().issuer_name(issuer).last_update(this)
           .next_update(nxt).add_extension(x509.CRLNumber(number), critical=False)
           .sign(key, None))
    return crl.public_bytes(serialization.Encoding.PEM)


async def _store_as_is(raw: Any, pem: bytes) -> None:
    """What a dishonest hub or store would serve: the stored CRL replaced, its number kept
    (no hub process reloads it into TLS: it is not newer)."""
    await raw.hset(CRL_KEY, "pem", pem)


def _trust_only_ca(h: HubHarness, tmp_path: Path) -> Path:
    """A copy of ca.pem with no crl.pem beside it (as a member holds it)."""
    folder = tmp_path / "trust"
    folder.mkdir(exist_ok=True)
    return Path(shutil.copy(h.pki.ca, folder / "ca.pem"))


async def test_served_crl_verifies_and_follows_a_revocation(
        h: HubHarness, members: dict[str, Leaf]) -> None:
    """Any member may ask (one with no channel role too); the bytes are the CA folder's CRL
    exactly as signed; after a revocation and the hub's reload the new CRL lists it."""
    async with h.client(members["nl"], **FAST) as nl:
        first = await nl.crl()
        folder = _der_of_pem(h.pki.crl.read_bytes())
        assert first.public_bytes(serialization.Encoding.DER) == folder
        assert first.get_revoked_certificate_by_serial_number(members["fr"].serial) is None
        await h.revoke(members["fr"])  # CA folder CRL rewritten; the hub syncs it
        second = await nl.crl()
        number = x509.CRLNumber
        assert (second.extensions.get_extension_for_class(number).value.crl_number
                > first.extensions.get_extension_for_class(number).value.crl_number)
        assert second.get_revoked_certificate_by_serial_number(
            members["fr"].serial) is not None
        assert second.public_bytes(serialization.Encoding.DER) == _der_of_pem(
            h.pki.crl.read_bytes())


@pytest.mark.parametrize("attack", ["foreign", "expired", "older", "none"])
async def test_a_bad_served_crl_is_refused(h: HubHarness, members: dict[str, Leaf], raw: Any,
                                           attack: str) -> None:
    """Another CA's CRL (same issuer name, another key), an expired one signed by the real
    CA, one older than a CRL this client verified, or none at all: ``crl()`` raises its
    error, and a checkpoint (no ``crl=`` file) is refused rather than checked without
    revocation."""
    async with h.client(members["fr"], **FAST) as fr:
        await fr.publish(CH, "notice", note("one"), alert_id="FR-1")
    assert await checkpoint_now(h) == 1
    ca = x509.load_pem_x509_certificate(h.pki.ca.read_bytes())
    now = datetime.now(UTC)
    async with h.client(members["de"], **FAST) as de:
        held = await de.crl()  # the honest one
        stored = await raw.hget(CRL_KEY, "number")
        number = int(stored)
        if attack == "foreign":
            await _store_as_is(raw, _crl(ca.subject, Ed25519PrivateKey.generate(),
                                         number=number, this=now, nxt=now + timedelta(days=7)))
            error: type[CRLError] = ForeignCRL
            match = "not signed by this client's CA"
        elif attack == "expired":
            await _store_as_is(raw, _crl(ca.subject, _ca_key(h), number=number,
                                         this=now - timedelta(days=9),
                                         nxt=now - timedelta(days=2)))
            error, match = StaleCRL, "expired"
        elif attack == "older":
            await _store_as_is(raw, _crl(ca.subject, _ca_key(h), number=number - 1,
                                         this=now, nxt=now + timedelta(days=7)))
            error, match = CRLError, "older than number"
        else:
            await raw.delete(CRL_KEY)
            error, match = CRLError, "serves no CRL"
        if attack == "none":
            with pytest.raises(NotFound):
                await de.crl()
        else:
            with pytest.raises(error, match=match):
                await de.crl()
        assert held is not None
    async with h.client(members["de"], **FAST) as de2:  # a fresh client: nothing held
        if attack == "older":  # a rollback is seen only by a client that saw the newer one
            await de2.checkpoint(CH)
            return
        with pytest.raises(error, match=match):
            await de2.checkpoint(CH)


async def test_checkpoint_uses_the_hub_crl_for_a_revoked_log_key(
        h: HubHarness, members: dict[str, Leaf]) -> None:
    """No ``crl=`` file: the log key's revocation is still checked (the hub's CRL), in the
    SDK and in ``cordon checkpoint show``."""
    async with h.client(members["fr"], **FAST) as fr:
        await fr.publish(CH, "notice", note("one"), alert_id="FR-1")
    assert await checkpoint_now(h) == 1
    revoke(h.pki.dir, principal="log:main", reason="keyCompromise")
    await h.sync()
    async with h.client(members["de"], **FAST) as de:
        with pytest.raises(CheckpointError, match="revoked"):
            await de.checkpoint(CH)
    leaf = members["de"]
    code = await asyncio.to_thread(checkpoint_main, [
        "show", CH, "--hub", h.url, "--cert", str(leaf.cert), "--key", str(leaf.key),
        "--ca", str(h.pki.ca)])
    assert code == 1


async def test_export_without_crl_uses_the_hub_crl(h: HubHarness, members: dict[str, Leaf],
                                                   tmp_path: Path, capsys: Any) -> None:
    """``cordon evidence export`` with no ``--crl`` (and no crl.pem beside ``--ca``): the
    bundle carries the hub's CRL, verifies offline, and names the sender's revocation."""
    async with h.client(members["fr"], **FAST) as fr:
        await fr.publish(CH, "notice", note("signed before"), alert_id="FR-N-1")
    await h.revoke(members["fr"])
    ca = _trust_only_ca(h, tmp_path)
    out = tmp_path / "b.cordon-evidence"
    leaf = members["de"]
    code = await asyncio.to_thread(evidence_main, [
        "export", CH, "--ids", "FR-N-1", "--out", str(out), "--hub", h.url,
        "--cert", str(leaf.cert), "--key", str(leaf.key), "--ca", str(ca)])
    assert code == 0, capsys.readouterr().err
    report = verify_bundle(out.read_bytes(), expected_ca=read_ca(ca))
    stored = x509.load_pem_x509_crl(h.pki.crl.read_bytes())
    assert report.crl_number == stored.extensions.get_extension_for_class(
        x509.CRLNumber).value.crl_number
    [alert] = [a for a in report.alerts if not a.is_permission]
    assert alert.revoked_later is not None and alert.serial == members["fr"].serial
    code = await asyncio.to_thread(evidence_main, ["verify", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "NOTE: the sender's certificate was revoked on" in text


async def test_export_refuses_a_foreign_hub_crl(h: HubHarness, members: dict[str, Leaf],
                                                raw: Any, tmp_path: Path,
                                                capsys: Any) -> None:
    """The hub serves another CA's CRL: export writes nothing and exits 6 (unverifiable);
    ``--crl`` with the real CRL overrides it."""
    async with h.client(members["fr"], **FAST) as fr:
        await fr.publish(CH, "notice", note("x"), alert_id="FR-N-1")
    ca_cert = x509.load_pem_x509_certificate(h.pki.ca.read_bytes())
    now = datetime.now(UTC)
    await _store_as_is(raw, _crl(ca_cert.subject, Ed25519PrivateKey.generate(), number=1,
                                 this=now, nxt=now + timedelta(days=7)))
    ca = _trust_only_ca(h, tmp_path)
    out = tmp_path / "b.cordon-evidence"
    leaf = members["de"]
    base = ["export", CH, "--ids", "FR-N-1", "--out", str(out), "--hub", h.url,
            "--cert", str(leaf.cert), "--key", str(leaf.key), "--ca", str(ca)]
    capsys.readouterr()
    code = await asyncio.to_thread(evidence_main, base)
    err = capsys.readouterr().err
    assert code == 6 and not out.exists(), err
    assert "not signed by this client's CA" in err and "--crl" in err, err
    code = await asyncio.to_thread(evidence_main, [*base, "--crl", str(h.pki.crl)])
    assert code == 0 and out.exists(), capsys.readouterr().err


async def test_the_served_crl_is_reused_then_asked_again(h: HubHarness,
                                                         members: dict[str, Leaf], raw: Any,
                                                         monkeypatch: Any) -> None:
    """Checkpoint checks reuse the CRL verified on this connection (no round trip each);
    after a reconnection, or once CRL_RECHECK_S has passed, the hub is asked again — and
    a CRL the store now holds from another CA is refused then."""
    from client import sdk

    async with h.client(members["fr"], **FAST) as fr:
        await fr.publish(CH, "notice", note("one"), alert_id="FR-1")
    assert await checkpoint_now(h) == 1
    ca = x509.load_pem_x509_certificate(h.pki.ca.read_bytes())
    now = datetime.now(UTC)
    number = int(await raw.hget(CRL_KEY, "number"))
    async with h.client(members["de"], **FAST) as de:
        await de.checkpoint(CH)  # asks for the CRL, verifies it
        await _store_as_is(raw, _crl(ca.subject, Ed25519PrivateKey.generate(),
                                     number=number, this=now, nxt=now + timedelta(days=7)))
        await de.checkpoint(CH)  # the CRL held is reused
        await h.restart()  # the same number is stored: no hub process reloads anything
        with pytest.raises(ForeignCRL):
            await de.checkpoint(CH)  # a new connection: asked again
    foreign = await raw.hget(CRL_KEY, "pem")
    await _store_as_is(raw, h.pki.crl.read_bytes())  # the honest one again
    async with h.client(members["de"], **FAST) as de:
        await de.checkpoint(CH)
        await _store_as_is(raw, foreign)
        await de.checkpoint(CH)  # held
        monkeypatch.setattr(sdk, "CRL_RECHECK_S", 0.0)  # as if 5 minutes had passed
        with pytest.raises(ForeignCRL):
            await de.checkpoint(CH)


@pytest.mark.parametrize("stored", ["garbage", "too-large"])
async def test_an_unservable_stored_crl(h: HubHarness, members: dict[str, Leaf], raw: Any,
                                        stored: str) -> None:
    """The store's CRL unreadable → 500; over MAX_CRL_BYTES → 413 (checked before parsing);
    the connection stays usable and the next ask, once the CRL is fixed, works."""
    if stored == "garbage":
        pem = b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n"
        error: type[Exception] = InternalError
    else:
        body = base64.encodebytes(b"\x30" * (MAX_CRL_BYTES + 1))
        pem = b"-----BEGIN X509 CRL-----\n" + body + b"-----END X509 CRL-----\n"
        error = FrameTooLarge
    await _store_as_is(raw, pem)
    async with h.client(members["de"], **FAST) as de:
        with pytest.raises(error):
            await de.crl()
        await _store_as_is(raw, h.pki.crl.read_bytes())
        assert (await de.crl()).public_bytes(serialization.Encoding.DER) == _der_of_pem(
            h.pki.crl.read_bytes())
