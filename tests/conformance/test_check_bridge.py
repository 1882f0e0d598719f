"""The checker passes the demo bridge, and fails each broken variant on exactly the rule that
variant breaks, with a message saying what was wrong."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bridgehub.conformance import (
    RULES,
    Report,
    UnusableFile,
    Verdict,
    check_bridge,
    load_actions,
    load_activation,
    load_integration,
)
from bridgehub.conformance.credentials import trial_activation
from bridgehub.conformance.schemas import CredentialsFile, JsonScalar
from bridgehub.conformance.service import NEVER_GIVEN
from bridgehub.demo.helpdesk import CRM, HELPDESK
from bridgehub.demo.stack import DemoStack
from bridgehub.integrations.configuration import validate_integration
from tests.conformance.bridges import LOCAL, Breakage, Proxy, Reply, Request_, write

ACTION = f"{HELPDESK}/create_ticket"
TICKET = {"subject": "Conformance check", "description": "Opened by bridgehub check-bridge."}
CALL = {"summary": "Conformance check"}
SAMPLES = {
    # Inputs each demo action must carry out, and inputs it must refuse.
    HELPDESK: ([TICKET, {**TICKET, "priority": "urgent"}], [{**TICKET, "priority": "critical"}]),
    CRM: ([CALL, {**CALL, "duration_seconds": "42"}], [{**CALL, "duration_seconds": "long"}]),
}


def samples(integration: str, action: dict[str, Any]) -> dict[str, Any]:
    valid, invalid = SAMPLES[integration]
    return {
        "actions": [
            {
                "configuration": action,
                "valid": [{"data": data} for data in valid],
                "invalid": [{"data": data} for data in invalid],
            }
        ]
    }


async def check(
    folder: Path,
    documents: dict[str, dict[str, Any]],
    credentials: dict[str, Any],
    *,
    integration: str = HELPDESK,
    max_pages: int = 100,
) -> Report:
    """Check the integration through the files a bridge author would write."""
    configuration = load_integration(write(folder, "config.json", documents[integration]))
    activation = load_activation(write(folder, "creds.json", credentials), configuration)
    action = next(d for name, d in documents.items() if name.startswith(f"{integration}/"))
    actions = load_actions(
        write(folder, "samples.json", samples(integration, action)), configuration
    )
    return await check_bridge(activation, actions, policy=LOCAL, max_pages=max_pages)


def failures(report: Report) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in report.findings:
        if finding.verdict == Verdict.FAIL:
            found.setdefault(finding.rule, []).append(finding.message)
    return found


async def test_the_demo_helpdesk_conforms(
    tmp_path: Path, stack: DemoStack, documents: dict[str, dict[str, Any]]
) -> None:
    report = await check(tmp_path, documents, {"fields": stack.helpdesk_auth})

    assert failures(report) == {}
    assert report.conforms
    judged = {(f.rule, f.endpoint) for f in report.findings if f.verdict == Verdict.PASS}
    assert {rule.id for rule in RULES} == {rule for rule, _ in judged}
    assert ("contacts.incremental", "contact_synchronization_endpoint") in judged
    assert ("actions.refuses-invalid", "action create_ticket") in judged


async def test_the_demo_crm_conforms_with_an_oauth_token(
    tmp_path: Path, documents: dict[str, dict[str, Any]], crm_token: dict[str, Any]
) -> None:
    token = {"access_token": crm_token["access_token"], "instance_url": crm_token["instance_url"]}
    report = await check(tmp_path, documents, {"oauth": token}, integration=CRM)

    assert failures(report) == {}
    passed = {f.rule for f in report.findings if f.verdict == Verdict.PASS}
    assert {"auth.rejects-invalid", "interactions.requested-types"} <= passed


# The broken variants ------------------------------------------------------------------

_fresh = itertools.count()


def replace_body(change: Callable[[Any], Any]) -> Callable[[Request_, Reply], Reply]:
    """A reply rewrite that changes the JSON body of successful answers only."""

    def rewrite(request: Request_, reply: Reply) -> Reply:
        if reply.status >= 300:
            return reply
        return Reply(reply.status, change(reply.body), reply.content_type)

    return rewrite


def add_interaction(**item: Any) -> Callable[[Request_, Reply], Reply]:
    def rewrite(request: Request_, reply: Reply) -> Reply:
        if reply.status >= 300:
            return reply
        requested = request["meta"]["interaction_types"]
        extra = {"id": "x", "type": requested[0], "subject": "s", "priority": "low"}
        extra |= {"status": "open", **item}
        return Reply(reply.status, [*reply.body, {k: v for k, v in extra.items() if v}])

    return rewrite


def without(key: str) -> Callable[[Any], Any]:
    """Leaves `key` out of the first item of a contact page or an agent list."""

    def drop(body: Any) -> Any:
        items = body["contacts"] if "contacts" in body else body["agents"]
        if items:
            items[0].pop(key)
        return body

    return drop


def meta_without(key: str) -> Callable[[Request_], Request_]:
    """Leaves `key` out of the request's meta, unless it holds what the checker made up."""

    def made_up(name: str, value: Any) -> bool:
        stale = name == "synchronization_checkpoint" and not re.search("[1-9]", str(value))
        return value == NEVER_GIVEN or stale

    def drop(sent: Request_) -> Request_:
        meta = {k: v for k, v in sent["meta"].items() if k != key or made_up(k, v)}
        return {**sent, "meta": meta}

    return drop


