"""Checking a bridge against the bridge protocol: `bridgehub check-bridge`.

Bridge authors, in any language, point the checker at their bridge with its integration
configuration and test credentials; it calls every configured endpoint as the hub would
and judges each rule of `rules.RULES`::

    activation = load_activation(Path("creds.json"), load_integration(Path("config.json")))
    report = await check_bridge(activation, None, policy=NetworkPolicy())
    report.conforms
"""

from bridgehub.conformance.files import (
    ActionUnderCheck,
    UnusableFile,
    load_actions,
    load_activation,
    load_integration,
)
from bridgehub.conformance.rules import RULES, Rule
from bridgehub.conformance.schemas import Finding, Report, Verdict
from bridgehub.conformance.service import DEFAULT_MAX_PAGES, check_bridge

__all__ = [
    "DEFAULT_MAX_PAGES",
    "RULES",
    "ActionUnderCheck",
    "Finding",
    "Report",
    "Rule",
    "UnusableFile",
    "Verdict",
    "check_bridge",
    "load_actions",
    "load_activation",
    "load_integration",
]
