"""A minimal stand-in for ``hub.protocol.codes`` (same names, same codes, fewer countries).

Only :mod:`client.desktop.fields` imports it, and only when the shared code
lists cannot be imported; it keeps the desk usable on a tree without them.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["LISTS"]

LISTS: dict[str, Mapping[object, str]] = {
    "transport_mode": {
        0: "not specified", 1: "maritime", 2: "rail", 3: "road", 4: "air", 5: "mail",
        6: "multimodal", 7: "fixed installation", 8: "inland water", 9: "not applicable",
    },
    "location_type": {
        "land_border": "land border", "seaport": "seaport", "airport": "airport",
        "dry_port": "dry port", "customs_warehouse": "customs warehouse",
        "free_zone": "free zone", "postal_centre": "postal centre",
        "express_courier_centre": "express courier centre", "inland": "inland",
    },
    "conveyance": {"passenger": "passenger", "cargo": "cargo", "postal": "postal",
                   "express_courier": "express courier"},
    "detection": {
        "risk_profiling": "risk profiling / targeting", "intelligence": "intelligence",
        "random_check": "random check", "xray_scanner": "X-ray / scanner",
        "detector_dog": "detector dog", "routine_control": "routine control",
    },
    "concealment": {
        "not_concealed": "not concealed", "misdeclared": "misdeclared",
        "mixed_with_legitimate_goods": "mixed with legitimate goods",
        "hidden_compartment": "hidden compartment", "luggage": "in luggage",
        "on_person": "on the person", "parcel": "inside a parcel", "other": "other",
    },
    "category": {
        "medicines": "illicit / falsified medicines", "medical_devices": "medical devices",
        "vaccines": "vaccines", "ppe": "personal protective equipment",
        "ipr": "IPR-infringing consumer goods", "health_safety": "other dangerous consumer goods",
        "drugs": "drugs", "tobacco": "tobacco", "alcohol": "alcohol",
        "environment": "environment", "cultural_heritage": "cultural heritage",
        "weapons": "weapons", "other": "other",
    },
    "unit": {"pcs": "pieces", "kg": "kilograms", "g": "grams", "l": "litres",
             "ml": "millilitres", "doses": "doses", "tablets": "tablets",
             "ampoules": "ampoules", "packages": "packages"},
    "ipr_type": {"trademark": "trademark", "copyright": "copyright", "design": "design",
                 "patent": "patent", "gi": "geographical indication"},
    "consignment": {"postal": "postal", "express": "express", "cargo": "cargo"},
    "status": {"seized": "seized", "detained": "detained", "released": "released"},
    "outcome": {"inspected": "inspected", "seized": "seized", "nothing_found": "nothing found",
                "not_inspected": "not inspected"},
    "handling": {
        "H0": "use only for the fight against crime",
        "H1": "not as evidence in court without the sender's permission",
        "H2": "not to be passed on without permission",
        "H3": "other restrictions (see handling_text)",
    },
    "reliability": {"A": "reliable", "B": "mostly reliable", "C": "not reliable",
                    "X": "cannot be assessed"},
    "accuracy": {"1": "known to be true without reservation", "2": "known personally to the source",
                 "3": "not known personally to the source, but corroborated",
                 "4": "cannot be judged"},
    "country": {
        "BE": "Belgium", "CH": "Switzerland", "CN": "China", "DE": "Germany", "ES": "Spain",
        "FR": "France", "GB": "United Kingdom", "HK": "Hong Kong", "IN": "India", "IT": "Italy",
        "NL": "Netherlands", "PL": "Poland", "SG": "Singapore", "TR": "Türkiye",
        "US": "United States of America",
    },
    "currency": {"CHF": "CHF", "CNY": "CNY", "EUR": "EUR", "GBP": "GBP", "INR": "INR",
                 "USD": "USD"},
}