def one_offset_for_every_page() -> Breakage:
    """Hands out the same `next_offset` on every page, remembering the real one."""
    real: list[str] = []

    def request(sent: Request_) -> Request_:
        if sent["meta"].get("offset") is None:
            return sent
        return {**sent, "meta": {**sent["meta"], "offset": real.pop()}}

    def reply(sent: Request_, answer: Reply) -> Reply:
        if "next_offset" in answer.body:
            real.append(answer.body["next_offset"])
            answer.body["next_offset"] = "next"
        return answer

    return Breakage("contact_sync", request=request, reply=reply)


def more_since_the_checkpoint() -> Breakage:
    """Ignores the checkpoint, and adds a contact to every page of a run from one."""

    def reply(sent: Request_, answer: Reply) -> Reply:
        if "synchronization_checkpoint" in sent["meta"] and answer.status < 300:
            answer.body["contacts"].append({"id": f"extra-{next(_fresh)}", "name": "Extra"})
        return answer

    return Breakage("contact_sync", request=meta_without("synchronization_checkpoint"), reply=reply)


def endless_pages() -> Breakage:
    """Every page has a next one, with a new offset each time."""
    return Breakage(
        "contact_sync",
        request=meta_without("offset"),
        instead=lambda _: Reply(200, {"contacts": [], "next_offset": str(next(_fresh))}),
    )


def server_error_to_unknown_state() -> Breakage:
    """Answers 500 where the bridge refuses an offset or checkpoint it cannot read."""
    return Breakage(
        "contact_sync",
        reply=lambda _, a: Reply(500, {"message": "KeyError"}) if a.status == 400 else a,
    )


def full_dump_to_unknown_state() -> Breakage:
    """Reads an offset or checkpoint it never gave as none: the whole first page."""

    def forget(sent: Request_) -> Request_:
        meta = {k: v for k, v in sent["meta"].items() if v != NEVER_GIVEN}
        return {**sent, "meta": meta}

    return Breakage("contact_sync", request=forget)


def gone_since_the_checkpoint(sent: Request_, answer: Reply) -> Reply:
    if "synchronization_checkpoint" in sent["meta"]:
        return Reply(410, {"message": "Changes that old are forgotten."})
    return answer


