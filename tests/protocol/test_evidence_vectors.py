"""The evidence bundle vectors (tests/vectors/evidence/, PROTOCOL.md Appendix D): the files
are exactly what the generator builds, and each bundle gets its stated outcome."""

from __future__ import annotations

import json
from typing import Any

import pytest

from hub.protocol.evidence import EvidenceError, verify_bundle
from tests.vectors.evidence.make import HERE, build

DOC: dict[str, Any] = json.loads((HERE / "evidence.json").read_text(encoding="utf-8"))


def test_files_are_what_the_generator_builds() -> None:
    for name, data in build().items():
        assert (HERE / name).read_bytes() == data, \
            f"{name}: run python -m tests.vectors.evidence.make"


def test_every_outcome_is_covered() -> None:
    assert {b["outcome"] for b in DOC["bundles"]} == {
        "verified", "unreadable", "tampered", "unverifiable", "restricted"}


@pytest.mark.parametrize("vector", DOC["bundles"], ids=lambda v: v["file"])
def test_bundle_vector(vector: dict[str, Any]) -> None:
    data = (HERE / vector["file"]).read_bytes()
    if vector["outcome"] == "verified":
        report = verify_bundle(data)
        assert report.fingerprint == DOC["checkpoint"]["fingerprint"]
        assert report.checkpoint.root.hex() == DOC["checkpoint"]["root_hex"]
        assert report.checkpoint.size == DOC["checkpoint"]["size"]
        return
    with pytest.raises(EvidenceError) as failed:
        verify_bundle(data)
    assert failed.value.outcome == vector["outcome"]
