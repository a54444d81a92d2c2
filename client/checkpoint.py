"""``cordon checkpoint``: the channel's log as this member was shown it.

``cordon checkpoint show CHANNEL [--crl FILE] [--state FILE] [--save FILE]`` fetches the
hub-signed checkpoint (PROTOCOL.md §6.9), verifies it (log key certificate against the
CA, not on the CRL — ``--crl``'s file, else the one the hub serves, verified against the
CA (§6.10) —, the cordon-log EKU; signature; consistency with the checkpoint
kept in ``--state`` from the last run) and prints ``{"channel", "epoch", "size", "time",
"root", "fingerprint", "kid"}``; ``--save FILE`` writes the signed checkpoint (JSON, hex)
for a peer. ``cordon checkpoint verify CHANNEL FINGERPRINT|FILE`` compares a peer's
checkpoint with ours: a fingerprint must be ours (same size); a saved file is verified,
and at a different size a consistency proof from the hub links the two. Exit 0 same
log, 1 different histories (or a checkpoint that does not verify), 3 refused.

Local mode, ``cordon checkpoint CHANNEL``: reads the channel's whole history (as
``cordon export`` does), computes the Merkle root of its exact alert bytes in offset
order (PROTOCOL.md Appendix C) and prints, as one JSON object, ``{"channel", "epoch",
"size", "root", "fingerprint", "unverified", "chain_broken"}``. Two officers who read
each other the fingerprint for the same ``--size`` know whether the hub showed them the
same alerts, in the same order: a hub that shows members different histories cannot give
them equal fingerprints. ``--verify FINGERPRINT`` compares with a peer's (exit 0 when
equal, 1 when not). This is what your own copy says, without the hub's signature.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from client._model import ClientError
from client.report import (
    collect,
    connection_parser,
    open_client,
    parse_connection,
    run_refusable,
    write_output,
)
from client.sdk import CheckpointError, Client, LogInconsistent, Received, SignedCheckpoint
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
    args = sys.argv[1:] if argv is None else argv
    if args and args[0] in ("show", "verify"):
        return _signed_main(args[0], args[1:])
    return _local_main(args)


def _describe(signed: SignedCheckpoint) -> dict[str, object]:
    cp = signed.checkpoint
    return {"channel": cp.channel, "epoch": cp.epoch, "size": cp.size, "time": cp.time,
            "root": cp.root.hex(), "fingerprint": signed.fingerprint, "kid": signed.kid}


async def _show(client: Client, channel: str) -> SignedCheckpoint | str:
    async with client:
        try:
            return await client.checkpoint(channel)
        except CheckpointError as exc:
            return f"{'INCONSISTENT' if isinstance(exc, LogInconsistent) else 'BAD'}: {exc}"


async def _verify(client: Client, channel: str, peer: str, saved: Any) -> tuple[bool, str]:
    async with client:
        try:
            ours = await client.checkpoint(channel)
            if saved is None:
                same = _norm(peer) == _norm(ours.fingerprint)
                return same, (f"fingerprint {'matches' if same else 'DIFFERS FROM'} ours at "
                              f"size {ours.checkpoint.size} (compare at the same size)")
            theirs = client.verify_saved_checkpoint(channel, saved)
            o, t = ours.checkpoint, theirs.checkpoint
            if o.epoch != t.epoch:
                return False, (f"the peer's checkpoint is of epoch {t.epoch}, ours of "
                               f"{o.epoch}: not comparable")
            if o.size == t.size:
                same = o.root == t.root
                return same, f"size {o.size}: {'same log' if same else 'DIFFERENT roots'}"
            small, large = (t, o) if t.size < o.size else (o, t)
            proof = await client.prove_consistency(channel, o.epoch, small.size, large.size)
            from hub.protocol.merkle import verify_consistency

            same = verify_consistency(small.size, large.size, small.root, large.root, proof)
            return same, (f"sizes {t.size} (peer) and {o.size} (ours): "
                          + ("one log (consistency proof verified)" if same else
                             "DIFFERENT histories (the consistency proof does not verify)"))
        except CheckpointError as exc:
            return False, str(exc)


def _signed_main(command: str, argv: list[str]) -> int:
    prog = f"cordon checkpoint {command}"
    parser = connection_parser(prog, "The hub-signed checkpoint of a channel's log."
                               if command == "show" else
                               "Check a peer's checkpoint (fingerprint or saved file) "
                               "against ours.")
    if command == "verify":
        parser.add_argument("peer", metavar="FINGERPRINT|FILE",
                            help="the peer's fingerprint, or its file from 'show --save'")
    parser.add_argument("--crl", type=Path, metavar="FILE",
                        help="check the log key against this CRL instead of the one the hub "
                        "serves (which is verified against --ca)")
    parser.add_argument("--state", type=Path, metavar="FILE",
                        help="keep the last verified checkpoint here; the next is checked "
                        "against it")
    if command == "show":
        parser.add_argument("--save", type=Path, metavar="FILE",
                            help="write the signed checkpoint here, for a peer")
    args = parse_connection(parser, argv)
    if isinstance(args, int):
        return args
    client = open_client(prog, args)
    if isinstance(client, int):
        return client
    try:
        client.configure_checkpoints(crl=args.crl, checkpoint_state=args.state)
    except ClientError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    if command == "show":
        got = run_refusable(prog, _show(client, args.channel), channel=args.channel,
                            ca=args.ca)
        if isinstance(got, int):
            return got
        if isinstance(got, str):
            print(f"{prog}: {got}", file=sys.stderr)
            return EXIT_DIFFERENT
        if args.save is not None:
            code = write_output(prog, args.save, json.dumps(got.to_json()) + "\n")
            if code:
                return code
        code = write_output(prog, args.output, json.dumps(_describe(got)) + "\n")
        return int(code)
    saved: Any = None
    if Path(args.peer).exists():
        try:
            saved = json.loads(Path(args.peer).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            print(f"{prog}: cannot read {args.peer}: {exc}", file=sys.stderr)
            return EXIT_REFUSED
    verdict = run_refusable(prog, _verify(client, args.channel, args.peer, saved),
                            channel=args.channel, ca=args.ca)
    if isinstance(verdict, int):
        return verdict
    same, why = verdict
    print(f"{prog}: {why}", file=sys.stderr)
    return EXIT_OK if same else EXIT_DIFFERENT


def _local_main(argv: list[str]) -> int:
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
