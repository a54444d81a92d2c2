"""Evidence bundles (hub.protocol.evidence, PROTOCOL.md Appendix D): a bundle made from a
signed log verifies offline, and every corrupt or untrustworthy variant fails with its
own outcome and a clear message."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import msgpack
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import ExtendedKeyUsageOID

from hub.protocol import schema
from hub.protocol.envelope import decode_envelope, encode_envelope, sign_alert
from hub.protocol.evidence import (
    LOG_EKU_OID,
    MAX_BUNDLE_BYTES,
    MAX_EVIDENCE_ALERTS,
    BundleAlert,
    EvidenceError,
    handling_codes,
    permits,
    verify_bundle,
)
from tests.evidence_kit import Kit, Sender, der, ms, notice

LOG_EKU = [x509.ObjectIdentifier(LOG_EKU_OID)]

DAY = timedelta(days=1)


@pytest.fixture
def kit() -> Kit:
    k = Kit()
    fr, de = k.member("fr", "ops"), k.member("de", "zoll")
    k.fr, k.de = fr, de  # type: ignore[attr-defined]
    k.publish(fr, "notice", notice("one"), alert_id="FR-1")
    k.publish(de, "notice", notice("two"), alert_id="DE-1")
    k.publish(fr, "notice", notice("three"), alert_id="FR-2")
    k.publish(fr, "notice", notice("four"), alert_id="FR-3", chained=False)
    k.publish(de, "feedback", {"schema": 1, "handling": "H0", "ref": "FR-1",
                               "outcome": "seized"}, alert_id="DE-2")
    return k


def fails(data: bytes, outcome: str, words: str, **kwargs: Any) -> EvidenceError:
    with pytest.raises(EvidenceError) as caught:
        verify_bundle(data, **kwargs)
    assert caught.value.outcome == outcome, caught.value.message
    assert words in caught.value.message, caught.value.message
    return caught.value


def recode(data: bytes, change: Any) -> bytes:
    obj = msgpack.unpackb(data, raw=False)
    change(obj)
    packed: bytes = msgpack.packb(obj, use_bin_type=True)
    return packed


def test_a_bundle_verifies_and_says_who_said_what_when(kit: Kit) -> None:
    report = verify_bundle(kit.bundle([1, 3, 5]), expected_ca=der(kit.ca))
    assert [a.offset for a in report.alerts] == [1, 3, 5]
    first = report.alerts[0]
    assert (first.envelope.id, first.envelope.sender, first.envelope.kind) == (
        "FR-1", "fr/ops", "notice")
    assert first.envelope.body["text"] == "one"
    assert first.revoked_later is None and first.handling == ("H0",)
    assert first.permitted_by is None and not first.is_permission
    assert report.checkpoint.size == 5 and report.checkpoint.channel == "stop-iii"
    assert report.checkpoint.time == ms(kit.now)
    assert len(report.fingerprint) == 19 and report.log_identity == "hub"
    assert report.crl_number == 3 and report.exporter == "fr/ops"
    assert report.ca_subject == "CN=Cordon Test CA" and len(report.ca_sha256) == 64


def test_chained_alerts_that_follow_each_other_are_checked(kit: Kit) -> None:
    report = verify_bundle(kit.bundle([1, 3, 4]))  # FR-1 seq 1 -> FR-2 seq 2; FR-3 unchained
    assert [a.envelope.seq for a in report.alerts] == [1, 2, None]


def test_a_crl_without_a_number(kit: Kit) -> None:
    assert verify_bundle(kit.bundle([1], crl=kit.crl(number=False))).crl_number is None


# --- unreadable ------------------------------------------------------------------------------
def test_truncated_and_not_msgpack(kit: Kit) -> None:
    data = kit.bundle([1, 2])
    fails(data[: len(data) // 2], "unreadable", "truncated")
    fails(b"\xc1", "unreadable", "not msgpack")
    fails(data + b"\x00", "unreadable", "bytes after")
    fails(b"PK\x03\x04 a zip file", "unreadable", "not a Cordon evidence bundle (not msgpack)")
    fails(b"\x81\x91\x01\x01", "unreadable", "not msgpack")  # a map keyed by an array
    fails(msgpack.packb([1, 2]), "unreadable", "not a map")
    fails(b"\x00" * (MAX_BUNDLE_BYTES + 1), "unreadable", "larger than")


def test_wrong_format_and_version(kit: Kit) -> None:
    data = kit.bundle([1])
    fails(recode(data, lambda o: o.update(format="zip")), "unreadable", "no format")
    fails(recode(data, lambda o: o.update(v=2)), "unreadable", "version 2 is not supported")
    fails(recode(data, lambda o: o.update(v=True)), "unreadable", "version True")


def test_not_canonical(kit: Kit) -> None:
    data = kit.bundle([1])
    obj = msgpack.unpackb(data, raw=False)
    # keys out of order
    unsorted = msgpack.packb(dict(reversed(list(obj.items()))), use_bin_type=True)
    fails(unsorted, "unreadable", "canonical form (map keys")
    # a longer-than-shortest integer for "v": d1 00 01 instead of 01
    assert data.endswith(b"\xa1v\x01")  # "v" is the last key
    long_v = data[:-1] + b"\xd1\x00\x01"
    fails(long_v, "unreadable", "shortest forms")
    fails(recode(data, lambda o: o.update(zzz=1)), "unreadable", "exactly")


@pytest.mark.parametrize(("change", "words"), [
    (lambda o: o.update(alerts=[]), "alerts must be a list of 1 to"),
    (lambda o: o.update(alerts={}), "alerts must be a list"),
    (lambda o: o["alerts"].__setitem__(0, 5), "alerts[0] must have exactly"),
    (lambda o: o["alerts"][0].update(proof=b"x"), "proof must be a list"),
    (lambda o: o["alerts"][0].update(proof=[b"x" * 32] * 65), "proof must be a list"),
    (lambda o: o["alerts"][0].update(proof=[b"short"]), "proof must be 32 bytes"),
    (lambda o: o["alerts"][0].update(off=-1), "off must be an integer from 0"),
    (lambda o: o["alerts"][0].update(off=0), "offsets must be from 1 and ascending"),
    (lambda o: o["alerts"][1].update(off=1), "offsets must be from 1 and ascending"),
    (lambda o: o["alerts"][0].update(alert="text"), "alert must be binary"),
    (lambda o: o.update(ca=1), "ca must be binary"),
    (lambda o: o.update(checkpoint={}), "checkpoint must have exactly"),
    (lambda o: o.update(created=-5), "created must be an integer"),
    (lambda o: o.update(exporter=5), "exporter must be a string"),
    (lambda o: o.update(ca=b"not der"), "the CA certificate is not a DER certificate"),
    (lambda o: o.update(crl=b"not der"), "the CRL is not a DER"),
    (lambda o: o["checkpoint"].update(cert=b"x"), "log key's certificate is not a DER"),
    (lambda o: o["alerts"][0].update(cert=b"x"), "the certificate given is not its signer"),
])
def test_malformed_fields(kit: Kit, change: Any, words: str) -> None:
    fails(recode(kit.bundle([1, 2]), change), "unreadable" if "signer" not in words
          else "tampered", words)


def test_a_crl_the_parser_refuses_late(kit: Kit) -> None:
    """cryptography parses some fields lazily, with exceptions of its own (here the CRL's
    version): still one outcome and one line."""
    crl = kit.crl()
    version = bytes.fromhex("020101")  # INTEGER 1 (v2) at the start of tbsCertList
    assert version in crl
    bad = crl.replace(version, bytes.fromhex("020105"), 1)
    fails(kit.bundle([1], crl=bad), "unreadable", "cannot be parsed (InvalidVersion)")


def test_too_many_alerts(kit: Kit) -> None:
    items = kit.items([1]) * (MAX_EVIDENCE_ALERTS + 1)
    fails(kit.bundle([], items=items), "unreadable", "alerts must be a list of 1 to 1000")


def test_an_alert_cert_that_is_not_der(kit: Kit) -> None:
    """The key id matches (the bundle's maker hashed the junk) but it is no certificate."""
    alert = kit.log[0][0]
    junk = b"junk"
    env = decode_envelope(alert)
    forged = dataclasses.replace(env, kid=hashlib.sha256(junk).hexdigest())
    raw = encode_envelope(forged)
    item = BundleAlert(alert=raw, sig=sign_alert(kit.fr.key, raw), cert=junk,  # type: ignore[attr-defined]
                       offset=1, proof=[])
    fails(kit.bundle([], items=[item]), "unreadable", "is not a DER certificate")


# --- tampered ----------------------------------------------------------------------------
def test_swapped_alert_bytes(kit: Kit) -> None:
    items = kit.items([1, 3])
    swapped = [dataclasses.replace(items[0], alert=items[1].alert, sig=items[1].sig),
               dataclasses.replace(items[1], alert=items[0].alert, sig=items[0].sig)]
    fails(kit.bundle([], items=swapped), "tampered", "inclusion proof does not show it")


def test_a_flipped_byte_in_an_alert(kit: Kit) -> None:
    item = kit.items([1])[0]
    flipped = item.alert.replace(b"one", b"onE")
    fails(kit.bundle([], items=[dataclasses.replace(item, alert=flipped)]), "tampered",
          "signature does not verify")
    fails(kit.bundle([], items=[dataclasses.replace(item, alert=b"\x80")]), "tampered",
          "not a valid signed alert")
    fails(kit.bundle([], items=[dataclasses.replace(item, sig=b"\x00" * 64)]), "tampered",
          "signature does not verify")


def test_a_proof_of_another_alert(kit: Kit) -> None:
    one, two = kit.items([1, 2])
    fails(kit.bundle([], items=[dataclasses.replace(one, proof=two.proof)]), "tampered",
          "inclusion proof")
    fails(kit.bundle([], items=[dataclasses.replace(one, offset=9)]), "tampered",
          "inclusion proof")


def test_a_forged_checkpoint_signature(kit: Kit) -> None:
    good = kit.checkpoint()
    fails(kit.bundle([1], checkpoint=dataclasses.replace(good, sig=b"\x01" * 64)), "tampered",
          "checkpoint does not verify")
    other = kit.checkpoint(key=Ed25519PrivateKey.generate())  # signed with another key
    fails(kit.bundle([1], checkpoint=other), "tampered", "checkpoint does not verify")
    fails(kit.bundle([1], checkpoint=dataclasses.replace(good, data=b"\x80")), "tampered",
          "checkpoint does not verify")
    bigger = kit.checkpoint(size=4)  # a smaller log: offset 5 is not in it
    fails(kit.bundle([5], checkpoint=bigger), "tampered", "log of 4 alerts")


def test_certificates_from_another_ca(kit: Kit) -> None:
    stranger = Ed25519PrivateKey.generate()
    fake_log = kit.certify(kit.log_key.public_key(), "urn:cordon:log:hub", signer=stranger,
                           eku=LOG_EKU)
    fails(kit.bundle([1], checkpoint=kit.checkpoint(cert=fake_log)), "tampered",
          "log key's certificate is not signed")
    imposter = kit.member("fr", "ops", signer=stranger)
    kit.publish(imposter, "notice", notice(), alert_id="FR-X")
    fails(kit.bundle([6]), "tampered", "certificate of alert FR-X (offset 6) is not signed")
    fails(kit.bundle([1], crl=kit.crl(signer=stranger)), "tampered", "CRL is not signed")


def test_a_forged_ca_self_signature(kit: Kit) -> None:
    stranger = Ed25519PrivateKey.generate()
    ca = kit.certify(kit.ca_key.public_key(), "ca", signer=stranger, ca=True,
                     issuer=kit.ca, eku=[])
    fails(kit.bundle([1], ca=der(ca)), "tampered", "the CA certificate is not signed")


def test_an_alert_of_another_channel(kit: Kit) -> None:
    kit.publish(kit.fr, "notice", notice(), alert_id="ELSEWHERE",  # type: ignore[attr-defined]
                channel="other-op")
    fails(kit.bundle([6]), "tampered", "signed for channel other-op")


def test_a_sender_certificate_naming_someone_else(kit: Kit) -> None:
    key = Ed25519PrivateKey.generate()
    cert = kit.certify(key.public_key(), "urn:cordon:principal:de/zoll")
    liar = type(kit.fr)("fr/ops", key, cert)  # type: ignore[attr-defined]
    kit.publish(liar, "notice", notice(), alert_id="LIE")
    fails(kit.bundle([6]), "tampered", "its certificate names de/zoll, the alert fr/ops")


def test_forks_in_a_chain(kit: Kit) -> None:
    fr = kit.fr  # type: ignore[attr-defined]
    fr.seq, fr.last = 1, fr.last  # sign another seq 2 after FR-2 (seq 2) exists
    fr.seq = 1
    kit.publish(fr, "notice", notice("other two"), alert_id="FR-2b")
    fails(kit.bundle([3, 6]), "tampered", "two different alerts 2 of fr/ops")
    fails(kit.bundle([1, 3, 6]), "tampered", "two different alerts 2 of fr/ops")
    fr.seq, fr.last = 1, b"\x07" * 32  # seq 2 naming a hash that is not alert 1's
    kit.publish(fr, "notice", notice("forged"), alert_id="FR-2c")
    fails(kit.bundle([1, 7]), "tampered", "does not follow its alert 1")


def test_repeated_ids(kit: Kit) -> None:
    kit.publish(kit.de, "notice", notice("x"), alert_id="FR-1",  # type: ignore[attr-defined]
                chained=False)
    fails(kit.bundle([1, 6]), "tampered", "same id")


# --- unverifiable ------------------------------------------------------------------------
def test_a_revoked_sender(kit: Kit) -> None:
    kit.revoke(kit.fr.cert, kit.now - 2 * DAY)  # type: ignore[attr-defined]
    fails(kit.bundle([1]), "unverifiable", "revoked (keyCompromise)")
    kit.revoked.clear()
    # revoked in the very second the alert was signed (a CRL has second precision):
    # cannot be ordered, so noted, not refused
    signed_at = decode_envelope(kit.log[0][0]).ts
    same_second = datetime.fromtimestamp(signed_at // 1000, tz=UTC)
    kit.revoke(kit.fr.cert, same_second)  # type: ignore[attr-defined]
    assert verify_bundle(kit.bundle([1])).alerts[0].revoked_later == (signed_at // 1000 * 1000,
                                                                      "keyCompromise")
    kit.revoked.clear()
    kit.revoke(kit.fr.cert, same_second - timedelta(seconds=1))  # type: ignore[attr-defined]
    fails(kit.bundle([1]), "unverifiable", "before the alert was signed")
    kit.revoked.clear()
    kit.revoke(kit.fr.cert, kit.now - timedelta(hours=2))  # type: ignore[attr-defined]
    report = verify_bundle(kit.bundle([1]))
    assert report.alerts[0].revoked_later == (ms(kit.now - timedelta(hours=2)), "keyCompromise")
    kit.revoked.clear()
    kit.revoke(kit.fr.cert, kit.now - timedelta(hours=2),  # type: ignore[attr-defined]
               reason=x509.ReasonFlags.unspecified)
    assert verify_bundle(kit.bundle([1])).alerts[0].revoked_later[1] == "unspecified"  # type: ignore[index]


def test_an_expired_or_stale_crl(kit: Kit) -> None:
    stale = kit.crl(last_update=kit.now - 10 * DAY, next_update=kit.now - 3 * DAY)
    fails(kit.bundle([1], crl=stale), "unverifiable", "CRL had expired before the checkpoint")


def test_the_log_key(kit: Kit) -> None:
    kit.revoke(kit.log_cert, kit.now + DAY)
    fails(kit.bundle([1]), "unverifiable", "log key's certificate is revoked")
    kit.revoked.clear()
    client = kit.certify(kit.log_key.public_key(), "urn:cordon:log:hub")  # clientAuth EKU
    fails(kit.bundle([1], checkpoint=kit.checkpoint(cert=client)), "unverifiable",
          "not a valid log key's")
    member = kit.certify(kit.log_key.public_key(), "urn:cordon:principal:fr/ops",
                         eku=LOG_EKU)
    fails(kit.bundle([1], checkpoint=kit.checkpoint(cert=member)), "unverifiable",
          "not a valid log key's")
    bare = kit.certify(kit.log_key.public_key(), "urn:cordon:log:hub", eku=[])
    fails(kit.bundle([1], checkpoint=kit.checkpoint(cert=bare)), "unverifiable",
          "cordon-log extended key usage")
    old = kit.certify(kit.log_key.public_key(), "urn:cordon:log:hub",
                      eku=LOG_EKU,
                      not_before=kit.now - 20 * DAY, not_after=kit.now - 5 * DAY)
    fails(kit.bundle([1], checkpoint=kit.checkpoint(cert=old)), "unverifiable",
          "not valid at the checkpoint's time")
    fails(kit.bundle([1], checkpoint=kit.checkpoint(cert=kit.fr.cert)),  # type: ignore[attr-defined]
          "unverifiable", "not a valid log key's")


def test_a_log_key_that_is_not_ed25519(kit: Kit) -> None:
    p256 = kit.certify(ec.generate_private_key(ec.SECP256R1()).public_key(),
                       "urn:cordon:log:hub", eku=LOG_EKU)
    fails(kit.bundle([1], checkpoint=kit.checkpoint(cert=p256)), "unverifiable",
          "not Ed25519")


def test_a_sender_key_that_is_not_ed25519(kit: Kit) -> None:
    cert = kit.certify(ec.generate_private_key(ec.SECP256R1()).public_key(),
                       "urn:cordon:principal:fr/ec")
    sender = Sender("fr/ec", Ed25519PrivateKey.generate(), cert)
    kit.publish(sender, "notice", notice(), alert_id="EC")
    fails(kit.bundle([6]), "tampered", "signature does not verify")


def test_sender_certificates_not_valid_at_the_alert_time(kit: Kit) -> None:
    late = kit.member("fr", "late", not_before=kit.now - timedelta(hours=1))
    kit.publish(late, "notice", notice(), alert_id="EARLY")  # signed a day before
    fails(kit.bundle([6]), "unverifiable", "not valid at the alert's time")
    server = kit.member("fr", "srv", eku=[ExtendedKeyUsageOID.SERVER_AUTH])
    kit.publish(server, "notice", notice(), alert_id="SRV")
    fails(kit.bundle([7]), "unverifiable", "clientAuth")


def test_another_ca(kit: Kit) -> None:
    data = kit.bundle([1])
    fails(data, "unverifiable", "not the CA you trust", expected_ca=der(Kit().ca))
    leaf = kit.certify(kit.ca_key.public_key(), "not-a-ca")
    fails(kit.bundle([1], ca=der(leaf)), "unverifiable", "not a CA")
    plain = kit.certify(kit.ca_key.public_key(), "plain", eku=[])
    fails(kit.bundle([1], ca=der(plain)), "unverifiable", "not a CA")
    no_constraints = (x509.CertificateBuilder()
                      .subject_name(kit.ca.subject).issuer_name(kit.ca.subject)
                      .public_key(kit.ca_key.public_key()).serial_number(7)
                      .not_valid_before(kit.now - DAY).not_valid_after(kit.now + DAY)
                      .sign(kit.ca_key, None))
    fails(kit.bundle([1], ca=der(no_constraints)), "unverifiable", "not a CA")


# --- handling codes ---------------------------------------------------------------------
def test_restricted_alerts_need_their_senders_permission(kit: Kit) -> None:
    fr, de = kit.fr, kit.de  # type: ignore[attr-defined]
    for n, code in enumerate(("H1", "H2", "H3")):
        kit.publish(fr, "notice", notice("restricted", handling=code), alert_id=f"R{n}")
    for offset in (6, 7, 8):
        fails(kit.bundle([offset]), "restricted", "holds no permission from fr")
    # a permission from ANOTHER administration does not count
    kit.publish(de, "notice", notice("ok", permission="evidence", links=["R0"]),
                alert_id="P-DE")  # 9
    fails(kit.bundle([6, 9]), "restricted", "no permission from fr")
    # a notice without the permission field does not count either
    kit.publish(fr, "notice", notice("fyi", links=["R0"]), alert_id="NOT-P")  # 10
    fails(kit.bundle([6, 10]), "restricted", "no permission from fr")
    fr2 = kit.member("fr", "chief")
    kit.publish(fr2, "notice", notice("permitted", permission="evidence",
                                      links=["R0", "R1", "R2"]), alert_id="P-FR")  # 11
    report = verify_bundle(kit.bundle([6, 7, 8, 11]))
    assert [a.permitted_by for a in report.alerts] == ["P-FR", "P-FR", "P-FR", None]
    assert [a.is_permission for a in report.alerts] == [False, False, False, True]
    fails(kit.bundle([6, 7]), "restricted", "R0")


def test_an_amendment_carries_its_records_handling(kit: Kit) -> None:
    record = notice("fixed", handling="H2")
    body = {"schema": 1, "handling": "H0", "ref": "FR-2", "reason": "typo", "of": "notice",
            "record": record}
    assert schema.check("amendment", body) == []
    kit.publish(kit.fr, "amendment", body, alert_id="AM")  # type: ignore[attr-defined]
    fails(kit.bundle([6]), "restricted", "handling H2")
    env = decode_envelope(kit.log[5][0])
    assert handling_codes(env) == ("H0", "H2")
    odd = dataclasses.replace(env, body={"handling": "H0", "record": "x"})
    assert handling_codes(odd) == ("H0",)


def test_permits() -> None:
    kit = Kit()
    fr = kit.member("fr", "ops")
    alert = decode_envelope(kit.sign(fr, "notice", notice(handling="H2"), alert_id="A")[0])
    perm = decode_envelope(kit.sign(fr, "notice", notice(permission="evidence", links=["A"]),
                                    alert_id="P")[0])
    assert permits(perm, alert)
    assert not permits(dataclasses.replace(perm, body={**perm.body, "links": "A"}), alert)
    assert not permits(dataclasses.replace(perm, channel="elsewhere"), alert)  # type: ignore[arg-type]
    assert not permits(dataclasses.replace(perm, kind="warning"), alert)


def test_the_permission_schema() -> None:
    ok = notice(permission="evidence", links=["A"])
    assert schema.check("notice", ok) == []
    assert schema.check("notice", notice(permission="evidence")) == [
        ("/links", "required with permission: the alerts permitted")]
    assert schema.check("notice", notice(handling="H1", permission="evidence", links=["A"])) == [
        ("/handling", "must be H0 in a permission")]
    assert schema.check("notice", notice(permission="publish", links=["A"]))[0][0] == \
        "/permission"
