"""Code lists and alert forms from DOMAIN.md, used until ``hub.protocol.codes`` exists.

Only :mod:`client.desktop.fields` imports this module: it is the fallback
behind the one adapter between the desktop and the shared alert schema.
Labels are English; the interface translates them (Qt context ``codes``).
"""

from __future__ import annotations

__all__ = ["CODE_LISTS", "FORMS", "GOODS_KINDS", "GOODS_LINE"]

CODE_LISTS: dict[str, tuple[tuple[str, str], ...]] = {
    "category": (
        ("medicines", "Illicit or falsified medicines"),
        ("medical_devices", "Medical devices"),
        ("vaccines", "Vaccines"),
        ("ppe", "Personal protective equipment"),
        ("ipr", "IPR-infringing goods"),
        ("health_safety", "Dangerous consumer goods"),
        ("drugs", "Drugs"),
        ("tobacco", "Tobacco"),
        ("alcohol", "Alcohol"),
        ("environment", "Environment"),
        ("cultural_heritage", "Cultural heritage"),
        ("weapons", "Weapons"),
        ("other", "Other"),
    ),
    "location_type": (
        ("land_border", "Land border"),
        ("seaport", "Seaport"),
        ("airport", "Airport"),
        ("dry_port", "Dry port"),
        ("customs_warehouse", "Customs warehouse"),
        ("free_zone", "Free zone"),
        ("postal_centre", "Postal centre"),
        ("express_centre", "Express courier centre"),
        ("inland", "Inland"),
    ),
    "transport_mode": (
        ("0", "Not specified"),
        ("1", "Maritime"),
        ("2", "Rail"),
        ("3", "Road"),
        ("4", "Air"),
        ("5", "Mail"),
        ("6", "Multimodal"),
        ("7", "Fixed installation"),
        ("8", "Inland water"),
        ("9", "Not applicable"),
    ),
    "conveyance": (
        ("passenger", "Passenger"),
        ("cargo", "Cargo"),
        ("postal", "Postal"),
        ("express", "Express courier"),
    ),
    "detection": (
        ("profiling", "Risk profiling / targeting"),
        ("intelligence", "Intelligence"),
        ("random", "Random check"),
        ("xray", "X-ray / scanner"),
        ("dog", "Detector dog"),
        ("routine", "Routine control"),
    ),
    "unit": (
        ("pieces", "pieces"),
        ("kg", "kg"),
        ("g", "g"),
        ("l", "l"),
        ("ml", "ml"),
        ("doses", "doses"),
        ("tablets", "tablets"),
        ("ampoules", "ampoules"),
        ("packages", "packages"),
    ),
    "ipr_type": (
        ("trademark", "Trademark"),
        ("copyright", "Copyright"),
        ("design", "Design"),
        ("patent", "Patent"),
        ("gi", "Geographical indication"),
    ),
    "status": (
        ("seized", "Seized"),
        ("detained", "Detained"),
        ("released", "Released"),
    ),
    "handling": (
        ("H0", "H0 - fight against crime only"),
        ("H1", "H1 - not as evidence without permission"),
        ("H2", "H2 - not to be passed on without permission"),
        ("H3", "H3 - other restrictions"),
    ),
    "reliability": (
        ("A", "A - reliable"),
        ("B", "B - mostly reliable"),
        ("C", "C - not reliable"),
        ("X", "X - cannot be assessed"),
    ),
    "accuracy": (
        ("1", "1 - known to be true"),
        ("2", "2 - known personally to the source"),
        ("3", "3 - not known personally to the source"),
        ("4", "4 - cannot be assessed"),
    ),
    "action": (
        ("inspected", "Inspected, nothing found"),
        ("seized", "Inspected and seized"),
        ("not_found", "Shipment not found"),
        ("monitoring", "Under monitoring"),
    ),
    "consignment": (
        ("postal", "Postal"),
        ("express", "Express"),
        ("cargo", "Cargo"),
    ),
    "currency": (
        ("EUR", "Euro"),
        ("USD", "US dollar"),
        ("GBP", "Pound sterling"),
        ("CHF", "Swiss franc"),
        ("CNY", "Yuan renminbi"),
        ("INR", "Indian rupee"),
        ("JPY", "Yen"),
        ("XOF", "CFA franc (BCEAO)"),
    ),
    "country": (
        ("AE", "United Arab Emirates"),
        ("AT", "Austria"),
        ("AU", "Australia"),
        ("BE", "Belgium"),
        ("BR", "Brazil"),
        ("CA", "Canada"),
        ("CH", "Switzerland"),
        ("CI", "Côte d'Ivoire"),
        ("CN", "China"),
        ("DE", "Germany"),
        ("DK", "Denmark"),
        ("ES", "Spain"),
        ("FI", "Finland"),
        ("FR", "France"),
        ("GB", "United Kingdom"),
        ("GR", "Greece"),
        ("HK", "Hong Kong, China"),
        ("IE", "Ireland"),
        ("IN", "India"),
        ("IT", "Italy"),
        ("JP", "Japan"),
        ("MA", "Morocco"),
        ("NG", "Nigeria"),
        ("NL", "Netherlands"),
        ("PL", "Poland"),
        ("PT", "Portugal"),
        ("SE", "Sweden"),
        ("SG", "Singapore"),
        ("SN", "Senegal"),
        ("TR", "Türkiye"),
        ("US", "United States"),
        ("ZA", "South Africa"),
    ),
}

