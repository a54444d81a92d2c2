"""``cordon admin ... | head``: a reader that goes away ends the command quietly (exit 0)."""

from __future__ import annotations

import asyncio
import os
import sys

from tests.client.test_admin_cli import Cli, cli  # noqa: F401  (fixture)


async def test_member_list_into_a_closed_pipe_exits_0_quietly(cli: Cli) -> None:  # noqa: F811
    code, _, err = await cli("member", "add", "fr", "--name", "Douane", "--country", "FR")
    assert code == 0, err
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "client.admin_cli", "member", "list", *cli.argv(),
            stdout=write_end, stderr=asyncio.subprocess.PIPE)
    finally:
        os.close(write_end)
    _, err_bytes = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err_bytes
    assert err_bytes == b""
