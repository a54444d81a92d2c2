"""docker-compose.yml, the Dockerfile, the systemd unit and the Grafana dashboard, checked
without a Docker engine (none runs here).

The hub's command lines are parsed by the hub's own argument parser and settings loader,
every path they name must be inside a mount, and the CA's key must not be in the hub's
mounts. deploy/ca-export.sh runs for real on a CA folder made by ``cordon ca``, and a real
hub then starts from exactly what it exported. The dashboard's queries may only name
metrics a real hub exports.
"""

from __future__ import annotations

import asyncio
import configparser
import json
import os
import re
import shlex
import stat
import subprocess
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from hub.cli import _serve_parser, probe_main
from hub.cli import main as cordon
from hub.config import Settings, load_settings
from hub.embedded import STREAM_NODE_MAX_BYTES
from hub.http import parse_listen
from hub.server import Hub

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
_OVERRIDES = ("host", "port", "data_dir", "redis_url", "ca_dir", "server_cert", "server_key",
              "durable", "http_listen", "log_format", "log_level")


def compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return doc


def hub_settings(command: list[str]) -> Settings:
    """What ``cordon serve`` would run with: its parser, then its settings loader."""
    assert command[0] == "serve"
    args = _serve_parser().parse_args(command[1:])
    return load_settings(args.config, env={},
                         overrides={k: getattr(args, k) for k in _OVERRIDES})


def mounts(service: dict[str, Any]) -> list[tuple[str, PurePosixPath, bool]]:
    """(source, target, read-only) of a service's short-syntax volumes."""
    out = []
    for v in service["volumes"]:
        parts = v.split(":")
        out.append((parts[0], PurePosixPath(parts[1]), len(parts) > 2 and "ro" in parts[2]))
    return out


def test_compose_has_store_with_aof_and_hub():
    doc = compose()
    assert {"valkey", "ca-export", "hub"} <= set(doc["services"])
    store = doc["services"]["valkey"]
    cmd = store["command"]
    assert cmd[cmd.index("--appendonly") + 1] == "yes"
    assert cmd[cmd.index("--appendfsync") + 1] == "always"  # else the hub refuses durable
    # as the embedded store: 16 KiB stream nodes (1 KiB alerts take less memory)
    assert cmd[cmd.index("--stream-node-max-bytes") + 1] == str(STREAM_NODE_MAX_BYTES)
    for name in ("valkey-1", "valkey-2", "valkey-3"):
        node = doc["services"][name]["command"]
        assert node[node.index("--stream-node-max-bytes") + 1] == str(STREAM_NODE_MAX_BYTES)
    assert any(v.endswith(":/data") for v in store["volumes"])
    depends = doc["services"]["hub"]["depends_on"]
    assert depends["valkey"]["condition"] == "service_healthy"
    assert depends["ca-export"]["condition"] == "service_healthy"


def test_hub_command_is_accepted_and_points_at_mounted_paths():
    hub = compose()["services"]["hub"]
    s = hub_settings(hub["command"])
    assert urlsplit(s.redis_url).hostname == "valkey"
    assert s.durable
    hub_mounts = mounts(hub)

    def mount_of(path: Path) -> tuple[str, PurePosixPath, bool]:
        found = [m for m in hub_mounts if PurePosixPath(path).is_relative_to(m[1])]
        assert found, f"{path} is not in a mounted volume"
        return max(found, key=lambda m: len(m[1].parts))

    for path in (s.ca_cert, s.crl, s.server_cert, s.server_key):
        assert mount_of(path)[2], f"{path} must be mounted read-only"
    assert not mount_of(s.data_dir)[2]  # the hub writes its data (and CRL copy) there
    published = [p.rsplit(":", 2) for p in hub["ports"]]
    assert published[0][-2:] == ["8443", "8443"] and s.port == 8443
    assert s.host == "0.0.0.0"
    # the ops listener: reachable from the host's loopback only
    listen = parse_listen(s.http_listen or "")
    assert listen == ("0.0.0.0", 9090)
    assert ["127.0.0.1", "9090", "9090"] in published


