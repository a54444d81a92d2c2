"""Generate an operation shaped like STOP III, with exact planted ground truth.

``generate(cases=894, members=111, seed=3)`` returns an :class:`Operation`:
the member administrations (real ISO 3166-1 codes as member ids), the alerts
each one sends in schedule order (warnings, feedback, seizures, notices,
amendments, withdrawals; every body valid for :mod:`hub.protocol.schema`), and
:class:`Truth`, the figures an operation report must state, computed here from
the generator's own plan (never from the alerts it produced).

At full size (894 cases, 111 members) the truth is exactly STOP III's: 48
reporting administrations, 894 cases, 634 related to e-commerce, 45,000,000
items of which 43,500,000 medicines and medical devices and 1,100,000
IPR-infringing goods, over twelve days (4-15 December 2023). Smaller runs scale
every figure by integer apportionment (largest remainder), so they are exact too.

The plan also plants what a report must *apply*: amended seizures (the original
is wrong, the amendment carries the true record) and duplicate reports that are
withdrawn (excluded from every figure).
"""

from __future__ import annotations

import datetime
import random
import struct
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hub.protocol import codes
from hub.protocol.attachments import digest

__all__ = [
    "FULL_CASES",
    "FULL_MEMBERS",
    "MEMBERS",
    "Operation",
    "PlannedAlert",
    "Truth",
    "apportion",
    "generate",
    "photo_png",
]

FULL_CASES = 894
FULL_MEMBERS = 111
_REPORTERS, _ECOMMERCE = 48, 634
_ITEMS, _MEDICAL, _IPR = 45_000_000, 43_500_000, 1_100_000
START = datetime.date(2023, 12, 4)
DAYS = 12

#: 111 customs administrations (ISO 3166-1 alpha-2, lower case as member ids); the
#: first is the coordinator's (the operational coordination unit sits there).
MEMBERS: tuple[str, ...] = (
    "be", "fr", "de", "nl", "it", "es", "pl", "us", "cn", "in", "gb", "au", "br", "za",
    "ng", "ae", "jp", "kr", "tr", "ch", "at", "bg", "hr", "cy", "cz", "dk", "ee", "fi",
    "gr", "hu", "ie", "lv", "lt", "lu", "mt", "pt", "ro", "sk", "si", "se", "no", "is",
    "ua", "md", "rs", "me", "mk", "al", "ba", "ge", "am", "az", "ca", "mx", "ar", "cl",
    "co", "pe", "ec", "uy", "py", "bo", "cr", "pa", "gt", "do", "jm", "tt", "hk", "mo",
    "pk", "bd", "lk", "th", "my", "sg", "id", "ph", "vn", "nz", "kh", "np", "mn", "sa",
    "qa", "om", "kw", "bh", "jo", "lb", "eg", "ma", "tn", "dz", "ke", "gh", "sn", "ci",
    "cm", "ug", "tz", "et", "rw", "zm", "mz", "bw", "na", "mu", "mg", "bj", "tg",
)  # fmt: skip

_ORIGINS = {"CN": 34, "IN": 26, "HK": 7, "TR": 5, "AE": 4, "PK": 4, "SG": 3, "BD": 3,
            "TH": 2, "VN": 2, "MY": 2, "US": 2, "EG": 1, "NG": 1, "BR": 1, "ID": 1}
_HUBS = ("HK", "AE", "SG", "NL", "BE", "DE", "QA", "TR")
_PLATFORMS = ("online marketplace", "social media shop", "standalone web shop",
              "unlicensed online pharmacy", "messaging app channel")
_DETECTION = {"risk_profiling": 34, "xray_scanner": 20, "routine_control": 15,
              "intelligence": 12, "random_check": 11, "detector_dog": 8}
