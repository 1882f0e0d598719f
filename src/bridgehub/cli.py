"""The `bridgehub` command."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from bridgehub.accounts.auth import ADMIN_KEY_PREFIX
from bridgehub.activations.service import activation_service
from bridgehub.app import create_app
from bridgehub.db import migrate
from bridgehub.db.engine import create_engine, create_sessionmaker, database_url
from bridgehub.integrations.configuration import json_schemas
from bridgehub.integrations.files import ConfigurationFile, check_files
from bridgehub.integrations.service import action_service, integration_service
from bridgehub.kit.errors import HubError, InvalidInput
from bridgehub.logs import configure_logging
from bridgehub.settings import Settings, get_settings
from bridgehub.vault import KEY_FILE_NAME, Vault, add_key_to_file, vault_from_settings

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
) -> None:
    """Run the hub: API, migrations and (without DATABASE_URL) the embedded PostgreSQL."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level,
        log_config=None,  # keep our logging, which scrubs secrets
        proxy_headers=True,
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
        errors.print(f"[red]{invalid} of {len(files)} files are invalid.[/red]")
        raise typer.Exit(1)
    console.print(f"[green]All {len(files)} files are valid.[/green]")


@app.command()
def schema(
    kind: Annotated[
        str | None, typer.Argument(help="integration or action; both when omitted.")
    ] = None,
) -> None:
    """Print the JSON Schema of the configurations."""
    schemas = json_schemas()
    if kind is not None and kind not in schemas:
        _fail(f"Unknown kind {kind!r}; choose one of: {', '.join(schemas)}.")
    print(json.dumps(schemas[kind] if kind else schemas, indent=2))


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
    files = check_files(paths)
    if not files:
        _fail("No configuration files found.")
    if any(not f.valid for f in files):
        _report(files)
        _fail("Nothing was registered: fix the problems above first.")
    settings = get_settings()
    with database_url(settings) as url:
        migrate.upgrade(url)
        try:
            outcomes = asyncio.run(_load(url, vault_from_settings(settings), files))
        except HubError as error:
            _fail_with(error)
    table = Table("file", "kind", "name", "outcome")
    for file, outcome in zip(files, outcomes, strict=True):
        table.add_row(str(file.path), file.kind, file.name, outcome)
    console.print(table)


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
    """Start a demo hub on the embedded database with the example catalog loaded."""
    settings = get_settings()
    with _demo_environment(settings) as demo_settings:
        catalog_load([catalog])
        url = f"http://{demo_settings.host}:{demo_settings.port}"
        admin_key = demo_settings.admin_key.get_secret_value() if demo_settings.admin_key else ""
        console.print(
            f"\n[bold]bridgehub demo[/bold] at {url}\n"
            f"  admin key:  {admin_key}\n"
            f"  API docs:   {url}/docs\n"
            f"  catalog:    curl -H 'Authorization: Bearer {admin_key}' {url}/v1/integrations\n"
        )
        serve(host=None, port=None)


@contextmanager
def _demo_environment(settings: Settings) -> Iterator[Settings]:
    """Keep one admin key for the demo across restarts, in the data folder."""
    key_file = settings.home / "demo-admin-key"
    if settings.admin_key is None:
        settings.home.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(ADMIN_KEY_PREFIX + secrets.token_urlsafe(32))
        os.environ["BRIDGEHUB_ADMIN_KEY"] = key_file.read_text().strip()
    get_settings.cache_clear()
    yield get_settings()


async def _load(url: str, vault: Vault, files: list[ConfigurationFile]) -> list[str]:
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            # Integrations first: actions refer to them.
            outcomes: dict[Path, str] = {}
            for file in sorted(files, key=lambda f: f.kind != "integration"):
                try:
                    if file.kind == "integration":
                        _, outcomes[file.path] = await integration_service.save(
                            session, vault, file.document
                        )
                    else:
                        _, outcomes[file.path] = await action_service.save(session, file.document)
                except InvalidInput as error:
                    error.message = f"{file.path}: {error.message}"
                    raise
            return [outcomes[file.path] for file in files]
    finally:
        await engine.dispose()


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


def _fail_with(error: HubError) -> NoReturn:
    lines = [
        error.message,
        *(f"    {d['path'] or '(document)'}: {d['message']}" for d in error.details),
    ]
    _fail("\n".join(lines))


def _fail(message: str) -> NoReturn:
    errors.print(message, markup=False, highlight=False)
    raise typer.Exit(1)
