"""What the checker reads (the credentials and action samples files) and what it answers
(a report of findings)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bridgehub.conformance.trace import TracedExchange

JsonScalar = str | int | float | bool


class _File(BaseModel):
    # Written by a person: a typo'd key or "1" for 1 is a mistake to point at.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class CredentialsFile(_File):
    """The test credentials of one integration."""

    fields: dict[str, str] = Field(
        default_factory=dict,
        description="What a person types in the activation form, by field name.",
    )
    oauth: dict[str, JsonScalar] | None = Field(
        default=None,
        description="oauth2 integrations only: the token answer, with `access_token` and any "
        "extra values (such as `instance_url`) that fill `type: oauth` fields of that name; "
        "`code` instead for integrations whose bridge exchanges the code itself.",
    )


class ActionSample(_File):
    data: dict[str, Any] = Field(description="The action's inputs, by key.")
    contact_external_id: str | None = None
    agent_external_id: str | None = None


class ActionSamples(_File):
    configuration: str | dict[str, Any] = Field(
        description="The action configuration, or the path of its file (relative to the "
        "samples file)."
    )
    valid: list[ActionSample] = Field(
        default_factory=list, description="Inputs the bridge must carry out (2xx)."
    )
    invalid: list[ActionSample] = Field(
        default_factory=list, description="Inputs the bridge must refuse (400 with a message)."
    )


class SamplesFile(_File):
    actions: list[ActionSamples]


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    FAIL = "fail"
    SKIP = "skip"
    """The rule was not checked: the endpoint is not configured, or an earlier failure
    stopped the check of that endpoint."""


@dataclass(frozen=True)
class Finding:
    rule: str
    endpoint: str
    """The configuration key of the endpoint (`contact_synchronization_endpoint`), or
    `action <name>`."""
    url: str | None
    verdict: Verdict
    message: str

    def as_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "endpoint": self.endpoint,
            "url": self.url,
            "verdict": self.verdict.value,
            "message": self.message,
        }


@dataclass(frozen=True)
class Report:
    integration: str
    findings: tuple[Finding, ...]
    exchanges: tuple[TracedExchange, ...] | None = None
    """Every request and answer, secrets masked, when traced."""

    @property
    def conforms(self) -> bool:
        return all(finding.verdict != Verdict.FAIL for finding in self.findings)

    @property
    def failed_rules(self) -> list[str]:
        return list(dict.fromkeys(f.rule for f in self.findings if f.verdict == Verdict.FAIL))

    def counts(self) -> dict[str, int]:
        return {
            verdict.value: sum(f.verdict == verdict for f in self.findings) for verdict in Verdict
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "integration": self.integration,
            "conforms": self.conforms,
            "counts": self.counts(),
            "failed_rules": self.failed_rules,
            "findings": [finding.as_json() for finding in self.findings],
        } | ({} if self.exchanges is None else {"exchanges": [e.as_json() for e in self.exchanges]})
