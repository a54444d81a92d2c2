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


def test_compose_has_store_with_aof_and_hub():
    doc = compose()
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
