"""Every error the certificate authority raises: one root, :class:`CAError`.

::

    CAError ..................... root of every error raised by certs.*
    ├── CAExists ................ init_ca: the directory already holds a CA (or part of one)
    ├── CANotFound .............. no CA (no ca.pem) in the directory
    ├── CorruptCA ............... unreadable / inconsistent index.json, PEM, key or CRL;
    │                             nothing is overwritten
    ├── UnknownCertificate ...... revoke: no certificate with that serial / kid / principal
    ├── AlreadyRevoked .......... revoke: the selected certificate(s) are already revoked
    ├── InvalidRequest .......... a bad argument: name, DNS name, IP, days, reason,
    │   │                         basename, output file exists, leaf would outlive the CA
    │   └── BadRequest .......... a certificate request (CSR) refused: malformed, too
    │                             large, key not Ed25519 or weak, self-signature does
    │                             not verify, subject not the principal
    └── BadCertificate .......... identity_of / check_purpose refuse a certificate
        ├── InvalidIdentity ..... no subjectAltName; zero, several or a malformed
        │                         urn:cordon URI; a CA certificate
        └── WrongPurpose ........ key usage unfit: no clientAuth, admin URI without the
                                  admin EKU, member URI with it, no digitalSignature

The message (``str(exc)``) is written for the hub administrator; it may name
paths and serials. These are not wire errors and never reach a peer.
"""

from __future__ import annotations

__all__ = [
    "AlreadyRevoked",
    "BadCertificate",
    "BadRequest",
    "CAError",
    "CAExists",
    "CANotFound",
    "CorruptCA",
    "InvalidIdentity",
    "InvalidRequest",
    "UnknownCertificate",
    "WrongPurpose",
]


class CAError(Exception):
    """Root of every error raised by the certificate authority."""


class CAExists(CAError):
    """:func:`~certs.ca.init_ca` found a CA (or part of one) already in the directory."""


class CANotFound(CAError):
    """The directory holds no CA."""


class CorruptCA(CAError):
    """A CA file cannot be read or is inconsistent; nothing was overwritten."""


class UnknownCertificate(CAError):
    """No issued certificate matches the serial, kid or principal given."""


class AlreadyRevoked(CAError):
    """The certificate(s) selected for revocation are already revoked."""


class InvalidRequest(CAError):
    """An argument is invalid (name, DNS name, days, reason, output path...)."""


class BadRequest(InvalidRequest):
    """A certificate request (CSR) is refused; the message says which check failed."""


class BadCertificate(CAError):
    """A certificate does not name a Cordon principal usable for its purpose."""


class InvalidIdentity(BadCertificate):
    """Zero, several or a malformed ``urn:cordon:`` URI, or a CA certificate."""


class WrongPurpose(BadCertificate):
    """The certificate's (extended) key usage does not fit the identity it names."""