_CARGO_PLACES = (  # location type, transport mode, conveyance
    ("seaport", 1, "cargo"), ("airport", 4, "cargo"), ("airport", 4, "passenger"),
    ("land_border", 3, "cargo"), ("land_border", 3, "passenger"),
    ("customs_warehouse", 3, "cargo"), ("free_zone", 1, "cargo"), ("inland", 3, "cargo"),
    ("dry_port", 2, "cargo"),
)
_DAY_WEIGHTS = (6, 8, 9, 10, 9, 6, 5, 9, 10, 11, 10, 7)  # ramp-up, a weekend, the final push
_MEDICAL_LINES = (  # category, HS code, unit, description
    ("medicines", "300490", "tablets", "falsified erectile-dysfunction tablets"),
    ("medicines", "300490", "tablets", "unlicensed slimming tablets"),
    ("medicines", "300439", "ampoules", "counterfeit anabolic steroids"),
    ("medicines", "300420", "packages", "falsified antibiotics"),
    ("medicines", "300490", "doses", "illicit weight-loss injection pens"),
    ("medicines", "300490", "tablets", "unregistered sleeping pills"),
    ("medical_devices", "902519", "pcs", "uncertified clinical thermometers"),
    ("medical_devices", "382100", "pcs", "unauthorised diagnostic test kits"),
    ("medical_devices", "901890", "pcs", "non-compliant syringes"),
    ("medical_devices", "900490", "pcs", "coloured contact lenses without CE marking"),
)
_IPR_LINES = (
    ("420222", "handbags bearing a counterfeit trademark", "trademark"),
    ("610910", "T-shirts with counterfeit logos", "trademark"),
    ("640399", "counterfeit sports shoes", "trademark"),
    ("910219", "counterfeit watches", "trademark"),
    ("851830", "copied wireless earphones", "design"),
    ("852349", "pirated software media", "copyright"),
    ("220421", "wine with a usurped geographical indication", "gi"),
)
_OTHER_LINES = (
    ("ppe", "630790", "pcs", "face masks without certification"),
    ("ppe", "401519", "pcs", "non-compliant medical gloves"),
    ("vaccines", "300241", "doses", "vaccines outside the cold chain"),
    ("health_safety", "330499", "pcs", "cosmetics with banned substances"),
    ("health_safety", "950300", "pcs", "toys with hazardous chemicals"),
    ("tobacco", "240220", "packages", "cigarettes without tax stamps"),
    ("alcohol", "220830", "pcs", "bottles of spirits with fake excise labels"),
    ("other", "330300", "pcs", "perfumes without labelling"),
)
#: Administrations that send warnings or feedback but report no case.
_EXTRA_SENDERS = 8
_FEEDBACK = {"nothing_found": 50, "inspected": 25, "seized": 20, "not_inspected": 5}


def apportion(total: int, weights: Sequence[float], *, minimum: int = 0) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (each at least
    ``minimum``; largest remainder, ties to the earlier index) that add up exactly."""
    n = len(weights)
    if n == 0 or total < minimum * n:
        raise ValueError("cannot apportion")
    rest = total - minimum * n
    scale = sum(weights)
    raw = [rest * w / scale for w in weights]
    out = [int(x) for x in raw]
    order = sorted(range(n), key=lambda i: (-(raw[i] - out[i]), i))
    for i in order[: rest - sum(out)]:
        out[i] += 1
    return [x + minimum for x in out]


def _scaled(full: int, cases: int) -> int:
    return (full * cases + FULL_CASES // 2) // FULL_CASES


def photo_png(seed: int, width: int = 96, height: int = 64) -> bytes:
    """A small PNG 'photo' (a colour gradient): real, decodable, deterministic."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not cryptography
    r0, g0, b0 = (rng.randrange(40, 200) for _ in range(3))
    rows = []
    for y in range(height):
        row = bytearray(b"\x00")
        for x in range(width):
            row += bytes(((r0 + x) % 256, (g0 + y) % 256, (b0 + x + y) % 256))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b""))


@dataclass(frozen=True, slots=True)
class PlannedAlert:
    """One alert of the plan: sent by ``member``'s principal, after ``deps`` are stored."""

    seq: int
    member: str
    principal: str
    kind: str
    alert_id: str
    body: dict[str, Any]
    day: int
    deps: tuple[str, ...] = ()
    photos: tuple[bytes, ...] = ()  # uploaded before the alert; body references them


