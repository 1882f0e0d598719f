"""Every setting the hub reads is in the settings table of docs/deployment.md with its
default, and the table and the example environment file name no setting that does not
exist: the documentation cannot drift from `Settings`."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices
from pydantic.fields import FieldInfo

from bridgehub.settings import Settings
from tests.conftest import ROOT
from tests.deployment.recipes import ENVIRONMENT_EXAMPLE, named_settings

DEPLOYMENT = ROOT / "docs" / "deployment.md"
_NAME = re.compile(r"`([A-Z][A-Z0-9_]*)`")
_CODE = re.compile(r"`([^`]*)`")


def environment_names(field_name: str, field: FieldInfo) -> list[str]:
    """The variables a setting is read from: its aliases, or the prefixed field name."""
    if isinstance(field.validation_alias, AliasChoices):
        return [choice for choice in field.validation_alias.choices if isinstance(choice, str)]
    return [f"{Settings.model_config.get('env_prefix', '')}{field_name.upper()}"]


def documented_defaults(markdown: Path) -> dict[str, str]:
    """Variable → default, from the rows of the "Settings" table (a row may name several
    variables, with one default for all or one each, in the same order)."""
    section = markdown.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    defaults: dict[str, str] = {}
    for row in re.findall(r"^\|(.+)\|$", section, re.MULTILINE):
        names, default, *_ = (cell.strip() for cell in row.split("|"))
        values = _CODE.findall(default) or [default]
        for index, name in enumerate(_NAME.findall(names)):
            defaults[name] = values[min(index, len(values) - 1)]
    return defaults


def shown(default: object) -> str:
    """A default as the table writes it."""
    if default is None:
        return "unset"
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)


SETTINGS = {name: environment_names(name, field) for name, field in Settings.model_fields.items()}
KNOWN = {variable for names in SETTINGS.values() for variable in names}


def test_every_setting_is_in_the_table_with_its_default() -> None:
    table = documented_defaults(DEPLOYMENT)
    for name, field in Settings.model_fields.items():
        documented = [variable for variable in SETTINGS[name] if variable in table]
        assert documented, f"docs/deployment.md's settings table lacks {SETTINGS[name][0]}"
        assert table[documented[0]] == shown(field.default), documented[0]


def test_the_table_names_only_settings_that_exist() -> None:
    assert set(documented_defaults(DEPLOYMENT)) <= KNOWN


def test_the_example_environment_file_names_only_settings_that_exist() -> None:
    assert set(named_settings(ENVIRONMENT_EXAMPLE)) <= KNOWN
