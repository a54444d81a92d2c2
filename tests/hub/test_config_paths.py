"""Relative paths: from a config file, against the file's folder; from the environment and
flags, against the working directory. And the settings added with the re-check sweep and the
audit bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import SESSION_RECHECK_S, ConfigError, load_settings
from hub.refusals import AUDIT_REFUSALS_PER_S
from hub.storage import AUDIT_MAX_ENTRIES


def test_relative_paths_in_a_file_are_relative_to_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    etc = tmp_path / "etc" / "cordon"
    etc.mkdir(parents=True)
    cfg = etc / "hub.toml"
    cfg.write_text('[hub]\ndata_dir = "data"\nca_dir = "../ca"\n'
                   'server_cert = "/abs/server.pem"\n')
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    s = load_settings(Path("../etc/cordon/hub.toml"), env={})
    assert s.data_dir.is_absolute() and s.data_dir.resolve() == etc / "data"
    assert s.ca_dir.resolve() == tmp_path / "etc" / "ca"
    assert s.ca_cert.resolve() == tmp_path / "etc" / "ca" / "ca.pem"
    assert s.server_cert == Path("/abs/server.pem")  # absolute paths are kept
    # Not named: in the CA folder's out/ (where `cordon ca issue-server --dir` writes it).
    assert s.server_key.resolve() == tmp_path / "etc" / "ca" / "out" / "server.key"


def test_relative_paths_from_environment_and_flags_stay_relative_to_the_working_dir(
    tmp_path: Path,
) -> None:
    cfg = tmp_path / "hub.toml"
    cfg.write_text('[hub]\ndata_dir = "data"\nca_dir = "ca"\n')
    s = load_settings(cfg, env={"CORDON_DATA_DIR": "var/env-data"},
                      overrides={"ca_dir": "flag-ca"})
    assert s.data_dir == Path("var/env-data")
    assert s.ca_dir == Path("flag-ca")


def test_new_settings_defaults_and_validation(tmp_path: Path) -> None:
    s = load_settings(None, env={})
    assert s.session_recheck_s == SESSION_RECHECK_S
    assert s.audit_max_entries == AUDIT_MAX_ENTRIES
    assert s.audit_refusals_per_s == AUDIT_REFUSALS_PER_S
    s = load_settings(None, env={"CORDON_SESSION_RECHECK_S": "0.5",
                                 "CORDON_AUDIT_MAX_ENTRIES": "5000",
                                 "CORDON_AUDIT_REFUSALS_PER_S": "3"})
    assert (s.session_recheck_s, s.audit_max_entries, s.audit_refusals_per_s) == (0.5, 5000, 3)
    for name in ("session_recheck_s", "audit_max_entries", "audit_refusals_per_s"):
        cfg = tmp_path / f"{name}.toml"
        cfg.write_text(f"[hub]\n{name} = 0\n")
        with pytest.raises(ConfigError, match=name):
            load_settings(cfg, env={})
