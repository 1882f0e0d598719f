"""The `bridgehub` command."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Annotated, Any, NoReturn, Optional

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from bridgehub.accounts.auth import ADMIN_KEY_PREFIX, new_key
from bridgehub.activations.service import activation_service
from bridgehub.app import create_app
from bridgehub.db import migrate
from bridgehub.db.engine import create_engine, create_sessionmaker, database_url
from bridgehub.demo.stack import DemoStack, demo_stack
from bridgehub.integrations.configuration import json_schemas
from bridgehub.integrations.files import ConfigurationFile, check_files, kind_of
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
    _register([(str(file.path), file.document) for file in _valid_files(paths)])


def _valid_files(paths: list[Path]) -> list[ConfigurationFile]:
    files = check_files(paths)
    if not files:
        _fail("No configuration files found.")
    if any(not f.valid for f in files):
        _report(files)
        _fail("Nothing was registered: fix the problems above first.")
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
        _print_demo_guide(settings, stack)
        serve(host=None, port=None)


def _demo_settings() -> Settings:
    """The demo's bridges live on loopback over plain HTTP, which the hub refuses by
    default; and it keeps one admin key across restarts, in its data folder."""
    os.environ.setdefault("BRIDGEHUB_ALLOW_PRIVATE_NETWORKS", "true")
    os.environ.setdefault("BRIDGEHUB_ALLOW_HTTP", "true")
    home = get_settings().home
    key_file = home / "demo-admin-key"
    if "BRIDGEHUB_ADMIN_KEY" not in os.environ:
        home.mkdir(parents=True, exist_ok=True)
        if not key_file.exists():
            descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as handle:
                handle.write(new_key(ADMIN_KEY_PREFIX))
        os.environ["BRIDGEHUB_ADMIN_KEY"] = key_file.read_text().strip()
    get_settings.cache_clear()
    return get_settings()


def _print_demo_guide(settings: Settings, stack: DemoStack) -> None:
    hub = f"http://{settings.host}:{settings.port}"
    admin_key = settings.admin_key.get_secret_value() if settings.admin_key else ""
    subdomain = stack.login.url.removeprefix("https://").split(".", 1)[0]
    activation = json.dumps(
        {
            "integration": "demo-helpdesk",
            "auth": {
                "subdomain": subdomain,
                "email": stack.login.email,
                "api_token": stack.login.api_token,
            },
        }
    )
    as_account = "-H 'Authorization: Bearer ACCOUNT_KEY'"
    console.print(
        f"""
[bold]bridgehub demo[/bold] at {hub}  (API docs: {hub}/docs)
  admin key        {admin_key}
  demo bridge      {stack.bridge_url}  (integrations demo-helpdesk and demo-crm)
  OAuth provider   {stack.provider_url}

Try it:
  1. create an account, and keep the api_key it answers:
     curl -s -H 'Authorization: Bearer {admin_key}' -d '{{"name": "Acme"}}' {hub}/v1/accounts
  2. connect the demo helpdesk with its demo credentials:
     curl -s {as_account} -d '{activation}' {hub}/v1/activations
  3. connect the demo CRM, then open the authorize_url it answers in a browser:
     curl -s {as_account} -d '{{"integration": "demo-crm"}}' {hub}/v1/activations
""",
        markup=True,
        highlight=False,
    )


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
