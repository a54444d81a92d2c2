"""The durable watermarks a hub process has seen, persisted in its data folder.

``data_dir/watermarks.json`` maps each channel to ``[epoch, watermark]``: the
highest offset this hub saw durable under that epoch. At start the hub passes it
to :meth:`hub.storage.Store.connect` (``remembered``), so a store that lost
alerts while the hub was down is noticed too. Written every
:data:`WATERMARKS_SAVE_S` seconds when it changed, and at stop; merged with what
the file holds (highest watermark per epoch), so ``--workers`` sharing one data
folder pool what they saw. The limit: what was seen after the last save (at most
that many seconds) is not in the file when the hub is killed.
(No redis here: plain JSON, atomically replaced.)
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from pathlib import Path

from certs.files import write_atomic

__all__ = ["WATERMARKS_FILE", "WATERMARKS_SAVE_S", "load_watermarks", "save_watermarks"]

log = logging.getLogger("cordon.store")

WATERMARKS_FILE = "watermarks.json"
#: Seconds between saves of the watermarks seen (when they changed).
WATERMARKS_SAVE_S = 1.0


def load_watermarks(path: Path) -> dict[str, tuple[str, int]]:
    """The file's watermarks ({} when missing). A file that cannot be read or is not
    what this module writes is left as it is and logged (a warning naming the file and
    the entries passed over): loss that happened while the hub was down then goes
    unnoticed for those channels, which the operator must know."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("%s unreadable (%s): a store that lost alerts while this hub was down "
                    "will not be noticed", path, exc)
        return {}
    out: dict[str, tuple[str, int]] = {}
    if not isinstance(raw, dict):
        log.warning("%s is not a map of channel -> [epoch, watermark]; ignored", path)
        return out
    for name, value in raw.items():
        if (isinstance(name, str) and isinstance(value, list) and len(value) == 2
                and isinstance(value[0], str) and isinstance(value[1], int)):
            out[name] = (value[0], value[1])
        else:
            log.warning("%s: entry %r is not [epoch, watermark]; ignored", path, name)
    return out


def save_watermarks(path: Path, seen: Mapping[str, tuple[str, int]]) -> None:
    """Merge ``seen`` into the file (same epoch: the higher watermark; else ``seen``'s)."""
    merged = load_watermarks(path)
    for name, (epoch, mark) in seen.items():
        old = merged.get(name)
        if old is None or old[0] != epoch or old[1] < mark:
            merged[name] = (epoch, mark)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps({k: [e, m] for k, (e, m) in sorted(merged.items())}
                                      ).encode(), mode=0o644)