def test_the_hub_never_mounts_the_ca_folder_or_its_key():
    doc = compose()
    hub_sources = [m[0] for m in mounts(doc["services"]["hub"])]
    assert not any(src.startswith((".", "/")) for src in hub_sources), hub_sources  # volumes
    export = doc["services"]["ca-export"]
    assert ("./var/ca", PurePosixPath("/ca"), True) in mounts(export)  # read-only source
    script = (DEPLOY / "ca-export.sh").read_text()
    assert "ca.key" not in re.sub(r"#.*", "", script)  # never copied (only named in comments)
    # the export's volumes are the hub's CA and TLS folders
    entry = export["entrypoint"]
    assert entry[0] == "cordon-ca-export"
    assert export["build"] == doc["services"]["hub"]["build"]  # the hub's image, built here
    assert export["image"] == doc["services"]["hub"]["image"]
    by_target = {str(t): src for src, t, _ in mounts(export)}
    hub_targets = {src: str(t) for src, t, _ in mounts(doc["services"]["hub"])}
    s = hub_settings(doc["services"]["hub"]["command"])
    assert hub_targets[by_target[entry[2]]] == str(s.ca_dir)
    assert str(PurePosixPath(s.server_key).parent) == hub_targets[by_target[entry[3]]]


def test_healthchecks_use_readyz():
    doc = compose()
    hub = doc["services"]["hub"]
    test = hub["healthcheck"]["test"]
    assert test[:3] == ["CMD", "cordon", "probe"]
    url = urlsplit(test[3])
    s = hub_settings(hub["command"])
    listen = parse_listen(s.http_listen or "")
    assert listen is not None and url.path == "/readyz" and url.port == listen[1]
    assert url.hostname == "127.0.0.1"
    text = (ROOT / "Dockerfile").read_text()
    assert 'CMD ["cordon", "probe", "http://127.0.0.1:9090/readyz"]' in text


def test_dockerfile_copies_every_package_and_runs_cordon():
    text = (ROOT / "Dockerfile").read_text()
    for package in ("hub", "client", "certs"):
        assert f"COPY {package} ./{package}" in text
    assert "COPY deploy/ca-export.sh /usr/local/bin/cordon-ca-export" in text
    assert 'ENTRYPOINT ["cordon"]' in text
    assert "USER cordon" in text and "--uid 10001" in text and "--gid 10001" in text
    assert "EXPOSE 8443 9090" in text
    cmd = json.loads(re.search(r"^CMD (\[.*?\])$", text, re.M | re.S)
                     .group(1).replace("\\\n", ""))  # type: ignore[union-attr]
    s = hub_settings(cmd)
    assert str(s.ca_dir) == "/etc/cordon/ca" and str(s.server_key).startswith("/etc/cordon/tls/")
    assert parse_listen(s.http_listen or "") == ("0.0.0.0", 9090)


def test_systemd_unit_runs_the_example_config():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string((DEPLOY / "cordon-hub.service").read_text())
    service = unit["Service"]
    argv = shlex.split(service["ExecStart"])
    assert argv[0].endswith("/cordon") and argv[1] == "serve"
    args = _serve_parser().parse_args(argv[2:])
    assert str(args.config) == "/etc/cordon/hub.toml"
    s = load_settings(DEPLOY / "hub.toml", env={})  # the example config is accepted
    assert s.durable and s.log_format == "json"
    assert parse_listen(s.http_listen or "") == ("127.0.0.1", 9090)
    assert service["User"] == "cordon"
    assert str(s.data_dir) == "/var/lib/" + service["StateDirectory"]
    readonly = service["ReadOnlyPaths"].split()
    for path in (s.ca_dir, s.server_cert, s.server_key):
        assert any(PurePosixPath(path).is_relative_to(p) for p in readonly), path
    assert service["ProtectSystem"] == "strict"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def _make_ca(tmp: Path) -> Path:
    """A CA folder as an operator makes it with ``cordon ca`` on the host."""
    ca = tmp / "ca"
    assert cordon(["ca", "init", "--dir", str(ca)]) == 0
    assert cordon(["ca", "issue-server", "--dir", str(ca), "--dns", "localhost",
                   "--ip", "127.0.0.1"]) == 0
    assert cordon(["ca", "issue", "--dir", str(ca), "--admin", "--name", "secretariat"]) == 0
    return ca


def _export(ca: Path, out: Path) -> None:
    env = {**os.environ, "CORDON_EXPORT_ONCE": "1", "CORDON_UID": str(os.getuid()),
           "CORDON_GID": str(os.getgid())}
    subprocess.run(["sh", str(DEPLOY / "ca-export.sh"), str(ca), str(out / "ca"),
                    str(out / "tls")], check=True, env=env, timeout=60)


