"""Hub settings: one frozen dataclass, built once at the edge from a TOML file and the
environment, then passed down. Its repr redacts secrets (the store URL's password).

Precedence: defaults < config file (``[hub]`` table) < environment (``CORDON_<FIELD>``,
upper case) < command-line flags.

Relative paths: in a config file they are relative to the file's own folder (made
absolute when the file is loaded), so a file works from any working directory; from
the environment, flags and defaults they are relative to the working directory.
"""

from __future__ import annotations

import dataclasses
import math
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from hub.http import parse_listen
from hub.logs import LOG_FORMATS, parse_levels
from hub.protocol import limits
from hub.refusals import AUDIT_REFUSALS_PER_S
from hub.storage import ACK_REPLICAS, AUDIT_MAX_ENTRIES, MAX_ACK_REPLICAS

__all__ = ["SESSION_RECHECK_S", "ConfigError", "Settings", "load_settings", "store_options"]

#: Seconds between re-checks of live sessions against the store (bounds how long a
#: revocation whose event was lost can go unapplied).
SESSION_RECHECK_S = 5.0


class ConfigError(ValueError):
    """A setting is missing, of the wrong type, or a file cannot be read."""


def _redact(url: str | None) -> str | None:
    """The URL with its password (``user:pw@`` or a ``password=`` query field) as ``***``."""
    if url is None:
        return None
    parts = urlsplit(url)
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        userinfo, _, hostport = netloc.rpartition("@")
        netloc = userinfo.partition(":")[0] + ":***@" + hostport
    if query:
        query = "&".join(
            field.partition("=")[0] + "=***"
            if field.partition("=")[0].lower() == "password" else field
            for field in query.split("&")
        )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the hub needs to run. Relative paths from a config file are made
    absolute against the file's folder by :func:`load_settings`; others are relative to
    the working directory."""

    host: str = "127.0.0.1"
    port: int = 8443
    data_dir: Path = Path("var/hub")
    #: External Redis/Valkey URL; None starts the embedded Valkey in ``data_dir/store``.
    redis_url: str | None = field(default=None, repr=False)
    #: Sentinel deployment instead of one store: the sentinels' ``host:port`` addresses
    #: (a TOML list; in the environment or flags, comma-separated). The hub writes to the
    #: primary they name for ``sentinel_service`` and follows failovers.
    sentinels: tuple[str, ...] = ()
    #: The name the sentinels monitor the store under (``sentinel monitor NAME …``).
    sentinel_service: str = "cordon"
    #: Password (and ACL user) of the store's data nodes: a Sentinel deployment's, or the
    #: ``redis_url`` store's instead of writing them into the URL.
    store_password: str | None = field(default=None, repr=False)
    store_username: str | None = None
    #: The sentinels' own password, if they require one (``requirepass`` in sentinel.conf).
    sentinel_password: str | None = field(default=None, repr=False)
    #: TLS to the store (``redis_url``, where ``rediss://`` implies it, or the data nodes
    #: and the sentinels), verified against ``store_tls_ca`` (the system's CAs when unset)
    #: and the host name.
    store_tls: bool = False
    store_tls_ca: Path | None = None
    #: A client certificate and its key for a store that requires one
    #: (``tls-auth-clients yes``, Redis's and Valkey's default for a TLS port).
    store_tls_cert: Path | None = None
    store_tls_key: Path | None = None
    #: Replicas that must confirm each alert's fsync (WAITAOF 1 N) before it is
    #: acknowledged, besides the primary; 0: the primary's fsync alone.
    ack_replicas: int = ACK_REPLICAS
    #: The CA folder written by ``cordon ca``: ca.pem, crl.pem, index.json, issued/.
    ca_dir: Path = Path("var/ca")
    server_cert: Path = Path("var/ca/out/server.pem")
    server_key: Path = Path("var/ca/out/server.key")
    #: The log key that signs channel checkpoints (``cordon ca issue-log-key``) and its
    #: certificate (default ``ca_dir/out/log.key`` and ``log.pem``: :attr:`log_key_path`);
    #: missing and the CA key in ``ca_dir``: the hub issues them there.
    log_key: Path | None = None
    log_cert: Path | None = None
    #: Milliseconds between two signed checkpoints of a channel (at most one per channel
    #: per interval, only when its durable size moved); 0 signs none (PROTOCOL.md §6.9).
    checkpoint_interval_ms: int = 1000
    #: Acknowledge only after the store has fsynced the alert (group commit).
    durable: bool = True
    #: Seconds any one store operation may take in all (retries, connection wait and fsync
    #: wait included) before the hub answers 503 (publish) or 1011 (new connection).
    store_timeout_s: float = 10.0
    #: Listen with SO_REUSEPORT, so several hub processes share the port (``--workers``).
    reuse_port: bool = False
    #: Seconds between checks of the CA folder for new certificates and a new CRL.
    registry_poll_s: float = 1.0
    #: Seconds between re-checks of every live session against the store (certificate,
    #: member status, subscription roles): applies revocations, suspensions and role
    #: removals whose pub/sub event was lost during a store reconnect.
    session_recheck_s: float = SESSION_RECHECK_S
    #: Seconds between retention passes (channels with a retention period drop old alerts).
    retention_check_s: float = 60.0
    #: Audit records the store keeps (approximately); the oldest are dropped first.
    audit_max_entries: int = AUDIT_MAX_ENTRIES
    #: Refusal records written per connection per second; the rest are counted in one
    #: summary record (``refusals.suppressed``).
    audit_refusals_per_s: int = AUDIT_REFUSALS_PER_S
    max_frame_bytes: int = limits.MAX_FRAME_BYTES
    publish_rate: float = limits.PUBLISH_RATE
    publish_burst: int = limits.PUBLISH_BURST
    max_connections_per_principal: int = limits.MAX_CONNECTIONS_PER_PRINCIPAL
    send_queue_frames: int = limits.SEND_QUEUE_FRAMES
    send_queue_bytes: int = limits.SEND_QUEUE_BYTES
    clock_skew_ms: int = limits.CLOCK_SKEW_MS
    handshake_timeout_s: float = limits.HANDSHAKE_TIMEOUT_S
    ping_interval_s: float = limits.PING_INTERVAL_S
    idle_timeout_s: float = limits.IDLE_TIMEOUT_S
    max_pings_per_s: int = limits.MAX_PINGS_PER_S
    #: The operations listener (/healthz, /readyz, /metrics; plain HTTP): HOST:PORT, or
    #: None / "" / "off" for none. With --workers N, worker i listens on PORT + i.
    http_listen: str | None = "127.0.0.1:9090"
    #: Log lines as "text" (for people) or "json" (one object per line).
    log_format: str = "text"
    #: Log levels: a default and per-component ones, e.g. "info,cordon.session=debug".
    log_level: str = "info"

    @property
    def ca_cert(self) -> Path:
        return self.ca_dir / "ca.pem"

    @property
    def crl(self) -> Path:
        return self.ca_dir / "crl.pem"

    @property
    def log_key_path(self) -> Path:
        return self.ca_dir / "out" / "log.key" if self.log_key is None else self.log_key

    @property
    def log_cert_path(self) -> Path:
        return self.ca_dir / "out" / "log.pem" if self.log_cert is None else self.log_cert

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={getattr(self, f.name)!r}" for f in dataclasses.fields(self) if f.repr
        )
        return f"Settings({shown}, redis_url={_redact(self.redis_url)!r})"

    @property
    def embedded_store(self) -> bool:
        """True when the hub runs its own embedded Valkey (no URL, no sentinels)."""
        return self.redis_url is None and not self.sentinels

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def store_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of :meth:`hub.storage.Store.connect` that come from the
    Sentinel, credential, TLS and replica settings."""
    def text(path: Path | None) -> str | None:
        return None if path is None else str(path)

    options: dict[str, Any] = {"ack_replicas": settings.ack_replicas}
    if settings.sentinels:
        options.update(sentinels=settings.sentinels, service=settings.sentinel_service,
                       sentinel_password=settings.sentinel_password)
    if not settings.embedded_store:
        options.update(
            password=settings.store_password, username=settings.store_username,
            tls=settings.store_tls, tls_ca=text(settings.store_tls_ca),
            tls_cert=text(settings.store_tls_cert), tls_key=text(settings.store_tls_key))
    return options


