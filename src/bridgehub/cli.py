"""The `bridgehub` command."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional
from urllib.parse import quote

import typer
import uvloop
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bridgehub import serving
from bridgehub.accounts.auth import ADMIN_KEY_PREFIX, new_key
from bridgehub.activations.models import Activation
from bridgehub.activations.service import activation_service
from bridgehub.bridge import NetworkPolicy
from bridgehub.bridge.schemas import message_schemas
from bridgehub.conformance import (
    DEFAULT_MAX_PAGES,
    RULES,
    UnusableFile,
    check_bridge,
    load_actions,
    load_activation,
    load_integration,
)
from bridgehub.conformance.report import report_table, rules_table, summary, trace_text
from bridgehub.db import migrate
from bridgehub.db.engine import create_engine, create_sessionmaker, database_url
from bridgehub.demo.stack import DemoStack, connect_demo_account, demo_stack
from bridgehub.integrations.configuration import json_schemas
from bridgehub.integrations.files import ConfigurationFile, check_files, kind_of
from bridgehub.integrations.openapi import bridge_openapi, configurations_of
from bridgehub.integrations.service import action_service, integration_service
from bridgehub.kit.errors import HubError, InvalidInput
from bridgehub.logs import configure_logging
from bridgehub.metrics import prepare_metrics_directory, start_metrics_server
from bridgehub.runtime import Runtime, freeze_startup_heap
from bridgehub.sdk.cli import BridgeNotFound, dumps, load_bridge, write_configuration_files
from bridgehub.settings import Settings, get_settings
from bridgehub.syncs import runner
from bridgehub.syncs.models import SyncKind, SyncRun, SyncStatus
from bridgehub.syncs.service import sync_service
from bridgehub.vault import KEY_FILE_NAME, Vault, add_key_to_file, vault_from_settings
from bridgehub.worker import open_runtime, process_name, work

app = typer.Typer(help="bridgehub: integrations hub for contact centers.", no_args_is_help=True)
catalog_app = typer.Typer(help="Manage the integration catalog.", no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")
keys_app = typer.Typer(help="Manage the keys that encrypt secrets at rest.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")

console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

Paths = Annotated[
    list[Path], typer.Argument(help="Configuration files, or folders of them.", show_default=False)
]


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Address to listen on.")] = None,  # noqa: UP045
    port: Annotated[Optional[int], typer.Option(help="Port to listen on.")] = None,  # noqa: UP045
    processes: Annotated[
        int, typer.Option(min=1, help="API processes sharing the port (uvicorn's supervisor).")
    ] = 1,
) -> None:
    """Run the hub: API, migrations, a worker in each process (unless BRIDGEHUB_WORKERS=0)
    and, without DATABASE_URL, the embedded PostgreSQL."""
    settings = get_settings()
    prepare_metrics_directory(settings)
    serving.serve(
        settings, host=host or settings.host, port=port or settings.port, processes=processes
    )


@app.command()
def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs run at once.")] = 4,
    queue: Annotated[
        Optional[list[str]],  # noqa: UP045
        typer.Option(
            help="Only jobs of this queue (sync, actions, maintenance); repeatable. All by default."
        ),
    ] = None,
    metrics_port: Annotated[
        Optional[int],  # noqa: UP045
        typer.Option(
            help="Serve /metrics on this port (at BRIDGEHUB_HOST), for a worker whose "
            "machine runs no `bridgehub serve`."
        ),
    ] = None,
) -> None:
    """Run background jobs (syncs, actions, scheduling) alone; any number of workers, on any
    number of machines, share the database's queue."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    prepare_metrics_directory(settings)
    if metrics_port is not None:
        start_metrics_server(settings.host, metrics_port, settings.metrics_token)
    # uvloop, as `serve` runs on through uvicorn: less CPU per bridge call and statement.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(_work(settings, concurrency, queue))


