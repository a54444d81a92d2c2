"""Property tests: the evidence bundle verifier on mutated bundles. Every input is either
verified or refused with :class:`EvidenceError` and one of its four outcomes — never any
other exception — whether the bytes of the file are changed (flips, cuts, insertions) or
a byte inside one of its certificates, its CRL, its checkpoint or an alert is changed and
the file re-encoded canonically (so the change reaches the parsers behind the format)."""

from __future__ import annotations

from typing import Any

import msgpack
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.protocol.evidence import EvidenceError, verify_bundle
from tests.vectors.evidence.make import HERE

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
VALID = (HERE / "valid-with-permission.cordon-evidence").read_bytes()
OUTCOMES = {"unreadable", "tampered", "unverifiable", "restricted"}


def check(data: bytes) -> None:
    error: EvidenceError | None = None
    try:
        verify_bundle(data)
    except EvidenceError as exc:
        error = exc
    assert error is None or (error.outcome in OUTCOMES and error.message)


@FUZZ
@given(st.data())
def test_changed_file_bytes(data: st.DataObject) -> None:
    raw = bytearray(VALID)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        how = data.draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if how == "flip":
            raw[at] ^= data.draw(st.integers(1, 255))
        elif how == "cut":
            del raw[at]
        elif how == "insert":
            raw.insert(at, data.draw(st.integers(0, 255)))
        else:
            del raw[at:]
            break
        if not raw:
            break
    check(bytes(raw))


def _blobs(obj: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths to every bin value of the decoded bundle."""
    if isinstance(obj, bytes):
        return [path]
    if isinstance(obj, dict):
        return [p for k, v in obj.items() for p in _blobs(v, (*path, k))]
    if isinstance(obj, list):
        return [p for n, v in enumerate(obj) for p in _blobs(v, (*path, n))]
    return []


BLOBS = _blobs(msgpack.unpackb(VALID, raw=False))


@FUZZ
@given(st.sampled_from(BLOBS), st.data())
def test_changed_bytes_inside_a_field(path: tuple[Any, ...], data: st.DataObject) -> None:
    obj = msgpack.unpackb(VALID, raw=False)
    holder = obj
    for key in path[:-1]:
        holder = holder[key]
    blob = bytearray(holder[path[-1]])
    at = data.draw(st.integers(0, max(0, len(blob) - 1)))
    how = data.draw(st.sampled_from(["flip", "cut", "insert", "empty"]))
    if how == "flip" and blob:
        blob[at] ^= data.draw(st.integers(1, 255))
    elif how == "cut" and blob:
        del blob[at:]
    elif how == "insert":
        blob.insert(at, data.draw(st.integers(0, 255)))
    else:
        blob = bytearray()
    holder[path[-1]] = bytes(blob)
    check(msgpack.packb(obj, use_bin_type=True))
