"""certs.cli: ``cordon ca`` end to end through ``main(argv)``, exit codes and messages."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509

from certs.ca import identity_of, issue_member, load_index
from certs.cli import DEFAULT_DIR, ENV_DIR, EXIT_ERROR, EXIT_OK, EXIT_USAGE, main
from hub.protocol.identity import Identity


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "PRIVATE KEY" not in out + err
    return code, out, err


@pytest.fixture
def ca(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    d = tmp_path / "ca"
    assert run(capsys, "init", "--dir", str(d))[0] == EXIT_OK
    return d


def test_full_lifecycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = tmp_path / "ca"
    code, out, _ = run(capsys, "init", "--dir", str(d), "--name", "Ops CA", "--days", "1000")
    assert code == EXIT_OK
    assert "Ops CA" in out
    assert (d / "ca.pem").exists()

    code, out, _ = run(
        capsys,
        "issue-server",
        "--dir",
        str(d),
        "--dns",
        "localhost",
        "--dns",
        "hub.example",
        "--ip",
        "127.0.0.1",
        "--out",
        str(tmp_path / "srv"),
    )
    assert code == EXIT_OK
    assert str(tmp_path / "srv" / "server.key") in out

    code, out, _ = run(
        capsys, "issue", "--dir", str(d), "--member", "fr", "--name", "ops", "--kind", "officer"
    )
    assert code == EXIT_OK
    assert "officer certificate for fr/ops" in out
    key = d / "out" / "fr-ops.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate((d / "out" / "fr-ops.pem").read_bytes())
    assert identity_of(cert) == Identity.for_member("fr", "ops")

    code, out, _ = run(capsys, "issue", "--dir", str(d), "--admin", "--name", "alice")
    assert code == EXIT_OK
    assert "admin certificate for admin/alice" in out
    cert = x509.load_pem_x509_certificate((d / "out" / "admin-alice.pem").read_bytes())
    assert identity_of(cert) == Identity.for_admin("alice")

    server, member, admin = load_index(d)
    code, out, _ = run(capsys, "list", "--dir", str(d))
    assert code == EXIT_OK
    lines = out.splitlines()
    assert lines[0].split() == ["SERIAL", "KIND", "SUBJECT", "STATUS", "NOT", "AFTER", "KID"]
    assert lines[1].split()[:4] == [
        server.serial_hex,
        "server",
        "localhost,hub.example,127.0.0.1",
        "active",
    ]
    assert lines[2].split()[:5] == [member.serial_hex, "member", "fr/ops", "(officer)", "active"]
    assert lines[3].split()[:4] == [admin.serial_hex, "admin", "admin/alice", "active"]
    assert lines[3].split()[-1] == admin.kid

    code, out, _ = run(
        capsys,
        "revoke",
        "--dir",
        str(d),
        "--serial",
        member.serial_hex,
        "--reason",
        "keyCompromise",
    )
    assert code == EXIT_OK
    assert f"revoked {member.serial_hex} member fr/ops (keyCompromise)" in out
    crl = x509.load_pem_x509_crl((d / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(member.serial) is not None

    code, out, _ = run(capsys, "revoke", "--dir", str(d), "--principal", "admin/alice")
    assert code == EXIT_OK
    assert "admin/alice (unspecified)" in out

    code, out, _ = run(capsys, "list", "--dir", str(d), "--json")
    assert code == EXIT_OK
    records = json.loads(out)
    assert [r["status"] for r in records] == ["active", "revoked", "revoked"]
    assert records[1] == load_index(d)[1].to_json()

    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    code, out, _ = run(capsys, "crl", "--dir", str(d), "--days", "3")
    assert code == EXIT_OK
    assert str(d / "crl.pem") in out
    crl = x509.load_pem_x509_crl((d / "crl.pem").read_bytes())
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == number + 2
    assert len(crl) == 2


def test_revoke_by_kid_and_hex_serial_spellings(
    ca: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = issue_member(ca, member="fr", name="a")
    b = issue_member(ca, member="fr", name="b")
    assert run(capsys, "revoke", "--dir", str(ca), "--kid", a.kid)[0] == EXIT_OK
    colons = ":".join(f"{b.serial:016X}"[i : i + 2] for i in range(0, 16, 2))
    assert run(capsys, "revoke", "--dir", str(ca), "--serial", "0x" + colons)[0] == EXIT_OK
    assert [r.status for r in load_index(ca)] == ["revoked", "revoked"]


def test_dir_from_environment_then_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ENV_DIR, str(tmp_path / "env-ca"))
    assert run(capsys, "init")[0] == EXIT_OK
    assert (tmp_path / "env-ca" / "ca.pem").exists()
    monkeypatch.delenv(ENV_DIR)
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "init")[0] == EXIT_OK
    assert (tmp_path / DEFAULT_DIR / "ca.pem").exists()
    assert run(capsys, "issue", "--member", "fr", "--name", "ops")[0] == EXIT_OK
    assert (tmp_path / DEFAULT_DIR / "out" / "fr-ops.pem").exists()


def test_list_marks_expired_and_empty(ca: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list", "--dir", str(ca))
    assert code == EXIT_OK
    assert "no certificates issued" in out
    now = datetime.now(UTC)
    issue_member(ca, member="fr", name="ops", not_before=now - timedelta(days=2), not_after=now)
    code, out, _ = run(capsys, "list", "--dir", str(ca))
    assert out.splitlines()[1].split()[4] == "expired"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["init", "--days", "0"],
        ["init", "--days", "ten"],
        ["issue"],
        ["issue", "--name", "ops"],
        ["issue", "--admin", "--member", "fr", "--name", "x"],
        ["issue", "--admin", "--kind", "officer", "--name", "x"],
        ["issue", "--member", "fr", "--name", "ops", "--kind", "boss"],
        ["issue-server"],
        ["revoke"],
        ["revoke", "--serial", "12", "--kid", "ab"],
        ["revoke", "--serial", "xyz"],
        ["revoke", "--serial", "0"],
        ["revoke", "--principal", "fr/ops", "--reason", "because"],
        ["list", "--verbose"],
    ],
)
def test_usage_errors_exit_2(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, *argv, *(["--dir", str(tmp_path)] if argv else []))
    assert code == EXIT_USAGE
    assert "usage: cordon ca" in err
    assert out == ""
    assert list(tmp_path.iterdir()) == []


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--help")
    assert code == EXIT_OK
    assert "issue-server" in out


def test_unknown_serial_exits_3(ca: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "revoke", "--dir", str(ca), "--serial", "abcdef")
    assert code == EXIT_ERROR
    assert out == ""
    assert err == "cordon ca: error: no certificate with serial 0000000000abcdef\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["init"], "already exists"),
        (["issue", "--member", "FR", "--name", "ops"], "invalid member id"),
        (["issue", "--admin", "--name", "Alice"], "invalid admin name"),
        (["issue-server", "--dns", "bad name"], "invalid DNS name"),
        (["issue-server", "--dns", "localhost", "--ip", "1.2.3"], "invalid IP address"),
        (["issue", "--member", "fr", "--name", "ops", "--days", "9999"], "outlive the CA"),
        (["revoke", "--kid", "00"], "no certificate with kid"),
        (["revoke", "--principal", "de/ops"], "no certificate with principal de/ops"),
    ],
)
def test_ca_errors_exit_3(
    ca: Path, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, *argv, "--dir", str(ca))
    assert code == EXIT_ERROR
    assert err.startswith("cordon ca: error: ")
    assert message in err


def test_already_revoked_exits_3(ca: Path, capsys: pytest.CaptureFixture[str]) -> None:
    issue_member(ca, member="fr", name="ops")
    assert run(capsys, "revoke", "--dir", str(ca), "--principal", "fr/ops")[0] == EXIT_OK
    code, _, err = run(capsys, "revoke", "--dir", str(ca), "--principal", "fr/ops")
    assert code == EXIT_ERROR
    assert "already revoked" in err


def test_existing_output_needs_force(ca: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["issue", "--dir", str(ca), "--member", "fr", "--name", "ops"]
    assert run(capsys, *argv)[0] == EXIT_OK
    code, _, err = run(capsys, *argv)
    assert code == EXIT_ERROR
    assert "already exists" in err
    assert run(capsys, *argv, "--force")[0] == EXIT_OK
    assert len(load_index(ca)) == 2


def test_missing_and_corrupt_ca_exit_3(
    ca: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, "list", "--dir", str(tmp_path / "nowhere"))
    assert code == EXIT_ERROR
    assert "no CA in" in err
    (ca / "index.json").write_text("{oops")
    code, _, err = run(capsys, "issue", "--dir", str(ca), "--member", "fr", "--name", "ops")
    assert code == EXIT_ERROR
    assert "index.json is corrupt" in err
    assert (ca / "index.json").read_text() == "{oops"
    assert not (ca / "out").exists()


def test_os_errors_exit_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run(capsys, "init", "--dir", str(blocker / "ca"))
    assert code == EXIT_ERROR
    assert err.startswith("cordon ca: error: ")


def test_issue_from_a_request(ca: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
                              ) -> None:
    """``cordon key new`` on the holder's side, ``cordon ca issue --csr`` on the CA host."""
    from client.keys import main as key_main

    holder = tmp_path / "holder"
    assert key_main(["new", "--principal", "fr/ops", "--out", str(holder)]) == 0
    assert key_main(["new", "--principal", "admin/bob", "--out", str(holder)]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "issue", "--dir", str(ca), "--member", "fr", "--name", "ops",
                       "--kind", "officer", "--csr", str(holder / "fr-ops.csr"))
    assert code == EXIT_OK and "officer certificate for fr/ops" in out
    assert "kept by its holder" in out
    assert not list((ca / "out").glob("*.key"))
    cert = x509.load_pem_x509_certificate((ca / "out" / "fr-ops.pem").read_bytes())
    assert identity_of(cert) == Identity.for_member("fr", "ops")
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    key = load_pem_private_key((holder / "fr-ops.key").read_bytes(), None)
    assert cert.public_key() == key.public_key()
    code, out, _ = run(capsys, "issue", "--dir", str(ca), "--admin", "--name", "bob",
                       "--csr", str(holder / "admin-bob.csr"))
    assert code == EXIT_OK and "admin certificate for admin/bob" in out
    # a request for someone else is refused, and nothing is issued
    before = load_index(ca)
    code, _, err = run(capsys, "issue", "--dir", str(ca), "--member", "fr", "--name", "x",
                       "--csr", str(holder / "fr-ops.csr"))
    assert code == EXIT_ERROR
    assert "certificate request does not name this principal (for fr/x)" in err
    assert load_index(ca) == before
    code, _, err = run(capsys, "issue", "--dir", str(ca), "--member", "fr", "--name", "x",
                       "--csr", str(holder / "missing.csr"))
    assert code == EXIT_ERROR and "missing.csr" in err
