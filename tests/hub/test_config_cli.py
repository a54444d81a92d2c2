"""Settings (file + environment + flags, validation, redaction) and ``cordon serve`` refusals."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

from hub.cli import EXIT_INPUT, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, main, serve_main
from hub.config import ConfigError, Settings, load_settings
from hub.protocol import limits
from tests.pki import make_pki


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# --- load_settings ------------------------------------------------------------------------


def test_defaults_without_file_or_environment() -> None:
    s = load_settings(None, env={})
    assert s == Settings()
    assert (s.port, s.send_queue_frames, s.max_frame_bytes) == (
        8443, limits.SEND_QUEUE_FRAMES, limits.MAX_FRAME_BYTES)


def test_file_then_environment_then_overrides(tmp_path: Path) -> None:
    cfg = write(tmp_path / "hub.toml", """
        [hub]
        host = "0.0.0.0"
        port = 9000
        data_dir = "/srv/cordon"
        durable = false
        publish_rate = 50
        send_queue_frames = 100
        registry_poll_s = 2.5
    """.replace("\n        ", "\n"))
    env = {"CORDON_PORT": "9100", "CORDON_SEND_QUEUE_FRAMES": "200", "CORDON_DURABLE": "yes",
           "CORDON_HUB": "wss://elsewhere/", "UNRELATED": "x"}
    s = load_settings(cfg, env=env, overrides={"port": 9200, "host": None})
    assert s.host == "0.0.0.0"  # file (the None override means "not given")
    assert s.data_dir == Path("/srv/cordon")
    assert s.publish_rate == 50.0 and isinstance(s.publish_rate, float)
    assert s.registry_poll_s == 2.5
    assert s.send_queue_frames == 200  # environment over file
    assert s.durable is True  # environment over file
    assert s.port == 9200  # override over environment


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[hub\nport = 1\n", "not valid TOML"),
        ("[hub]\nport = \n", "not valid TOML"),
        ("[hub]\nprot = 8443\n", "unknown setting 'prot'"),
        ("hub = 3\n", "[hub] must be a table"),
        ('[hub]\nport = "eighty"\n', "'port'"),
        ("[hub]\nport = 70000\n", "'port'"),
        ("[hub]\nport = -1\n", "'port'"),
        ("[hub]\nport = 8443.5\n", "'port'"),
        ('[hub]\ndurable = "perhaps"\n', "'durable'"),
        ("[hub]\ndurable = 1.5\n", "'durable'"),
        ("[hub]\nsend_queue_frames = 0\n", "'send_queue_frames'"),
        ("[hub]\nmax_connections_per_principal = -3\n", "'max_connections_per_principal'"),
        ("[hub]\npublish_burst = true\n", "'publish_burst'"),
        ("[hub]\npublish_rate = 0\n", "'publish_rate'"),
        ("[hub]\npublish_rate = true\n", "'publish_rate'"),
        ("[hub]\nregistry_poll_s = -1\n", "'registry_poll_s'"),
        ("[hub]\nregistry_poll_s = nan\n", "'registry_poll_s'"),
        ("[hub]\nidle_timeout_s = inf\n", "'idle_timeout_s'"),
        ("[hub]\nping_interval_s = 0\n", "'ping_interval_s'"),
        ("[hub]\nhandshake_timeout_s = 0\n", "'handshake_timeout_s'"),
        ("[hub]\nclock_skew_ms = 0\n", "'clock_skew_ms'"),
        ("[hub]\ndata_dir = 5\n", "'data_dir'"),
        ("[hub]\ndata_dir = [1]\n", "'data_dir'"),
    ],
)
def test_bad_files_are_config_errors(tmp_path: Path, text: str, message: str) -> None:
    cfg = write(tmp_path / "hub.toml", text)
    with pytest.raises(ConfigError) as info:
        load_settings(cfg, env={})
    assert message in str(info.value)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_settings(tmp_path / "nope.toml", env={})


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CORDON_PORT": "http"}, "'port'"),
        ({"CORDON_DURABLE": "maybe"}, "'durable'"),
        ({"CORDON_PUBLISH_RATE": "fast"}, "'publish_rate'"),
        ({"CORDON_SEND_QUEUE_FRAMES": "-1"}, "'send_queue_frames'"),
        ({"CORDON_IDLE_TIMEOUT_S": "-5"}, "'idle_timeout_s'"),
    ],
)
def test_bad_environment_values_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(None, env=env)
    assert message in str(info.value)


def test_unknown_override_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        load_settings(None, env={}, overrides={"colour": "blue"})


def test_empty_redis_url_in_the_environment_means_embedded() -> None:
    assert load_settings(None, env={"CORDON_REDIS_URL": ""}).redis_url is None


@pytest.mark.parametrize(
    "url",
    [
        "redis://:hunter2@store.example:6379/0",
        "redis://cordon:hunter2@store.example:6379/0",
        "rediss://cordon:hunter2@hunter2.example:6380",
        "redis://store.example:6379/0?password=hunter2",
        "unix:///run/valkey.sock?db=0&password=hunter2",
    ],
)
def test_repr_redacts_the_store_password(url: str) -> None:
    s = load_settings(None, env={"CORDON_REDIS_URL": url})
    assert s.redis_url == url  # the value itself is intact
    for text in (repr(s), str(s), f"{s}", f"{s!r}"):
        assert "hunter2@" not in text and "password=hunter2" not in text
        assert ":hunter2" not in text
        assert "***" in text


def test_repr_without_password_shows_the_url() -> None:
    s = Settings(redis_url="redis://store.example:6379/0")
    assert "redis://store.example:6379/0" in repr(s)


# --- cordon serve -------------------------------------------------------------------------


@pytest.fixture
def ca(tmp_path: Path) -> list[str]:
    """Flags naming a real CA folder and server certificate."""
    pki = make_pki(tmp_path)
    return ["--ca-dir", str(pki.dir), "--server-cert", str(pki.server.cert),
            "--server-key", str(pki.server.key), "--data-dir", str(tmp_path / "hub")]


@pytest.mark.parametrize(
    "argv",
    [
        ["--port", "eighty"],
        ["--bogus"],
        ["--port"],
        ["extra-positional"],
        ["--port", "70000"],
    ],
)
def test_serve_bad_arguments_exit_2(argv: list[str], ca: list[str],
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_main([*ca, *argv]) == EXIT_USAGE
    assert "cordon serve" in capsys.readouterr().err


def test_serve_bad_config_exits_2(tmp_path: Path, ca: list[str],
                                  capsys: pytest.CaptureFixture[str]) -> None:
    for text in ("[hub]\nprot = 1\n", "[hub\n"):
        cfg = write(tmp_path / "hub.toml", text)
        assert serve_main([*ca, "--config", str(cfg)]) == EXIT_USAGE
        assert "cordon serve: error:" in capsys.readouterr().err
    assert serve_main([*ca, "--config", str(tmp_path / "missing.toml")]) == EXIT_USAGE


def test_serve_missing_certificate_files_exits_4(tmp_path: Path, ca: list[str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty-ca"
    empty.mkdir()
    assert serve_main([*ca, "--ca-dir", str(empty)]) == EXIT_INPUT
    assert "ca.pem not found" in capsys.readouterr().err
    assert serve_main([*ca, "--server-key", str(tmp_path / "none.key")]) == EXIT_INPUT
    assert "none.key not found" in capsys.readouterr().err


def test_serve_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_main(["--help"]) == EXIT_OK
    assert "--config" in capsys.readouterr().out


def test_serve_unreachable_store_exits_3(tmp_path: Path, ca: list[str],
                                         capsys: pytest.CaptureFixture[str]) -> None:
    url = f"unix://{tmp_path / 'no-such.sock'}"
    assert serve_main([*ca, "--port", "0", "--redis", url]) == EXIT_REFUSED
    assert "cordon serve: error:" in capsys.readouterr().err


def test_dispatcher_routes_serve(ca: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", *ca, "--port", "x"]) == EXIT_USAGE
    assert main(["no-such-command"]) == EXIT_USAGE
    assert main([]) == EXIT_USAGE


async def test_serve_process_exit_codes(tmp_path: Path, ca: list[str]) -> None:
    """The real command line: bad usage 2, missing certificate files 4."""
    async def run(*argv: str) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-c", "import sys; from hub.cli import main; sys.exit(main())",
            "serve", *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
        )
        async with asyncio.timeout(60):
            _out, err = await proc.communicate()
        assert proc.returncode is not None
        return proc.returncode, err.decode()

    code, err = await run(*ca, "--port", "eighty")
    assert code == EXIT_USAGE and "invalid int value" in err
    code, err = await run(*ca, "--ca-dir", str(tmp_path / "nowhere"))
    assert code == EXIT_INPUT and "not found" in err


def test_ca_dir_alone_finds_the_server_credentials_in_its_out_folder(tmp_path: Path) -> None:
    """`serve --ca-dir D` looks for D/out/server.{pem,key} (where `cordon ca issue-server
    --dir D` writes them), not var/ca/out; explicit paths still win."""
    d = tmp_path / "ca"
    s = load_settings(env={}, overrides={"ca_dir": str(d)})
    assert (s.server_cert, s.server_key) == (d / "out" / "server.pem", d / "out" / "server.key")
    s = load_settings(env={}, overrides={"ca_dir": str(d), "server_key": "k.key"})
    assert s.server_key == Path("k.key") and s.server_cert == d / "out" / "server.pem"


def test_serve_missing_server_certificate_names_the_command_that_makes_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pki = make_pki(tmp_path)
    (pki.dir / "out").mkdir(exist_ok=True)
    assert serve_main(["--ca-dir", str(pki.dir), "--data-dir", str(tmp_path / "hub")]) \
        == EXIT_INPUT
    err = capsys.readouterr().err
    assert f"{pki.dir / 'out' / 'server.pem'} not found" in err
    assert f"cordon ca issue-server --dir {pki.dir}" in err
