"""`bridgehub serve` killed with SIGKILL in the middle of a sync, then started again on the
same data folder: it joins the embedded PostgreSQL the dead process left running, hands
back the dead process's job once its heartbeat is overdue, and the sync ends with every
contact exactly once."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

from tests.faults.served_hub import (
    HUB_SETTINGS,
    connected_account,
    contacts_of,
    postmaster_pid,
    sync_run,
    wait_for,
)
from tests.helpdesk_fixtures import CONTACTS, Helpdesk
from tests.processes import free_port, running_hub

RESUMED_WITHIN = 150.0
"""Seconds: a dead worker's heartbeat is overdue after 30 s, and stalled jobs are looked for
every minute."""


def test_a_serve_killed_mid_sync_resumes_it_when_started_again(
    tmp_path: Path, helpdesk: Helpdesk
) -> None:
    helpdesk.control.delay = 0.3  # pages slow enough to kill the hub in the middle
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.log").open("w") as log, contextlib.ExitStack() as cleanup:
        cleanup.callback(_stop_postgres, tmp_path)  # the killed hub could not stop it
        first = cleanup.enter_context(running_hub(tmp_path, port, HUB_SETTINGS, log))
        account, activation_id = cleanup.enter_context(connected_account(hub_url, helpdesk))
        run_id = account.post(f"/v1/activations/{activation_id}/sync", json={}).json()["run_id"]
        wait_for(lambda: sync_run(account, run_id)["pages"] >= 2, "two pages written", 30)

        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed = time.monotonic()
        with running_hub(tmp_path, port, HUB_SETTINGS, log):
            print(f"serving again {time.monotonic() - killed:.1f} s after the kill")
            wait_for(
                lambda: sync_run(account, run_id)["status"] == "succeeded",
                "the sync",
                RESUMED_WITHIN,
            )
            print(f"the sync ended {time.monotonic() - killed:.1f} s after the kill")
            ids = [contact["external_id"] for contact in contacts_of(account)]
    assert len(ids) == CONTACTS
    assert len(set(ids)) == CONTACTS


def _stop_postgres(home: Path) -> None:
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        os.kill(postmaster_pid(home), signal.SIGINT)  # PostgreSQL's fast shutdown