async def _work(settings: Settings, concurrency: int, queues: list[str] | None) -> None:
    async with open_runtime(settings) as runtime:
        freeze_startup_heap()
        await work(runtime, concurrency=concurrency, name=process_name("worker"), queues=queues)


@app.command(name="sync")
def sync_command(
    activation_id: Annotated[uuid.UUID, typer.Argument(help="The activation to synchronize.")],
    what: Annotated[SyncKind, typer.Option(help="What to synchronize.")] = SyncKind.CONTACTS,
    full: Annotated[
        bool,
        typer.Option(
            "--full", help="Every contact, not only changes; those the bridge lost are removed."
        ),
    ] = False,
) -> None:
    """Synchronize an activation now, in the foreground, with progress."""
    settings = get_settings()
    configure_logging("warning", settings.log_format)
    run = asyncio.run(_sync_in_foreground(settings, activation_id, what, full))
    table = Table(
        "run",
        "status",
        "pages",
        "created",
        "updated",
        "unchanged",
        "rejected",
        "deleted",
        "seconds",
    )
    seconds = (
        (run.finished_at - run.started_at).total_seconds()
        if run.finished_at and run.started_at
        else 0.0
    )
    table.add_row(
        str(run.id),
        run.status,
        *(
            str(n)
            for n in (run.pages, run.created, run.updated, run.unchanged, run.rejected, run.deleted)
        ),
        f"{seconds:.1f}",
    )
    console.print(table)
    if run.status != SyncStatus.SUCCEEDED:
        _fail(f"The sync failed: {run.error}")


async def _sync_in_foreground(
    settings: Settings, activation_id: uuid.UUID, what: SyncKind, full: bool
) -> SyncRun:
    async with open_runtime(settings) as runtime:
        async with runtime.sessionmaker() as session:
            activation = await session.get(Activation, activation_id)
            if activation is None:
                _fail(f"No activation {activation_id}.")
            try:
                run = await sync_service.request(
                    session, activation, what, trigger="manual", full=full
                )
            except HubError as error:
                _fail_with(error)
            await session.commit()
        # Carried out here; the queued job finds the run finished and does nothing.
        carrying_out = asyncio.create_task(runner.perform(runtime, run.id, run.account_id))
        with Progress(
            SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console
        ) as progress:
            shown = progress.add_task("waiting", total=None)
            while not carrying_out.done():
                await asyncio.sleep(0.25)
                progress.update(shown, description=await _progress_line(runtime, run.id))
        await carrying_out
        async with runtime.sessionmaker() as session:
            return await session.get_one(SyncRun, run.id)


async def _progress_line(runtime: Runtime, run_id: uuid.UUID) -> str:
    async with runtime.sessionmaker() as session:
        run = await session.get_one(SyncRun, run_id)
    contacts = run.created + run.updated + run.unchanged
    elapsed = (datetime.now(UTC) - run.started_at).total_seconds() if run.started_at else 0.0
    rate = contacts / elapsed if elapsed > 0 else 0.0
    return (
        f"{run.status}: {run.pages} pages, {contacts} {run.kind} ({rate:,.0f}/s), "
        f"{run.rejected} rejected"
    )


@app.command()
def validate(paths: Paths) -> None:
    """Check configuration files offline; exit 1 when any is invalid."""
    files = check_files(paths)
    if not files:
        _fail("No configuration files found.")
    _report(files)
    invalid = sum(not f.valid for f in files)
    if invalid:
        errors.print(f"[red]{_invalid_count(invalid, len(files))}[/red]")
        raise typer.Exit(1)
    console.print(
        "[green]The file is valid.[/green]"
        if len(files) == 1
        else f"[green]All {len(files)} files are valid.[/green]"
    )


