"""``cordon key new``: a member makes its own Ed25519 key and a certificate request.

::

    cordon key new --principal MEMBER/NAME [--out DIR] [--force]

writes ``DIR/<member>-<name>.key`` (the private key, PKCS#8 PEM, mode 0600: it never
leaves this machine) and ``DIR/<member>-<name>.csr`` (the PKCS#10 request, PEM, 0644),
and says what to do next: send the ``.csr`` file to the hub administrator, who runs
``cordon admin principal add MEMBER/NAME --kind ... --csr FILE`` (or ``principal issue``
for a new certificate) and sends back the certificate (``<member>-<name>.pem``) and
the hub's ``ca.pem``. ``admin/NAME`` makes a hub administrator's request (for
``cordon ca issue --admin --name NAME --csr FILE`` on the CA host).

An existing key is never replaced without ``--force``. Exit codes: 0 done, 2 usage
(bad options or principal id), 4 the files cannot be written.

:func:`new_key_and_request` does the work; the desktop client's setup dialog calls it.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from certs.files import write_atomic
from hub.protocol.enrol import build_request
from hub.protocol.errors import InvalidFrame
from hub.protocol.identity import RESERVED_MEMBER, Identity, check_name, split_principal

__all__ = ["KeyRequest", "identity_for", "main", "new_key_and_request"]

PROG = "cordon key"
EXIT_OK, EXIT_USAGE, EXIT_INPUT = 0, 2, 4
KEY_MODE, PUBLIC_MODE = 0o600, 0o644


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """What :func:`new_key_and_request` wrote."""

    principal: str
    key: Path
    csr: Path


def identity_for(principal: str) -> Identity:
    """``member/name`` or ``admin/name`` as an identity; :class:`InvalidFrame` otherwise."""
    if principal.startswith(RESERVED_MEMBER + "/"):
        return Identity.for_admin(check_name(principal.removeprefix(RESERVED_MEMBER + "/")))
    member, name = split_principal(principal)
    return Identity.for_member(member, name)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write ``data`` to ``path`` with exactly ``mode``, atomically (temp file, rename)."""
    write_atomic(path, data, mode=mode)


def new_key_and_request(principal: str, out: Path, *, force: bool = False) -> KeyRequest:
    """Generate an Ed25519 key and a request for ``principal`` into folder ``out`` (created
    0700). :class:`InvalidFrame` for a bad principal id; :class:`FileExistsError` if the key
    or request exists and not ``force``; :class:`OSError` if they cannot be written."""
    identity = identity_for(principal)
    base = identity.principal.replace("/", "-")
    key_path, csr_path = out / f"{base}.key", out / f"{base}.csr"
    if not force:
        for path in (key_path, csr_path):
            if path.exists():
                raise FileExistsError(f"{path} already exists (use --force to replace it)")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    _write(key_path, pem, KEY_MODE)
    _write(csr_path, build_request(key, identity), PUBLIC_MODE)
    return KeyRequest(principal=identity.principal, key=key_path, csr=csr_path)


_EPILOG = ("Exit codes: 0 done, 2 usage (bad options or principal id), 4 the files cannot "
           "be written.")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, description="Your own key and certificate request: the private key "
        "never leaves this machine; the hub administrator certifies the request.",
        epilog=_EPILOG)
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="new")
    new = verbs.add_parser("new", help="generate an Ed25519 key (0600) and a certificate "
                           "request (PKCS#10) for a principal", epilog=_EPILOG)
    new.add_argument("--principal", required=True, metavar="MEMBER/NAME",
                     help="who the key is for: member/name, like fr/ops (admin/NAME for a "
                     "hub administrator)")
    new.add_argument("--out", type=Path, default=Path("."), metavar="DIR",
                     help="where to write <member>-<name>.key and .csr (default: here)")
    new.add_argument("--force", action="store_true", help="replace an existing key and request")
    return parser


def main(argv: list[str] | None = None) -> int:
    """``cordon key new ...``: see the module docstring."""
    try:
        args = _parser().parse_args(sys.argv[1:] if argv is None else argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        made = new_key_and_request(args.principal, args.out, force=args.force)
    except InvalidFrame as exc:
        print(f"{PROG}: error: --principal: {exc} (want member/name, like fr/ops)",
              file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    print(f"new key and certificate request for {made.principal}")
    print(f"  key      {made.key}  (private, mode 0600: keep it here, never send it)")
    print(f"  request  {made.csr}")
    print(f"Send {made.csr.name} to the hub administrator. They certify it with")
    if made.principal.startswith(RESERVED_MEMBER + "/"):
        print(f"  cordon ca issue --admin --name {made.principal.partition('/')[2]} "
              f"--csr {made.csr.name}")
    else:
        print(f"  cordon admin principal add {made.principal} --kind system|officer "
              f"--csr {made.csr.name}")
    print(f"and send back {made.key.stem}.pem (your certificate) and ca.pem.")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