def _coerce(name: str, kind: str, value: Any) -> Any:
    try:
        if kind == "Path":
            if not isinstance(value, str | os.PathLike):
                raise TypeError(value)
            return Path(value)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(value)
            return text in {"1", "true", "yes", "on"}
        if kind == "int":
            if isinstance(value, bool | float):  # no silent rounding of 8443.5
                raise ValueError(value)
            return int(value)
        if kind == "float":
            if isinstance(value, bool):
                raise ValueError(value)
            number = float(value)
            if not math.isfinite(number):
                raise ValueError(value)
            return number
        if kind == "Path | None":
            if value in ("", None):
                return None
            if not isinstance(value, str | os.PathLike):
                raise TypeError(value)
            return Path(value)
        if kind == "tuple[str, ...]":
            items = value.split(",") if isinstance(value, str) else value
            if not isinstance(items, list | tuple) or not all(
                    isinstance(item, str) for item in items):
                raise TypeError(value)
            return tuple(item.strip() for item in items if item.strip())
        if kind in ("str | None", "str"):
            if value is not None and not isinstance(value, str):
                raise TypeError(value)
            return None if value in ("", None) else value
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"setting {name!r}: cannot use {value!r}") from exc
    raise ConfigError(f"setting {name!r}: unsupported type")  # pragma: no cover


