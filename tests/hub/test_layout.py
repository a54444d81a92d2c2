"""Redis has one home: only the ``hub.storage`` package imports it (DESIGN.md, conventions),
and the split packages keep the import paths others use."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _imports_redis(path: Path) -> bool:
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "redis"
                                                for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "redis":
            return True
    return False


def test_only_the_storage_package_imports_redis() -> None:
    storage = ROOT / "hub" / "storage"
    offenders = [str(p.relative_to(ROOT)) for pkg in ("hub", "client", "certs")
                 for p in sorted((ROOT / pkg).rglob("*.py"))
                 if storage not in p.parents and _imports_redis(p)]
    assert offenders == []
    assert any(_imports_redis(p) for p in storage.glob("*.py"))


def test_public_import_paths() -> None:
    from client.admin_cli import AUDIT_COLUMNS, EXIT_OK, main, parse_since  # noqa: F401
    from hub.admin import (  # noqa: F401
        OPS,
        create_channel,
        grant,
        revoke_role,
        run_admin,
        run_session_admin,
        set_channel_state,
        update_member,
    )
    from hub.storage import (  # noqa: F401
        AppendRequest,
        ChannelMeta,
        EventStream,
        Store,
        StoredAlert,
        _log_key,
    )

    assert "member.update" in OPS
