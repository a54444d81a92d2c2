"""The hub's TLS: 1.3 only, client certificate required, CRL checked, reloadable.

The listening socket keeps one :class:`ssl.SSLContext` for its whole life, so a
new CRL cannot be pushed into it. Instead its ``sni_callback`` (which OpenSSL
calls for every ClientHello, with or without a server name) swaps in the
*current* context, rebuilt by :meth:`ReloadableTLS.reload` whenever the CRL
changes. New handshakes see a revocation at once; no restart. ``reload(crl=path)``
also switches the CRL file: every hub process loads the newest CRL published in
the store from a copy in its own data folder (see :class:`hub.registry.CASync`).
"""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

__all__ = ["ReloadableTLS", "build_context"]

log = logging.getLogger("cordon.tls")


def build_context(*, ca_cert: Path, crl: Path | None, server_cert: Path, server_key: Path
                  ) -> ssl.SSLContext:
    """A server context: TLS 1.3, client certs from ``ca_cert`` required, CRL checked."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(server_cert, server_key)
    ctx.load_verify_locations(cafile=str(ca_cert))
    if crl is not None and crl.exists():
        ctx.load_verify_locations(cafile=str(crl))
        ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
    # No resumption: every session presents its certificate. In TLS 1.3 OP_NO_TICKET
    # alone makes OpenSSL send two *stateful* tickets per handshake and cache both
    # sessions in the context (memory outliving the connection, and resumable); no
    # tickets at all is what is meant.
    ctx.options |= ssl.OP_NO_TICKET
    ctx.num_tickets = 0
    return ctx


class ReloadableTLS:
    """Holds the listening context and the current one; ``reload()`` after a CRL change."""

    def __init__(self, *, ca_cert: Path, crl: Path, server_cert: Path, server_key: Path) -> None:
        self._paths = (ca_cert, crl, server_cert, server_key)
        self.current = self._build()
        self.listening = self._build()
        self.listening.sni_callback = self._select

    def _build(self) -> ssl.SSLContext:
        ca_cert, crl, server_cert, server_key = self._paths
        return build_context(ca_cert=ca_cert, crl=crl, server_cert=server_cert,
                             server_key=server_key)

    def _select(self, sock: ssl.SSLObject | ssl.SSLSocket, _name: str | None,
                _ctx: ssl.SSLContext) -> None:
        sock.context = self.current

    @property
    def crl_path(self) -> Path:
        """The CRL file the current context was built from."""
        return self._paths[1]

    def reload(self, crl: Path | None = None) -> bool:
        """Rebuild the current context from disk (from ``crl`` instead of the CRL file used
        so far, when given); keep the old context and CRL file if that fails."""
        previous = self._paths
        if crl is not None:
            self._paths = (previous[0], crl, previous[2], previous[3])
        try:
            current = self._build()
        except (OSError, ssl.SSLError) as exc:
            self._paths = previous
            log.error("TLS reload failed, keeping the previous CRL: %s", exc)
            return False
        # A connection takes its verification flags (CRL checking on or off) from the
        # listening context when it is created; the swap in _select only brings the
        # current context's trust store with its CRLs. Keep the flags in step, or a CRL
        # that appears after start would be loaded but never checked.
        self.listening.verify_flags = current.verify_flags
        self.current = current
        log.info("TLS context reloaded (CRL %s)", self._paths[1])
        return True