#: Sizes, counts, rates and periods: zero or less makes no sense (a zero poll period
#: would spin, a zero rate would refuse every alert).
_POSITIVE = (
    "registry_poll_s", "session_recheck_s", "retention_check_s", "audit_max_entries",
    "store_timeout_s", "audit_refusals_per_s", "max_frame_bytes", "publish_rate", "publish_burst",
    "max_connections_per_principal", "send_queue_frames", "send_queue_bytes",
    "clock_skew_ms",
    "handshake_timeout_s", "ping_interval_s", "idle_timeout_s", "max_pings_per_s",
)


def load_settings(
    path: Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from defaults, an optional TOML file, the environment and overrides."""
    env = os.environ if env is None else env
    fields = {f.name: str(f.type) for f in dataclasses.fields(Settings)}
    values: dict[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as fh:
                doc = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        table = doc.get("hub", {})
        if not isinstance(table, dict):
            raise ConfigError(f"config file {path}: [hub] must be a table")
        for key, value in table.items():
            if key not in fields:
                raise ConfigError(f"config file {path}: unknown setting {key!r}")
            values[key] = _coerce(key, fields[key], value)
            if fields[key] in ("Path", "Path | None") and values[key] is not None \
                    and not values[key].is_absolute():
                values[key] = path.parent.absolute() / values[key]
    for name, kind in fields.items():
        raw = env.get("CORDON_" + name.upper())
        if raw is not None:
            values[name] = _coerce(name, kind, raw)
    for key, value in (overrides or {}).items():
        if value is not None:
            if key not in fields:
                raise ConfigError(f"unknown setting {key!r}")
            values[key] = _coerce(key, fields[key], value)
    if "ca_dir" in values:  # the hub's own credentials default to the CA folder's out/
        ca_dir = Path(values["ca_dir"])
        values.setdefault("server_cert", ca_dir / "out" / "server.pem")
        values.setdefault("server_key", ca_dir / "out" / "server.key")
    settings = Settings(**values)
    if settings.port < 0 or settings.port > 65535:
        raise ConfigError("setting 'port': must be 0-65535")
    for name in _POSITIVE:
        if getattr(settings, name) <= 0:
            raise ConfigError(f"setting {name!r}: must be positive")
    if settings.checkpoint_interval_ms < 0:
        raise ConfigError("setting 'checkpoint_interval_ms': must be 0 (off) or more")
    try:
        if settings.http_listen is not None and parse_listen(settings.http_listen) is None:
            settings = settings.replace(http_listen=None)  # "off"
    except ValueError as exc:
        raise ConfigError(f"setting 'http_listen': {exc}") from exc
    try:
        parse_levels(settings.log_level)
    except ValueError as exc:
        raise ConfigError(f"setting 'log_level': {exc}") from exc
    if settings.log_format not in LOG_FORMATS:
        raise ConfigError(f"setting 'log_format': must be one of {', '.join(LOG_FORMATS)}")
    _check_store(settings)
    return settings


def _check_store(settings: Settings) -> None:
    """The store settings that only make sense together."""
    if settings.sentinels and settings.redis_url is not None:
        raise ConfigError("settings 'sentinels' and 'redis_url': give one or the other")
    for address in settings.sentinels:
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ConfigError(f"setting 'sentinels': {address!r} is not host:port")
    if not settings.sentinel_service:
        raise ConfigError("setting 'sentinel_service': must not be empty")
    if not 0 <= settings.ack_replicas <= MAX_ACK_REPLICAS:
        raise ConfigError(f"setting 'ack_replicas': must be 0..{MAX_ACK_REPLICAS}")
    if settings.ack_replicas and not settings.durable:
        raise ConfigError("setting 'ack_replicas': needs durable = true")
    tls_files = [name for name in ("store_tls_ca", "store_tls_cert", "store_tls_key")
                 if getattr(settings, name) is not None]
    url = settings.redis_url or ""
    if settings.embedded_store and (settings.store_tls or tls_files or settings.store_password
                                    or settings.store_username):
        raise ConfigError("settings 'store_tls…' / 'store_password': the embedded store is "
                          "reached over a private unix socket, without TLS or password "
                          "(use 'redis_url' or 'sentinels' for an external store)")
    tls = settings.store_tls or url.startswith("rediss://")
    if tls_files and not tls:
        raise ConfigError(f"setting {tls_files[0]!r}: TLS to the store is off (set "
                          "store_tls = true, or use a rediss:// URL)")
    if tls and url.startswith("unix://"):
        raise ConfigError("setting 'store_tls': the store's unix:// socket has no TLS")
    if (settings.store_tls_cert is None) != (settings.store_tls_key is None):
        raise ConfigError("settings 'store_tls_cert' and 'store_tls_key': give both or none")
    if settings.store_password is not None and url and urlsplit(url).password is not None:
        raise ConfigError("settings 'store_password' and 'redis_url': the URL has a password "
                          "already; give it in one place")
    if settings.ack_replicas and settings.embedded_store:
        raise ConfigError("setting 'ack_replicas': the embedded store has no replicas "
                          "(use 'sentinels' or 'redis_url')")