VARIANTS: dict[str, Callable[[], Breakage]] = {
    "http.available": lambda: Breakage(
        "agent_sync", instead=lambda _: Reply(503, {"message": "x"})
    ),
    "http.status": lambda: Breakage("agent_sync", instead=lambda _: Reply(404, {"detail": "?"})),
    "http.content-type": lambda: Breakage(
        "contact_sync", reply=lambda _, a: Reply(a.status, a.body, "text/plain")
    ),
    "auth.accepts-valid": lambda: Breakage(
        "auth_validation", instead=lambda _: Reply(401, {"message": "no"})
    ),
    "auth.rejects-invalid": lambda: Breakage(
        "agent_sync", reply=lambda _, a: Reply(200, {"agents": []}) if a.status == 401 else a
    ),
    "auth.answer-shape": lambda: Breakage(
        "auth_validation", reply=replace_body(lambda body: ["valid"])
    ),
    "contacts.page-shape": lambda: Breakage(
        "contact_sync", reply=replace_body(lambda body: {"items": body["contacts"]})
    ),
    "contacts.required-fields": lambda: Breakage(
        "contact_sync", reply=replace_body(without("name"))
    ),
    "contacts.unique-ids": lambda: Breakage(
        "contact_sync",
        reply=replace_body(lambda body: {**body, "contacts": body["contacts"] * 2}),
    ),
    "contacts.offset-repeats": one_offset_for_every_page,
    "contacts.terminates": endless_pages,
    "contacts.deleted-ids": lambda: Breakage(
        "contact_sync",
        reply=replace_body(lambda body: {**body, "deleted_contacts": ["17", True]}),
    ),
    "contacts.gone-needs-checkpoint": lambda: Breakage(
        "contact_sync", instead=lambda _: Reply(410, {"message": "Too old."})
    ),
    "contacts.unknown-state": server_error_to_unknown_state,
    "contacts.incremental": more_since_the_checkpoint,
    "interactions.array": lambda: Breakage(
        "interactions", reply=replace_body(lambda body: {"interactions": body})
    ),
    "interactions.fields": lambda: Breakage("interactions", reply=add_interaction(subject=None)),
    "interactions.enums": lambda: Breakage("interactions", reply=add_interaction(status="done")),
    "interactions.requested-types": lambda: Breakage(
        "interactions", reply=add_interaction(type="invoice")
    ),
    "agents.list-shape": lambda: Breakage(
        "agent_sync", reply=replace_body(lambda body: body["agents"])
    ),
    "agents.required-fields": lambda: Breakage("agent_sync", reply=replace_body(without("email"))),
    "actions.accepts-valid": lambda: Breakage(
        "create_ticket", instead=lambda _: Reply(400, {"message": "Tickets are closed today."})
    ),
    "actions.refuses-invalid": lambda: Breakage(
        "create_ticket",
        reply=lambda _, a: Reply(201, {"message": "Done anyway."}) if a.status == 400 else a,
    ),
    "actions.answer-shape": lambda: Breakage(
        "create_ticket", reply=replace_body(lambda body: ["created"])
    ),
}


def test_every_rule_has_a_broken_variant() -> None:
    assert list(VARIANTS) == [rule.id for rule in RULES]


@pytest.mark.parametrize("rule", list(VARIANTS))
async def test_a_broken_variant_fails_on_the_rule_it_breaks(
    rule: str, tmp_path: Path, stack: DemoStack, proxy: Proxy
) -> None:
    proxy.breakage = VARIANTS[rule]()
    report = await check(
        tmp_path, proxy.documents(stack), {"fields": stack.helpdesk_auth}, max_pages=20
    )

    failed = failures(report)
    assert set(failed) == {rule}, failed
    assert all(message.strip() for message in failed[rule])
    assert not report.conforms
    assert report.failed_rules == [rule]


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("http.content-type", "answered 200 with a body and Content-Type text/plain"),
        ("contacts.offset-repeats", 'page 2 gave next_offset "next", which page 1 gave already'),
        ("contacts.terminates", "the full run still had a next_offset after 20 pages"),
        ("contacts.required-fields", "contact #0"),
        ("contacts.unique-ids", "came on page 1 and again on page 1"),
        ("contacts.incremental", "returned 63 contacts, more than the 60 of the full run"),
        ("interactions.requested-types", "type: must be one of the requested types (ticket)"),
        ("interactions.enums", 'status: must be one of "new", "open", "pending"'),
        (
            "contacts.unknown-state",
            f'sent meta.synchronization_checkpoint "{NEVER_GIVEN}" (never given): The bridge\'s '
            "contact synchronization endpoint",
        ),
        ("contacts.unknown-state", "answered 500 Internal Server Error. Expected 400 or 410."),
        ("auth.rejects-invalid", "accepted made-up credentials (2xx)"),
        ("actions.refuses-invalid", "invalid sample #0 was carried out (2xx)"),
        ("actions.accepts-valid", "Tickets are closed today."),
        ("http.available", "503 Service Unavailable"),
        (
            "contacts.gone-needs-checkpoint",
            "the full run: answered 410 Gone to a request without a synchronization_checkpoint",
        ),
    ],
)
async def test_failure_messages_say_what_was_wrong(
    rule: str, expected: str, tmp_path: Path, stack: DemoStack, proxy: Proxy
) -> None:
    proxy.breakage = VARIANTS[rule]()
    report = await check(
        tmp_path, proxy.documents(stack), {"fields": stack.helpdesk_auth}, max_pages=20
    )

    assert expected in "\n".join(failures(report)[rule])


