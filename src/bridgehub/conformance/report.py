"""A conformance report and the rules list, as Rich tables for people."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from bridgehub.conformance.rules import RULES
from bridgehub.conformance.schemas import Report, Verdict

_STYLES = {Verdict.PASS: "green", Verdict.FAIL: "bold red", Verdict.SKIP: "yellow"}


def report_table(report: Report) -> Table:
    table = Table(title=report.integration)
    table.add_column("rule", no_wrap=True)
    # Never wrapped: a name broken over lines is a name nobody can search for.
    table.add_column("endpoint", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("message", ratio=1)
    for finding in report.findings:
        table.add_row(
            finding.rule,
            finding.endpoint.removesuffix("_endpoint"),
            Text(finding.verdict.value, style=_STYLES[finding.verdict]),
            Text(finding.message),
        )
    return table


def trace_text(report: Report) -> Text:
    """Every exchange of a traced report, one block each."""
    blocks = ["\n".join(exchange.lines()) for exchange in report.exchanges or ()]
    return Text("\n\n".join(blocks))


def summary(report: Report) -> Text:
    counts = report.counts()
    tally = ", ".join(f"{counts[v.value]} {v.value}" for v in Verdict)
    if report.conforms:
        return Text(f"{report.integration} conforms to the bridge protocol ({tally}).", "green")
    failed = ", ".join(report.failed_rules)
    return Text(
        f"{report.integration} does not conform to the bridge protocol ({tally}); "
        f"failed rules: {failed}.",
        "red",
    )


def rules_table() -> Table:
    table = Table("rule", "description")
    for rule in RULES:
        table.add_row(rule.id, Text(rule.description))
    return table
