"""Shared pieces of the bench: the throwaway PKI, signed 1 KiB alerts, statistics, and
measurement of processes (CPU time, memory) through /proc (Linux)."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.protocol import codec
from hub.protocol import frames as f
from hub.protocol.envelope import Envelope, encode_envelope, sign_alert
from hub.protocol.identity import AlertId, ChannelName, PrincipalId

__all__ = [
    "ALERT_BYTES",
    "Creds",
    "MemberSigner",
    "Pki",
    "ProcSet",
    "machine",
    "make_pki",
    "median",
    "percentile",
    "sign_alerts",
]

#: Size of the signed envelope bytes of every alert the bench sends.
ALERT_BYTES = 1024
#: A valid notice body (schema 1, handling H0); ``text`` pads the alert to ALERT_BYTES.
_BODY: dict[str, Any] = {"schema": 1, "handling": "H0", "title": "bench"}
#: Member principals issued for the bench (publishers, subscribers, idle connections).
MEMBERS = 100


@dataclass(frozen=True)
class Creds:
    ca: str
    cert: str
    key: str
    member: str
    principal: str
    kid: str


@dataclass(frozen=True)
class Pki:
    dir: Path
    ca: str
    server_cert: str
    server_key: str
    members: tuple[Creds, ...]


def make_pki(root: Path, members: int = MEMBERS) -> Pki:
    """A throwaway CA (Ed25519, certs.ca), a server certificate for 127.0.0.1 and
    ``members`` member principals ``mNNN/bench``."""
    from certs.ca import init_ca, issue_member, issue_server

    ca_dir = root / "ca"
    ca = init_ca(ca_dir, name="Cordon Bench CA")
    server = issue_server(ca_dir, dns_names=["localhost"], ip_addresses=["127.0.0.1"])
    creds = []
    for i in range(members):
        m = f"m{i:03d}"
        issued = issue_member(ca_dir, member=m, name="bench")
        creds.append(Creds(ca=str(ca), cert=str(issued.cert), key=str(issued.key), member=m,
                           principal=f"{m}/bench", kid=issued.record.kid))
    return Pki(dir=ca_dir, ca=str(ca), server_cert=str(server.cert),
               server_key=str(server.key), members=tuple(creds))


def load_key(path: str) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    assert isinstance(key, Ed25519PrivateKey)
    return key


def _pad_for(creds: Creds, channel: str, extra: dict[str, Any]) -> int:
    probe = Envelope(id=AlertId("x" * 24), channel=ChannelName(channel),
                     sender=PrincipalId(creds.principal), kid=creds.kid,
                     ts=time.time_ns() // 1_000_000, kind="notice",
                     body={**_BODY, **extra, "text": ""})
    return max(0, ALERT_BYTES - len(encode_envelope(probe)) - 3)


def sign_alerts(creds: Creds, channel: str, count: int, *, tag: str, start: int = 0,
                extra: dict[str, Any] | None = None) -> list[tuple[bytes, bytes]]:
    """``count`` signed alerts (envelope bytes, signature) of ~ALERT_BYTES each."""
    key = load_key(creds.key)
    extra = extra or {}
    pad = "x" * _pad_for(creds, channel, extra)
    out = []
    ts = time.time_ns() // 1_000_000
    for i in range(start, start + count):
        env = Envelope(id=AlertId(f"{tag}-{i:012d}"[:64]), channel=ChannelName(channel),
                       sender=PrincipalId(creds.principal),
                       kid=creds.kid, ts=ts, kind="notice", body={**_BODY, **extra, "text": pad})
        alert = encode_envelope(env)
        out.append((alert, sign_alert(key, alert)))
    return out


def signed_now(key: Ed25519PrivateKey, creds: Creds, channel: str, alert_id: str,
               pad: str) -> tuple[bytes, bytes, int]:
    """One alert carrying its send time (ns) in the body; for latency."""
    t_ns = time.time_ns()
    env = Envelope(id=AlertId(alert_id), channel=ChannelName(channel),
                   sender=PrincipalId(creds.principal), kid=creds.kid,
                   ts=t_ns // 1_000_000, kind="notice",
                   body={**_BODY, "title": f"t_ns {t_ns}", "text": pad})
    alert = encode_envelope(env)
    return alert, sign_alert(key, alert), t_ns


class MemberSigner:
    """Signs alerts the way a member system does, one at publish time: the SDK's
    :meth:`client.sdk.Client.sign` (a new ULID id, the sender chain's ``seq``/``prev``,
    the envelope encoded, decoded back and its body checked against the ``notice``
    schema, then Ed25519-signed), the 1 KiB payload in the notice's ``text``. No
    connection is opened: the Client object is only used for signing."""

    def __init__(self, creds: Creds, channel: str, *, pad: int | None = None,
                 chained: bool = True) -> None:
        from client.sdk import Client

        def client() -> Client:
            # chained=False: the SDK's own option for unchained alerts (no seq/prev), for
            # the cost of sender chains (issue 16, target cordon-plain).
            return Client("wss://127.0.0.1:1/", cert=Path(creds.cert), key=Path(creds.key),
                          ca=Path(creds.ca), reconnect=False, chained=chained)

        self.channel = channel
        self._client = client()
        if pad is None:
            probe = client().sign(channel, "notice", {**_BODY, "text": "x"})
            pad = max(1, ALERT_BYTES - len(probe.alert) - 2)
        self.pad = "x" * pad

    def sign(self, title: str = "bench") -> tuple[bytes, bytes]:
        signed = self._client.sign(self.channel, "notice",
                                   {**_BODY, "title": title, "text": self.pad})
        return signed.alert, signed.sig


def pub_frame(rid: int, channel: str, alert: bytes, sig: bytes) -> bytes:
    return codec.encode(f.Publish(rid=rid, ch=channel, alert=alert, sig=sig))


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return float(ordered[k])


def median(values: Iterable[float | int | None]) -> float | None:
    vals = [float(v) for v in values if v is not None]
    return statistics.median(vals) if vals else None


def machine() -> dict[str, Any]:
    cpu = "?"
    mem_kib = 0
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 2**20, 1),
        "kernel": platform.release(), "python": platform.python_version(),
    }


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (Linux /proc)."""
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    kids = [int(k) for k in fh.read().split()]
                out += kids
                todo += kids
        except OSError:
            continue
    return out


