"""Enrolment by certificate request: the member keeps its private key, the CA sees a CSR.

A principal's certificate subject is display only (identity lives in the SAN URI,
:mod:`hub.protocol.identity`); it is ``O=<member>, CN=<name>`` (``O=admin`` for a hub
administrator), so every field stays within X.509's 64-character bound at every name
length the protocol allows.

- :func:`principal_subject` is that subject, used by the CA and by requesters alike.
- :func:`build_request` makes a PKCS#10 request (PEM) for an identity with the
  requester's own Ed25519 key: subject as above, and the identity URI as a requested
  subjectAltName.
- :func:`check_request` is what the CA does before issuing from a request, and returns
  the key to certify. Each refusal is an :class:`~hub.protocol.errors.InvalidFrame`
  (401) whose detail is one of the fixed texts below (PROTOCOL.md §6.8).

The CA sets every extension itself; of the request it uses only the public key, and it
reads the subject and a requested subjectAltName only to check that they name the
principal being issued for.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID
from nacl.bindings import crypto_core_ed25519_is_valid_point

from hub.protocol import ed25519
from hub.protocol.errors import InvalidFrame
from hub.protocol.identity import Identity

__all__ = [
    "CSR_BAD_SIGNATURE",
    "CSR_MALFORMED",
    "CSR_NOT_ED25519",
    "CSR_TOO_LARGE",
    "CSR_WEAK_KEY",
    "CSR_WRONG_SUBJECT",
    "MAX_CSR_BYTES",
    "build_request",
    "check_request",
    "is_strong_key",
    "principal_subject",
]

#: Largest certificate request accepted (PEM text; an Ed25519 request is 363-525 bytes).
MAX_CSR_BYTES = 8 * 1024

# The fixed refusal texts (the ``detail`` of the 401), in the order they are checked.
CSR_TOO_LARGE = "certificate request too large"
CSR_MALFORMED = "certificate request is not a PEM PKCS#10 request"
CSR_NOT_ED25519 = "certificate request key is not Ed25519"
CSR_WEAK_KEY = "certificate request key is weak (small order or not canonical)"
CSR_BAD_SIGNATURE = "certificate request self-signature does not verify"
CSR_WRONG_SUBJECT = "certificate request does not name this principal"


def principal_subject(identity: Identity) -> x509.Name:
    """``O=<member>, CN=<name>`` (``O=admin`` for administrators): display only."""
    member, _, name = identity.principal.partition("/")
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, member),
        x509.NameAttribute(NameOID.COMMON_NAME, name),
    ])


def is_strong_key(raw: bytes) -> bool:
    """True if ``raw`` is a canonical Ed25519 point of the prime-order subgroup (libsodium's
    ``crypto_core_ed25519_is_valid_point``): not of small order, not mixed with one."""
    return len(raw) == 32 and bool(crypto_core_ed25519_is_valid_point(raw))


def build_request(key: Ed25519PrivateKey, identity: Identity) -> bytes:
    """A PKCS#10 request (PEM) for ``identity``, signed by ``key``."""
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(principal_subject(identity))
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(identity.uri)]),
            critical=False,
        )
        .sign(key, None)
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def _requested_uris(csr: x509.CertificateSigningRequest) -> list[x509.GeneralName] | None:
    try:
        return list(csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
    except x509.ExtensionNotFound:
        return None


def check_request(pem: bytes | str, identity: Identity) -> Ed25519PublicKey:
    """The key to certify for ``identity`` from request ``pem``; :class:`InvalidFrame`
    with one of the fixed texts if the request is too large or malformed, its key is not
    Ed25519 or is weak, its self-signature does not verify (strictly, with libsodium),
    or its subject (or a requested subjectAltName) names anyone else."""
    data = pem.encode("utf-8", "replace") if isinstance(pem, str) else pem
    if len(data) > MAX_CSR_BYTES:
        raise InvalidFrame(CSR_TOO_LARGE)
    try:
        csr = x509.load_pem_x509_csr(data)
        key = csr.public_key()
        requested = _requested_uris(csr)
        subject = csr.subject
    except (ValueError, TypeError, x509.DuplicateExtension):
        raise InvalidFrame(CSR_MALFORMED) from None
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidFrame(CSR_NOT_ED25519)
    raw = key.public_bytes_raw()
    if not is_strong_key(raw):
        raise InvalidFrame(CSR_WEAK_KEY)
    if csr.signature_algorithm_oid != SignatureAlgorithmOID.ED25519 or len(csr.signature) != 64:
        raise InvalidFrame(CSR_BAD_SIGNATURE)
    if not ed25519.verify(raw, csr.tbs_certrequest_bytes, csr.signature):
        raise InvalidFrame(CSR_BAD_SIGNATURE)
    if subject != principal_subject(identity) or (
        requested is not None and requested != [x509.UniformResourceIdentifier(identity.uri)]
    ):
        raise InvalidFrame(CSR_WRONG_SUBJECT)
    return key

