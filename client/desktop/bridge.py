"""The one object between the SDK and the interface (DESIGN.md, convention 9).

:class:`HubBridge` owns the :class:`client.sdk.Client` and the local
:class:`~client.desktop.cache.Cache`. It follows every channel of the
officer (one task each), stores what arrives, and turns it into Qt signals
carrying plain rows (:mod:`client.desktop.rows`). Widgets call its methods
(``publish``, ``load_older``, ``mark_read``) and never see the network or the
store. It runs on whatever asyncio loop is running: qasync's in the app, the
test's in tests.

Resume: each channel's cursor (epoch, last stored offset) is saved with the
alerts in one transaction; a subscription starts from it, and the SDK resumes
by itself across short losses. When the SDK gives up (hub down for longer),
the bridge waits and subscribes again from the cursor: no gap, no duplicate.
A changed epoch (412) empties the channel's cache and starts over; history
trimmed past the cursor (410) is announced, never skipped silently.

Signed log: after each catch-up and every :data:`CHECKPOINT_REFRESH_S`, the bridge
fetches the channel's hub-signed checkpoint (the SDK verifies it and checks it against
the last one it verified: :class:`~client.sdk.LogInconsistent` is equivocation), then
compares the officer's own cached copy with it — the Merkle root of the cached alerts
when the cache holds the whole log, else a consistency proof from the cached prefix —
and emits ``checkpointChanged`` with a plain
:class:`~client.desktop.integrity.CheckpointRow`.

Whole history: the officer's figures must be the operation's, so every cached
alert is loaded at start, and each channel's older history is fetched in the
background, page by page, until the cache reaches the hub's first retained
alert (``coverageChanged`` tells the progress; :meth:`HubBridge.coverage`
says how far it got).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Coroutine, Iterable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from PySide6.QtCore import QObject, Signal

from client.desktop.cache import Cache, StoredItem
from client.desktop.integrity import CheckpointRow
from client.desktop.rows import AlertRow, ChannelRow, row_from_received
from client.desktop.verify import LocalVerifier
from client.sdk import (
    CheckpointError,
    Client,
    ClientError,
    LogInconsistent,
    Received,
    SessionRefused,
    SignedCheckpoint,
    Subscription,
    check_chains,
)
from hub.protocol.errors import CordonError, EpochMismatch, HistoryGone, NoSuchChannel
from hub.protocol.evidence import verify_bundle
from hub.protocol.merkle import leaf_hash, root, verify_consistency

__all__ = ["CHECKPOINT_REFRESH_S", "LIVE_RECHECK_S", "PAGE", "HubBridge"]

log = logging.getLogger("cordon.desk")

PAGE = 200  # alerts per page (cache or hub)
_BATCH = 200  # alerts stored and signalled together during catch-up
_WATCH_S = 0.25
_RETRY_S = (0.5, 1.0, 2.0, 5.0, 10.0)
#: How often each followed channel's signed checkpoint is fetched and checked again.
CHECKPOINT_REFRESH_S = 30.0
#: After live alerts arrive, the channel's checkpoint is checked again this soon (the
#: hub signs every second): the signed log shown keeps up with the feed.
LIVE_RECHECK_S = 5.0

OFFLINE, CONNECTING, ONLINE, RECONNECTING, REFUSED = (
    "offline",
    "connecting",
    "online",
    "reconnecting",
    "refused",
)


class HubBridge(QObject):
    """Signals carry plain data; see the module docstring."""

    #: state (offline/connecting/online/reconnecting/refused), detail text
    statusChanged = Signal(str, str)
    #: list[ChannelRow]
    channelsChanged = Signal(object)
    #: channel, list[AlertRow] (ascending, newer than anything shown), live
    alertsAdded = Signal(str, object, bool)
    #: channel, list[AlertRow] (ascending, older than anything shown), more
    olderLoaded = Signal(str, object, bool)
    #: token, offset, dup
    published = Signal(int, int, bool)
    #: token, message
    publishFailed = Signal(int, str)
    #: a message for the officer (history gap, channel re-created, ...)
    notice = Signal(str)
    #: channel, sha256, media type, bytes (empty when unavailable)
    attachmentLoaded = Signal(str, str, str, bytes)
    #: channel: its cached share of the history changed (see :meth:`coverage`)
    coverageChanged = Signal(str)
    #: channel, CheckpointRow: its signed log as last checked (see :meth:`check_log`)
    checkpointChanged = Signal(str, object)
    #: token, the file written ("" when nothing was), a message for the officer
    evidenceExported = Signal(int, str, str)

    def __init__(
        self,
        client: Client,
        cache: Cache,
        verifier: LocalVerifier,
        parent: QObject | None = None,
        *,
        page: int = PAGE,
    ) -> None:
        super().__init__(parent)
        self.page = page
        self.client = client
        self.cache = cache
        self.verifier = verifier
        self.principal = str(client.identity.principal)
        self.state = OFFLINE
        self.detail = ""
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._others: set[asyncio.Task[Any]] = set()
        self._oldest: dict[str, int] = {}
        self._more: dict[str, bool] = {}
        self._tokens = 0
        self._stopping = False
        self._backfills: dict[str, asyncio.Task[None]] = {}
        #: channel -> its signed log as last checked.
        self.checkpoints: dict[str, CheckpointRow] = {}
        self._checking: dict[str, asyncio.Future[CheckpointRow]] = {}
        #: channel -> loop time of its next check; the retry delay while unavailable.
        self._log_due: dict[str, float] = {}
        self._log_retry: dict[str, float] = {}
        #: channel -> (epoch, leaf hashes of the cached prefix 1..n), for the log check.
        self._leaves: dict[str, tuple[str, list[bytes]]] = {}

    # --- offline part: the cache ------------------------------------------------
    def load_cached(self) -> None:
        """Emit the cached channels and every cached alert (verified here, offline)."""
        self._emit_channels()
        for chan in self.cache.channels():
            count = self.cache.count(chan.channel)
            items = self.cache.newest(chan.channel, count) if count else []
            if items:
                self._oldest[chan.channel] = items[0][0]
                self.alertsAdded.emit(chan.channel, self._verify_cached(chan.channel, items), False)

    def _verify_cached(self, ch: str, items: list[StoredItem]) -> list[AlertRow]:
        return [row_from_received(r) for r in
                check_chains(self.verifier.check(ch, off, a, s) for off, a, s in items)]

    def channel_rows(self) -> list[ChannelRow]:
        return [
            ChannelRow(c.channel, c.title, c.role, c.state, c.head, self.cache.unread(c.channel))
            for c in self.cache.channels()
            if c.role or c.title
        ]

    def _emit_channels(self) -> None:
        self.channelsChanged.emit(self.channel_rows())

    def cached_items(self, channel: str) -> list[Received]:
        """Every cached alert of a channel, verified here, in offset order (for reports)."""
        count = self.cache.count(channel)
        items = self.cache.newest(channel, count) if count else []
        return check_chains(self.verifier.check(channel, off, a, s) for off, a, s in items)

    def mark_read(self, channel: str, offset: int) -> None:
        self.cache.mark_read(channel, offset)
        self._emit_channels()

    def coverage(self, channel: str) -> tuple[int, int, bool]:
        """``(alerts cached, channel head, complete)``: complete once the cache reaches back
        to the hub's first retained alert (all of them when nothing was trimmed)."""
        chan = self.cache.channel(channel)
        if chan is None:
            return 0, 0, False
        count = self.cache.count(channel)
        oldest = self.cache.oldest_offset(channel)
        complete = chan.complete or (oldest == 1 and count == chan.head) or (
            chan.cursor is not None and chan.head == 0)
        return count, max(chan.head, count), complete

    def has_more(self, channel: str) -> bool:
        chan = self.cache.channel(channel)
        oldest = self._oldest.get(channel)
        if chan is None or oldest is None:
            return False
        return self._more.get(channel, not (chan.complete and oldest <= 1))

    # --- lifecycle -----------------------------------------------------------------
    def start(self) -> None:
        """Connect and follow every channel (returns at once; work runs on the loop)."""
        self._stopping = False
        self._spawn(self._run())
        self._spawn(self._watch())
        self._spawn(self._recheck_logs())

    async def stop(self) -> None:
        self._stopping = True
        tasks = [*self._tasks.values(), *self._others]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        await self.client.close()
        self._set_status(OFFLINE, "")

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._others.add(task)
        task.add_done_callback(self._others.discard)
        return task

    def _set_status(self, state: str, detail: str) -> None:
        if (state, detail) != (self.state, self.detail):
            self.state, self.detail = state, detail
            self.statusChanged.emit(state, detail)

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            self._set_status(CONNECTING if attempt == 0 else RECONNECTING, self.client.url)
            try:
                await self.refresh_channels()
            except SessionRefused as exc:
                self._set_status(REFUSED, str(exc))
                return
            except (ClientError, CordonError, OSError) as exc:
                delay = _RETRY_S[min(attempt, len(_RETRY_S) - 1)]
                attempt += 1
                self._set_status(RECONNECTING, f"{exc}; retrying in {delay:g} s")
                await asyncio.sleep(delay)
                continue
            self._set_status(ONLINE, self.client.url)
            return

    async def refresh_channels(self) -> None:
        """Ask the hub for the officer's channels; follow the new ones."""
        chans = await self.client.channels()
        self.cache.save_channels((c.ch, c.title, c.role, c.state, c.head) for c in chans)
        for chan in chans:
            cached = self.cache.channel(chan.ch)
            if cached is not None and cached.epoch and cached.epoch != chan.epoch:
                self.cache.reset_channel(chan.ch)
                self._oldest.pop(chan.ch, None)
                self.notice.emit(f"{chan.ch}: the channel was re-created; cache emptied")
            if chan.ch not in self._tasks or self._tasks[chan.ch].done():
                self._tasks[chan.ch] = asyncio.ensure_future(self._follow(chan.ch))
        self._emit_channels()

    async def _watch(self) -> None:
        """Keep the connection status true: the SDK reconnects silently, we show it."""
        while not self._stopping:
            await asyncio.sleep(_WATCH_S)
            if self.state == ONLINE and not self.client.connected:
                self._set_status(RECONNECTING, self.client.url)
            elif self.state == RECONNECTING and self.client.connected and self._tasks:
                self._set_status(ONLINE, self.client.url)

    # --- following a channel ----------------------------------------------------------
    async def _follow(self, ch: str) -> None:
        attempt = 0
        while not self._stopping:
            try:
                await self._follow_once(ch)
                return
            except EpochMismatch:
                self.cache.reset_channel(ch)
                self._oldest.pop(ch, None)
                self.notice.emit(f"{ch}: the channel was re-created; cache emptied")
            except HistoryGone as exc:
                first = _first_offset(str(exc))
                chan = self.cache.channel(ch)
                epoch = chan.epoch if chan else None
                if first is None or epoch is None:
                    self.cache.reset_channel(ch)
                else:
                    self.cache.set_cursor(ch, epoch, first - 1)
                self.notice.emit(f"{ch}: alerts before offset {first} are no longer on the hub")
            except NoSuchChannel:
                self.notice.emit(f"{ch}: no longer available to you")
                return
            except SessionRefused as exc:
                self._set_status(REFUSED, str(exc))
                return
            except (ClientError, CordonError, OSError, TimeoutError) as exc:
                delay = _RETRY_S[min(attempt, len(_RETRY_S) - 1)]
                attempt += 1
                log.info("%s: %s; following again in %s s", ch, exc, delay)
                self._set_status(RECONNECTING, f"{exc}")
                await asyncio.sleep(delay)

    async def _follow_once(self, ch: str) -> None:
        chan = self.cache.channel(ch)
        since = chan.cursor if chan else None
        epoch = chan.epoch if chan else None
        if since is None:
            since, epoch = await self._first_page(ch)
        self._start_backfill(ch)
        pending: list[Received] = []

        def flush(sub: Subscription) -> None:
            if pending:
                self._store(ch, sub.epoch or "", pending, live=sub.synced)
                pending.clear()

        def synced(sub: Subscription) -> None:
            if pending:
                alerts = [p.alert for p in pending]
                self._spawn(self._remember_certs(alerts))
            flush(sub)
            if self.state != REFUSED:
                self._set_status(ONLINE, self.client.url)
            self._spawn(self.check_log(ch))

        async with self.client.subscribe(ch, since=since, epoch=epoch, on_synced=synced) as sub:
            async for item in sub:
                pending.append(item)
                if sub.synced or len(pending) >= _BATCH:
                    alerts = [p.alert for p in pending]
                    flush(sub)
                    await self._remember_certs(alerts)

    async def _first_page(self, ch: str) -> tuple[int, str]:
        """First time on a channel: show its newest page, then follow from there."""
        page = await self.client.history(ch, limit=self.page)
        items = page.items
        last = items[-1].offset if items else 0
        if not items:
            chan = self.cache.channel(ch)
            last = chan.head if chan else 0
            if last:  # alerts exist but none retained in the page: start at head
                self.cache.set_cursor(ch, page.epoch, last)
                return last, page.epoch
        self._store(ch, page.epoch, items, live=False, cursor=last)
        await self._remember_certs([r.alert for r in items])
        if not page.more:
            self.cache.set_complete(ch)
        self._more[ch] = page.more
        self.coverageChanged.emit(ch)
        return last, page.epoch

    def _store(
        self, ch: str, epoch: str, items: list[Received], *, live: bool, cursor: int | None = None
    ) -> None:
        stored = [(r.offset, r.alert, r.sig) for r in items]
        end = cursor if cursor is not None else (stored[-1][0] if stored else None)
        self.cache.add_alerts(ch, epoch, stored, cursor=end)
        if not items:
            return
        if ch not in self._oldest:
            self._oldest[ch] = items[0].offset
        self.alertsAdded.emit(ch, [row_from_received(r) for r in items], live)
        self._emit_channels()
        if live:  # check the signed log again soon (it grows with the feed)
            soon = asyncio.get_running_loop().time() + LIVE_RECHECK_S
            self._log_due[ch] = min(self._log_due.get(ch, soon), soon)

    # --- whole history, in the background ------------------------------------------------
    def _start_backfill(self, ch: str) -> None:
        running = self._backfills.get(ch)
        if (running is None or running.done()) and not self.coverage(ch)[2]:
            self._backfills[ch] = self._spawn(self._backfill(ch))

    async def _backfill(self, ch: str) -> None:
        """Fetch older pages until the cache holds the channel's whole retained history."""
        while not self._stopping:
            chan = self.cache.channel(ch)
            oldest = self.cache.oldest_offset(ch)
            if chan is None or chan.epoch is None:
                return
            if oldest is None or oldest <= 1:
                self.cache.set_complete(ch)
                self.coverageChanged.emit(ch)
                return
            try:
                page = await self.client.history(ch, before=oldest, limit=self.page)
            except (ClientError, CordonError, OSError) as exc:
                log.info("%s: history not fetched yet: %s", ch, exc)
                return  # resumed when the channel is followed again
            if page.epoch != chan.epoch:
                return  # re-created meanwhile; the follower resets the channel
            self.cache.add_alerts(ch, page.epoch, [(r.offset, r.alert, r.sig)
                                                   for r in page.items])
            await self._remember_certs([r.alert for r in page.items])
            if page.items:
                self._oldest[ch] = min(self._oldest.get(ch, oldest), page.items[0].offset)
                self.olderLoaded.emit(ch, [row_from_received(r) for r in page.items],
                                      page.more)
            if not page.more or not page.items:
                self.cache.set_complete(ch)
                self._more[ch] = False
            self.coverageChanged.emit(ch)
            if not page.more or not page.items:
                return

    async def _remember_certs(self, alerts: Iterable[bytes]) -> None:
        """Keep signer certificates in the cache so history verifies offline."""
        kids = self.verifier.missing(list(alerts))
        if kids:
            try:
                certs = await self.client.directory(kids)
            except (ClientError, CordonError, OSError) as exc:  # best effort: retried later
                log.info("cannot fetch signer certificates: %s", exc)
                return
            self.verifier.add(certs)
            self.cache.add_certs(certs)

    # --- the signed log (PROTOCOL.md Appendix C) --------------------------------------
    async def _recheck_logs(self) -> None:
        """Every channel again after :data:`CHECKPOINT_REFRESH_S`, or :data:`LIVE_RECHECK_S`
        after live alerts; one whose hub had no checkpoint yet sooner (2 s, doubling)."""
        loop = asyncio.get_running_loop()
        while not self._stopping:
            await asyncio.sleep(1.0)
            if self.state != ONLINE:
                continue
            for ch in list(self._tasks):
                if loop.time() >= self._log_due.get(ch, 0.0) and ch not in self._checking:
                    await self.check_log(ch)

    async def check_log(self, ch: str) -> CheckpointRow:
        """Fetch and check the channel's signed checkpoint; emit and return its row (a
        check of the channel already running is waited for, not repeated)."""
        running = self._checking.get(ch)
        if running is not None:
            return await asyncio.shield(running)
        task = asyncio.ensure_future(self._check_log(ch))
        self._checking[ch] = task
        try:
            row = await task
        finally:
            self._checking.pop(ch, None)
        self.checkpoints[ch] = row
        delay = CHECKPOINT_REFRESH_S
        if row.state == "unavailable":
            delay = self._log_retry[ch] = min(CHECKPOINT_REFRESH_S,
                                              2 * self._log_retry.get(ch, 1.0))
        else:
            self._log_retry.pop(ch, None)
        self._log_due[ch] = asyncio.get_running_loop().time() + delay
        self.checkpointChanged.emit(ch, row)
        return row

    async def _check_log(self, ch: str) -> CheckpointRow:
        try:
            signed = await self.client.checkpoint(ch)
        except LogInconsistent as exc:
            return CheckpointRow(ch, "inconsistent", detail=exc.reason)
        except CheckpointError as exc:
            return CheckpointRow(ch, "failed", detail=exc.reason)
        except (ClientError, CordonError, OSError) as exc:
            return CheckpointRow(ch, "unavailable", detail=str(exc))
        cp = signed.checkpoint
        row = CheckpointRow(ch, "verified", fingerprint=signed.fingerprint, size=cp.size,
                            time_ms=cp.time)
        try:
            compared = await self._compare_copy(ch, signed)
        except (ClientError, CordonError, OSError) as exc:
            log.info("%s: own copy not compared with the signed log: %s", ch, exc)
            return row
        if compared < 0:
            return CheckpointRow(ch, "mismatch", fingerprint=row.fingerprint, size=cp.size,
                                 time_ms=cp.time, detail=(
                                     f"the first {-compared} alerts you were shown are not "
                                     f"the first {-compared} of the log signed at size "
                                     f"{cp.size}"))
        return CheckpointRow(ch, "verified", fingerprint=row.fingerprint, size=cp.size,
                             time_ms=cp.time, compared=compared)

    def _cached_leaves(self, ch: str, epoch: str) -> list[bytes]:
        """Leaf hashes of the cached prefix 1..n without a hole (kept between checks: only
        the alerts cached since are read and hashed)."""
        held_epoch, leaves = self._leaves.get(ch, (epoch, []))
        if held_epoch != epoch:
            leaves = []
        count = self.cache.count(ch)
        if count > len(leaves):
            newer = self.cache.newest(ch, count - len(leaves))
            if not newer or newer[0][0] != len(leaves) + 1:  # holes: start again
                newer, leaves = self.cache.newest(ch, count), []
            for off, alert, _ in newer:
                if off != len(leaves) + 1:
                    break  # the prefix without a hole ends here
                leaves.append(leaf_hash(alert))
        elif count < len(leaves):  # the cache was emptied (a re-created channel)
            leaves = []
        self._leaves[ch] = (epoch, leaves)
        return leaves

    async def _compare_copy(self, ch: str, signed: SignedCheckpoint) -> int:
        """How many of the log's first alerts the cached copy was compared with and agrees
        (0: none to compare; minus that number when it disagrees)."""
        cp = signed.checkpoint
        chan = self.cache.channel(ch)
        if chan is None or chan.epoch != cp.epoch or self.cache.oldest_offset(ch) != 1:
            return 0
        leaves = self._cached_leaves(ch, cp.epoch)
        n = min(len(leaves), cp.size)
        if n == 0:
            return 0
        mine = root(leaves[:n])
        if n == cp.size:
            return n if mine == cp.root else -n
        proof = await self.client.prove_consistency(ch, cp.epoch, n, cp.size)
        return n if verify_consistency(n, cp.size, mine, cp.root, proof) else -n

    # --- evidence bundles (PROTOCOL.md Appendix D) -----------------------------------
    def export_evidence(self, channel: str, ids: list[str], crl: Path | None,
                        out: Path) -> int:
        """Write an evidence bundle of ``ids`` (from the cached, verified history, with the
        permission notices their handling codes need) to ``out``; the token comes back
        with ``evidenceExported``. The CRL is the hub's (verified against the CA, PROTOCOL
        §6.10) unless a ``crl`` file is given."""
        self._tokens += 1
        token = self._tokens
        self._spawn(self._export_evidence(token, channel, ids, crl, out))
        return token

    async def _export_evidence(self, token: int, ch: str, ids: list[str],
                               crl: Path | None, out: Path) -> None:
        from client.evidence import ExportRefused, make_bundle, read_crl, write_private

        crl_der = None
        if crl is not None:
            try:
                crl_der = read_crl(crl)
            except Exception as exc:  # any unreadable file: said, nothing written
                self.evidenceExported.emit(token, "", f"cannot read the CRL {crl}: {exc}")
                return
        ca = self.verifier.cas[0].public_bytes(serialization.Encoding.DER)
        try:
            data = await make_bundle(self.client, ch, ids, ca=ca, crl=crl_der,
                                     items=self.cached_items(ch))
            write_private(out, data)
        except ExportRefused as exc:
            self.evidenceExported.emit(token, "", str(exc))
            return
        except (ClientError, CordonError, OSError) as exc:
            self.evidenceExported.emit(token, "", str(exc) or type(exc).__name__)
            return
        report = verify_bundle(data, expected_ca=ca)
        self.evidenceExported.emit(token, str(out), (
            f"{len(report.alerts)} alert(s), the log at size {report.checkpoint.size} "
            f"({report.fingerprint})"))

    # --- on demand -------------------------------------------------------------------
    def load_older(self, channel: str) -> None:
        """Page older history: from the cache first, then from the hub."""
        self._spawn(self._load_older(channel))

    async def _load_older(self, ch: str) -> None:
        oldest = self._oldest.get(ch)
        if oldest is None or oldest <= 1:
            self.olderLoaded.emit(ch, [], False)
            return
        items = self.cache.older(ch, oldest, self.page)
        if items:
            self._oldest[ch] = items[0][0]
            await self._certs_for([a for _, a, _ in items])
            self.olderLoaded.emit(ch, self._verify_cached(ch, items), True)
            return
        try:
            page = await self.client.history(ch, before=oldest, limit=self.page)
        except (ClientError, CordonError, OSError) as exc:
            self.notice.emit(f"{ch}: cannot load older alerts ({exc})")
            self.olderLoaded.emit(ch, [], True)
            return
        chan = self.cache.channel(ch)
        self.cache.add_alerts(ch, page.epoch, [(r.offset, r.alert, r.sig) for r in page.items])
        if not page.more:
            self.cache.set_complete(ch)
        self._more[ch] = page.more
        await self._remember_certs([r.alert for r in page.items])
        if page.items:
            self._oldest[ch] = page.items[0].offset
        rows = [row_from_received(r) for r in page.items]
        if chan is not None and chan.epoch and chan.epoch != page.epoch:
            rows = []  # re-created meanwhile; the follower resets the channel
        self.olderLoaded.emit(ch, rows, page.more)

    async def _certs_for(self, alerts: list[bytes]) -> None:
        if self.client.connected and self.verifier.missing(alerts):
            await self._remember_certs(alerts)

    def publish(
        self,
        channel: str,
        kind: str,
        body: dict[str, Any],
        *,
        photos: Iterable[bytes] = (),
        alert_id: str | None = None,
    ) -> int:
        """Upload the photos, sign locally and publish; the token comes back with the outcome."""
        self._tokens += 1
        token = self._tokens
        self._spawn(self._publish(token, channel, kind, body, list(photos), alert_id))
        return token

    async def _publish(
        self,
        token: int,
        ch: str,
        kind: str,
        body: dict[str, Any],
        photos: list[bytes],
        alert_id: str | None,
    ) -> None:
        try:
            if photos:
                put = getattr(self.client, "put_attachment", None)
                if put is None:
                    self.publishFailed.emit(token, "this hub client cannot send photos")
                    return
                refs = [await put(ch, data) for data in photos]
                for ref, data in zip(refs, photos, strict=True):
                    self.cache.add_attachment(ref["sha256"], ref["media"], data)
                body = {**body, "attachments": refs}
            ack = await self.client.publish(ch, kind, body, alert_id=alert_id)
        except CordonError as exc:
            detail = f": {exc.detail}" if exc.detail and exc.detail != exc.phrase else ""
            self.publishFailed.emit(token, f"{exc.code} {exc.phrase}{detail}")
            return
        except (ClientError, OSError) as exc:
            self.publishFailed.emit(token, str(exc) or type(exc).__name__)
            return
        self.published.emit(token, ack.offset, ack.dup)

    def load_attachment(self, channel: str, sha256: str) -> None:
        """Emit ``attachmentLoaded`` for a photo: from the cache, else from the hub."""
        self._spawn(self._load_attachment(channel, sha256))

    async def _load_attachment(self, ch: str, sha256: str) -> None:
        cached = self.cache.attachment(sha256)
        if cached is not None:
            self.attachmentLoaded.emit(ch, sha256, cached[0], cached[1])
            return
        get = getattr(self.client, "get_attachment", None)
        try:
            if get is None:
                raise ClientError("this hub client cannot fetch photos")
            media, data = await get(ch, sha256)
        except (ClientError, CordonError, OSError) as exc:
            log.info("attachment %s unavailable: %s", sha256, exc)
            self.attachmentLoaded.emit(ch, sha256, "", b"")
            return
        self.cache.add_attachment(sha256, media, data)
        self.attachmentLoaded.emit(ch, sha256, media, data)


def _first_offset(detail: str) -> int | None:
    match = re.search(r"(\d+)\s*$", detail)
    return int(match.group(1)) if match else None
