"""Reading the checker's input files: the integration configuration, the test credentials
and the action samples. Each problem is reported with its path, all at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bridgehub.conformance.credentials import TrialActivation, trial_activation
from bridgehub.conformance.schemas import ActionSample, CredentialsFile, SamplesFile
from bridgehub.integrations.configuration import (
    ActionConfiguration,
    IntegrationConfiguration,
    validate_action,
    validate_integration,
)
from bridgehub.integrations.files import read_file
from bridgehub.kit.errors import InvalidInput, Problem
from bridgehub.kit.messages import plain_message
from bridgehub.kit.paths import format_path


class UnusableFile(InvalidInput):
    code = "unusable_file"


@dataclass(frozen=True)
class ActionUnderCheck:
    configuration: ActionConfiguration
    valid: tuple[ActionSample, ...]
    invalid: tuple[ActionSample, ...]


def load_integration(path: Path) -> IntegrationConfiguration:
    return _located(path, validate_integration, _document(path))


def load_activation(path: Path, configuration: IntegrationConfiguration) -> TrialActivation:
    credentials = _model(path, CredentialsFile)
    return _located(path, lambda c: trial_activation(configuration, c), credentials)


def load_actions(path: Path, integration: IntegrationConfiguration) -> tuple[ActionUnderCheck, ...]:
    samples = _model(path, SamplesFile)
    problems: list[Problem] = []
    actions: list[ActionUnderCheck] = []
    for index, entry in enumerate(samples.actions):
        where = f"actions[{index}]"
        try:
            configuration = _action_configuration(path, entry.configuration, integration)
        except InvalidInput as invalid:
            problems += [
                Problem(f"{where}.configuration{_under(p.path)}", p.message)
                for p in invalid.problems
            ]
            continue
        for kind, listed in (("valid", entry.valid), ("invalid", entry.invalid)):
            for number, sample in enumerate(listed):
                problems += _sample_problems(configuration, sample, f"{where}.{kind}[{number}]")
        actions.append(ActionUnderCheck(configuration, tuple(entry.valid), tuple(entry.invalid)))
    if problems:
        raise UnusableFile(f"{path}: the action samples cannot be used.", problems)
    return tuple(actions)


def _action_configuration(
    samples_path: Path, given: str | dict[str, Any], integration: IntegrationConfiguration
) -> ActionConfiguration:
    document = given if isinstance(given, dict) else _document(samples_path.parent / given)
    return validate_action(document, providers={integration.name})


def _sample_problems(
    configuration: ActionConfiguration, sample: ActionSample, where: str
) -> list[Problem]:
    """The hub sends only the action's inputs, and never without the mandatory ones."""
    keys = {each.key for each in configuration.inputs}
    unknown = [
        Problem(
            f"{where}.data.{key}",
            f"is not an input of {configuration.name}; its inputs "
            f"are: {', '.join(sorted(keys)) or 'none'}",
        )
        for key in sample.data
        if key not in keys
    ]
    missing = [
        Problem(
            f"{where}.data.{each.key}",
            "is a mandatory input; the hub never runs the action without it",
        )
        for each in configuration.inputs
        if each.mandatory and _blank(sample.data.get(each.key))
    ]
    return unknown + missing


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _document(path: Path) -> Any:
    file = read_file(path)
    if file.problems:
        raise UnusableFile(f"{path} cannot be read.", file.problems)
    return file.document


Model = TypeVar("Model", bound=BaseModel)
Result = TypeVar("Result")
Given = TypeVar("Given")


def _model(path: Path, model: type[Model]) -> Model:
    document = _document(path)
    try:
        return model.model_validate(document)
    except ValidationError as error:
        problems = [
            Problem(format_path(detail["loc"]), plain_message(detail))
            for detail in error.errors(include_url=False)
        ]
        raise UnusableFile(f"{path} is not a valid {_kind(model)} file.", problems) from None


def _kind(model: type[BaseModel]) -> str:
    return "credentials" if model is CredentialsFile else "action samples"


def _located(path: Path, use: Callable[[Given], Result], given: Given) -> Result:
    """`use(given)`, with any invalid input reported as a problem of the file at `path`."""
    try:
        return use(given)
    except InvalidInput as invalid:
        raise UnusableFile(f"{path}: {invalid.message}", invalid.problems) from None


def _under(path: str) -> str:
    if not path:
        return ""
    return path if path.startswith("[") else "." + path
