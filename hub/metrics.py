"""Prometheus metrics of one hub process (``/metrics`` on the ops listener, hub.http).

Every figure is this process's own: with ``cordon serve --workers N`` each worker
serves its own ``/metrics`` on its own port (``http_listen`` port + worker index),
and Prometheus scrapes them all (sum over the ``instance`` label). README
"Operations" lists every metric.

Cheap on the hot path. What happens per alert (acks, deliveries, signature checks) is
counted in plain integers and small bucket arrays, exported by a collector when
Prometheus scrapes; prometheus-client's own Counter costs ~0.27 µs an increment and a
labelled one ~1.5 µs (label lookup), its Histogram ~1 µs an observation (measured
with timeit on this machine), against ~0.05 µs for an integer increment. Rarer events
(refusals, closes, TLS refusals, revocations) use prometheus-client's labelled
Counters. Gauges (connections, send queues, channel heads and subscribers) are read
from the hub's own state at scrape time, never kept up to date on the hot path.

Label cardinality is bounded: error and close codes are mapped onto the documented
tables (anything else is ``other``), TLS refusal reasons onto :data:`TLS_REASONS`,
principal kinds onto :data:`KINDS`, store operations onto :data:`STORE_OPS`; channel
labels come from the registry (channels an administrator created), at most
:data:`MAX_CHANNEL_SERIES` of them. No alert id, principal, peer or free text is a label.
"""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

from prometheus_client import (
    GC_COLLECTOR,
    PLATFORM_COLLECTOR,
    PROCESS_COLLECTOR,
    CollectorRegistry,
    Counter,
)
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from hub.protocol.errors import CloseCode

__all__ = [
    "BATCH_BUCKETS",
    "KINDS",
    "MAX_CHANNEL_SERIES",
    "SECONDS_BUCKETS",
    "SIGNATURE_BUCKETS",
    "STORE_OPS",
    "TLS_REASONS",
    "FastHistogram",
    "Metrics",
    "close_label",
    "error_label",
    "tls_reason",
]

#: Principal kinds as connection labels (``unknown``: registered from a certificate
#: without a recorded kind).
KINDS = ("admin", "officer", "system", "unknown")
#: Store operations timed (``cordon_store_seconds``) and counted when they fail.
STORE_OPS = ("append_batch", "authenticate", "feed_read", "probe")
#: TLS refusal reasons (from OpenSSL's verify message / reason, mapped by :func:`tls_reason`).
TLS_REASONS = ("revoked", "expired", "not_yet_valid", "unknown_ca", "no_certificate",
               "bad_certificate", "protocol", "other")
#: Most channels exported with per-channel series (the registry bounds them anyway).
MAX_CHANNEL_SERIES = 1000
#: Group-commit batch sizes (alerts; MAX_BATCH is 512).
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
#: Store round trips and commits (seconds): fsync ~0.2 ms on these machines, the store
#: deadline 10 s.
SECONDS_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0, 10.0)
#: One Ed25519 check: ~39 µs with libsodium.
SIGNATURE_BUCKETS = (0.00002, 0.00003, 0.00004, 0.00005, 0.000075, 0.0001, 0.00025,
                     0.0005, 0.001, 0.01)

_CLOSE_CODES = frozenset({1000, 1001, 1002, 1008, 1009, 1011} | {int(c) for c in CloseCode})
#: Close codes of connections refused after the TLS handshake (hub.server).
_REFUSAL_CLOSE_CODES = (1011, 4010, 4011, 4013, 4029)
_ERROR_CODES = frozenset({400, 401, 403, 404, 405, 407, 409, 412, 413, 422, 424, 425, 429,
                          500, 503})


def close_label(code: int | None) -> str:
    """A close code as a label: the documented codes as themselves, others ``other``
    (a peer may close with any code 1000-4999), ``none`` when no close frame came."""
    if code is None:
        return "none"
    return str(code) if code in _CLOSE_CODES else "other"


def error_label(code: int) -> str:
    """An ``err`` code as a label: the codes of PROTOCOL.md §8, others ``other``."""
    return str(code) if code in _ERROR_CODES else "other"


def tls_reason(text: str) -> str:
    """OpenSSL's refusal text (verify message or reason) as one of :data:`TLS_REASONS`."""
    t = text.lower()
    if "revoked" in t:
        return "revoked"
    if "expired" in t:
        return "expired"
    if "not yet valid" in t:
        return "not_yet_valid"
    if "issuer" in t or "self-signed" in t or "self signed" in t or "unknown ca" in t:
        return "unknown_ca"
    if "peer did not return a certificate" in t or "no certificate" in t:
        return "no_certificate"
    if "certificate" in t or "purpose" in t or "signature" in t:
        return "bad_certificate"
    if "version" in t or "protocol" in t or "cipher" in t or "wrong" in t or "http" in t:
        return "protocol"
    return "other"


