"""The Sentinel, store credential/TLS and ack_replicas settings: file, environment, flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.config import ConfigError, Settings, load_settings, store_options


def test_sentinel_settings_from_file_env_and_overrides(tmp_path: Path) -> None:
    conf = tmp_path / "hub.toml"
    conf.write_text('[hub]\nsentinels = ["10.0.0.1:26379", "10.0.0.2:26379"]\n'
                    'sentinel_service = "stop"\nack_replicas = 1\nstore_tls = true\n'
                    'store_tls_ca = "store-ca.pem"\nstore_password = "s3cret"\n')
    s = load_settings(conf, env={})
    assert s.sentinels == ("10.0.0.1:26379", "10.0.0.2:26379")
    assert s.sentinel_service == "stop" and s.ack_replicas == 1 and s.store_tls
    assert s.store_tls_ca == tmp_path / "store-ca.pem"  # relative to the file
    assert not s.embedded_store
    assert "s3cret" not in repr(s)
    options = store_options(s)
    assert options["sentinels"] == s.sentinels and options["password"] == "s3cret"
    assert options["tls_ca"] == str(tmp_path / "store-ca.pem")
    env = {"CORDON_SENTINELS": "a:1, b:2", "CORDON_ACK_REPLICAS": "2",
           "CORDON_SENTINEL_PASSWORD": "x"}
    s = load_settings(None, env=env)
    assert s.sentinels == ("a:1", "b:2") and s.ack_replicas == 2
    assert s.sentinel_password == "x" and "'x'" not in repr(s)
    s = load_settings(None, env=env, overrides={"sentinels": ["c:3"], "ack_replicas": 0})
    assert s.sentinels == ("c:3",) and s.ack_replicas == 0
    assert store_options(Settings()) == {"ack_replicas": 0}


@pytest.mark.parametrize(("env", "message"), [
    ({"CORDON_SENTINELS": "a:1", "CORDON_REDIS_URL": "redis://x"}, "one or the other"),
    ({"CORDON_SENTINELS": "a"}, "not host:port"),
    ({"CORDON_SENTINELS": "a:99999"}, "not host:port"),
    ({"CORDON_SENTINELS": "a:1", "CORDON_SENTINEL_SERVICE": ""}, "must not be empty"),
    ({"CORDON_SENTINELS": "a:1", "CORDON_ACK_REPLICAS": "-1"}, "0..8"),
    ({"CORDON_SENTINELS": "a:1", "CORDON_ACK_REPLICAS": "9"}, "0..8"),
    ({"CORDON_SENTINELS": "a:1", "CORDON_ACK_REPLICAS": "1", "CORDON_DURABLE": "no"},
     "durable"),
    ({"CORDON_ACK_REPLICAS": "1"}, "embedded store has no replicas"),
])
def test_store_settings_that_do_not_fit_together(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(None, env=env)


def test_serve_flags(tmp_path: Path) -> None:
    from hub.cli import _serve_parser

    args = _serve_parser().parse_args([
        "--sentinel", "h1:26379", "--sentinel", "h2:26379", "--sentinel-service", "ops",
        "--store-tls", "--store-tls-ca", "ca.pem", "--ack-replicas", "1"])
    s = load_settings(None, env={}, overrides={
        k: getattr(args, k) for k in ("sentinels", "sentinel_service", "store_tls",
                                      "store_tls_ca", "ack_replicas")})
    assert s.sentinels == ("h1:26379", "h2:26379") and s.sentinel_service == "ops"
    assert s.store_tls and s.store_tls_ca == Path("ca.pem") and s.ack_replicas == 1
