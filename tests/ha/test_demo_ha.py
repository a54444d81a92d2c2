"""``cordon demo --ha`` at reduced size: two hub nodes on a three-node store with
Sentinel, the primary killed halfway; the report's ground truth check passes, and no
acknowledged alert is lost."""

from __future__ import annotations

import re

import pytest

from hub.demo import main

pytestmark = pytest.mark.timeout(120)


def test_demo_ha_kills_the_primary_midway_and_loses_nothing_acked(
        capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["--ha", "--cases", "80", "--members", "20", "--rate", "60", "--seed", "4",
                 "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "Two hub nodes listening on" in out and "ack_replicas = 1" in out
    failover = re.search(r"was killed \(kill -9\) after (\d+) acks; the sentinels promoted "
                         r".* (\d+\.\d) s later; publish pause .* (\d+\.\d) s\. "
                         r"Acked alerts lost: (\d+)", out)
    assert failover is not None, out
    assert int(failover.group(1)) > 0 and int(failover.group(4)) == 0
    print(f"\ndemo --ha: promoted after {failover.group(2)} s, pause {failover.group(3)} s")
    assert "Ground truth check: all 19 figures equal" in out