@dataclass
class Truth:
    """The figures the plan implies (after amendments and withdrawals)."""

    cases: int = 0
    reporting: int = 0
    ecommerce: int = 0
    items: int = 0
    items_by_category: Counter[str] = field(default_factory=Counter)
    kg_by_category: Counter[str] = field(default_factory=Counter)
    routes: Counter[str] = field(default_factory=Counter)
    detection: Counter[str] = field(default_factory=Counter)
    transport: Counter[str] = field(default_factory=Counter)
    locations: Counter[str] = field(default_factory=Counter)
    timeline: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    feedback: Counter[str] = field(default_factory=Counter)
    amendments: int = 0
    withdrawals: int = 0
    attachments: int = 0


@dataclass
class Operation:
    channel: str
    title: str
    members: list[str]
    coordinator: str  # principal id of the operation's coordinator
    alerts: list[PlannedAlert]
    truth: Truth
    seed: int

    @property
    def senders(self) -> list[str]:
        """Principals that send at least one alert, in order of first alert."""
        return list(dict.fromkeys(a.principal for a in self.alerts))


@dataclass
class _Case:
    member: str
    day: int
    ecommerce: bool
    lines: list[dict[str, Any]]
    body: dict[str, Any] = field(default_factory=dict)
    alert_id: str = ""


