"""The systemd recipe: bridgehub-api.service and two instances of bridgehub-worker@.service,
started as systemd starts them (ExecStart, WorkingDirectory, Environment= and the example
EnvironmentFile) on one standalone PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import httpx

from bridgehub.demo.helpdesk import HELPDESK
from tests.conftest import ROOT, as_account
from tests.deployment.hub import (
    METRICS_TOKEN,
    hub_settings,
    log_path,
    ran_jobs,
    synced,
)
from tests.deployment.recipes import (
    API_UNIT,
    WORKER_UNIT,
    unit_process,
    write_settings,
)
from tests.helpdesk_fixtures import Helpdesk
from tests.metric_samples import Samples
from tests.processes import free_port
from tests.standalone_postgres import StandaloneServer

# Where the units expect the checkout, the data folder and the settings.
INSTALLED = "/opt/bridgehub"
DATA = "/var/lib/bridgehub"
SETTINGS_FILE = "/etc/bridgehub/bridgehub.env"


def test_the_api_unit_and_two_worker_instances_share_one_postgresql(
    tmp_path: Path, helpdesk: Helpdesk, standalone_postgres: StandaloneServer
) -> None:
    port = free_port()
    settings = tmp_path / "bridgehub.env"
    write_settings(settings, hub_settings(standalone_postgres.url, port))
    home = tmp_path / "home"
    home.mkdir(mode=0o700)  # as StateDirectory= makes it
    replacements = {INSTALLED: str(ROOT), DATA: str(home), SETTINGS_FILE: str(settings)}
    api = unit_process(API_UNIT, replacements)
    workers = [unit_process(WORKER_UNIT, replacements, instance) for instance in ("1", "2")]

    api_processes = int(api.argv[api.argv.index("--processes") + 1])
    hub_url = f"http://127.0.0.1:{port}"
    with synced([api, *workers], hub_url, helpdesk, tmp_path, api_processes):
        # The units of one machine share its metrics folder (in the data folder): the
        # API's /metrics counts the sync a worker unit ran.
        scraped = httpx.get(f"{hub_url}/metrics", headers=as_account(METRICS_TOKEN))
        samples = Samples.parse(scraped.text)
        succeeded = {"integration": HELPDESK, "kind": "contacts", "outcome": "succeeded"}
        assert samples.value("bridgehub_sync_runs_total", **succeeded) == 1
    # The API's processes ran no job.
    assert not ran_jobs(log_path(tmp_path, 0, api))