async def test_410_to_a_checkpoint_conforms_and_leaves_the_incremental_run_unchecked(
    tmp_path: Path, stack: DemoStack, proxy: Proxy
) -> None:
    proxy.breakage = Breakage("contact_sync", reply=gone_since_the_checkpoint)
    report = await check(tmp_path, proxy.documents(stack), {"fields": stack.helpdesk_auth})

    verdicts = {
        f.rule: (f.verdict, f.message)
        for f in report.findings
        if f.endpoint == "contact_synchronization_endpoint"
    }
    assert report.conforms, failures(report)
    assert verdicts["contacts.gone-needs-checkpoint"] == (
        Verdict.PASS,
        "answered 410 only to a checkpoint",
    )
    verdict, message = verdicts["contacts.incremental"]
    assert verdict == Verdict.SKIP
    assert "the hub will sync in full every time" in message


async def test_a_full_dump_to_an_unknown_offset_or_checkpoint_fails(
    tmp_path: Path, stack: DemoStack, proxy: Proxy
) -> None:
    proxy.breakage = full_dump_to_unknown_state()
    report = await check(tmp_path, proxy.documents(stack), {"fields": stack.helpdesk_auth})

    assert report.failed_rules == ["contacts.unknown-state"]
    messages = failures(report)["contacts.unknown-state"][0].splitlines()
    assert len(messages) == 2
    assert messages[0].startswith(f'sent meta.offset "{NEVER_GIVEN}" (never given): answered 200')
    assert messages[1].startswith(f'sent meta.synchronization_checkpoint "{NEVER_GIVEN}"')
    assert all("a silent full dump" in message for message in messages)


async def test_a_failure_stops_that_endpoint_and_skips_its_remaining_rules(
    tmp_path: Path, stack: DemoStack, proxy: Proxy
) -> None:
    proxy.breakage = VARIANTS["contacts.offset-repeats"]()
    report = await check(tmp_path, proxy.documents(stack), {"fields": stack.helpdesk_auth})

    verdicts = {
        f.rule: (f.verdict, f.message)
        for f in report.findings
        if f.endpoint == "contact_synchronization_endpoint"
    }
    assert verdicts["contacts.incremental"] == (
        Verdict.SKIP,
        "not checked: the check of this endpoint stopped at contacts.offset-repeats",
    )
    # The pages it got before the repeat were still checked.
    for rule in ("contacts.page-shape", "contacts.required-fields", "contacts.unique-ids"):
        verdict, message = verdicts[rule]
        assert verdict == Verdict.PASS, (rule, message)
        assert "in 2 pages" in message or "2 pages checked" in message
    # The other endpoints were still checked.
    agents = [f for f in report.findings if f.endpoint == "agent_synchronization_endpoint"]
    assert {f.verdict for f in agents} == {Verdict.PASS}


async def test_the_network_guard_refuses_loopback_unless_allowed(
    tmp_path: Path, stack: DemoStack, documents: dict[str, dict[str, Any]]
) -> None:
    configuration = load_integration(write(tmp_path, "config.json", documents[HELPDESK]))
    creds = write(tmp_path, "creds.json", {"fields": stack.helpdesk_auth})
    report = await check_bridge(load_activation(creds, configuration), None, policy=type(LOCAL)())

    assert report.failed_rules == ["http.available"]
    message = next(f.message for f in report.findings if f.verdict == Verdict.FAIL)
    assert "--allow-private-networks" in message


async def test_without_samples_actions_are_not_called(
    tmp_path: Path, stack: DemoStack, documents: dict[str, dict[str, Any]], proxy: Proxy
) -> None:
    proxy.breakage = VARIANTS["actions.accepts-valid"]()
    docs = proxy.documents(stack)
    configuration = load_integration(write(tmp_path, "config.json", docs[HELPDESK]))
    creds = write(tmp_path, "creds.json", {"fields": stack.helpdesk_auth})
    report = await check_bridge(load_activation(creds, configuration), None, policy=LOCAL)

    assert report.conforms
    skipped = [f for f in report.findings if f.endpoint == "actions"]
    assert {f.verdict for f in skipped} == {Verdict.SKIP}
    assert "--actions" in skipped[0].message


