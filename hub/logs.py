"""The hub's logs: one event per line, as JSON for machines or text for people, with a
level per component.

Fields (JSON; text shows the same ones as ``key=value`` after the message): ``time``
(UTC, ISO 8601 with milliseconds), ``level``, ``logger`` (the component:
``cordon.session``, ``cordon.hub``, ``cordon.storage`` ...), ``event`` (a fixed dotted
name, e.g. ``connection.closed``; ``log`` for lines that have none), ``msg`` (the
message), and, where they apply, :data:`FIELDS`: ``peer``, ``principal``, ``member``,
``channel``, ``code``, ``reason``, ``kind``, ``node``, ``worker``. Hooks pass them with
``log.info(..., extra={"event": ..., "peer": ...})``. No alert body is ever logged: no
hook passes one, and the formatters only take the fields listed here (other ``extra``
keys are dropped). An exception's traceback goes in ``exc``.

Levels: ``log_level`` (``--log-level``) is a comma-separated list of ``LEVEL`` (the
default for every component) and ``COMPONENT=LEVEL`` items, e.g.
``info,cordon.session=debug,cordon.storage=warning``.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

__all__ = ["FIELDS", "LOG_FORMATS", "JsonFormatter", "TextFormatter", "parse_levels",
           "setup_logging"]

LOG_FORMATS = ("text", "json")
#: Structured fields a log line may carry (besides time, level, logger, event, msg).
FIELDS = ("peer", "principal", "member", "channel", "code", "reason", "kind", "node",
          "worker")
_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
           "error": logging.ERROR, "critical": logging.CRITICAL}


def parse_levels(spec: str) -> tuple[int, dict[str, int]]:
    """``"info,cordon.session=debug"`` -> (root level, component -> level).
    ValueError naming what is wrong."""
    root = logging.INFO
    components: dict[str, int] = {}
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        name, sep, level = item.rpartition("=")
        level = level.strip().lower()
        if level not in _LEVELS:
            raise ValueError(f"unknown log level {level!r} (one of {', '.join(_LEVELS)})")
        if not sep:
            root = _LEVELS[level]
            continue
        name = name.strip()
        if not name or not all(p.isidentifier() for p in name.split(".")):
            raise ValueError(f"bad component name {name!r} (e.g. cordon.session)")
        components[name] = _LEVELS[level]
    return root, components


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in FIELDS:
        value = getattr(record, key, None)
        if value is not None:
            out[key] = value if isinstance(value, int | float | bool) else str(value)
    return out


def _time(record: logging.LogRecord) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{stamp}.{int(record.msecs):03d}Z"


def _kv(value: Any) -> str:
    """A field's value for text lines: quoted (JSON) when it has spaces or is empty."""
    if isinstance(value, str) and (not value or " " in value or '"' in value):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def __init__(self, *, worker: int | None = None) -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {"time": _time(record), "level": record.levelname.lower(),
                               "logger": record.name,
                               "event": str(getattr(record, "event", None) or "log"),
                               "msg": record.getMessage()}
        doc.update(_fields(record))
        if self.worker is not None and "worker" not in doc:
            doc["worker"] = self.worker
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return json.dumps(doc, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``time level logger[wN]: message event=... peer=... code=...`` on one line."""

    def __init__(self, *, worker: int | None = None) -> None:
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        name = record.name if self.worker is None else f"{record.name}[w{self.worker}]"
        line = f"{_time(record)} {record.levelname} {name}: {record.getMessage()}"
        extra = _fields(record)
        event = getattr(record, "event", None)
        if event:
            extra = {"event": event, **extra}
        if extra:
            line += " " + " ".join(f"{k}={_kv(v)}" for k, v in extra.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line.replace("\n", "\n  ") if record.exc_info else line


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler :func:`setup_logging` installs (so a second call replaces it)."""


def setup_logging(fmt: str = "text", levels: str = "info", *, worker: int | None = None,
                  stream: TextIO | None = None, force: bool = False) -> None:
    """Configure the root logger: one handler on ``stream`` (stderr), the format, the
    levels. Like :func:`logging.basicConfig`, it leaves alone a process whose root logger
    already has handlers of someone else's (a test runner's, an embedding
    application's) unless ``force``; its own handler from an earlier call is replaced."""
    if fmt not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    root_level, components = parse_levels(levels)
    root = logging.getLogger()
    foreign = [h for h in root.handlers if not isinstance(h, _Handler)]
    if foreign and not force:
        return
    handler = _Handler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(worker=worker) if fmt == "json"
                         else TextFormatter(worker=worker))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(root_level)
    for name, level in components.items():
        logging.getLogger(name).setLevel(level)
