"""The ``crl`` frame (PROTOCOL.md §6.10): the CA's CRL every hub process enforces, as
stored by :class:`hub.registry.CASync` (the newest CRLNumber any process published),
served as the DER bytes the CA signed. Any authenticated principal may ask.

The hub does not vouch for it: the client checks the signature against its CA
certificate and the dates. What is stored was checked against the CA before it was
stored; it is parsed here only for its CRLNumber and nextUpdate.
"""

from __future__ import annotations

import base64
import logging
import re

from cryptography import x509

from hub.protocol import frames as f
from hub.protocol.errors import FrameTooLarge, InternalError, NotFound
from hub.protocol.limits import MAX_CRL_BYTES
from hub.storage import Store

__all__ = ["crl_result"]

log = logging.getLogger("cordon.crl")

_PEM = re.compile(rb"-----BEGIN X509 CRL-----\s*(.+?)\s*-----END X509 CRL-----", re.S)
#: The last stored PEM served and what it gave: (pem, der, number, nextUpdate ms).
_last: tuple[bytes, bytes, int, int] | None = None


def _parse(pem: bytes) -> tuple[bytes, int, int]:
    """(DER exactly as signed, CRLNumber, nextUpdate ms) of a stored PEM CRL; its size is
    checked before it is parsed (:class:`FrameTooLarge`)."""
    global _last
    if _last is not None and _last[0] == pem:
        return _last[1:]
    match = _PEM.search(pem)
    if match is None:
        raise ValueError("no PEM CRL")
    der = base64.b64decode(match.group(1), validate=False)
    if len(der) > MAX_CRL_BYTES:
        raise FrameTooLarge("the CRL does not fit in one frame")
    crl = x509.load_der_x509_crl(der)
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    nxt = crl.next_update_utc
    if nxt is None or not 0 <= number < 2**64:
        raise ValueError("no nextUpdate, or a CRLNumber over 64 bits")
    _last = (pem, der, number, int(nxt.timestamp() * 1000))
    return _last[1:]


async def crl_result(store: Store, rid: int) -> f.CrlResult:
    """The ``crlok`` answer; 406 when no CRL was ever published, 413 when it would not
    fit in a frame (:data:`MAX_CRL_BYTES`), 500 if the stored one cannot be read."""
    stored = await store.crl()
    if stored is None:
        raise NotFound("no CRL published")
    try:
        der, number, next_ms = _parse(stored[1])
    except (ValueError, TypeError, x509.ExtensionNotFound) as exc:
        log.error("the stored CRL cannot be served: %s", exc)
        raise InternalError("the stored CRL is unreadable") from exc
    return f.CrlResult(rid=rid, crl=der, number=number, next=next_ms)
