"""Schema-valid alert bodies for the desktop tests (and the screenshot)."""

from __future__ import annotations

from typing import Any

_DESCRIPTIONS = {
    "medicines": "falsified antibiotics, blister packs",
    "ipr": "counterfeit trainers",
    "medical_devices": "unapproved rapid test kits",
}


def seizure(n: int = 0, *, category: str = "medicines", qty: int = 1200,
            unit: str = "tablets", place: str = "Hamburg port", locode: str = "DEHAM",
            country: str = "DE", ecommerce: bool = True, origin: str = "IN") -> dict[str, Any]:
    body: dict[str, Any] = {
        "schema": 1,
        "handling": "H1",
        "date": "2023-12-05",
        "country": country,
        "place": place,
        "locode": locode,
        "location_type": "seaport",
        "transport_mode": 1,
        "detection": "xray_scanner",
        "goods": [{"category": category, "hs_code": "300490",
                   "description": f"{_DESCRIPTIONS.get(category, 'goods')} (lot {n})",
                   "quantity": qty,
                   "unit": unit}],
        "route": {"origin": origin, "destination": country},
        "ecommerce": ecommerce,
        "status": "seized",
    }
    if category == "ipr":
        body["goods"][0].update(ipr_type="trademark", brand="(protected brand)", hs_code="640411")
    return body


def warning(summary: str = "Parcels of falsified insulin pens declared as toys",
            category: str = "medicines") -> dict[str, Any]:
    return {"schema": 1, "handling": "H0", "summary": summary, "category": category,
            "transport_mode": 5, "route": {"origin": "CN", "destination": "FR"},
            "ecommerce": True}


def feedback(ref: str, outcome: str = "seized") -> dict[str, Any]:
    return {"schema": 1, "handling": "H0", "ref": ref, "outcome": outcome,
            "remarks": "120 pens seized at Roissy express centre"}


def notice(text: str = "OCU desk open 08:00-20:00 CET") -> dict[str, Any]:
    return {"schema": 1, "handling": "H0", "title": "Contact point", "text": text}