def proc_name(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as fh:
            return fh.read().strip()
    except OSError:
        return ""


class ProcSet:
    """CPU time and memory of a group of processes (a broker and its children), read
    from /proc: utime + stime, and the proportional set size (shared pages split
    between the processes that map them; the resident size where PSS is unknown)."""

    def __init__(self, pids: Iterable[int]) -> None:
        self.pids = list(pids)

    def cpu_s(self) -> float:
        total = 0.0
        for pid in self.pids:
            try:
                with open(f"/proc/{pid}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / _TICK
            except (OSError, IndexError, ValueError):
                pass
        return total

    def mem_bytes(self) -> int:
        total = 0
        for pid in self.pids:
            total += _pss(pid)
        return total


def _pss(pid: int) -> int:
    for path, key in ((f"/proc/{pid}/smaps_rollup", "Pss:"), (f"/proc/{pid}/status", "VmRSS:")):
        try:
            with open(path) as fh:
                for line in fh:
                    if line.startswith(key):
                        return int(line.split()[1]) * 1024
        except OSError:
            continue
    return 0


def smaps(pid: int) -> dict[str, int]:
    """The process's memory from /proc/<pid>/smaps_rollup and status, in bytes: Rss,
    Pss, Anonymous (heap, stacks, malloc arenas), file-backed resident (Rss - Anonymous:
    the interpreter, shared libraries, mapped files), and the thread count."""
    out: dict[str, int] = {}
    with contextlib.suppress(OSError), open(f"/proc/{pid}/smaps_rollup") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("Rss", "Pss", "Anonymous", "Shared_Clean", "Private_Dirty"):
                out[key.lower()] = int(rest.split()[0]) * 1024
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("Threads:"):
                out["threads"] = int(line.split()[1])
    if "rss" in out and "anonymous" in out:
        out["file_backed"] = out["rss"] - out["anonymous"]
    return out


def rss_bytes(pids: Iterable[int]) -> int:
    """The summed resident set size (VmRSS) of processes (shared pages counted in each)."""
    return sum(smaps(pid).get("rss", 0) for pid in pids)
