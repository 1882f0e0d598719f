"""`bridgehub check-bridge`: exit codes, the JSON report, the rules list."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from bridgehub.cli import app
from bridgehub.conformance import RULES
from bridgehub.demo.helpdesk import HELPDESK
from bridgehub.demo.stack import DemoStack
from tests.conformance.bridges import Breakage, Proxy, Reply, write
from tests.conftest import ROOT

runner = CliRunner()


def check_bridge(*arguments: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["check-bridge", *arguments])
    return result.exit_code, result.stdout, result.stderr


def test_a_conforming_bridge_exits_0_with_a_table(helpdesk_files: tuple[Path, Path]) -> None:
    config, creds = helpdesk_files
    code, out, _ = check_bridge(
        str(config), "--credentials", str(creds), "--allow-private-networks"
    )

    assert code == 0, out
    assert "contacts.offset-repeats" in out
    # At 80 columns, endpoint names are not broken over lines.
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "contact_synchronization" in out
    assert "interaction_retrieval" in out
    assert "demo-helpdesk conforms to the bridge protocol (36 pass, 0 fail, 7 skip)." in out


def test_trace_shows_every_exchange_with_secrets_masked(
    tmp_path: Path, stack: DemoStack, proxy: Proxy
) -> None:
    config = write(tmp_path, "config.json", proxy.documents(stack)[HELPDESK])
    creds = write(tmp_path, "creds.json", {"fields": stack.helpdesk_auth})
    arguments = [str(config), "--credentials", str(creds), "--allow-private-networks", "--trace"]
    secret = stack.helpdesk_auth["api_token"]

    before = proxy.forwarded
    code, out, err = check_bridge(*arguments, "--json")
    assert code == 0, out
    exchanges = json.loads(out)["exchanges"]
    assert len(exchanges) == proxy.forwarded - before
    assert {e["request"]["url"] for e in exchanges} == {
        f"{proxy.url}/helpdesk/{path}"
        for path in ("auth_validation", "contact_sync", "interactions", "agent_sync")
    }
    first = exchanges[0]
    assert first["request"]["method"] == "POST"
    assert json.loads(first["request"]["body"])["auth"] == {
        "subdomain": "[redacted]",
        "email": "[redacted]",
        "api_token": "[redacted]",
    }
    assert first["response"]["status"] in (200, 204)
    statuses = {e["response"]["status"] for e in exchanges}
    assert {200, 400, 401} <= statuses  # the careless requests and made-up credentials too

    code, out, err = check_bridge(*arguments)
    assert code == 0, out
    assert out.count("→ POST ") == len(exchanges)
    assert "← 400 Bad Request" in out
    assert secret not in out + err


def test_a_broken_bridge_exits_1_and_json_names_the_rule(
    tmp_path: Path, stack: DemoStack, proxy: Proxy
) -> None:
    proxy.breakage = Breakage("agent_sync", instead=lambda _: Reply(200, {"agents": [{"id": 1}]}))
    config = write(tmp_path, "config.json", proxy.documents(stack)[HELPDESK])
    creds = write(tmp_path, "creds.json", {"fields": stack.helpdesk_auth})
    code, out, _ = check_bridge(
        str(config), "--credentials", str(creds), "--allow-private-networks", "--json"
    )

    assert code == 1
    report: dict[str, Any] = json.loads(out)
    assert report["integration"] == HELPDESK
    assert report["conforms"] is False
    assert report["failed_rules"] == ["agents.required-fields"]
    assert set(report["counts"]) == {"pass", "fail", "skip"}
    assert report["counts"]["fail"] == 1
    failed = [f for f in report["findings"] if f["verdict"] == "fail"]
    assert failed == [
        {
            "rule": "agents.required-fields",
            "endpoint": "agent_synchronization_endpoint",
            "url": f"{proxy.url}/helpdesk/agent_sync",
            "verdict": "fail",
            "message": 'agent #0 (id "1"): name: is required; email: is required',
        }
    ]
    assert {tuple(f) for f in report["findings"]} == {
        ("rule", "endpoint", "url", "verdict", "message")
    }


def test_actions_run_only_with_samples(
    tmp_path: Path, stack: DemoStack, helpdesk_files: tuple[Path, Path]
) -> None:
    config, creds = helpdesk_files
    action = next(d for d in stack.documents if d.get("name") == "create_ticket")
    write(tmp_path, "create_ticket.json", action)
    samples = {
        "actions": [
            {
                "configuration": "create_ticket.json",
                "valid": [{"data": {"subject": "s", "description": "d"}}],
                "invalid": [{"data": {"subject": "s", "description": "d", "priority": "?"}}],
            }
        ]
    }
    arguments = [str(config), "--credentials", str(creds), "--allow-private-networks", "--json"]
    sample_file = str(write(tmp_path, "samples.json", samples))
    code, out, _ = check_bridge(*arguments, "--actions", sample_file)

    assert code == 0, out
    actions = [f for f in json.loads(out)["findings"] if f["endpoint"] == "action create_ticket"]
    assert {f["verdict"] for f in actions} == {"pass"}


def test_a_local_bridge_is_refused_without_the_flag(helpdesk_files: tuple[Path, Path]) -> None:
    config, creds = helpdesk_files
    code, out, _ = check_bridge(str(config), "--credentials", str(creds), "--json")

    assert code == 1
    report = json.loads(out)
    assert report["failed_rules"] == ["http.available"]
    message = report["findings"][0]["message"]
    assert "uses plain HTTP" in message
    assert "--allow-private-networks" in message


def test_unusable_input_exits_2_naming_each_problem(
    tmp_path: Path, helpdesk_files: tuple[Path, Path]
) -> None:
    config, _ = helpdesk_files
    creds = write(tmp_path, "bad-creds.json", {"fields": {"subdomain": "acme"}})
    code, out, err = check_bridge(str(config), "--credentials", str(creds))

    assert code == 2
    assert out == ""
    assert "The credentials do not fit Demo Helpdesk." in err
    assert 'fields.email: "Agent email" is required' in err
    assert 'fields.api_token: "API token" is required' in err


def test_a_missing_configuration_exits_2(tmp_path: Path) -> None:
    code, _, err = check_bridge(str(tmp_path / "nope.json"), "--credentials", "x.json")

    assert code == 2
    assert "nope.json cannot be read." in err
    assert "(document): no such file" in err


def test_credentials_are_required(helpdesk_files: tuple[Path, Path]) -> None:
    code, _, err = check_bridge(str(helpdesk_files[0]))

    assert code == 2
    assert "--credentials" in err


def test_list_rules_lists_every_rule_with_its_description() -> None:
    code, out, _ = check_bridge("--list-rules", "--json")

    assert code == 0
    assert json.loads(out) == [{"id": r.id, "description": r.description} for r in RULES]
    code, out, _ = check_bridge("--list-rules")
    assert code == 0
    assert all(rule.id in out for rule in RULES)


def test_help_documents_the_file_formats() -> None:
    result = runner.invoke(app, ["check-bridge", "--help"])

    assert result.exit_code == 0
    assert '"fields"' in result.stdout
    assert '"access_token"' in result.stdout
    assert '"valid"' in result.stdout


def test_the_check_bridge_doc_lists_every_rule() -> None:
    doc = (ROOT / "docs" / "check-bridge.md").read_text()

    for rule in RULES:
        assert f"| `{rule.id}` | {rule.description} |" in doc