@app.command()
def schema(
    name: Annotated[
        Optional[str],  # noqa: UP045 (Typer reads the annotation at run time)
        typer.Argument(
            help="integration, action, or a bridge protocol message such as "
            "contact-sync-response; every name is listed when omitted.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Optional[Path],  # noqa: UP045 (Typer reads the annotation at run time)
        typer.Option(
            help="Write the schema (every one when no name is given) into this folder instead, "
            "laid out as the hub serves them under /schemas/.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print the JSON Schema of a configuration kind or of a bridge protocol message."""
    schemas = _published_schemas(get_settings().public_url)
    if name is not None and name not in schemas:
        _fail(f"Unknown schema {name!r}; choose one of: {', '.join(schemas)}.")
    chosen = schemas if name is None else {name: schemas[name]}
    if output is not None:
        for path, document in chosen.values():
            written = output / path
            written.parent.mkdir(parents=True, exist_ok=True)
            written.write_text(json.dumps(document, indent=2) + "\n")
            console.print(f"[green]✓[/green] {written}")
    elif name is None:
        width = max(map(len, schemas))
        for listed, (path, _) in schemas.items():
            print(f"{listed:<{width}}  /schemas/{path}")
    else:
        print(json.dumps(schemas[name][1], indent=2))


def _published_schemas(public_url: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Every JSON Schema the hub serves, by name: where under /schemas/, and the schema."""
    configurations = {kind: (f"{kind}.json", found) for kind, found in json_schemas().items()}
    messages = {
        name: (f"bridge/{name}.json", found) for name, found in message_schemas(public_url).items()
    }
    return configurations | messages


@app.command(name="bridge-config")
def bridge_config(
    target: Annotated[
        str, typer.Argument(help="The bridge, as module:attribute (e.g. desk:bridge).")
    ],
    base_url: Annotated[str, typer.Option(help="Where the bridge is served.")],
    out: Annotated[
        Optional[Path],  # noqa: UP045 (Typer reads the annotation at run time)
        typer.Option(help="Write one file per configuration here instead of printing them."),
    ] = None,
) -> None:
    """Generate the integration and action configurations of a bridge built with
    bridgehub.sdk, from its own declarations."""
    try:
        bridge = load_bridge(target)
        if out is None:
            print(dumps(bridge.configurations(base_url)), end="")
            return
        written = write_configuration_files(bridge, base_url, out)
    except (BridgeNotFound, ValueError) as error:  # ValueError: a bad URL or declaration
        _fail(str(error))
    for path in written:
        console.print(f"[green]✓[/green] {path}")


@app.command(name="bridge-openapi")
def bridge_openapi_command(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="The integration configuration and its actions' (files, or folders of them).",
            metavar="CONFIG...",
            show_default=False,
        ),
    ],
) -> None:
    """Print the OpenAPI 3.1 document of a bridge, generated from its integration
    configuration and its actions' configurations, to generate a server stub from."""
    files = _valid_files(paths, "No OpenAPI document was made")
    try:
        document = bridge_openapi(*configurations_of(files))
    except HubError as error:
        _fail_with(error)
    print(json.dumps(document, indent=2))


@app.command(name="migrate")
def migrate_command() -> None:
    """Apply database migrations and exit (the hub also applies them on start)."""
    with database_url(get_settings()) as url:
        migrate.upgrade(url)
    console.print("Database schema is up to date.")


@catalog_app.command("load")
def catalog_load(paths: Paths) -> None:
    """Register (or update) every configuration found in the given files and folders.

    All or nothing: when any file is invalid, nothing is registered.
    """
    _register([(str(file.path), file.document) for file in _valid_files(paths)])


def _valid_files(
    paths: list[Path], outcome: str = "Nothing was registered"
) -> list[ConfigurationFile]:
    """The configuration files found, or the problems of the invalid ones and `outcome`."""
    files = check_files(paths)
    if not files:
        _fail("No configuration files found.")
    if any(not f.valid for f in files):
        _report(files)
        _fail(f"{outcome}: fix the problems above first.")
    return files


def _register(documents: list[tuple[str, Any]]) -> None:
    """Save labelled configuration documents in one transaction and show the outcome."""
    settings = get_settings()
    with database_url(settings) as url:
        migrate.upgrade(url)
        try:
            outcomes = asyncio.run(_save(url, vault_from_settings(settings), documents))
        except HubError as error:
            _fail_with(error)
    table = Table("source", "kind", "name", "outcome")
    for (label, document), outcome in zip(documents, outcomes, strict=True):
        table.add_row(label, kind_of(document), document["name"], outcome)
    console.print(table)


async def _save(url: str, vault: Vault, documents: list[tuple[str, Any]]) -> list[str]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            outcomes: dict[int, str] = {}
            # Integrations first: actions refer to them.
            order = sorted(
                range(len(documents)), key=lambda i: kind_of(documents[i][1]) != "integration"
            )
            for index in order:
                label, document = documents[index]
                try:
                    if kind_of(document) == "integration":
                        _, outcomes[index] = await integration_service.save(
                            session, vault, document
                        )
                    else:
                        _, outcomes[index] = await action_service.save(session, document)
                except InvalidInput as error:
                    error.message = f"{label}: {error.message}"
                    raise
            return [outcomes[index] for index in range(len(documents))]
    finally:
        await engine.dispose()


@app.command(name="check-bridge")
def check_bridge_command(
    config: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Argument(
            help="The integration configuration (JSON).", metavar="CONFIG", show_default=False
        ),
    ] = None,
    credentials: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(help="The test credentials (JSON, see above).", show_default=False),
    ] = None,
    actions: Annotated[
        Optional[Path],  # noqa: UP045
        typer.Option(
            help="Action samples (JSON, see above); without it actions are not called.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    allow_private_networks: Annotated[
        bool,
        typer.Option(
            "--allow-private-networks",
            help="Let the bridge be on loopback or a private network, over plain HTTP too.",
        ),
    ] = False,
    max_pages: Annotated[
        int, typer.Option(min=1, help="Pages a contact sync run may take before it fails.")
    ] = DEFAULT_MAX_PAGES,
    list_rules: Annotated[
        bool, typer.Option("--list-rules", help="List the rules checked, and exit.")
    ] = False,
    trace: Annotated[
        bool,
        typer.Option(
            "--trace",
            help="Show every request sent and every answer, secrets masked (with --json: "
            "under exchanges).",
        ),
    ] = False,
) -> None:
    """Check a bridge against the bridge protocol, as the hub would call it.

    Every endpoint of CONFIG is called with the auth object an activation made with the
    test credentials would send, and every rule is judged (see --list-rules). Exit code 0:
    the bridge conforms; 1: some rule failed; 2: the input files cannot be used.

    CREDENTIALS file: {"fields": {...}, "oauth": {...}}. "fields" holds what a person
    types in the activation form, by field name (formats and defaults apply as in the
    hub). "oauth", for oauth2 integrations only, holds the token answer: "access_token"
    and any extra values (such as "instance_url") filling the type-oauth fields of the
    same name; "code" for a bridge that exchanges the authorization code itself.

    ACTIONS file: {"actions": [{"configuration": "create_ticket.action.json", "valid":
    [{"data": {...}, "contact_external_id": "1", "agent_external_id": "7"}], "invalid":
    [{"data": {...}}]}]}. "configuration" is the action configuration or its path
    (relative to the file). Valid samples must be carried out (2xx), invalid ones refused
    (400 with a message): they change the external system, so use a test account.
    """
    if list_rules:
        if as_json:
            print(json.dumps([{"id": r.id, "description": r.description} for r in RULES], indent=2))
        else:
            console.print(rules_table())
        return
    if config is None or credentials is None:
        errors.print("Give CONFIG and --credentials CREDS.json (or --list-rules).")
        raise typer.Exit(2)
    # Bridge calls log to stderr only, so that --json stays clean.
    configure_logging("error", "console")
    try:
        integration = load_integration(config)
        activation = load_activation(credentials, integration)
        samples = None if actions is None else load_actions(actions, integration)
    except UnusableFile as error:
        errors.print(
            "\n".join(
                [
                    error.message,
                    *(f"    {p.path or '(document)'}: {p.message}" for p in error.problems),
                ]
            ),
            markup=False,
            highlight=False,
        )
        raise typer.Exit(2) from None
    policy = NetworkPolicy(
        allow_private_networks=allow_private_networks, allow_http=allow_private_networks
    )
    report = asyncio.run(
        check_bridge(activation, samples, policy=policy, max_pages=max_pages, trace=trace)
    )
    if as_json:
        print(json.dumps(report.as_json(), indent=2))
    else:
        if trace:
            console.print(trace_text(report), markup=False, highlight=False)
            console.print()
        console.print(report_table(report))
        console.print(summary(report))
    if not report.conforms:
        raise typer.Exit(1)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Seal every stored secret again under the newest key.

    With BRIDGEHUB_ENCRYPTION_KEYS, put the new key first there and run this; with the
    key file in BRIDGEHUB_HOME, this adds a new key to it first.
    """
    settings = get_settings()
    if settings.encryption_keys is None:
        key = add_key_to_file(settings.home)
        console.print(f"Added key {key.id} to {settings.home / KEY_FILE_NAME}.")
    vault = vault_from_settings(settings)
    with database_url(settings) as url:
        migrate.upgrade(url)
        count = asyncio.run(_reseal(url, vault))
    console.print(f"Sealed {count} secrets again under key {vault.current_key_id}.")


async def _reseal(url: str, vault: Vault) -> int:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            integrations = await integration_service.reseal_secrets(session, vault)
            return integrations + await activation_service.reseal_secrets(session, vault)
    finally:
        await engine.dispose()


@app.command()
def demo(
    catalog: Annotated[Path, typer.Option(help="Folder of configurations to load.")] = Path(
        "examples/catalog"
    ),
) -> None:
    """Run the hub on the embedded database beside a demo bridge and OAuth 2.0 provider,
    with the example catalog and the demo integrations loaded."""
    settings = _demo_settings()
    with demo_stack(settings.public_url) as stack:
        files = _valid_files([catalog])
        stack_documents = [(f"demo bridge {stack.bridge_url}", d) for d in stack.documents]
        _register([(str(f.path), f.document) for f in files] + stack_documents)
        account_key = _demo_account(settings, stack)
        _print_demo_guide(settings, stack, account_key)
        serve(host=None, port=None)


def _demo_account(settings: Settings, stack: DemoStack) -> str:
    """The demo account's key, kept in the data folder so the account outlives restarts."""
    key_file = settings.home / "demo-account-key"
    known = key_file.read_text().strip() if key_file.exists() else None
    key = asyncio.run(_connect_demo_account(settings, stack, known))
    if key != known:
        _write_private(key_file, key)
    return key


async def _connect_demo_account(settings: Settings, stack: DemoStack, known: str | None) -> str:
    async with open_runtime(settings) as runtime:
        return await connect_demo_account(runtime, stack, known)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(text)


def _demo_settings() -> Settings:
    """The demo's bridges live on loopback over plain HTTP, which the hub refuses by
    default; and it keeps one admin key across restarts, in its data folder."""
    os.environ.setdefault("BRIDGEHUB_ALLOW_PRIVATE_NETWORKS", "true")
    os.environ.setdefault("BRIDGEHUB_ALLOW_HTTP", "true")
    home = get_settings().home
    key_file = home / "demo-admin-key"
    if "BRIDGEHUB_ADMIN_KEY" not in os.environ:
        if not key_file.exists():
            _write_private(key_file, new_key(ADMIN_KEY_PREFIX))
        os.environ["BRIDGEHUB_ADMIN_KEY"] = key_file.read_text().strip()
    get_settings.cache_clear()
    return get_settings()


def _print_demo_guide(settings: Settings, stack: DemoStack, account_key: str) -> None:
    hub = f"http://{settings.host}:{settings.port}"
    admin_key = settings.admin_key.get_secret_value() if settings.admin_key else ""
    as_account = f"-H 'Authorization: Bearer {account_key}'"
    missed_call = _demo_event("call.missed", {"from": stack.caller, "to": "+15555550100"})
    call = {"id": f"call-{uuid.uuid4().hex[:8]}", "from": stack.caller}
    recording = f"https://recordings.example/{call['id']}.mp3"
    call_ended = _demo_event(
        "call.finished", call | {"duration_seconds": 95, "recording_url": recording}
    )
    call_dispositioned = _demo_event(
        "call.dispositioned", call | {"disposition": "Resolved", "notes": "Refund sent."}
    )
    console.print(
        f"""
[bold]bridgehub demo[/bold] at {hub}  (API docs: {hub}/docs)
  open             {hub}/ui/  and sign in with the demo account's key (or the admin key)
  admin key        {admin_key}
  demo account     {account_key}
                   (the demo helpdesk is connected; its contacts and agents sync now)
  demo bridge      {stack.bridge_url}  (integrations demo-helpdesk and demo-crm)
  OAuth provider   {stack.provider_url}

Try it:
  who is calling?  curl -s {as_account} '{hub}/v1/lookup?phone={quote(stack.caller)}'
  contacts         curl -s {as_account} '{hub}/v1/contacts?limit=5'
  sync runs        curl -s {as_account} {hub}/v1/sync-runs
  a missed call    curl -s {as_account} -d '{missed_call}' {hub}/v1/events
                   (the "missed call → create a ticket" automation runs; see the ticket's
                   execution at {hub}/v1/executions)
  a screen pop     {hub}/ui/screen-pop?phone={quote(stack.caller)}
  connect the CRM  from the catalog in the UI ("Connect with Demo CRM"), or open the
                   authorize_url this answers in a browser:
                   curl -s {as_account} -d '{{"integration": "demo-crm"}}' {hub}/v1/activations
  a call, logged   once the CRM is connected: the call ends, then the agent dispositions it
                   curl -s {as_account} -d '{call_ended}' {hub}/v1/events
                   curl -s {as_account} -d '{call_dispositioned}' {hub}/v1/events
                   (the CRM logs the call once, and adds the disposition to that record)
""",
        markup=True,
        highlight=False,
    )


def _demo_event(kind: str, call: dict[str, Any]) -> str:
    """An event to paste, with an id of its own: posting it again does nothing."""
    return json.dumps({"id": f"demo-{uuid.uuid4().hex[:8]}", "type": kind, "call": call})


def _report(files: list[ConfigurationFile]) -> None:
    for file in files:
        label = f"{file.kind} {file.name}" if file.name else (file.kind or "")
        if file.valid:
            console.print(f"[green]✓[/green] {file.path} ({label})")
        else:
            errors.print(f"[red]✗[/red] {file.path}" + (f" ({file.kind})" if file.kind else ""))
        for problem in file.problems:
            errors.print(
                f"    {problem.path or '(document)'}: {problem.message}",
                markup=False,
                highlight=False,
            )
        for note in file.notes:
            console.print(f"    note: {note}", markup=False, highlight=False)


def _invalid_count(invalid: int, files: int) -> str:
    if files == 1:
        return "The file is invalid."
    return f"{invalid} of {files} files {'is' if invalid == 1 else 'are'} invalid."


def _fail_with(error: HubError) -> NoReturn:
    lines = [
        error.message,
        *(f"    {d['path'] or '(document)'}: {d['message']}" for d in error.details),
    ]
    _fail("\n".join(lines))


def _fail(message: str) -> NoReturn:
    errors.print(message, markup=False, highlight=False)
    raise typer.Exit(1)