async def test_a_hub_starts_from_exactly_what_ca_export_gives_it(tmp_path: Path,
                                                                valkey_url: str, raw: Any):
    """The container's view, for real: ca-export copies the public part of a ``cordon ca``
    folder (no ca.key, no other credentials) with the modes the hub's user reads; a hub
    with only that starts, imports the administrator from the index, and is ready."""
    await raw.flushdb()
    ca = _make_ca(tmp_path)
    assert stat.S_IMODE(ca.stat().st_mode) == 0o700  # as cordon ca made it
    out = tmp_path / "export"
    await asyncio.to_thread(_export, ca, out)
    exported = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    issued = sorted(f"ca/issued/{p.name}" for p in (ca / "issued").glob("*.pem"))
    assert exported == sorted(["ca/.exported", "ca/ca.pem", "ca/crl.pem", "ca/index.json",
                               *issued, "tls/server.key", "tls/server.pem"])
    assert stat.S_IMODE((out / "tls" / "server.key").stat().st_mode) == 0o400
    assert stat.S_IMODE((out / "ca" / "crl.pem").stat().st_mode) == 0o444
    assert stat.S_IMODE((out / "tls").stat().st_mode) == 0o700
    # again: nothing changed, nothing rewritten (it runs every 5 s)
    before = {p: p.stat().st_ino for p in out.rglob("*.pem")}
    await asyncio.to_thread(_export, ca, out)
    assert {p: p.stat().st_ino for p in out.rglob("*.pem")} == before
    settings = Settings(host="127.0.0.1", port=0, data_dir=tmp_path / "hub",
                        redis_url=valkey_url, ca_dir=out / "ca",
                        server_cert=out / "tls" / "server.pem",
                        server_key=out / "tls" / "server.key", http_listen="127.0.0.1:0")
    hub = Hub(settings)
    await hub.start()
    try:
        admins = list(await hub.store.certs_of("admin/secretariat"))
        assert [c.status for c in admins] == ["active"]
        assert await asyncio.to_thread(
            probe_main, [f"http://127.0.0.1:{hub.ops.port}/readyz"]) == 0
    finally:
        await hub.stop()
    assert await asyncio.to_thread(probe_main, [f"http://127.0.0.1:{hub.ops.port}/readyz",
                                                "--timeout", "2"]) == 3
    assert probe_main(["https://127.0.0.1:1/readyz"]) == 2