class FastHistogram:
    """A histogram for hot paths: a bucket array and a sum, no labels. ``observe`` from
    the event loop; ``observe_many`` from other threads (one lock per call)."""

    __slots__ = ("_lock", "bounds", "count", "counts", "sum")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = tuple(float(b) for b in bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # the last: above every bound (+Inf)
        self.sum = 0.0
        self.count = 0
        self._lock = threading.Lock()

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sum += value
        self.count += 1

    def observe_many(self, values: Iterable[float]) -> None:
        values = values if isinstance(values, list | tuple) else list(values)
        bounds, counts, where = self.bounds, self.counts, bisect.bisect_left
        with self._lock:
            for value in values:
                counts[where(bounds, value)] += 1
            self.sum += sum(values)
            self.count += len(values)

    def snapshot(self) -> tuple[list[tuple[str, float]], float]:
        """Cumulative buckets (``le`` -> count, +Inf last) and the sum."""
        with self._lock:
            counts, total = list(self.counts), self.sum
        cumulative, buckets = 0, []
        for bound, n in zip((*(repr(b) for b in self.bounds), "+Inf"), counts, strict=True):
            cumulative += n
            buckets.append((bound, float(cumulative)))
        return buckets, total

    def family(self, name: str, doc: str) -> HistogramMetricFamily:
        buckets, total = self.snapshot()
        return HistogramMetricFamily(name, doc, buckets=buckets, sum_value=total)


class _SessionView(Protocol):
    kind: str
    subs: dict[str, Any]

    @property
    def outbox(self) -> Any: ...


class MetricsHost(Protocol):
    """What the scrape-time collector reads of a hub process (:class:`hub.server.Hub`)."""

    sessions: dict[str, set[Any]]
    store_restarts: int

    @property
    def ready(self) -> bool: ...


class Metrics:
    """One hub process's metrics. Hooks write plain attributes (``acked += 1``) or
    labelled counters; :meth:`bind` attaches the hub whose state gauges read at scrape
    time. ``registry`` is what ``/metrics`` renders."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # --- hot: plain integers and bucket arrays, exported by _Collector ---------------
        self.acked = 0
        self.duplicates = 0
        self.delivered_live = 0
        self.delivered_history = 0
        self.commit_batch = FastHistogram(BATCH_BUCKETS)
        self.commit_seconds = FastHistogram(SECONDS_BUCKETS)
        self.signature_seconds = FastHistogram(SIGNATURE_BUCKETS)
        self.store_seconds = {op: FastHistogram(SECONDS_BUCKETS) for op in STORE_OPS}
        # --- rarer: labelled counters ---------------------------------------------------
        self.refused = Counter("cordon_publishes_refused", "Publishes refused, by err code",
                               ["code"], registry=r)
        self.connections_opened = Counter(
            "cordon_connections_opened", "Connections authenticated, by principal kind",
            ["kind"], registry=r)
        self.connections_refused = Counter(
            "cordon_connections_refused",
            "Connections refused after the TLS handshake, by close code", ["code"], registry=r)
        self.connections_closed = Counter(
            "cordon_connections_closed", "Sessions ended, by close code", ["code"], registry=r)
        self.slow_consumer_closes = Counter(
            "cordon_slow_consumer_closes", "Connections closed as slow consumers (4008)",
            registry=r)
        self.tls_refusals = Counter("cordon_tls_refusals", "TLS handshakes refused, by reason",
                                    ["reason"], registry=r)
        self.revocations = Counter(
            "cordon_revocations", "Certificate revocations applied by this process", registry=r)
        self.store_errors = Counter("cordon_store_errors", "Store operations that failed",
                                    ["op"], registry=r)
        for kind in KINDS:  # every series present from the start (rate() needs a zero)
            self.connections_opened.labels(kind)
        for reason in TLS_REASONS:
            self.tls_refusals.labels(reason)
        for op in STORE_OPS:
            self.store_errors.labels(op)
        for code in _REFUSAL_CLOSE_CODES:
            self.connections_refused.labels(str(code))
        for label in (*sorted(str(c) for c in _CLOSE_CODES), "none", "other"):
            self.connections_closed.labels(label)
        self._refused = {code: self.refused.labels(str(code)) for code in _ERROR_CODES}
        self._refused_other = self.refused.labels("other")
        self._host: MetricsHost | None = None
        #: channel -> head (durable watermark), refreshed from the store (hub.health).
        self.channel_heads: dict[str, int] = {}
        self.info: dict[str, str] = {}
        r.register(_Collector(self))
        # The process's own: memory, CPU, open files (process_*), GC, Python version.
        for standard in (PROCESS_COLLECTOR, PLATFORM_COLLECTOR, GC_COLLECTOR):
            r.register(standard)

    def bind(self, host: MetricsHost) -> None:
        self._host = host

    # --- hooks -----------------------------------------------------------------------
    def publish_refused(self, code: int) -> None:
        self._refused.get(code, self._refused_other).inc()

    def store_failed(self, op: str) -> None:
        self.store_errors.labels(op).inc()

    # --- what the collector reads ---------------------------------------------------------
    def connections_by_kind(self) -> dict[str, int]:
        counts = dict.fromkeys(KINDS, 0)
        for session in self._sessions():
            kind = session.kind if session.kind in counts else "unknown"
            counts[kind] += 1
        return counts

    def _sessions(self) -> Iterator[_SessionView]:
        host = self._host
        if host is None:
            return
        for group in list(host.sessions.values()):
            yield from list(group)

    def subscribers_by_channel(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for session in self._sessions():
            for ch in session.subs:
                counts[ch] = counts.get(ch, 0) + 1
        return counts

    def send_queues(self) -> tuple[int, int, int]:
        """(frames queued in all, most frames queued on one connection, bytes queued)."""
        frames = biggest = size = 0
        for session in self._sessions():
            n = session.outbox.qsize()
            frames += n
            biggest = max(biggest, n)
            size += session.outbox.queued_bytes
        return frames, biggest, size

    def counters(self) -> dict[str, float]:
        """The figures ``cordon admin status`` shows, read from the same sources as the
        scrape."""
        out: dict[str, float] = {"publishes_acked": self.acked,
                                 "publishes_duplicate": self.duplicates,
                                 "deliveries_live": self.delivered_live,
                                 "deliveries_history": self.delivered_history,
                                 "slow_consumer_closes": _value(self.slow_consumer_closes),
                                 "revocations": _value(self.revocations)}
        return out

    def labelled(self, counter: Counter) -> dict[str, int]:
        """A labelled counter's non-zero series, label value -> count."""
        out: dict[str, int] = {}
        for metric in counter.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total") and sample.value:
                    out[next(iter(sample.labels.values()))] = int(sample.value)
        return out


def _value(counter: Counter) -> float:
    for metric in counter.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                return float(sample.value)
    return 0.0


class _Collector(Collector):
    def __init__(self, metrics: Metrics) -> None:
        self.m = metrics

    def describe(self) -> list[Metric]:
        return []  # collected at scrape time only (names vary with the channels)

    def collect(self) -> Iterator[Metric]:
        m = self.m
        yield CounterMetricFamily("cordon_publishes_acked", "Publishes acknowledged (durable)",
                                  value=m.acked)
        yield CounterMetricFamily("cordon_publishes_duplicate",
                                  "Publishes acknowledged as duplicates (dup)",
                                  value=m.duplicates)
        deliveries = CounterMetricFamily(
            "cordon_deliveries", "Alerts handed to subscribers' send queues", labels=["path"])
        deliveries.add_metric(["live"], m.delivered_live)
        deliveries.add_metric(["history"], m.delivered_history)
        yield deliveries
        yield m.commit_batch.family("cordon_commit_batch_size",
                                    "Alerts per group commit (one store round trip)")
        yield m.commit_seconds.family(
            "cordon_commit_fsync_wait_seconds",
            "Group commit: the batch's writes and its fsync wait (WAITAOF), one round trip")
        yield m.signature_seconds.family("cordon_signature_check_seconds",
                                         "One Ed25519 signature check")
        store = HistogramMetricFamily("cordon_store_seconds", "Store round trips, by operation",
                                      labels=["op"])
        for op, hist in m.store_seconds.items():
            buckets, total = hist.snapshot()
            store.add_metric([op], buckets, total)
        yield store
        host = m._host
        if host is None:
            return
        conns = GaugeMetricFamily("cordon_connections", "Open sessions, by principal kind",
                                  labels=["kind"])
        for kind, n in m.connections_by_kind().items():
            conns.add_metric([kind], n)
        yield conns
        frames, biggest, size = m.send_queues()
        yield GaugeMetricFamily("cordon_send_queue_frames",
                                "Frames waiting in every connection's send queue", value=frames)
        yield GaugeMetricFamily("cordon_send_queue_frames_max",
                                "Frames waiting in the fullest send queue", value=biggest)
        yield GaugeMetricFamily("cordon_send_queue_bytes",
                                "Bytes waiting in every connection's send queue", value=size)
        heads = GaugeMetricFamily("cordon_channel_head",
                                  "Channel's last durable offset (durable watermark)",
                                  labels=["channel"])
        subs = GaugeMetricFamily("cordon_channel_subscribers",
                                 "Subscriptions to the channel on this process",
                                 labels=["channel"])
        counts = m.subscribers_by_channel()
        names = sorted(set(m.channel_heads) | set(counts))[:MAX_CHANNEL_SERIES]
        for ch in names:
            heads.add_metric([ch], m.channel_heads.get(ch, 0))
            subs.add_metric([ch], counts.get(ch, 0))
        yield heads
        yield subs
        yield GaugeMetricFamily("cordon_ready", "1 when the hub is ready (/readyz)",
                                value=1 if host.ready else 0)
        yield CounterMetricFamily("cordon_store_restarts",
                                  "Times the store came back after a loss",
                                  value=host.store_restarts)
        if m.info:
            info = GaugeMetricFamily("cordon_info", "This hub process (value 1)",
                                     labels=sorted(m.info))
            info.add_metric([m.info[k] for k in sorted(m.info)], 1)
            yield info
