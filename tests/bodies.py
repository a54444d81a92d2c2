"""Valid alert bodies for tests that only need *some* alert (the schema's own examples).

``note("x")`` is a notice whose text is "x"; ``seizure("x")`` a seizure whose
remarks are "x"; ``feedback(ref)`` answers the alert ``ref``.
"""

from __future__ import annotations

from typing import Any

from hub.protocol.schema import example

__all__ = ["feedback", "note", "seizure"]


def note(text: str = "notice", **changes: Any) -> dict[str, Any]:
    return example("notice", text=text, **changes)


def seizure(remarks: str = "seizure", **changes: Any) -> dict[str, Any]:
    return example("seizure", remarks=remarks, **changes)


def feedback(ref: str, **changes: Any) -> dict[str, Any]:
    return example("feedback", ref=ref, **changes)
