"""A channel's verified alerts for threat-sharing tools: a STIX 2.1 bundle, a MISP event.

Only alerts whose signature verified are exported. Handling codes say what may be passed
on (``hub/protocol/codes.py``): H0 and H1 are exported, H2 ("not to be passed on without
permission") and H3 ("other restrictions") are left out unless ``include_restricted``;
:class:`Selection` counts what was left out and why. Each handling code is carried as a
TLP 2.0-style marking: H0 → TLP:GREEN, H1 → TLP:AMBER, H2 and H3 → TLP:RED.

STIX 2.1 (``to_stix``): one ``identity`` (organization) per sending administration;
``warning`` → ``indicator`` (pattern type ``cordon-profile``: the risk profile as text,
valid from its time until ``valid_until``); ``seizure`` → an ``incident`` describing it,
``located-at`` (``relationship``) the ``location`` of its country, and an
``observed-data`` of that relationship on the seizure's date;
``feedback`` → ``sighting`` of the warning it answers (``sighting_of_ref`` = that
warning's indicator); ``notice``, ``amendment`` and ``withdrawal`` → ``note`` about the
alert they reference (or the sender). Ids are UUIDv5 of channel and alert id, so
re-exports name the same objects. Every object carries the alert's id and offset in
``external_references`` (source ``cordon``).

MISP (``to_misp``): one event per export (``info`` names the channel), one MISP object
per alert with ``text``/``datetime``/``comment`` attributes (template-less, so it
imports as is), tagged ``tlp:…`` and ``cordon:kind="…"``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from client.sdk import Received
from hub.protocol import codes

__all__ = ["RESTRICTED", "TLP", "Selection", "select", "to_misp", "to_stix"]

#: Handling codes that forbid onward sharing without the sender's permission.
RESTRICTED = frozenset({"H2", "H3"})
TLP = {"H0": "green", "H1": "amber", "H2": "red", "H3": "red"}
#: The STIX 2.1 TLP marking-definition ids (STIX 2.1 §7.2.1.4).
_TLP_MARKINGS = {
    "white": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
_NAMESPACE = uuid.UUID("5f1c7a0e-3d5b-4b8e-9a7e-2c3b0d9e6a41")


@dataclass
class Selection:
    """The alerts to export, and how many were left out and why."""

    channel: str
    alerts: list[Received] = field(default_factory=list)
    restricted: int = 0
    unverified: int = 0

    def summary(self) -> str:
        out = f"{len(self.alerts)} alerts exported"
        left = []
        if self.restricted:
            left.append(f"{self.restricted} with handling H2/H3 (not to be passed on without "
                        "the sender's permission; --include-restricted to include them)")
        if self.unverified:
            left.append(f"{self.unverified} whose signature did not verify")
        return out + (f"; left out: {', '.join(left)}" if left else "")


def select(items: Iterable[Received], channel: str, *, include_restricted: bool = False
           ) -> Selection:
    chosen = Selection(channel)
    for item in items:
        if not item.verified or item.envelope is None:
            chosen.unverified += 1
        elif _handling(item) in RESTRICTED and not include_restricted:
            chosen.restricted += 1
        else:
            chosen.alerts.append(item)
    return chosen


def _handling(item: Received) -> str:
    assert item.envelope is not None
    value = item.envelope.body.get("handling", "H3")
    return value if isinstance(value, str) and value in TLP else "H3"


def _time(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _id(kind: str, *parts: str) -> str:
    return f"{kind}--{uuid.uuid5(_NAMESPACE, '/'.join(parts))}"


def _label(table: Any, code: object) -> str:
    return str(table.get(code, code)) if isinstance(code, str) else str(code)


def _goods_text(body: dict[str, Any]) -> str:
    lines = []
    for line in body.get("goods", []):
        if isinstance(line, dict):
            lines.append(f"{line.get('quantity', '?')} {line.get('unit', '')} "
                         f"{line.get('description', '')} "
                         f"({_label(codes.CATEGORIES, line.get('category'))})".strip())
    return "; ".join(lines)


def _route_text(body: dict[str, Any]) -> str:
    route = body.get("route")
    if not isinstance(route, dict):
        return ""
    hops = [route.get("origin", "?"), *route.get("transit", []), route.get("destination", "?")]
    return " > ".join(str(h) for h in hops)


def describe(item: Received) -> str:
    """One paragraph saying what the alert reports, for people reading another tool."""
    assert item.envelope is not None
    env, body = item.envelope, dict(item.envelope.body)
    kind = env.kind
    if kind == "seizure":
        parts = [f"Seizure on {body.get('date', '?')} in {body.get('country', '?')}",
                 f"at {body['place']}" if body.get("place") else "",
                 f"goods: {_goods_text(body)}" if body.get("goods") else "",
                 f"detected by {_label(codes.DETECTION, body.get('detection'))}"
                 if body.get("detection") else "",
                 f"route {_route_text(body)}" if body.get("route") else ""]
    elif kind == "warning":
        parts = [str(body.get("summary", "")),
                 f"category {_label(codes.CATEGORIES, body.get('category'))}"
                 if body.get("category") else "",
                 f"route {_route_text(body)}" if body.get("route") else "",
                 "indicators: " + "; ".join(map(str, body.get("indicators", [])))
                 if body.get("indicators") else ""]
    elif kind == "feedback":
        parts = [f"Feedback on {body.get('ref', '?')}: {body.get('outcome', '?')}",
                 str(body.get("remarks", ""))]
    elif kind == "notice":
        parts = [str(body.get("title", "")), str(body.get("text", ""))]
    else:
        parts = [f"{kind.capitalize()} of {body.get('ref', '?')}", str(body.get("reason", ""))]
    return ". ".join(p for p in parts if p)


def _reference(item: Received, channel: str) -> dict[str, Any]:
    assert item.envelope is not None
    return {"source_name": "cordon", "external_id": item.envelope.id,
            "description": f"channel {channel}, offset {item.offset}, sender "
                           f"{item.envelope.sender}, handling {_handling(item)}"}


def to_stix(chosen: Selection) -> dict[str, Any]:
    """A STIX 2.1 bundle (a JSON-ready dict)."""
    objects: dict[str, dict[str, Any]] = {}
    channel = chosen.channel

    def identity(member: str, created: str) -> str:
        oid = _id("identity", "member", member)
        objects.setdefault(oid, {"type": "identity", "spec_version": "2.1", "id": oid,
                                 "created": created, "modified": created,
                                 "name": member, "identity_class": "organization",
                                 "sectors": ["government-national"]})
        return oid

    def location(country: str, created: str) -> str:
        oid = _id("location", "country", country)
        objects.setdefault(oid, {"type": "location", "spec_version": "2.1", "id": oid,
                                 "created": created, "modified": created,
                                 "country": country})
        return oid

    for item in chosen.alerts:
        assert item.envelope is not None
        env, body = item.envelope, dict(item.envelope.body)
        created = _time(env.ts)
        common: dict[str, Any] = {
            "spec_version": "2.1", "created": created, "modified": created,
            "created_by_ref": identity(env.sender.partition("/")[0], created),
            "object_marking_refs": [_TLP_MARKINGS[TLP[_handling(item)]]],
            "external_references": [_reference(item, channel)],
            "labels": [f"cordon-{env.kind}"],
        }
        text = describe(item)
        if env.kind == "warning":
            oid = _id("indicator", channel, env.id)
            obj = {"type": "indicator", "id": oid, **common, "name": f"Cordon warning {env.id}",
                   "description": text, "indicator_types": ["anomalous-activity"],
                   "pattern_type": "cordon-profile",
                   "pattern": json.dumps(body, ensure_ascii=False, sort_keys=True),
                   "valid_from": created}
            until = f"{body.get('valid_until')}T23:59:59.999Z"
            if isinstance(body.get("valid_until"), str) and until > created:
                obj["valid_until"] = until  # STIX: must be after valid_from
            objects[oid] = obj
        elif env.kind == "seizure":
            where = location(str(body.get("country", "ZZ")), created)
            incident = _id("incident", channel, env.id)
            objects[incident] = {"type": "incident", "id": incident, **common,
                                 "name": f"Cordon seizure {env.id}", "description": text}
            at = _id("relationship", channel, env.id, "located-at")
            objects[at] = {"type": "relationship", "id": at, **common,
                           "relationship_type": "located-at", "source_ref": incident,
                           "target_ref": where}
            oid = _id("observed-data", channel, env.id)
            day = str(body.get("date", ""))
            seen = f"{day}T00:00:00.000Z" if len(day) == 10 else created
            objects[oid] = {"type": "observed-data", "id": oid, **common,
                            "first_observed": seen, "last_observed": seen,
                            "number_observed": 1, "object_refs": [at]}
        elif env.kind == "feedback":
            oid = _id("sighting", channel, env.id)
            warning = _id("indicator", channel, str(body.get("ref", "")))
            objects[oid] = {"type": "sighting", "id": oid, **common, "description": text,
                            "sighting_of_ref": warning, "count": 1,
                            "where_sighted_refs": [common["created_by_ref"]]}
        else:
            oid = _id("note", channel, env.id)
            about = [_referenced(body, channel, chosen) or common["created_by_ref"]]
            objects[oid] = {"type": "note", "id": oid, **common,
                            "abstract": f"Cordon {env.kind} {env.id}", "content": text,
                            "object_refs": about}
    bundle_id = _id("bundle", channel, *(a.envelope.id for a in chosen.alerts if a.envelope))
    return {"type": "bundle", "id": bundle_id, "objects": list(objects.values())}


def _referenced(body: dict[str, Any], channel: str, chosen: Selection) -> str | None:
    ref = body.get("ref")
    if not isinstance(ref, str):
        return None
    for item in chosen.alerts:
        if item.envelope is not None and item.envelope.id == ref:
            kind = {"warning": "indicator", "seizure": "incident", "feedback": "sighting"}.get(
                item.envelope.kind, "note")
            return _id(kind, channel, ref)
    return None


def to_misp(chosen: Selection) -> dict[str, Any]:
    """A MISP event (``{"Event": {...}}``, as MISP exports and imports it)."""
    alerts = chosen.alerts
    last = max((a.envelope.ts for a in alerts if a.envelope), default=0)
    day = _time(last)[:10] if last else datetime.now(UTC).strftime("%Y-%m-%d")
    objects = []
    for item in alerts:
        assert item.envelope is not None
        env = item.envelope
        tags = [{"name": f"tlp:{TLP[_handling(item)]}"},
                {"name": f'cordon:kind="{env.kind}"'}]
        attributes = [
            {"type": "text", "category": "Other", "object_relation": "alert-id",
             "value": env.id, "to_ids": False, "Tag": tags},
            {"type": "text", "category": "Other", "object_relation": "sender",
             "value": env.sender, "to_ids": False},
            {"type": "datetime", "category": "Other", "object_relation": "time",
             "value": _time(env.ts), "to_ids": False},
            {"type": "text", "category": "Other", "object_relation": "summary",
             "value": describe(item), "to_ids": False},
            {"type": "comment", "category": "Other", "object_relation": "record",
             "value": json.dumps(dict(env.body), ensure_ascii=False, sort_keys=True),
             "to_ids": False},
        ]
        objects.append({"name": f"cordon-{env.kind}", "meta-category": "misc",
                        "description": f"Cordon {env.kind} alert, channel {chosen.channel} "
                                       f"offset {item.offset}",
                        "uuid": str(uuid.uuid5(_NAMESPACE, f"{chosen.channel}/{env.id}")),
                        "distribution": "5", "Attribute": attributes})
    event = {"info": f"Cordon channel {chosen.channel}: {len(alerts)} verified alerts",
             "date": day, "threat_level_id": "4", "analysis": "2", "distribution": "0",
             "uuid": str(uuid.uuid5(_NAMESPACE, f"{chosen.channel}/event/"
                                    + ",".join(a.envelope.id for a in alerts if a.envelope))),
             "Tag": [{"name": f'cordon:channel="{chosen.channel}"'}],
             "Object": objects}
    return {"Event": event}
