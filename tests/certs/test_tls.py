"""The CA's Ed25519 certificates in real TLS 1.3 mutual-authentication handshakes.

Python's ``ssl`` module on 127.0.0.1, port 0: the server requires a client
certificate from ``ca.pem``; good certificates get through, and expired,
not-yet-valid, wrong-purpose, foreign and revoked ones are refused by OpenSSL
before any application code could see them.
"""

from __future__ import annotations

import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509

from certs.ca import identity_of
from hub.protocol.envelope import key_id
from hub.protocol.identity import Identity
from tests.pki import Leaf, Pki, make_pki

TIMEOUT = 10.0
# OpenSSL X509_V_ERR_* codes
CERT_NOT_YET_VALID = 9
CERT_HAS_EXPIRED = 10
UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20
CERT_REVOKED = 23
INVALID_PURPOSE = 26


def server_context(pki: Pki, *, crl: bool = False) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(pki.server.cert, pki.server.key)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(pki.ca)
    if crl:
        ctx.load_verify_locations(pki.crl)
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    return ctx


def client_context(pki: Pki, leaf: Leaf | None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the server and its name
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_verify_locations(pki.ca)
    if leaf is not None:
        ctx.load_cert_chain(leaf.cert, leaf.key)
    return ctx


@dataclass
class Outcome:
    peer_der: bytes | None = None
    version: str | None = None
    server_error: BaseException | None = None
    client_error: BaseException | None = None
    client_got: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.peer_der is not None and self.client_got == b"ok"


def handshake(
    server_ctx: ssl.SSLContext, client_ctx: ssl.SSLContext, *, server_hostname: str = "localhost"
) -> Outcome:
    """One connection on 127.0.0.1; the server answers ``ok`` after a successful handshake."""
    outcome = Outcome()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(TIMEOUT)
        port = listener.getsockname()[1]

        def serve() -> None:
            try:
                conn, _ = listener.accept()
                conn.settimeout(TIMEOUT)
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    outcome.peer_der = tls.getpeercert(binary_form=True)
                    outcome.version = tls.version()
                    tls.sendall(b"ok")
            except (OSError, ssl.SSLError) as exc:
                outcome.server_error = exc

        thread = threading.Thread(target=serve)
        thread.start()
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as raw,
                client_ctx.wrap_socket(raw, server_hostname=server_hostname) as tls,
            ):
                # With TLS 1.3 the client learns of a refused certificate only here.
                outcome.client_got = tls.recv(2)
        except (OSError, ssl.SSLError) as exc:
            outcome.client_error = exc
        finally:
            thread.join(TIMEOUT)
    assert not thread.is_alive()
    return outcome


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return make_pki(tmp_path)


def test_mutual_tls13_with_ed25519_certificates(pki: Pki) -> None:
    ops = pki.member("fr", "ops")
    outcome = handshake(server_context(pki), client_context(pki, ops))
    assert outcome.ok, outcome
    assert outcome.version == "TLSv1.3"
    assert outcome.peer_der is not None
    assert key_id(outcome.peer_der) == ops.kid
    peer = x509.load_der_x509_certificate(outcome.peer_der)
    assert identity_of(peer) == Identity.for_member("fr", "ops")


def test_admin_certificate_and_server_ip_address(pki: Pki) -> None:
    alice = pki.admin("alice")
    outcome = handshake(
        server_context(pki, crl=True), client_context(pki, alice), server_hostname="127.0.0.1"
    )
    assert outcome.ok, outcome
    assert outcome.peer_der is not None
    assert identity_of(x509.load_der_x509_certificate(outcome.peer_der)) == Identity.for_admin(
        "alice"
    )


def test_server_name_is_checked_by_the_client(pki: Pki) -> None:
    outcome = handshake(
        server_context(pki), client_context(pki, pki.member()), server_hostname="hub.example"
    )
    assert isinstance(outcome.client_error, ssl.SSLCertVerificationError)
    assert not outcome.ok


def test_revoked_certificate_is_refused_with_the_crl(pki: Pki) -> None:
    ops = pki.member("fr", "ops")
    other = pki.member("fr", "other")
    # The freshly written (empty) CRL loads, verifies and lets good certificates in.
    assert handshake(server_context(pki, crl=True), client_context(pki, ops)).ok

    pki.revoke(ops)
    outcome = handshake(server_context(pki, crl=True), client_context(pki, ops))
    error = outcome.server_error
    assert isinstance(error, ssl.SSLCertVerificationError), outcome
    assert error.verify_code == CERT_REVOKED
    assert "revoked" in error.verify_message
    assert outcome.peer_der is None
    assert not outcome.ok
    # Other principals are unaffected; without the CRL the server would not know.
    assert handshake(server_context(pki, crl=True), client_context(pki, other)).ok
    assert handshake(server_context(pki), client_context(pki, ops)).ok


@pytest.mark.parametrize(
    ("variant", "code"),
    [
        ("expired_member", CERT_HAS_EXPIRED),
        ("not_yet_valid_member", CERT_NOT_YET_VALID),
        ("wrong_eku_member", INVALID_PURPOSE),
        ("foreign_ca_member", UNABLE_TO_GET_ISSUER_CERT_LOCALLY),
    ],
)
def test_bad_client_certificates_are_refused(pki: Pki, variant: str, code: int) -> None:
    leaf: Leaf = getattr(pki, variant)()
    outcome = handshake(server_context(pki, crl=True), client_context(pki, leaf))
    error = outcome.server_error
    assert isinstance(error, ssl.SSLCertVerificationError), outcome
    assert error.verify_code == code
    assert outcome.peer_der is None
    assert not outcome.ok


def test_no_client_certificate_is_refused(pki: Pki) -> None:
    outcome = handshake(server_context(pki), client_context(pki, None))
    assert isinstance(outcome.server_error, ssl.SSLError), outcome
    assert "certificate" in str(outcome.server_error).lower()
    assert not outcome.ok
