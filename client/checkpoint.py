"""``cordon checkpoint``: the fingerprint of a channel's log as this member was shown it.

Reads the channel's whole history (as ``cordon export`` does), computes the Merkle root
of its exact alert bytes in offset order (PROTOCOL.md Appendix C) and prints, as one
JSON object, ``{"channel", "epoch", "size", "root", "fingerprint", "unverified",
"chain_broken"}``. Two officers who read each other the fingerprint for the same
``--size`` know whether the hub showed them the same alerts, in the same order: a
hub that shows members different histories cannot give them equal fingerprints.
``--verify FINGERPRINT`` compares with a peer's (exit 0 when equal, 1 when not).
The hub does not sign checkpoints yet: this is what your own copy says.
"""

from __future__ import annotations

import json
import sys

from client.report import (
    collect,
    connection_parser,
    open_client,
    parse_connection,
    run_refusable,
    write_output,
)
from client.sdk import Client, Received
from hub.protocol.checkpoint import Checkpoint, fingerprint
from hub.protocol.identity import ChannelName
from hub.protocol.merkle import leaf_hash, root

__all__ = ["main", "summary"]

EXIT_OK, EXIT_DIFFERENT, EXIT_REFUSED = 0, 1, 3


def summary(channel: str, epoch: str, items: list[Received], size: int | None) -> dict[str, object]:
    """The log's checkpoint over ``items`` (offsets 1, 2, ... in order) at ``size``."""
    if not items or items[0].offset != 1:
        raise ValueError("the history no longer starts at offset 1 (trimmed): "
                         "the log cannot be recomputed")
    n = len(items) if size is None else size
    if not 0 <= n <= len(items):
        raise ValueError(f"--size must be from 0 to {len(items)}")
    shown = items[:n]
    cp = Checkpoint(channel=ChannelName(channel), epoch=epoch, size=n,
                    root=root([leaf_hash(r.alert) for r in shown]), time=0)
    return {"channel": channel, "epoch": epoch, "size": n, "root": cp.root.hex(),
            "fingerprint": fingerprint(cp),
            "unverified": sum(1 for r in shown if not r.verified),
            "chain_broken": sum(1 for r in shown if r.chain_broken)}


async def _fetch(client: Client, channel: str) -> tuple[str, list[Received]]:
    async with client:
        items = await collect(client, channel)
        epoch = next((c.epoch for c in await client.channels() if c.ch == channel), "")
    return epoch, items


def _norm(text: str) -> str:
    return text.upper().replace("-", "").replace(" ", "")


def main(argv: list[str] | None = None) -> int:
    prog = "cordon checkpoint"
    parser = connection_parser(prog, "The fingerprint of a channel's log as you were shown "
                               "it, to compare with another member's (by phone).")
    parser.add_argument("--size", type=int, metavar="N",
                        help="the log's first N alerts (default: all you have); compare "
                        "fingerprints at the same size")
    parser.add_argument("--verify", metavar="FINGERPRINT",
                        help="a peer's fingerprint: exit 0 if yours is the same, 1 if not")
    args = parse_connection(parser, argv)
    if isinstance(args, int):
        return args
    client = open_client(prog, args)
    if isinstance(client, int):
        return client
    fetched = run_refusable(prog, _fetch(client, args.channel), channel=args.channel,
                            ca=args.ca)
    if isinstance(fetched, int):
        return fetched
    epoch, items = fetched
    try:
        out = summary(args.channel, epoch, items, args.size)
    except ValueError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    code: int = write_output(prog, args.output, json.dumps(out) + "\n")
    if code or args.verify is None:
        return code
    if _norm(args.verify) == _norm(str(out["fingerprint"])):
        print(f"{prog}: same log as the peer at size {out['size']}", file=sys.stderr)
        return EXIT_OK
    print(f"{prog}: DIFFERENT from the peer's fingerprint at size {out['size']}: the hub "
          "showed you different histories (or you compared different sizes)", file=sys.stderr)
    return EXIT_DIFFERENT
