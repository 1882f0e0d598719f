"""`bridgehub serve` as people run it: its own embedded PostgreSQL, stopped and started again."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx

from tests.conftest import seed_integration
from tests.processes import free_port, running_hub


def startup_output(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    return stderr


def postgres_running(home: Path) -> bool:
    found = subprocess.run(["pgrep", "-f", str(home / "pgdata")], capture_output=True, check=False)
    return found.returncode == 0


def test_the_catalog_and_admin_key_survive_a_restart(tmp_path: Path) -> None:
    port = free_port()
    with running_hub(tmp_path, port) as first:
        output = startup_output(first)
    match = re.search(r"bh_admin_[A-Za-z0-9_-]+", output)
    assert match, output
    key = match.group(0)
    assert not postgres_running(tmp_path), "the embedded PostgreSQL must stop with the hub"

    headers = {"Authorization": f"Bearer {key}"}
    with running_hub(tmp_path, port):
        created = httpx.post(
            f"http://127.0.0.1:{port}/v1/integrations", json=seed_integration(), headers=headers
        )
        assert created.status_code == 201

    with running_hub(tmp_path, port) as third:
        listed = httpx.get(f"http://127.0.0.1:{port}/v1/integrations", headers=headers)
        assert listed.json() == {"items": [seed_integration()]}
        later_output = startup_output(third)
    # The key is shown once, when generated, and never again.
    assert "bh_admin_" not in later_output


def test_a_serving_process_leaves_its_startup_heap_out_of_garbage_collection(
    tmp_path: Path,
) -> None:
    # What one of `serve --processes N` builds: the app it imported and made lives as long
    # as the process, and collections no longer walk it (docs/performance.md).
    counted = (
        "import gc\n"
        "from bridgehub.serving import served_app\n"
        "before = gc.get_freeze_count()\n"
        "served_app()\n"
        "print(before, gc.get_freeze_count())\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", counted],
        env={**os.environ, "BRIDGEHUB_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        check=True,
    )
    before, after = map(int, found.stdout.split())
    assert before == 0
    assert after > 10_000