# A form field: (key path in the body, English label, type, code list or None, required).
# Types: text, multiline, code, countries (list of country codes), number, date, bool, ref.
FieldRow = tuple[str, str, str, "str | None", bool]

_COMMON: tuple[FieldRow, ...] = (
    ("handling", "Handling code", "code", "handling", True),
    ("evaluation.reliability", "Source reliability", "code", "reliability", False),
    ("evaluation.accuracy", "Information accuracy", "code", "accuracy", False),
)

_ROUTING: tuple[FieldRow, ...] = (
    ("routing.origin", "Country of origin", "code", "country", False),
    ("routing.departure", "Country of departure", "code", "country", False),
    ("routing.transit", "Transit countries", "countries", "country", False),
    ("routing.destination", "Country of destination", "code", "country", False),
)

_ECOMMERCE: tuple[FieldRow, ...] = (
    ("ecommerce.flag", "E-commerce", "bool", None, False),
    ("ecommerce.platform", "Platform or website", "text", None, False),
    ("ecommerce.consignment", "Consignment type", "code", "consignment", False),
    ("ecommerce.small", "Small consignment", "bool", None, False),
)

FORMS: dict[str, tuple[FieldRow, ...]] = {
    "warning": (
        ("subject", "Subject", "text", None, True),
        ("risk_indicators", "Risk indicators", "multiline", None, True),
        ("transport_mode", "Mode of transport", "code", "transport_mode", False),
        ("conveyance", "Conveyance", "code", "conveyance", False),
        *_ROUTING,
        *_ECOMMERCE,
        *_COMMON,
    ),
    "feedback": (
        ("ref", "Warning id", "ref", None, True),
        ("action", "Action taken", "code", "action", True),
        ("remarks", "Remarks", "multiline", None, False),
        *_COMMON,
    ),
    "seizure": (
        ("date", "Seizure date", "date", None, True),
        ("place", "Place (UN/LOCODE)", "text", None, True),
        ("location_type", "Type of location", "code", "location_type", True),
        ("transport_mode", "Mode of transport", "code", "transport_mode", False),
        ("conveyance", "Conveyance", "code", "conveyance", False),
        ("detection", "Detection method", "code", "detection", False),
        ("concealment", "Concealment", "text", None, False),
        *_ROUTING,
        *_ECOMMERCE,
        ("status", "Outcome", "code", "status", True),
        ("remarks", "Remarks", "multiline", None, False),
        ("ref", "Related warning id", "ref", None, False),
        *_COMMON,
    ),
    "notice": (
        ("subject", "Subject", "text", None, True),
        ("text", "Text", "multiline", None, True),
        *_COMMON,
    ),
    "amendment": (
        ("ref", "Amended alert id", "ref", None, True),
        ("text", "Correction", "multiline", None, True),
        *_COMMON,
    ),
    "withdrawal": (
        ("ref", "Withdrawn alert id", "ref", None, True),
        ("text", "Reason", "multiline", None, False),
        *_COMMON,
    ),
}

GOODS_LINE: tuple[FieldRow, ...] = (
    ("category", "Category", "code", "category", True),
    ("hs_code", "HS code", "text", None, True),
    ("description", "Description", "text", None, True),
    ("quantity", "Quantity", "number", None, True),
    ("unit", "Unit", "code", "unit", True),
    ("value", "Estimated value", "number", None, False),
    ("currency", "Currency", "code", "currency", False),
    ("brand", "Brand", "text", None, False),
    ("right_holder", "Right holder", "text", None, False),
    ("ipr_type", "IPR type", "code", "ipr_type", False),
)

#: Kinds whose form has goods lines, and whether at least one is required.
GOODS_KINDS: dict[str, bool] = {"seizure": True, "warning": False}
