"""docker-compose.yml and the Dockerfile, checked without a Docker engine (none runs here).

The hub's command line in the compose file is parsed by the hub's own argument
parser, and every path it names must be inside a mounted volume.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

import yaml

from hub.cli import _serve_parser

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return doc


def default_services() -> dict[str, Any]:
    """The services ``docker compose up`` starts (those in no profile)."""
    return {name: svc for name, svc in compose()["services"].items() if "profiles" not in svc}


def test_compose_has_store_with_aof_and_hub():
    doc = {"services": default_services()}
    assert set(doc["services"]) == {"valkey", "hub"}
    store = doc["services"]["valkey"]
    cmd = store["command"]
    assert cmd[cmd.index("--appendonly") + 1] == "yes"
    assert cmd[cmd.index("--appendfsync") + 1] == "always"  # else the hub refuses durable
    assert any(v.endswith(":/data") for v in store["volumes"])
    assert doc["services"]["hub"]["depends_on"]["valkey"]["condition"] == "service_healthy"


def test_hub_command_parses_and_points_at_mounted_paths():
    hub = compose()["services"]["hub"]
    assert hub["command"][0] == "serve"
    args = _serve_parser().parse_args(hub["command"][1:])
    assert urlsplit(args.redis_url).hostname == "valkey"
    mounts = [PurePosixPath(v.split(":")[1]) for v in hub["volumes"]]

    def mounted(path: Path) -> bool:
        return any(PurePosixPath(path).is_relative_to(m) for m in mounts)

    for path in (args.ca_dir, args.server_cert, args.server_key, args.data_dir):
        assert mounted(path), path
    published = [p.split(":")[1] for p in hub["ports"]]
    assert str(args.port) in published
    assert args.host == "0.0.0.0"


def test_dockerfile_copies_every_package_and_runs_cordon():
    text = (ROOT / "Dockerfile").read_text()
    for package in ("hub", "client", "certs"):
        assert f"COPY {package} ./{package}" in text
    assert 'ENTRYPOINT ["cordon"]' in text
    assert "USER cordon" in text


# --- the "ha" profile: three Valkey nodes with Sentinel, two hubs -----------------------------


def ha_services() -> dict[str, Any]:
    return {name: svc for name, svc in compose()["services"].items()
            if "ha" in svc.get("profiles", [])}


def _flag(cmd: list[str], name: str) -> str:
    return cmd[cmd.index(name) + 1]


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
    from hub.config import load_settings

    services = ha_services()
    hubs = {n: s for n, s in services.items() if n.startswith("hub-")}
    assert sorted(hubs) == ["hub-a", "hub-b"]
    sentinels = sorted(f"{n}:26379" for n in services if n.startswith("sentinel-"))
    published = []
    for name, hub in hubs.items():
        assert hub["command"][0] == "serve"
        args = _serve_parser().parse_args(hub["command"][1:])
        settings = load_settings(None, env={}, overrides={
            k: getattr(args, k) for k in ("host", "port", "data_dir", "redis_url", "ca_dir",
                                          "server_cert", "server_key", "sentinels",
                                          "sentinel_service", "ack_replicas")})
        assert sorted(settings.sentinels) == sentinels, name
        assert settings.redis_url is None and not settings.embedded_store
        assert settings.ack_replicas == 1 and settings.durable
        assert all(s in hub["depends_on"] for s in ("sentinel-1", "sentinel-2", "sentinel-3"))
        mounts = [PurePosixPath(v.split(":")[1]) for v in hub["volumes"]]
        for path in (args.ca_dir, args.server_cert, args.server_key, args.data_dir):
            assert any(PurePosixPath(path).is_relative_to(m) for m in mounts), (name, path)
        published += [p.split(":")[0] for p in hub["ports"]]
    # distinct host ports, none taken by the one-host hub; distinct data volumes
    single = [p.split(":")[0] for p in default_services()["hub"]["ports"]]
    assert len(set(published)) == 2 and not set(published) & set(single)
    assert len({h["volumes"][1] for h in hubs.values()}) == 2
    declared = set(compose()["volumes"])
    for svc in services.values():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("./") or source in declared, source
