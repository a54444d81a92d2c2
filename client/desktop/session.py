"""Build the bridge for saved settings: credentials (asking a passphrase), client, cache."""

from __future__ import annotations

from pathlib import Path

from client.desktop.bridge import HubBridge
from client.desktop.cache import Cache, cache_path
from client.desktop.credentials import (
    CredentialError,
    load_credentials,
    materialized,
    needs_passphrase,
)
from client.desktop.settings import DeskSettings
from client.desktop.verify import LocalVerifier
from client.sdk import Client, ClientError
from client.sdk import load_credentials as sdk_credentials

__all__ = ["SessionError", "open_session"]


class SessionError(Exception):
    """The saved settings cannot open a session (message for the officer)."""


def open_session(
    settings: DeskSettings, data: Path, *, passphrase: str | None = None, ask: bool = True
) -> HubBridge | None:
    """A bridge for ``settings`` (``None`` if the officer cancelled the passphrase prompt)."""
    if passphrase is None and needs_passphrase(settings):
        if not ask:
            raise SessionError("a passphrase is needed")
        from client.desktop.setup import ask_passphrase

        passphrase = ask_passphrase(None, Path(settings.p12 or settings.key).name)
        if passphrase is None:
            return None
    try:
        creds = load_credentials(settings, passphrase)
        with materialized(creds) as (cert, key, ca):
            principal = str(sdk_credentials(cert, key)[3].principal)
            where = cache_path(data, settings.hub_url, principal)
            # The last signed checkpoint verified per channel, kept beside the cache so
            # that the next session checks the hub's next one against it (equivocation).
            client = Client(settings.hub_url, cert=cert, key=key, ca=ca,
                            server_hostname=settings.server_name or None, max_attempts=4,
                            checkpoint_state=where.with_suffix(".checkpoints.json"))
    except (CredentialError, ClientError, ValueError, OSError) as exc:
        raise SessionError(str(exc)) from exc
    cache = Cache(where)
    return HubBridge(client, cache, LocalVerifier(creds.ca_certificates, cache.certs()))