def _pick(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def _date(day: int) -> str:
    return (START + datetime.timedelta(days=day)).isoformat()


class _Planner:
    def __init__(self, cases: int, members: int, seed: int) -> None:
        if not 1 <= members <= len(MEMBERS):
            raise ValueError(f"members must be 1..{len(MEMBERS)}")
        if cases < 1:
            raise ValueError("cases must be at least 1")
        self.rng = random.Random(seed)  # noqa: S311 - reproducible plan
        self.seed = seed
        self.members = list(MEMBERS[:members])
        self.n_cases = cases
        self.coordinator = f"{self.members[0]}/ocu"
        self.truth = Truth()
        self.events: list[tuple[int, float, PlannedAlert]] = []
        self.counters: Counter[str] = Counter()

    def _id(self, member: str, letter: str) -> str:
        key = f"{member}-{letter}"
        self.counters[key] += 1
        return f"{member.upper()}-{letter}-{self.counters[key]:04d}"

    def _add(self, member: str, kind: str, letter: str, body: dict[str, Any], day: int,
             deps: tuple[str, ...] = (), photos: tuple[bytes, ...] = (),
             principal: str | None = None, alert_id: str | None = None,
             order: float | None = None) -> str:  # fmt: skip
        aid = alert_id or self._id(member, letter)
        alert = PlannedAlert(
            seq=0, member=member, principal=principal or f"{member}/ops", kind=kind,
            alert_id=aid, body=body, day=day, deps=deps, photos=photos,
        )  # fmt: skip
        self.events.append((day, self.rng.random() if order is None else order, alert))
        self.truth.kinds[kind] += 1
        return aid

    # --- seizures ---------------------------------------------------------------------------
    def plan_cases(self) -> list[_Case]:
        rng, n = self.rng, self.n_cases
        full = len(self.members) == FULL_MEMBERS
        wanted = _REPORTERS if full else max(1, round(_REPORTERS * len(self.members) / 111))
        n_reporters = min(wanted, n, len(self.members))
        reporters = rng.sample(self.members, n_reporters)
        # warnings and feedback also come from a few administrations that report no case
        others = [m for m in self.members if m not in reporters]
        self.active = reporters + rng.sample(others, min(len(others), _EXTRA_SENDERS))
        weights = [1 / (rank + 1) ** 0.9 * rng.uniform(0.7, 1.3) for rank in range(n_reporters)]
        per_member = apportion(n, weights, minimum=1)
        per_day = apportion(n, _DAY_WEIGHTS)
        days = [d for d, k in enumerate(per_day) for _ in range(k)]
        rng.shuffle(days)
        ecommerce = set(rng.sample(range(n), _scaled(_ECOMMERCE, n)))
        cases: list[_Case] = []
        for member, count in zip(reporters, per_member, strict=True):
            for _ in range(count):
                i = len(cases)
                cases.append(_Case(member, days[i], i in ecommerce, []))
        self._plan_goods(cases)
        return cases

    def _plan_goods(self, cases: list[_Case]) -> None:
        rng = self.rng
        items = _scaled(_ITEMS, self.n_cases)
        medical = _scaled(_MEDICAL, self.n_cases)
        ipr = _scaled(_IPR, self.n_cases)
        other = items - medical - ipr
        groups: dict[str, list[dict[str, Any]]] = {"medical": [], "ipr": [], "other": []}
        for case in cases:
            profile = rng.choices(["medical", "ipr", "other", "mixed"], [62, 18, 10, 10])[0]
            kinds = (["medical", rng.choice(["ipr", "other"])] if profile == "mixed"
                     else [profile] * rng.choice([1, 1, 2]))  # fmt: skip
            for kind in kinds:
                line = self._line(kind)
                case.lines.append(line)
                groups[kind].append(line)
            if rng.random() < 0.03:  # incidental drugs, weighed not counted
                case.lines.append({"category": "drugs", "hs_code": "293979",
                                   "description": "synthetic cathinones (powder)",
                                   "quantity": round(rng.uniform(0.2, 12.0), 3), "unit": "kg"})
        # exact totals: every countable line gets its share (at least 1)
        for kind, total in (("medical", medical), ("ipr", ipr), ("other", other)):
            lines = groups[kind]
            if not lines:  # tiny runs: put the group's items on the first case
                line = self._line(kind)
                cases[0].lines.append(line)
                lines.append(line)
            weights = [rng.lognormvariate(0, 1.6) for _ in lines]
            for line, quantity in zip(lines, apportion(total, weights, minimum=1), strict=True):
                line["quantity"] = quantity

    def _line(self, kind: str) -> dict[str, Any]:
        rng = self.rng
        if kind == "medical":
            category, hs, unit, text = rng.choice(_MEDICAL_LINES)
            line: dict[str, Any] = {"category": category, "hs_code": hs, "description": text,
                                    "unit": unit}  # fmt: skip
        elif kind == "ipr":
            hs, text, ipr_type = rng.choice(_IPR_LINES)
            line = {"category": "ipr", "hs_code": hs, "description": text, "unit": "pcs",
                    "ipr_type": ipr_type, "brand": "(brand withheld)"}  # fmt: skip
        else:
            category, hs, unit, text = rng.choice(_OTHER_LINES)
            line = {"category": category, "hs_code": hs, "description": text, "unit": unit}
        if rng.random() < 0.5:
            line["value"] = rng.randrange(100, 250_000)
            line["currency"] = rng.choice(["EUR", "EUR", "USD", "GBP", "CNY", "INR", "ZAR"])
        return line

    def _seizure_body(self, case: _Case, *, ecommerce: bool | None = None) -> dict[str, Any]:
        rng = self.rng
        ecom = case.ecommerce if ecommerce is None else ecommerce
        country = case.member.upper()
        if ecom:
            postal = rng.random() < 0.6
            place = ("postal_centre", 5, "postal") if postal else (
                "express_courier_centre", 4, "express_courier")
        else:
            place = rng.choice(_CARGO_PLACES)
        origin = _pick(rng, _ORIGINS)
        if origin == country:
            origin = "CN" if country != "CN" else "IN"
        route: dict[str, Any] = {"origin": origin, "destination": country}
        if rng.random() < 0.15:
            route["destination"] = rng.choice(self.members).upper()
        if rng.random() < 0.3:
            route["departure"] = rng.choice(_HUBS)
        if rng.random() < 0.1:
            route["transit"] = [rng.choice(_HUBS)]
        body: dict[str, Any] = {
            "schema": 1,
            "handling": rng.choices(["H0", "H1", "H2"], [70, 20, 10])[0],
            "date": _date(case.day),
            "country": country,
            "location_type": place[0],
            "transport_mode": place[1],
            "conveyance": place[2],
            "detection": _pick(rng, _DETECTION),
            "goods": [dict(line) for line in case.lines],
            "route": route,
            "ecommerce": ecom,
            "status": rng.choices(["seized", "detained"], [85, 15])[0],
        }
        if ecom:
            body["platform"] = rng.choice(_PLATFORMS)
            body["consignment"] = "postal" if place[0] == "postal_centre" else "express"
            body["small_consignment"] = rng.random() < 0.9
        if rng.random() < 0.4:
            body["concealment"] = {"code": rng.choice(
                ["misdeclared", "mixed_with_legitimate_goods", "parcel", "hidden_compartment"])}
        if rng.random() < 0.3:
            body["evaluation"] = rng.choice(["A1", "A2", "B2", "B3"])
        return body

    # --- the whole operation ----------------------------------------------------------------
    def plan(self) -> Operation:
        rng, truth = self.rng, self.truth
        cases = self.plan_cases()
        warnings = self.plan_warnings()
        for case in cases:
            case.body = self._seizure_body(case)
        amended = rng.sample(cases, _scaled(27, self.n_cases))
        duplicated = rng.sample(cases, _scaled(9, self.n_cases))
        photographed = {id(c) for c in rng.sample(cases, max(1, _scaled(22, self.n_cases)))}
        for case in cases:
            links: tuple[str, ...] = ()
            earlier = [w for w in warnings if w[1] < case.day]
            if earlier and rng.random() < 0.08:
                links = (rng.choice(earlier)[0],)
                case.body["links"] = list(links)
            photos: tuple[bytes, ...] = ()
            if id(case) in photographed:
                photo = photo_png(rng.randrange(2**32))
                photos = (photo,)
                case.body["attachments"] = [{"sha256": digest(photo), "size": len(photo),
                                             "media": "image/png", "caption": "goods as found"}]
                truth.attachments += 1
            original = case.body
            if any(case is c for c in amended):
                original = self._wrong_version(case.body)
            case.alert_id = self._add(case.member, "seizure", "S", original, case.day,
                                      deps=links, photos=photos)
        for case in amended:  # the amendment carries the true record, a day or two later
            day = min(DAYS - 1, case.day + rng.choice([0, 1, 2]))
            body = {"schema": 1, "handling": "H0", "ref": case.alert_id, "of": "seizure",
                    "reason": "figures corrected after recount", "record": case.body}
            self._add(case.member, "amendment", "A", body, day, deps=(case.alert_id,),
                      order=1.5)  # fmt: skip
            truth.amendments += 1
        for case in duplicated:  # sent twice by mistake, then withdrawn
            dup_id = self._add(case.member, "seizure", "S", dict(case.body), case.day,
                               deps=(case.alert_id,), order=1.3)
            body = {"schema": 1, "handling": "H0", "ref": dup_id,
                    "reason": f"duplicate of {case.alert_id}"}
            self._add(case.member, "withdrawal", "X", body, case.day, deps=(dup_id,), order=1.6)
            truth.withdrawals += 1
        self.plan_feedback(warnings, cases)
        self.plan_notices()
        self._tally(cases)
        self.events.sort(key=lambda e: (e[0], e[1]))
        alerts = [
            PlannedAlert(seq=i, member=a.member, principal=a.principal, kind=a.kind,
                         alert_id=a.alert_id, body=a.body, day=a.day, deps=a.deps,
                         photos=a.photos)
            for i, (_, _, a) in enumerate(self.events)
        ]  # fmt: skip
        return Operation(
            channel="stop-iii", title="Operation STOP III (replay, 4-15 Dec 2023)",
            members=self.members, coordinator=self.coordinator, alerts=alerts, truth=truth,
            seed=self.seed,
        )  # fmt: skip

    def _wrong_version(self, body: dict[str, Any]) -> dict[str, Any]:
        wrong = dict(body, goods=[dict(line) for line in body["goods"]])
        first = wrong["goods"][0]
        slip = first["quantity"] * 10 if isinstance(first["quantity"], int) else 1
        first["quantity"] = slip  # a decimal slip, corrected by the amendment
        wrong["detection"] = "routine_control" if body["detection"] != "routine_control" else (
            "random_check")
        if not body["ecommerce"]:
            return wrong
        wrong["ecommerce"] = False  # e-commerce link only established later
        for name in ("platform", "consignment", "small_consignment"):
            wrong.pop(name, None)
        return wrong

    def plan_warnings(self) -> list[tuple[str, int, str]]:
        rng = self.rng
        out = []
        for _ in range(_scaled(40, self.n_cases) or 1):
            member = rng.choice(self.active)
            day = rng.randrange(0, DAYS - 1)
            category = rng.choices(["medicines", "medical_devices", "ipr", "ppe"],
                                   [60, 15, 20, 5])[0]  # fmt: skip
            origin = _pick(rng, _ORIGINS)
            body = {
                "schema": 1,
                "handling": "H1",
                "summary": f"Consignments of {codes.CATEGORIES[category]} from "
                f"{codes.COUNTRIES[origin]} routed through small parcels; profile attached.",
                "category": category,
                "indicators": rng.sample(["declared as food supplements", "declared value "
                                          "under 22 EUR", "consignor address reused",
                                          "new consignee in the last 30 days",
                                          "route via transhipment hub"], 2),
                "transport_mode": rng.choice([4, 5]),
                "route": {"origin": origin, "transit": [rng.choice(_HUBS)]},
                "ecommerce": True,
                "valid_until": _date(DAYS - 1),
                "evaluation": rng.choice(["B2", "B3", "C3", "A2"]),
            }
            aid = self._add(member, "warning", "W", body, day)
            out.append((aid, day, member))
        return out

    def plan_feedback(self, warnings: list[tuple[str, int, str]], cases: list[_Case]) -> None:
        rng = self.rng
        for aid, day, sender in warnings:
            others = [m for m in self.active if m != sender]
            for member in rng.sample(others, min(len(others), rng.randint(1, 4))):
                outcome = _pick(rng, _FEEDBACK)
                fday = min(DAYS - 1, day + rng.choice([0, 1, 1, 2, 3]))
                body: dict[str, Any] = {"schema": 1, "handling": "H1", "ref": aid,
                                        "outcome": outcome}  # fmt: skip
                deps: tuple[str, ...] = (aid,)
                own = [c for c in cases if c.member == member and c.day < fday]
                if outcome == "seized" and own:
                    link = rng.choice(own).alert_id
                    body["links"] = [link]
                    body["remarks"] = f"seizure reported as {link}"
                    deps = (aid, link)
                self._add(member, "feedback", "F", body, fday, deps=deps, order=1.2)
                self.truth.feedback[outcome] += 1

    def plan_notices(self) -> None:
        member = self.members[0]
        for day in range(DAYS):
            body = {"schema": 1, "handling": "H0", "title": f"Day {day + 1} briefing",
                    "text": f"Operation day {day + 1} of {DAYS} ({_date(day)}). Report seizures "
                    "as they happen; file feedback on every warning you act on."}
            self._add(member, "notice", "N", body, day, principal=self.coordinator, order=-1.0)

    def _tally(self, cases: list[_Case]) -> None:
        truth = self.truth
        truth.cases = len(cases)
        truth.reporting = len({c.member for c in cases})
        for case in cases:
            body = case.body
            truth.ecommerce += body["ecommerce"]
            truth.timeline[body["date"]] += 1
            truth.detection[body["detection"]] += 1
            truth.transport[str(body["transport_mode"])] += 1
            truth.locations[body["location_type"]] += 1
            route = body["route"]
            truth.routes[f"{route['origin']}>{route['destination']}"] += 1
            for line in case.lines:
                if line["unit"] in codes.COUNTABLE_UNITS:
                    truth.items += line["quantity"]
                    truth.items_by_category[line["category"]] += line["quantity"]
                else:
                    truth.kg_by_category[line["category"]] += line["quantity"]


def generate(*, cases: int = FULL_CASES, members: int = FULL_MEMBERS, seed: int = 3) -> Operation:
    """Plan an operation; the same arguments always give the same plan."""
    return _Planner(cases, members, seed).plan()