# The test credentials ---------------------------------------------------------------


def test_auth_is_built_as_the_hub_builds_it(documents: dict[str, dict[str, Any]]) -> None:
    configuration = validate_integration(documents[HELPDESK])
    credentials = CredentialsFile(
        fields={"subdomain": "acme", "email": "a@acme.example", "api_token": "t0ken-t0ken"}
    )
    activation = trial_activation(configuration, credentials)

    validating = activation.validation_auth()
    later = activation.auth({"helpdesk_account_id": 7, "not_a_field": "x"})
    made_up = activation.made_up_auth()

    assert validating == {
        "subdomain": "https://acme.helpdesk.example",
        "email": "a@acme.example",
        "api_token": "t0ken-t0ken",
    }
    assert later == {**validating, "helpdesk_account_id": "7"}
    assert made_up is not None
    assert made_up["subdomain"].endswith(".helpdesk.example")
    assert not set(made_up.values()) & set(validating.values())


def test_oauth2_auth_carries_the_access_token_and_token_fields(
    documents: dict[str, dict[str, Any]],
) -> None:
    configuration = validate_integration(documents[CRM])
    token: dict[str, JsonScalar] = {
        "access_token": "at-123456",
        "instance_url": "https://i.example",
        "expires_in": 60,
    }
    activation = trial_activation(configuration, CredentialsFile(oauth=token))

    assert activation.auth({"crm_user": "me@example.com"}) == {
        "access_token": "at-123456",
        "instance_url": "https://i.example",
        "crm_user": "me@example.com",
    }
    made_up = activation.made_up_auth()
    assert made_up is not None
    assert made_up["access_token"] != "at-123456"
    assert made_up["instance_url"] == "https://i.example"


@pytest.mark.parametrize(
    ("integration", "credentials", "problems"),
    [
        (
            HELPDESK,
            {"fields": {"subdomain": "acme", "api_token": "x", "mail": "a@b.c"}},
            {
                "fields.mail: is not a field of demo-helpdesk; the fields a person gives are: "
                "subdomain, email, api_token",
                'fields.email: "Agent email" is required',
            },
        ),
        (
            HELPDESK,
            {"fields": {"subdomain": "a", "email": "e", "api_token": "t"}, "oauth": {}},
            {"oauth: is only for oauth2 integrations; demo-helpdesk is custom"},
        ),
        (CRM, {}, {"oauth: is required for an oauth2 integration: the token answer"}),
        (
            CRM,
            {"oauth": {"refresh_token": "r"}},
            {
                "oauth.access_token: is required, as a non-empty string (or `code`, for a "
                "bridge that exchanges the authorization code itself)"
            },
        ),
        (HELPDESK, {"fields": {"email": 5}}, {"fields.email: must be a string"}),
        (HELPDESK, {"field": {}}, {"field: is not a known key"}),
    ],
)
def test_unusable_credentials_are_refused_with_every_problem(
    tmp_path: Path,
    documents: dict[str, dict[str, Any]],
    integration: str,
    credentials: dict[str, Any],
    problems: set[str],
) -> None:
    configuration = validate_integration(documents[integration])
    with pytest.raises(UnusableFile) as refused:
        load_activation(write(tmp_path, "creds.json", credentials), configuration)

    assert {f"{p.path}: {p.message}" for p in refused.value.problems} == problems


def test_action_samples_must_fit_the_action(
    tmp_path: Path, documents: dict[str, dict[str, Any]]
) -> None:
    configuration = validate_integration(documents[HELPDESK])
    write(tmp_path, "ticket.json", documents[ACTION])
    broken = {
        "actions": [
            {
                "configuration": "ticket.json",
                "valid": [{"data": {"subject": "s", "colour": "red"}}],
            },
            {"configuration": "missing.json"},
        ]
    }
    with pytest.raises(UnusableFile) as refused:
        load_actions(write(tmp_path, "samples.json", broken), configuration)

    assert {f"{p.path}: {p.message}" for p in refused.value.problems} == {
        "actions[0].valid[0].data.colour: is not an input of create_ticket; its inputs are: "
        "description, priority, subject",
        "actions[0].valid[0].data.description: is a mandatory input; the hub never runs the "
        "action without it",
        "actions[1].configuration: no such file",
    }
