"""Settings and credentials: remembered paths, never a passphrase; PKCS#12 and PEM open."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from client.desktop.bridge import ONLINE
from client.desktop.credentials import (
    CredentialError,
    load_credentials,
    materialized,
    needs_passphrase,
)
from client.desktop.session import SessionError, open_session
from client.desktop.settings import (
    DeskSettings,
    config_dir,
    data_dir,
    load_settings,
    save_settings,
)
from hub.cli import main as cordon
from tests.desktop.conftest import CH
from tests.harness import HubHarness
from tests.pki import Leaf

SECRET = "correct horse battery staple"


def make_p12(leaf: Leaf, ca: Path, out: Path) -> Path:
    key = serialization.load_pem_private_key(leaf.key.read_bytes(), password=None)
    cert = x509.load_pem_x509_certificate(leaf.cert.read_bytes())
    cas = x509.load_pem_x509_certificates(ca.read_bytes())
    data = pkcs12.serialize_key_and_certificates(
        b"fr-ops", key, cert, cas,  # type: ignore[arg-type]
        serialization.BestAvailableEncryption(SECRET.encode()))
    out.write_bytes(data)
    return out


def test_settings_round_trip_in_the_user_config_dir(tmp_path: Path) -> None:
    assert config_dir() == tmp_path / "config" and data_dir() == tmp_path / "data"
    assert not load_settings().complete
    chosen = DeskSettings(hub_url="wss://hub:8443/", ca="/ca.pem", p12="/me.p12", language="fr")
    path = save_settings(chosen)
    assert path.parent == tmp_path / "config"
    assert os.stat(path).st_mode & 0o077 == 0
    assert load_settings() == chosen and chosen.complete
    assert set(json.loads(path.read_text())) == {
        "hub_url", "ca", "cert", "key", "p12", "server_name", "language", "newest_first",
        "layout"}
    path.write_text("{not json")
    assert load_settings() == DeskSettings()


async def test_pkcs12_with_passphrase_opens_a_session_and_nothing_secret_is_kept(
    hub: HubHarness, members: dict[str, Leaf], tmp_path: Path, qapp: Any
) -> None:
    p12 = make_p12(members["fr"], Path(hub.pki.ca), tmp_path / "fr.p12")
    settings = DeskSettings(hub_url=hub.url, p12=str(p12))  # the CA comes from the file
    assert needs_passphrase(settings)
    with pytest.raises(CredentialError):
        load_credentials(settings, "wrong")
    with pytest.raises(SessionError):
        open_session(settings, tmp_path / "data", ask=False)
    creds = load_credentials(settings, SECRET)
    assert "redacted" in repr(creds)
    with materialized(creds) as (_cert, key, _ca):
        assert key.read_bytes() == creds.key_pem
    assert not key.exists()
    save_settings(settings)
    saved = (tmp_path / "config" / "desk.json").read_text()
    assert SECRET not in saved and "PRIVATE KEY" not in saved
    bridge = open_session(settings, tmp_path / "data", passphrase=SECRET)
    assert bridge is not None
    try:
        bridge.start()
        await hub.wait_for(lambda: bridge.state == ONLINE)
        assert [c.channel for c in bridge.channel_rows()] == [CH]
        assert bridge.cache.path.parent == tmp_path / "data"
    finally:
        await bridge.stop()
        bridge.cache.close()
    kept = [f for d in ("config", "data") for f in (tmp_path / d).rglob("*") if f.is_file()]
    assert kept
    for file in kept:  # what the desk leaves on disk: no passphrase, no decrypted key
        data = file.read_bytes()
        assert SECRET.encode() not in data and b"PRIVATE KEY" not in data, file


def test_cli_entry() -> None:
    with pytest.raises(SystemExit) as exit_info:
        cordon(["desk", "--help"])
    assert exit_info.value.code == 0
