"""Reading a certificate back: which principal it names, and whether its purpose fits.

The identity comes from one place only, as :mod:`hub.protocol.identity`
defines it: the single ``urn:cordon:`` URI in the subjectAltName. CN, O and
every other field are ignored. Neither function checks the issuer, validity
period or revocation — the TLS handshake does that.
"""

from __future__ import annotations

from typing import TypeVar

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from certs.errors import InvalidIdentity, WrongPurpose
from hub.protocol.errors import InvalidFrame
from hub.protocol.identity import (
    ADMIN_EKU_OID,
    LOG_EKU_OID,
    Identity,
    cordon_uris,
    identity_from_uri,
)

__all__ = ["ADMIN_EKU", "CLIENT_AUTH", "LOG_EKU", "SERVER_AUTH", "check_purpose", "identity_of"]

CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
#: :data:`hub.protocol.identity.ADMIN_EKU_OID` as an object identifier.
ADMIN_EKU = x509.ObjectIdentifier(ADMIN_EKU_OID)
#: :data:`hub.protocol.identity.LOG_EKU_OID` (cordon-log: signs channel checkpoints).
LOG_EKU = x509.ObjectIdentifier(LOG_EKU_OID)

_E = TypeVar("_E", bound=x509.ExtensionType)


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _required(cert: x509.Certificate, cls: type[_E], name: str) -> _E:
    try:
        return cert.extensions.get_extension_for_class(cls).value
    except x509.ExtensionNotFound:
        raise WrongPurpose(f"certificate has no {name}") from None


def check_purpose(cert: x509.Certificate, *, admin: bool) -> None:
    """Raise :class:`WrongPurpose` unless ``cert`` is a client certificate of the right kind.

    Required: not a CA; KeyUsage present with digitalSignature; EKU clientAuth;
    the admin EKU if ``admin`` is true, and its absence if ``admin`` is false.
    """
    try:
        if _is_ca(cert):
            raise WrongPurpose("certificate is a CA certificate")
        usage = _required(cert, x509.KeyUsage, "keyUsage")
        eku = set(_required(cert, x509.ExtendedKeyUsage, "extendedKeyUsage"))
    except (ValueError, x509.DuplicateExtension) as exc:
        raise WrongPurpose(f"certificate extensions are malformed: {exc}") from exc
    if not usage.digital_signature:
        raise WrongPurpose("certificate's keyUsage lacks digitalSignature")
    if CLIENT_AUTH not in eku:
        raise WrongPurpose("certificate is not for client authentication (EKU clientAuth)")
    if admin and ADMIN_EKU not in eku:
        raise WrongPurpose("admin certificate lacks the admin extended key usage")
    if not admin and ADMIN_EKU in eku:
        raise WrongPurpose("member certificate carries the admin extended key usage")


def identity_of(cert: x509.Certificate) -> Identity:
    """The principal ``cert`` names, read from its single ``urn:cordon:`` SAN URI only.

    Raises :class:`InvalidIdentity` if the certificate is a CA, has no
    subjectAltName, has zero or several ``urn:cordon:`` URIs (the prefix is
    compared case-insensitively, so a differently-cased second URI also
    counts), or a URI that does not parse; raises :class:`WrongPurpose` (see
    :func:`check_purpose`) if an admin URI comes without the admin EKU, a
    member URI with it, or the certificate is not for client authentication.
    """
    try:
        if _is_ca(cert):
            raise InvalidIdentity("a CA certificate names no principal")
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise InvalidIdentity("certificate has no subjectAltName") from None
    except (ValueError, x509.DuplicateExtension) as exc:
        raise InvalidIdentity(f"certificate extensions are malformed: {exc}") from exc
    uris = cordon_uris(san.get_values_for_type(x509.UniformResourceIdentifier))
    if not uris:
        raise InvalidIdentity("certificate names no Cordon identity (no urn:cordon: SAN URI)")
    if len(uris) > 1:
        raise InvalidIdentity(f"certificate has {len(uris)} urn:cordon: SAN URIs, not one")
    try:
        identity = identity_from_uri(uris[0])
    except InvalidFrame as exc:
        raise InvalidIdentity(f"malformed identity URI {uris[0]!r}: {exc}") from None
    check_purpose(cert, admin=identity.admin)
    return identity
