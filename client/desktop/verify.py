"""Verify alerts on this machine, offline: the CA certificate and cached signer certificates.

Used for alerts loaded from the local cache (the SDK verifies what arrives
from the hub). Same checks as the SDK and the hub (:mod:`hub.protocol.trust`).
"""

from __future__ import annotations

from cryptography import x509

from client.sdk import Received
from hub.protocol import trust
from hub.protocol.envelope import decode_envelope, key_id
from hub.protocol.errors import AlertRejected, BadSignature

__all__ = ["LocalVerifier"]


class LocalVerifier:
    def __init__(self, cas: list[x509.Certificate], certs: dict[str, bytes]) -> None:
        if not cas:
            raise ValueError("no CA certificate to verify against")
        self._cas = cas
        self.certs = {kid: der for kid, der in certs.items() if key_id(der) == kid}

    @property
    def cas(self) -> list[x509.Certificate]:
        """The CA certificates alerts are verified against (the hub's first)."""
        return list(self._cas)

    def add(self, certs: dict[str, bytes]) -> None:
        for kid, der in certs.items():
            if key_id(der) == kid:
                self.certs[kid] = der

    def missing(self, alerts: list[bytes]) -> list[str]:
        """Key ids of signers of ``alerts`` whose certificate is not known here."""
        kids = []
        for alert in alerts:
            try:
                kid = decode_envelope(alert).kid
            except AlertRejected:
                continue
            if kid not in self.certs and kid not in kids:
                kids.append(kid)
        return kids

    def _ca_for(self, der: bytes) -> x509.Certificate:
        try:
            issuer = x509.load_der_x509_certificate(der).issuer
        except ValueError:
            return self._cas[0]
        return next((ca for ca in self._cas if ca.subject == issuer), self._cas[0])

    def check(self, channel: str, offset: int, alert: bytes, sig: bytes) -> Received:
        try:
            envelope = decode_envelope(alert)
        except AlertRejected as exc:
            return Received(channel, offset, None, alert, sig, verified=False, error=exc)
        der = self.certs.get(envelope.kid)
        if der is None:
            error = BadSignature("signing certificate not known on this machine")
            return Received(channel, offset, envelope, alert, sig, verified=False, error=error)
        try:
            trust.verify_signed_alert(alert, sig, der, self._ca_for(der), channel=channel)
        except AlertRejected as exc:
            return Received(channel, offset, envelope, alert, sig, verified=False, error=exc)
        return Received(channel, offset, envelope, alert, sig, verified=True)
