"""Named limits with their defaults. Each has a row in the README's limits table,
which also names the hub setting for those a deployment may tune (the others are
fixed by the protocol).

Sizes are checked before anything is unpacked or allocated.
"""

from __future__ import annotations

__all__ = [
    "ALERT_ID_MAX_CHARS",
    "CLOCK_SKEW_MS",
    "DIRECTORY_MAX_KEYS",
    "HANDSHAKE_TIMEOUT_S",
    "HISTORY_PAGE_MAX",
    "IDLE_TIMEOUT_S",
    "MAX_ALERT_BYTES",
    "MAX_ATTACHMENTS_PER_ALERT",
    "MAX_ATTACHMENTS_PER_CHANNEL",
    "MAX_ATTACHMENT_BYTES",
    "MAX_BAD_FRAMES",
    "MAX_CONNECTIONS_PER_PRINCIPAL",
    "MAX_CRL_BYTES",
    "MAX_FRAME_BYTES",
    "MAX_GOODS_LINES",
    "MAX_LINKS",
    "MAX_NESTING",
    "MAX_PINGS_PER_S",
    "MAX_PUB_ITEMS",
    "MAX_SUBSCRIPTIONS",
    "NAME_MAX_CHARS",
    "PING_INTERVAL_S",
    "PROOF_MAX_HASHES",
    "PROOF_MAX_OFFSETS",
    "PUBLISH_BURST",
    "PUBLISH_RATE",
    "SEND_QUEUE_BYTES",
    "SEND_QUEUE_FRAMES",
]

#: Largest WebSocket message accepted; bigger ones close the connection (1009).
MAX_FRAME_BYTES = 256 * 1024
#: Largest signed alert (envelope bytes); keeps history and fan-out bounded.
MAX_ALERT_BYTES = 64 * 1024
#: Deepest nesting of maps and arrays a frame or alert may have: the msgpack decoder's
#: own stack (msgpack-python stops there, before Python recursion could); deeper input
#: is refused, 400 for a frame and 424 for an alert. A valid alert nests at most 5 deep.
MAX_NESTING = 1024
#: Most alerts one ``pubs`` frame may carry (more: err 413 for the frame). As many as an
#: ``alerts`` frame holds; the frame size (MAX_FRAME_BYTES) bounds the bytes.
MAX_PUB_ITEMS = 256
#: Largest attachment (one photo); one ``put`` frame carries it whole, under MAX_FRAME_BYTES.
MAX_ATTACHMENT_BYTES = 192 * 1024
#: Attachments one alert may reference.
MAX_ATTACHMENTS_PER_ALERT = 8
#: Attachments one channel may hold (they live in the store's memory).
MAX_ATTACHMENTS_PER_CHANNEL = 4096
#: Goods lines in one seizure record.
MAX_GOODS_LINES = 100
#: Alert ids one alert may link to.
MAX_LINKS = 32
#: Longest sender-chosen alert id.
ALERT_ID_MAX_CHARS = 64
#: Longest member, principal or channel name.
NAME_MAX_CHARS = 32
#: How far a signed alert's time may be from the hub's clock (ms).
CLOCK_SKEW_MS = 5 * 60 * 1000
#: Sustained alerts per second per principal (token bucket rate).
PUBLISH_RATE = 2000.0
#: Token bucket depth: alerts a principal may send at once.
PUBLISH_BURST = 4000
#: Concurrent connections one principal may hold.
MAX_CONNECTIONS_PER_PRINCIPAL = 16
#: Frames queued for one connection before it is closed as a slow consumer.
SEND_QUEUE_FRAMES = 4096
#: Bytes queued for one connection before it is closed as a slow consumer (frames
#: may carry a batch of alerts, so the frame count alone does not bound memory).
SEND_QUEUE_BYTES = 16 * 1024 * 1024
#: Most alerts one history page returns.
HISTORY_PAGE_MAX = 1000
#: Most channels one connection may subscribe to at once.
MAX_SUBSCRIPTIONS = 64
#: Most certificate fingerprints one directory request may ask for.
DIRECTORY_MAX_KEYS = 256
#: Most offsets one ``prove`` request may ask inclusion proofs for (each costs the hub
#: O(log² n) hashes at worst, and the answer about 2 KiB, well under MAX_FRAME_BYTES).
PROOF_MAX_OFFSETS = 64
#: Most hashes in one inclusion path or consistency proof (a log holds at most 2^53
#: leaves, so an honest proof has at most 2 * 53 + 1).
PROOF_MAX_HASHES = 128
#: Largest CRL (DER) the hub serves in one ``crlok`` frame (about 5,000 revoked
#: certificates), under MAX_FRAME_BYTES; a bigger one is refused 413 (PROTOCOL.md §6.10).
MAX_CRL_BYTES = 224 * 1024
#: Invalid frames tolerated on one connection before it is closed (4002).
MAX_BAD_FRAMES = 20
#: Seconds allowed for the TLS and WebSocket opening handshakes.
HANDSHAKE_TIMEOUT_S = 10.0
#: Pings a peer may send per second, and at once (more: close 4030). Each is answered
#: with a pong the hub must hold until the peer reads it.
MAX_PINGS_PER_S = 10
#: Seconds between hub pings.
PING_INTERVAL_S = 20.0
#: Seconds without a pong before the connection is closed (4009); also the longest the
#: hub waits for a peer that does not read (4008).
IDLE_TIMEOUT_S = 60.0
