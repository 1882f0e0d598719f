"""The container recipe: the Dockerfile's image run as a container runtime runs it (its ENV,
WORKDIR, ENTRYPOINT, CMD and HEALTHCHECK), the image's paths replaced by the checkout's
virtual environment and a data folder of the test's. Docker itself is not needed: the
image would hold the same environment as `make setup` makes, from the same uv.lock."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import ROOT
from tests.deployment.hub import (
    assert_stop_cleanly,
    hub_settings,
    log_path,
    ran_jobs,
    running,
    synced,
    wait_until_ready,
)
from tests.deployment.recipes import (
    DOCKERFILE,
    base_images,
    container_process,
    final_stage,
    healthcheck_process,
    instruction,
    read_environment_file,
    write_settings,
)
from tests.helpdesk_fixtures import Helpdesk
from tests.processes import free_port
from tests.standalone_postgres import StandaloneServer
from tests.test_serve import postgres_running

# The image's virtual environment and data folder.
VIRTUAL_ENVIRONMENT = "/app/.venv"
DATA = "/var/lib/bridgehub"


def test_the_image_is_slim_python_run_by_a_user_without_privileges() -> None:
    assert set(base_images(DOCKERFILE)) == {"python:3.11-slim"}
    stage = final_stage(DOCKERFILE)
    assert instruction(stage, "USER").partition(":")[0] not in {"root", "0"}
    exposed = instruction(stage, "EXPOSE")
    assert f"BRIDGEHUB_PORT={exposed}" in instruction(stage, "ENV").split()
    assert f"127.0.0.1:{exposed}/health/" in instruction(stage, "HEALTHCHECK")


def test_the_default_command_serves_one_box_on_its_embedded_database(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()  # the image makes it for its user
    port = free_port()
    replacements = _replacements(home, port)
    # `docker run --publish`: here the container's port is one of this machine's.
    hub = container_process(DOCKERFILE, replacements, {"BRIDGEHUB_PORT": str(port)})
    assert "DATABASE_URL" not in hub.environment
    probe = healthcheck_process(DOCKERFILE, replacements, hub)
    with running([hub], tmp_path) as started:
        wait_until_ready(f"http://127.0.0.1:{port}", started)
        healthcheck = subprocess.run(
            probe.argv, env=probe.environment, cwd=probe.directory, check=False, timeout=10
        )
        assert healthcheck.returncode == 0
        assert_stop_cleanly(started)
    assert not postgres_running(home)


def test_api_and_worker_containers_share_one_postgresql(
    tmp_path: Path, helpdesk: Helpdesk, standalone_postgres: StandaloneServer
) -> None:
    port = free_port()
    settings = tmp_path / "bridgehub.env"
    write_settings(settings, hub_settings(standalone_postgres.url, port))
    # `docker run --env-file bridgehub.env`, each container with its own volume.
    shared = read_environment_file(settings)
    api_home, worker_home = tmp_path / "api", tmp_path / "worker"
    api_home.mkdir()
    worker_home.mkdir()
    api = container_process(
        DOCKERFILE, _replacements(api_home, port), {**shared, "BRIDGEHUB_WORKERS": "0"}
    )
    worker = container_process(DOCKERFILE, _replacements(worker_home, port), shared, ["worker"])
    with synced([api, worker], f"http://127.0.0.1:{port}", helpdesk, tmp_path):
        pass
    assert not ran_jobs(log_path(tmp_path, 0, api))


def _replacements(home: Path, port: int) -> dict[str, str]:
    exposed = instruction(final_stage(DOCKERFILE), "EXPOSE")
    return {
        VIRTUAL_ENVIRONMENT: str(ROOT / ".venv"),
        DATA: str(home),
        f"127.0.0.1:{exposed}": f"127.0.0.1:{port}",
    }