def test_ca_export_says_what_is_missing(tmp_path: Path):
    env = {**os.environ, "CORDON_EXPORT_ONCE": "1", "CORDON_UID": str(os.getuid()),
           "CORDON_GID": str(os.getgid())}
    done = subprocess.run(["sh", str(DEPLOY / "ca-export.sh"), str(tmp_path / "none"),
                           str(tmp_path / "a"), str(tmp_path / "b")], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "ca.pem is missing" in done.stderr and "cordon ca init" in done.stderr


async def test_dashboard_queries_only_name_exported_metrics(hub: Any):
    """Every metric a dashboard query names is one a real hub exports (after traffic that
    makes every family appear); every panel is described in the README."""
    from tests.hub.test_ops_http import request

    await hub.channel("stop-iii", {"fr": "contributor"})  # per-channel series need one
    await hub.hub.ops.run_once()
    status, _, body = await request(hub.hub.ops.port, b"GET /metrics HTTP/1.1\r\n\r\n")
    assert status == 200
    exported = set(re.findall(r"^(cordon_[a-z_]+)", body.decode(), re.M))
    dashboard = json.loads((DEPLOY / "grafana" / "cordon-hub.json").read_text())
    readme = (ROOT / "README.md").read_text()
    assert dashboard["panels"]
    for panel in dashboard["panels"]:
        assert f"**{panel['title']}**" in readme, panel["title"]
        for target in panel["targets"]:
            for name in re.findall(r"cordon_[a-z_]+", target["expr"]):
                assert name in exported, (panel["title"], name)


@pytest.mark.parametrize("path", ["deploy/ca-export.sh"])
def test_scripts_are_executable_shell(path: str):
    assert os.access(ROOT / path, os.X_OK)
    subprocess.run(["sh", "-n", str(ROOT / path)], check=True, timeout=30)


def test_prometheus_example_scrapes_the_ops_port():
    doc = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    (job,) = doc["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    s = load_settings(DEPLOY / "hub.toml", env={})
    listen = parse_listen(s.http_listen or "")
    assert listen is not None
    assert f"127.0.0.1:{listen[1]}" in job["static_configs"][0]["targets"]
    assert job["job_name"] == "cordon"  # what the dashboard's job variable lists


# --- the "ha" profile: three Valkey nodes with Sentinel, two hubs -----------------------------


def ha_services() -> dict[str, Any]:
    return {name: svc for name, svc in compose()["services"].items()
            if "ha" in svc.get("profiles", [])}


def _flag(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


def test_docker_compose_up_starts_no_ha_service():
    doc = compose()
    default = {n for n, s in doc["services"].items() if "profiles" not in s}
    assert default == {"valkey", "ca-export", "hub"}
    assert set(ha_services()) == {"valkey-1", "valkey-2", "valkey-3", "sentinel-1",
                                  "sentinel-2", "sentinel-3", "hub-a", "hub-b"}


def test_ha_profile_has_three_fsyncing_data_nodes_one_primary():
    services = ha_services()
    data = {n: s for n, s in services.items() if n.startswith("valkey-")}
    assert sorted(data) == ["valkey-1", "valkey-2", "valkey-3"]
    for name, svc in data.items():
        cmd = svc["command"]
        assert _flag(cmd, "--appendonly") == "yes"
        # always on replicas too: the hub refuses a replica that runs everysec (ack_replicas)
        assert _flag(cmd, "--appendfsync") == "always", name
        assert _flag(cmd, "--replica-announce-ip") == svc["hostname"] == name
        assert any(v.endswith(":/data") for v in svc["volumes"])
    assert "--replicaof" not in data["valkey-1"]["command"]
    for name in ("valkey-2", "valkey-3"):
        cmd = data[name]["command"]
        assert cmd[cmd.index("--replicaof") + 1:][:2] == ["valkey-1", "6379"]
    # each node keeps its own data
    assert len({svc["volumes"][0] for svc in data.values()}) == 3


def test_ha_profile_sentinels_monitor_the_primary_under_the_hubs_service_name():
    services = ha_services()
    sentinels = {n: s for n, s in services.items() if n.startswith("sentinel-")}
    assert len(sentinels) == 3
    for name, svc in sentinels.items():
        assert svc["environment"]["ANNOUNCE"] == svc["hostname"] == name
        script = svc["command"][0]
        assert "sentinel monitor cordon valkey-1 6379 2" in script  # quorum 2 of 3
        assert "sentinel down-after-milliseconds cordon 1500" in script
        assert "sentinel resolve-hostnames yes" in script
        assert "port 26379" in script and "--sentinel" in script


def test_ha_profile_hubs_accept_their_commands_and_reach_every_sentinel():
    doc = compose()
    services = ha_services()
    hubs = {n: s for n, s in services.items() if n.startswith("hub-")}
    assert sorted(hubs) == ["hub-a", "hub-b"]
    sentinels = sorted(f"{n}:26379" for n in services if n.startswith("sentinel-"))
    published: list[str] = []
    for name, hub in hubs.items():
        args = _serve_parser().parse_args(hub["command"][1:])
        s = load_settings(None, env={}, overrides={
            k: getattr(args, k) for k in (*_OVERRIDES, "sentinels", "sentinel_service",
                                          "ack_replicas")})
        assert sorted(s.sentinels) == sentinels, name
        assert s.redis_url is None and not s.embedded_store
        assert s.ack_replicas == 1 and s.durable
        assert all(d in hub["depends_on"] for d in ("sentinel-1", "sentinel-2", "sentinel-3"))
        assert hub["depends_on"]["ca-export"]["condition"] == "service_healthy"
        hub_mounts = mounts(hub)
        # like the one-host hub: the CA's public part from ca-export, read-only; no CA folder
        assert not any(src.startswith((".", "/")) for src, _, _ in hub_mounts), name
        for path in (s.ca_cert, s.crl, s.server_cert, s.server_key, s.data_dir):
            found = [m for m in hub_mounts if PurePosixPath(path).is_relative_to(m[1])]
            assert found, (name, path)
            read_only = max(found, key=lambda m: len(m[1].parts))[2]
            assert read_only == (path != s.data_dir), (name, path)
        assert parse_listen(s.http_listen or "") == ("0.0.0.0", 9090)
        assert hub["healthcheck"]["test"][:3] == ["CMD", "cordon", "probe"]
        published += [p.rsplit(":", 2)[-2] for p in hub["ports"]]
    # distinct host ports, none taken by the one-host hub; distinct data volumes
    single = [p.rsplit(":", 2)[-2] for p in doc["services"]["hub"]["ports"]]
    assert len(set(published)) == 4 and not set(published) & set(single)
    assert len({h["volumes"][-1] for h in hubs.values()}) == 2
    declared = set(doc["volumes"])
    for svc in services.values():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            assert source in declared, source
