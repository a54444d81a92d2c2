"""The conformance vectors (tests/vectors/) against the hub's own decoder and verifier:
the committed files are exactly what ``tests/vectors/make.py`` builds, every client frame
decodes to its stated meaning or is refused with its stated code and rid, every server
frame likewise, and every signed alert verifies or fails with its stated error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from hub.protocol import codec, merkle, trust
from hub.protocol import frames as f
from hub.protocol.chain import ChainTracker
from hub.protocol.checkpoint import (
    CHECKPOINT_CONTEXT,
    checkpoint_hash,
    fingerprint,
    verify_checkpoint,
)
from hub.protocol.envelope import SIGN_CONTEXT, decode_envelope, key_id
from hub.protocol.errors import AlertRejected, ProtocolError
from hub.protocol.trust import verify_log_certificate
from tests.vectors.make import HERE, _meaning, build

VECTORS: dict[str, Any] = json.loads((HERE / "vectors.json").read_text(encoding="utf-8"))


def test_files_are_what_the_generator_builds() -> None:
    for name, data in build().items():
        assert (HERE / name).read_bytes() == data, f"{name}: run python -m tests.vectors.make"


def test_vectors_cover_both_directions_and_both_outcomes() -> None:
    kinds = {(v["direction"], v["valid"]) for v in VECTORS["frames"]}
    assert kinds == {("client", True), ("client", False), ("server", True), ("server", False)}
    assert {a["valid"] for a in VECTORS["alerts"]} == {True, False}
    states = {state for c in VECTORS["chains"] for state in c["states"]}
    assert states == {"ok", "gap", "reorder", "duplicate", "fork"}
    assert bytes.fromhex(VECTORS["sign_context_hex"]) == SIGN_CONTEXT


@pytest.mark.parametrize("vector", VECTORS["frames"], ids=lambda v: v["name"])
def test_frame_vector(vector: dict[str, Any]) -> None:
    decode = codec.decode_client if vector["direction"] == "client" else codec.decode_server
    data = bytes.fromhex(vector["hex"])
    if vector["valid"]:
        assert _meaning(decode(data)) == vector["frame"]
    else:
        with pytest.raises(ProtocolError) as refused:
            decode(data)
        assert (refused.value.code, refused.value.rid) == (vector["code"], vector["rid"])


def _certs() -> tuple[x509.Certificate, dict[str, bytes]]:
    ca = x509.load_pem_x509_certificate((HERE / VECTORS["ca"]).read_bytes())
    certs = {kid: x509.load_pem_x509_certificate((HERE / name).read_bytes())
             .public_bytes(Encoding.DER) for kid, name in VECTORS["certs"].items()}
    return ca, certs


@pytest.mark.parametrize("vector", VECTORS["alerts"], ids=lambda v: v["name"])
def test_alert_vector(vector: dict[str, Any]) -> None:
    ca, certs = _certs()
    alert, sig = bytes.fromhex(vector["alert_hex"]), bytes.fromhex(vector["sig_hex"])

    def verify() -> Any:
        envelope = decode_envelope(alert)
        return trust.verify_signed_alert(alert, sig, certs[envelope.kid], ca,
                                         channel=vector["channel"])

    if vector["valid"]:
        env = verify()
        meaning = {"v": env.v, "id": env.id, "ch": env.channel, "from": env.sender,
                   "kid": env.kid, "ts": env.ts, "kind": env.kind,
                   "body": json.loads(json.dumps(dict(env.body)))}
        if env.prev is not None:
            meaning |= {"seq": env.seq, "prev": {"hex": env.prev.hex()}}
        assert meaning == vector["envelope"]
    else:
        with pytest.raises(AlertRejected) as refused:
            verify()
        assert (type(refused.value).__name__, refused.value.code) == (vector["error"],
                                                                      vector["code"])


@pytest.mark.parametrize("vector", VECTORS["chains"], ids=lambda v: v["name"])
def test_chain_vector(vector: dict[str, Any]) -> None:
    by_name = {a["name"]: bytes.fromhex(a["alert_hex"]) for a in VECTORS["alerts"]}
    tracker = ChainTracker(complete=vector["complete"])
    states = []
    for name in vector["alerts"]:
        alert = by_name[name]
        states.append(tracker.observe(decode_envelope(alert), alert)[0])
    assert states == vector["states"]


def test_log_vectors() -> None:
    """Appendix C: leaf hashes of the alerts' exact bytes, signed checkpoints at every
    size, every inclusion and consistency proof."""
    log = VECTORS["log"]
    by_name = {a["name"]: bytes.fromhex(a["alert_hex"]) for a in VECTORS["alerts"]}
    leaves = [merkle.leaf_hash(by_name[n]) for n in log["alerts"]]
    assert [h.hex() for h in leaves] == log["leaf_hashes_hex"]
    public = bytes.fromhex(log["log_public_key_hex"])
    assert bytes.fromhex(log["checkpoint_context_hex"]) == CHECKPOINT_CONTEXT
    roots = {}
    for c in log["checkpoints"]:
        cp = verify_checkpoint(public, bytes.fromhex(c["hex"]), bytes.fromhex(c["sig_hex"]))
        assert (cp.channel, cp.epoch, cp.size) == ("stop-iii", log["epoch"], c["size"])
        assert cp.root == merkle.root(leaves[:cp.size]) == bytes.fromhex(c["root_hex"])
        assert fingerprint(cp) == c["fingerprint"]
        roots[cp.size] = cp.root
    for v in log["inclusion"]:
        proof = [bytes.fromhex(p) for p in v["proof_hex"]]
        assert merkle.verify_inclusion(leaves[v["index"]], v["index"], v["size"], proof,
                                       roots[v["size"]])
    for v in log["consistency"]:
        proof = [bytes.fromhex(p) for p in v["proof_hex"]]
        assert merkle.verify_consistency(v["size1"], v["size2"], roots[v["size1"]],
                                         roots[v["size2"]], proof)
    # the log key's certificate verifies against the CA and carries the public key
    ca = x509.load_pem_x509_certificate((HERE / "ca.pem").read_bytes())
    cert = x509.load_pem_x509_certificate((HERE / log["log_cert"]).read_bytes())
    assert key_id(cert.public_bytes(Encoding.DER)) == log["log_kid"]
    assert verify_log_certificate(cert, ca, at_ms=1_772_359_200_000) == ("main", public)
    # the next epoch's checkpoint links the last one by hash
    link = log["linked"]
    linked = verify_checkpoint(public, bytes.fromhex(link["hex"]), bytes.fromhex(link["sig_hex"]))
    last = next(c for c in log["checkpoints"] if c["size"] == link["links_size"])
    assert linked.prev == checkpoint_hash(bytes.fromhex(last["hex"]))
    assert linked.prev_epoch == log["epoch"] == link["prev_epoch"]
    assert linked.root == roots[linked.size]  # the surviving prefix


def test_ckptok_and_proof_vectors_verify() -> None:
    """The ``ckptok``/``proof`` pair: the proofs verify against the checkpoint it carries."""
    frames = {v["name"]: bytes.fromhex(v["hex"]) for v in VECTORS["frames"]}
    ok = codec.decode_server(frames["ckptok"])
    proof = codec.decode_server(frames["proof"])
    assert isinstance(ok, f.CheckpointResult) and isinstance(proof, f.Proof)
    log = VECTORS["log"]
    cp = verify_checkpoint(bytes.fromhex(log["log_public_key_hex"]), ok.cp, ok.sig)
    assert ok.kid == log["log_kid"] and (proof.epoch, proof.size) == (cp.epoch, cp.size)
    by_name = {a["name"]: bytes.fromhex(a["alert_hex"]) for a in VECTORS["alerts"]}
    leaves = [merkle.leaf_hash(by_name[n]) for n in log["alerts"]]
    for path in proof.paths:
        assert merkle.verify_inclusion(leaves[path.off - 1], path.off - 1, cp.size,
                                       list(path.path), cp.root)
    assert proof.cons is not None
    assert merkle.verify_consistency(2, 5, merkle.root(leaves[:2]), cp.root, list(proof.cons))
