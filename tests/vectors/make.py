"""Build Cordon's conformance test vectors (``tests/vectors/``), byte for byte reproducibly.

Run ``python -m tests.vectors.make`` to rewrite the files; ``tests/protocol/test_vectors.py``
checks that this builds exactly the committed files, then that the hub's decoder and
verifier, and ``tests/client/test_vectors.py`` that the SDK's, give every vector its
stated meaning. A member system in another language needs only the files (README.md
there says how to use them), no hub.

Everything is deterministic: keys come from fixed seeds, certificates have fixed serials
and dates (Ed25519 signatures are deterministic), alerts fixed ids and times. The keys
are published: they are test keys, never to be trusted anywhere.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgpack
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.protocol import codec, merkle
from hub.protocol import frames as f
from hub.protocol.checkpoint import (
    CHECKPOINT_CONTEXT,
    Checkpoint,
    checkpoint_hash,
    encode_checkpoint,
    fingerprint,
    sign_checkpoint,
)
from hub.protocol.envelope import SIGN_CONTEXT, Envelope, encode_envelope, key_id, sign_alert
from hub.protocol.identity import LOG_EKU_OID
from hub.protocol.schema import example

HERE = Path(__file__).resolve().parent
CHANNEL = "stop-iii"
EPOCH = "9f2c4e01a7b3d5c6e8f0a1b2c3d4e5f6"
#: The alerts' time: 2026-03-01T10:00:00Z, inside every certificate's validity.
TS = 1_772_359_200_000
_START = datetime(2025, 1, 1, tzinfo=UTC)
_CA_END = datetime(2035, 1, 1, tzinfo=UTC)
_LEAF_END = datetime(2030, 1, 1, tzinfo=UTC)


def _key(label: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(label.encode()).digest())


def _usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=not ca, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False, decipher_only=False)


def _ca(label: str, serial: int) -> tuple[x509.Certificate, Ed25519PrivateKey]:
    key = _key(label)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Cordon Test Vectors CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(_START).not_valid_after(_CA_END)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(ca=True), critical=True)
            .sign(key, None))
    return cert, key


def _leaf(ca: tuple[x509.Certificate, Ed25519PrivateKey], member: str, name: str,
          serial: int) -> tuple[x509.Certificate, Ed25519PrivateKey]:
    ca_cert, ca_key = ca
    key = _key(f"cordon test vectors {member}/{name}")
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, member),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(_START).not_valid_after(_LEAF_END)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(ca=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(
                f"urn:cordon:principal:{member}/{name}")]), critical=False)
            .sign(ca_key, None))
    return cert, key


def _der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _meaning(frame: Any) -> Any:
    """A frame as JSON: bytes as {"hex": ...}, tuples as arrays, ``t`` first."""
    if is_dataclass(frame) and not isinstance(frame, type):
        out: dict[str, Any] = {}
        if isinstance(frame, f.Frame):
            out["t"] = frame.TYPE
        if isinstance(frame, f.PageItem):
            return [frame.off, _meaning(frame.alert), _meaning(frame.sig)]
        if isinstance(frame, f.ProofPath):
            return [frame.off, _meaning(frame.path)]
        for field in fields(frame):
            out[field.name] = _meaning(getattr(frame, field.name))
        return out
    if isinstance(frame, bytes):
        return {"hex": frame.hex()}
    if isinstance(frame, tuple | list):
        return [_meaning(v) for v in frame]
    if isinstance(frame, dict):
        return {k: _meaning(v) for k, v in frame.items()}
    return frame


def _pack(obj: Any) -> bytes:
    data: bytes = msgpack.packb(obj, use_bin_type=True)
    return data


def build() -> dict[str, bytes]:
    """File name -> exact content."""
    ca = _ca("cordon test vectors CA", 1)
    foreign = _ca("cordon test vectors another CA", 1)  # same name, another key
    ops = _leaf(ca, "fr", "ops", 0x1001)
    other = _leaf(ca, "fr", "other", 0x1002)
    alien = _leaf(foreign, "fr", "ops", 0x1001)
    ops_kid, other_kid, alien_kid = (key_id(_der(c)) for c, _ in (ops, other, alien))

    def envelope(**changes: Any) -> Envelope:
        values: dict[str, Any] = {"id": "FR-2026-0001", "channel": CHANNEL, "sender": "fr/ops",
                                  "kid": ops_kid, "ts": TS, "kind": "notice",
                                  "body": example("notice")}
        values.update(changes)
        return Envelope(**values)

    def signed(env: Envelope, key: Ed25519PrivateKey = ops[1]) -> tuple[bytes, bytes]:
        alert = encode_envelope(env)
        return alert, sign_alert(key, alert)

    notice_alert, notice_sig = signed(envelope())
    seizure_alert, seizure_sig = signed(envelope(id="FR-2026-0002", kind="seizure",
                                                 body=example("seizure")))
    alerts: list[dict[str, Any]] = []

    def ok(name: str, alert: bytes, sig: bytes, env: Envelope, why: str) -> None:
        meaning = {"v": env.v, "id": env.id, "ch": env.channel, "from": env.sender,
                   "kid": env.kid, "ts": env.ts, "kind": env.kind, "body": dict(env.body)}
        if env.seq is not None and env.prev is not None:
            meaning |= {"seq": env.seq, "prev": {"hex": env.prev.hex()}}
        alerts.append({"name": name, "valid": True, "channel": CHANNEL, "alert_hex": alert.hex(),
                       "sig_hex": sig.hex(), "why": why, "envelope": meaning})

    def bad(name: str, alert: bytes, sig: bytes, code: int, error: str, why: str) -> None:
        alerts.append({"name": name, "valid": False, "channel": CHANNEL,
                       "alert_hex": alert.hex(), "sig_hex": sig.hex(), "code": code,
                       "error": error, "why": why})

    ok("notice", notice_alert, notice_sig, envelope(), "a notice signed by fr/ops")
    ok("seizure", seizure_alert, seizure_sig,
       envelope(id="FR-2026-0002", kind="seizure", body=example("seizure")),
       "a seizure (nested maps and arrays, a float) signed by fr/ops")
    flipped_sig = bytes([notice_sig[0] ^ 1]) + notice_sig[1:]
    bad("signature-flipped", notice_alert, flipped_sig, 422, "BadSignature",
        "one bit of the signature changed")
    at = notice_alert.index(b"FR-2026-0001") + 11  # the id's last digit: 1 -> 0
    flipped = notice_alert[:at] + bytes([notice_alert[at] ^ 0x01]) + notice_alert[at + 1:]
    bad("alert-byte-flipped", flipped, notice_sig, 422, "BadSignature",
        "one byte of the signed text changed after signing (the alert still decodes)")
    bare = _pack({"v": 1, "id": "FR-2026-0001", "ch": CHANNEL, "from": "fr/ops",
                  "kid": ops_kid, "ts": TS, "kind": "notice", "body": example("notice")})
    bad("not-canonical-key-order", bare, sign_alert(ops[1], bare), 424, "InvalidAlert",
        "validly signed, but the envelope's keys are not in ascending order (§4)")
    env_other_ch = envelope(channel="other-op")
    a, s = signed(env_other_ch)
    bad("signed-for-another-channel", a, s, 423, "EnvelopeMismatch",
        f"validly signed for channel other-op, delivered on {CHANNEL} (replay)")
    a, s = signed(envelope(kid=other_kid), other[1])
    bad("sender-is-not-the-signer", a, s, 423, "EnvelopeMismatch",
        "signed with fr/other's certificate and key, but names fr/ops as sender")
    a, s = signed(envelope(kid=other_kid, sender="fr/other"))
    bad("key-is-not-the-certificates", a, s, 422, "BadSignature",
        "names fr/other as sender and its certificate, but is signed with fr/ops's key")
    a, s = signed(envelope(kid=alien_kid), alien[1])
    bad("certificate-from-another-ca", a, s, 422, "BadSignature",
        "signed by a fr/ops certificate from another CA of the same name")
    a, s = signed(envelope(ts=int(_LEAF_END.timestamp() * 1000) + 1))
    bad("after-certificate-expiry", a, s, 422, "BadSignature",
        "signed with a time after the certificate's notAfter")

    # Sender chains (§4): fr/ops's alerts 1, 2, 3 in the channel, and another alert 2.
    chained: dict[str, bytes] = {}
    prev = bytes(32)
    for n, text in ((1, "first"), (2, "second"), (3, "third")):
        env = envelope(id=f"FR-2026-01{n:02d}", body={**example("notice"), "text": text},
                       seq=n, prev=prev)
        a, s = signed(env)
        chained[f"chained-{n}"] = a
        ok(f"chained-{n}", a, s, env,
           f"fr/ops's alert {n} in the channel: seq {n}, prev = "
           + ("32 zero bytes" if n == 1 else f"SHA-256 of chained-{n - 1}'s alert bytes"))
        prev = hashlib.sha256(a).digest()
    env = envelope(id="FR-2026-0199", body={**example("notice"), "text": "other second"},
                   seq=2, prev=hashlib.sha256(chained["chained-1"]).digest())
    a, s = signed(env)
    chained["chained-2-other"] = a
    ok("chained-2-other", a, s, env,
       "another alert 2 of fr/ops, also after chained-1: with chained-2 it forks the chain")
    for name, extra, why in (
        ("chain-seq-without-prev", {"seq": 1}, "seq without prev"),
        ("chain-first-with-prev", {"seq": 1, "prev": b"\x01" * 32},
         "seq 1 must have 32 zero bytes as prev"),
        ("chain-second-with-zero-prev", {"seq": 2, "prev": bytes(32)},
         "seq 2 must name its previous alert's hash, not 32 zero bytes"),
        ("chain-seq-zero", {"seq": 0, "prev": bytes(32)}, "seq counts from 1"),
        ("chain-prev-short", {"seq": 2, "prev": b"\x01" * 31}, "prev is 32 bytes"),
    ):
        obj = {**msgpack.unpackb(notice_alert), **extra}  # nested maps stay canonical
        a = _pack(dict(sorted(obj.items())))
        bad(name, a, sign_alert(ops[1], a), 424, "InvalidAlert", why + " (§4)")
    chains = [
        {"name": name, "alerts": names, "complete": complete, "states": states, "why": why}
        for name, names, complete, states, why in (
            ("honest", ["chained-1", "chained-2", "chained-3"], True, ["ok", "ok", "ok"],
             "every alert of the sender, in order"),
            ("withheld", ["chained-1", "chained-3"], True, ["ok", "gap"],
             "alert 2 left out"),
            ("reordered", ["chained-1", "chained-3", "chained-2"], True, ["ok", "gap", "reorder"],
             "alert 2 shown after alert 3"),
            ("duplicated", ["chained-1", "chained-2", "chained-2"], True,
             ["ok", "ok", "duplicate"], "alert 2 shown twice"),
            ("forked", ["chained-1", "chained-2", "chained-2-other"], True, ["ok", "ok", "fork"],
             "two different alerts 2"),
            ("forked-prev", ["chained-1", "chained-2-other", "chained-3"], True,
             ["ok", "ok", "fork"], "alert 3 follows chained-2, not the alert 2 this reader saw"),
            ("first-withheld", ["chained-2", "chained-3"], True, ["gap", "ok"],
             "a reader of the whole channel (from offset 1) never saw alert 1"),
            ("joined-late", ["chained-2", "chained-3"], False, ["ok", "ok"],
             "a reader that started after offset 1 anchors on the first alert it sees"),
        )
    ]

    # A channel log (Appendix C): these alerts at offsets 1, 2, ... of one epoch.
    log_names = ["notice", "seizure", "chained-1", "chained-2", "chained-3"]
    by_name = {a["name"]: bytes.fromhex(a["alert_hex"]) for a in alerts}
    leaves = [merkle.leaf_hash(by_name[n]) for n in log_names]
    log_key = _key("cordon test vectors log")
    epoch = "5eed" * 8
    checkpoints: list[dict[str, Any]] = []
    for size in range(len(leaves) + 1):
        cp = Checkpoint(channel=CHANNEL, epoch=epoch, size=size,  # type: ignore[arg-type]
                        root=merkle.root(leaves[:size]), time=TS + 1000 * size)
        data = encode_checkpoint(cp)
        checkpoints.append({"size": size, "root_hex": cp.root.hex(), "hex": data.hex(),
                            "sig_hex": sign_checkpoint(log_key, data).hex(),
                            "fingerprint": fingerprint(cp)})
    # The log key's certificate (PROTOCOL.md §2): urn:cordon:log:main, cordon-log EKU only.
    log_cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                            "cordon-log main")]))
                .issuer_name(ca[0].subject).public_key(log_key.public_key())
                .serial_number(0x2001).not_valid_before(_START).not_valid_after(_LEAF_END)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(_usage(ca=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([x509.ObjectIdentifier(LOG_EKU_OID)]),
                               critical=False)
                .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(
                    "urn:cordon:log:main")]), critical=False)
                .sign(ca[1], None))
    log_kid = key_id(_der(log_cert))
    # The next epoch's first checkpoint (size 2: the first two alerts survived), linking
    # the last checkpoint of this one.
    last = bytes.fromhex(checkpoints[-1]["hex"])
    linked = Checkpoint(channel=CHANNEL, epoch="beef" * 8, size=2,  # type: ignore[arg-type]
                        root=merkle.root(leaves[:2]), time=TS + 60_000,
                        prev=checkpoint_hash(last), prev_epoch=epoch)
    linked_data = encode_checkpoint(linked)
    log = {
        "why": "a channel epoch's Merkle log over the exact alert bytes (RFC 9162 hashing), "
               "its signed checkpoints at every size, every inclusion and consistency proof; "
               "the log key's certificate (log_cert, issued by ca.pem); the next epoch's "
               "first checkpoint linking the last one (linked)",
        "log_cert": "log.pem",
        "log_kid": log_kid,
        "linked": {"hex": linked_data.hex(),
                   "sig_hex": sign_checkpoint(log_key, linked_data).hex(),
                   "prev_epoch": epoch, "links_size": len(leaves)},
        "epoch": epoch,
        "alerts": log_names,
        "leaf_hashes_hex": [h.hex() for h in leaves],
        "log_public_key_hex": log_key.public_key().public_bytes_raw().hex(),
        "checkpoint_context_hex": CHECKPOINT_CONTEXT.hex(),
        "checkpoints": checkpoints,
        "inclusion": [{"size": size, "index": index,
                       "proof_hex": [p.hex() for p in merkle.inclusion_proof(leaves[:size],
                                                                             index)]}
                      for size in range(1, len(leaves) + 1) for index in range(size)],
        "consistency": [{"size1": size1, "size2": size2,
                         "proof_hex": [p.hex() for p in merkle.consistency_proof(
                             leaves[:size2], size1)]}
                        for size2 in range(1, len(leaves) + 1) for size1 in range(size2 + 1)],
    }

    frames: list[dict[str, Any]] = []

    def frame_ok(name: str, direction: str, frame: f.Frame, why: str,
                 data: bytes | None = None) -> None:
        frames.append({"name": name, "direction": direction, "valid": True,
                       "hex": (data if data is not None else codec.encode(frame)).hex(),
                       "frame": _meaning(frame), "why": why})

    def frame_bad(name: str, direction: str, data: bytes, code: int, rid: int | None,
                  why: str) -> None:
        frames.append({"name": name, "direction": direction, "valid": False, "hex": data.hex(),
                       "code": code, "rid": rid, "why": why})

    frame_ok("pub", "client", f.Publish(rid=1, ch=CHANNEL, alert=notice_alert, sig=notice_sig),
             "publish the notice vector")
    frame_ok("sub-since-epoch", "client",
             f.Subscribe(rid=2, ch=CHANNEL, since=0, epoch=EPOCH),
             "everything retained, refused with 412 if the epoch changed")
    frame_ok("sub-live", "client", f.Subscribe(rid=3, ch=CHANNEL), "live only (synced follows)")
    frame_ok("hist", "client", f.HistoryRequest(rid=4, ch=CHANNEL, before=100, limit=50),
             "the 50 alerts before offset 100")
    size5 = checkpoints[-1]
    frame_ok("ckpt", "client", f.CheckpointRequest(rid=20, ch=CHANNEL),
             "the channel's latest signed checkpoint (§6.9)")
    frame_ok("ckptok", "server",
             f.CheckpointResult(rid=20, ch=CHANNEL, cp=bytes.fromhex(size5["hex"]),
                                sig=bytes.fromhex(size5["sig_hex"]), kid=log_kid),
             "log.checkpoints size 5, signed by the key of log.pem (no epoch link)")
    frame_ok("prove", "client",
             f.ProofRequest(rid=21, ch=CHANNEL, epoch=epoch, size=5, offs=(3, 5),
                            from_size=2),
             "inclusion of offsets 3 and 5 and consistency from size 2, at size 5 (the wire "
             "key is 'from')")
    frame_ok("proof", "server",
             f.Proof(rid=21, ch=CHANNEL, epoch=epoch, size=5,
                     paths=tuple(f.ProofPath(o, tuple(merkle.inclusion_proof(leaves, o - 1)))
                                 for o in (3, 5)),
                     cons=tuple(merkle.consistency_proof(leaves, 2))),
             "the answer to 'prove': verify each path against the size-5 checkpoint's root "
             "with leaf_hash(alert at that offset), and cons from size 2's root to it")
    frame_bad("prove-too-many", "client",
              _pack({"t": "prove", "rid": 22, "ch": CHANNEL, "epoch": epoch, "size": 5,
                     "offs": list(range(1, 66))}), 413, 22, "65 offsets: at most 64")
    crl_this = datetime.fromtimestamp(TS / 1000 - 86_400, tz=UTC)
    crl_next = datetime.fromtimestamp(TS / 1000 + 6 * 86_400, tz=UTC)

    def crl_der(signer: tuple[x509.Certificate, Ed25519PrivateKey]) -> bytes:
        revoked = (x509.RevokedCertificateBuilder().serial_number(0x1002)
                   .revocation_date(crl_this).build())
        crl = (x509.CertificateRevocationListBuilder().issuer_name(signer[0].subject)
               .last_update(crl_this).next_update(crl_next)
               .add_extension(x509.CRLNumber(7), critical=False)
               .add_revoked_certificate(revoked).sign(signer[1], None))
        return crl.public_bytes(serialization.Encoding.DER)

    crl_next_ms = int(crl_next.timestamp() * 1000)
    frame_ok("crl", "client", f.CrlRequest(rid=23), "the CA's CRL the hub enforces (§6.10)")
    frame_ok("crlok", "server", f.CrlResult(rid=23, crl=crl_der(ca), number=7,
                                            next=crl_next_ms),
             "CRL number 7 signed by ca.pem's key, revoking serial 0x1002 (fr-other.pem); "
             "valid from TS - 1 day to 'next' (TS + 6 days): verify its signature with "
             "ca.pem and that now is before its nextUpdate")
    frame_ok("crlok-foreign", "server", f.CrlResult(rid=24, crl=crl_der(foreign), number=7,
                                                    next=crl_next_ms),
             "decodes, but signed by another CA's key under the same name: a client "
             "refuses it (the hub is not trusted for the CRL)")
    frame_ok("dir", "client", f.DirectoryRequest(rid=5, kids=(ops_kid,)),
             "the certificate of the notice's signer")
    frame_ok("chans", "client", f.ChannelsRequest(rid=2**64 - 1), "the largest rid (uint 64)")
    frame_ok("pub-fields-any-order", "client",
             f.Publish(rid=6, ch=CHANNEL, alert=notice_alert, sig=notice_sig),
             "frames need not be canonical: keys in any order",
             data=_pack({"sig": notice_sig, "alert": notice_alert, "ch": CHANNEL, "rid": 6,
                         "t": "pub"}))
    frame_bad("repeated-key", "client",
              b"\x84" + _pack("t") + _pack("chans") + _pack("rid") + _pack(7) + _pack("rid")
              + _pack(8) + _pack("x") + _pack(1), 401, None,
              "rid twice: refused, never resolved by keeping one (rid nil: not exactly one)")
    frame_bad("repeated-nested-key", "client",
              b"\x84" + _pack("t") + _pack("adm") + _pack("rid") + _pack(9) + _pack("op")
              + _pack("member.list") + _pack("args") + b"\x82" + _pack("a") + _pack(1)
              + _pack("a") + _pack(2), 401, 9, "a key twice inside args: 401 with the rid")
    frame_bad("integer-key", "client", _pack({"t": "chans", "rid": 10, 1: 2}), 401, 10,
              "a non-string key")
    frame_bad("ext-value", "client",
              b"\x83" + _pack("t") + _pack("unsub") + _pack("rid") + _pack(11) + _pack("ch")
              + b"\xd4\x01\x00", 401, 11, "an ext type value (as ch)")
    frame_bad("unknown-type", "client", _pack({"t": "frobnicate", "rid": 12}), 402, 12,
              "unknown frame type")
    frame_bad("missing-field", "client", _pack({"t": "sub", "rid": 13}), 401, 13,
              "sub without ch")
    frame_bad("no-rid", "client", _pack({"t": "chans"}), 401, None, "rid missing: rid nil")
    frame_bad("not-a-map", "client", _pack(["chans", 14]), 401, None,
              "a frame is one msgpack map")
    frame_bad("negative-since", "client", _pack({"t": "sub", "rid": 15, "ch": CHANNEL,
                                                 "since": -1}), 401, 15,
              "since is an unsigned integer")

    limits = {"max_frame_bytes": 262144, "max_alert_bytes": 65536,
              "max_attachment_bytes": 196608, "publish_rate": 2000, "publish_burst": 4000,
              "history_page_max": 1000, "clock_skew_ms": 300000, "max_pings_per_s": 10}
    frame_ok("welcome", "server", f.Welcome(principal="fr/ops", member="fr", admin=False,
                                            server="cordon/0.1", time=TS, limits=limits),
             "the first frame on every connection")
    frame_ok("ack", "server", f.Ack(rid=1, ch=CHANNEL, off=1, epoch=EPOCH, dup=False),
             "the notice is durable at offset 1")
    frame_ok("subok", "server", f.Subscribed(rid=2, ch=CHANNEL,
                                             epoch=EPOCH,
                                             first=1, head=2), "subscription accepted")
    items = (f.PageItem(1, notice_alert, notice_sig), f.PageItem(2, seizure_alert, seizure_sig))
    frame_ok("alerts", "server", f.AlertBatch(ch=CHANNEL, items=items),
             "offsets 1 and 2 in one message: the same as two alert frames",
             data=codec.encode_alerts(CHANNEL, items))
    frame_ok("alert", "server", f.AlertFrame(ch=CHANNEL, off=2, alert=seizure_alert,
                                             sig=seizure_sig), "one alert")
    frame_ok("synced", "server", f.Synced(ch=CHANNEL, off=2), "history delivered up to 2")
    frame_ok("err", "server", f.ErrorFrame(rid=3, code=404, msg="no such channel", detail=""),
             "404: no such channel, or no role in it (the same answer)")
    frame_bad("alerts-with-a-gap", "server",
              _pack({"t": "alerts", "ch": CHANNEL, "items": [[1, notice_alert, notice_sig],
                                                             [3, seizure_alert, seizure_sig]]}),
              401, None, "offsets must be consecutive: a gap is a protocol violation")
    frame_bad("alerts-empty", "server", _pack({"t": "alerts", "ch": CHANNEL, "items": []}),
              401, None, "at least one item")

    vectors = {
        "about": "Cordon wire protocol v1 conformance vectors (PROTOCOL.md). Frames are "
                 "msgpack, shown as hex; alerts are the exact signed bytes and their Ed25519 "
                 "signature over sign_context + alert. 'direction' says who sends a frame: "
                 "'client' frames are decoded by the hub, 'server' frames by a client. A "
                 "valid vector decodes to 'frame' (bytes as {\"hex\": ...}); an invalid one "
                 "is refused with 'code' (and, for client frames, the rid the hub echoes). "
                 "Alerts are verified with ca.pem and the certificate named by the "
                 "envelope's kid (certs); valid ones decode to 'envelope', invalid ones fail "
                 "with 'code'/'error' when delivered on 'channel'. Test keys only.",
        "sign_context_hex": SIGN_CONTEXT.hex(),
        "ca": "ca.pem",
        "certs": {ops_kid: "fr-ops.pem", other_kid: "fr-other.pem",
                  alien_kid: "foreign-fr-ops.pem"},
        "frames": frames,
        "alerts": alerts,
        "chains": chains,
        "log": log,
    }
    text = json.dumps(vectors, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
    return {
        "ca.pem": _pem(ca[0]),
        "fr-ops.pem": _pem(ops[0]),
        "fr-other.pem": _pem(other[0]),
        "foreign-fr-ops.pem": _pem(alien[0]),
        "log.pem": _pem(log_cert),
        "fr-ops.key": ops[1].private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()),
        "vectors.json": text.encode("utf-8"),
    }


def main() -> None:
    for name, data in build().items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    main()
