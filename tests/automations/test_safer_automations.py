"""What keeps an automation from sending what its bridge refuses, or text with holes: inputs
with fixed choices, fallbacks for empty variables, names, executions by automation, and a
retry with the automation's corrected mapping, against the demo helpdesk over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from bridgehub.automations import templates
from bridgehub.demo.stack import MISSED_CALL_TICKET
from tests.automations.test_automations import ACTION, MISSED_CALL, missed_call
from tests.conftest import HubSql, Tenant
from tests.helpdesk_fixtures import Helpdesk, RunJobs
from tests.integrations.test_catalog_api import assert_error

ENDPOINT = "/helpdesk/actions/create_ticket"
PRIORITY_RULE = 'must be one of "low", "normal", "high" or "urgent"; found "asap" (a string)'
UNKNOWN_CALLER = "+1 212 555 0199"


INPUTS = {"subject": "Missed call from {{contact.name}}", "description": "{{call.from}} called."}


def ticket(**inputs: str) -> dict[str, Any]:
    return MISSED_CALL | {"inputs": INPUTS | inputs}


# --- choices ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("connected")
async def test_an_automation_mapping_a_value_outside_the_choices_is_refused_at_save(
    tenant: Tenant,
) -> None:
    refused = await tenant.client.post("/v1/automations", json=ticket(priority="asap"))

    error = assert_error(refused, 422, "invalid_request")
    assert error["details"] == [
        {"path": "inputs.priority", "message": f'"Priority" {PRIORITY_RULE}'}
    ]
    assert (await tenant.client.get("/v1/automations")).json() == {"items": []}
    saved = await tenant.client.post("/v1/automations", json=ticket(priority="urgent"))
    assert saved.status_code == 201, saved.text
    path = f"/v1/automations/{saved.json()['id']}"
    changed = await tenant.client.patch(path, json={"inputs": ticket(priority="asap")["inputs"]})
    assert_error(changed, 422, "invalid_request")
    assert (await tenant.client.get(path)).json()["inputs"]["priority"] == "urgent"


@pytest.mark.usefixtures("connected")
async def test_a_choice_named_by_a_variable_is_checked_when_the_event_renders_it(
    tenant: Tenant,
) -> None:
    automation = ticket(priority="{{call.disposition}}") | {"trigger": "call.dispositioned"}
    saved = await tenant.client.post("/v1/automations", json=automation)
    assert saved.status_code == 201, saved.text

    event = {"id": "evt-1", "type": "call.dispositioned"}
    answer = await tenant.client.post(
        "/v1/events", json=event | {"call": {"id": "c-1", "disposition": "asap"}}
    )

    assert answer.json()["executions"] == []
    (skipped,) = answer.json()["skipped"]
    assert PRIORITY_RULE in skipped["reason"]


@pytest.mark.usefixtures("connected")
async def test_an_execution_by_hand_refuses_a_value_outside_the_choices(tenant: Tenant) -> None:
    data = {"subject": "Call back", "description": "Jane called.", "priority": "asap"}

    refused = await tenant.client.post("/v1/executions", json={"action": ACTION, "data": data})

    error = assert_error(refused, 422, "invalid_request")
    assert error["details"] == [{"path": "data.priority", "message": f'"Priority" {PRIORITY_RULE}'}]
    assert (await tenant.client.get("/v1/executions")).json() == {"items": []}


# --- fallbacks and misspellings ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "rendered"),
    [
        ("{{contact.name|call.from}}", "+15550100"),
        ("{{contact.company|call.from}}", "Acme"),
        ('{{contact.title|"a caller"}}', "a caller"),
        ('{{contact.title|call.to|"a caller"}}', "a caller"),
        ('{{ contact.title | call.from | "x|y" }}', "+15550100"),
        ('from {{contact.title|""}}.', "from ."),
        ("{{contact.title|call.notes}}", ""),
    ],
)
def test_the_first_alternative_that_is_not_empty_is_used(template: str, rendered: str) -> None:
    values = {"contact": {"name": " ", "company": "Acme"}, "call": {"from": "+15550100"}}

    assert templates.problems(template) == []
    assert templates.render(template, values) == rendered


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("{{contact.nmae}}", "{{contact.nmae}} is not a variable; did you mean {{contact.name}}?"),
        ("{{call.form}}", "{{call.form}} is not a variable; did you mean {{call.from}}?"),
        (
            "{{contact.name|cal.from}}",
            "{{cal.from}} is not a variable; did you mean {{call.from}}?",
        ),
        ("{{contact.zzz}}", "{{contact.zzz}} is not a variable; contact has id, external_id, name"),
        ("{{weather.today}}", "{{weather.today}} is not a variable; variables begin with contact."),
        ('{{"caller"|contact.name}}', "a quoted text can only be the last alternative"),
        ("{{contact.name||call.from}}", "has an empty alternative"),
        ("{{ }}", "{{}} names no variable"),
        (
            "{{call.logged.demo-helpdesk.external_id|call.id}}",
            "what the call logged takes no alternatives",
        ),
    ],
)
def test_a_template_problem_names_the_closest_variable_or_the_rule(
    template: str, problem: str
) -> None:
    (found,) = templates.problems(template)

    assert problem in found
    assert "{{agent.external_id}}" not in found  # no longer every variable at once


async def test_an_unknown_callers_execution_has_no_empty_from_text(
    tenant: Tenant, connected: str, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    created = await tenant.client.post(
        "/v1/automations", json=MISSED_CALL_TICKET.model_dump(exclude_none=True)
    )
    assert created.status_code == 201, created.text

    unknown = await tenant.client.post("/v1/events", json=missed_call("evt-1", UNKNOWN_CALLER))
    hidden = await tenant.client.post(
        "/v1/events", json={"id": "evt-2", "type": "call.missed", "call": {}}
    )
    await run_jobs()

    sent = [request.json()["data"] for request in helpdesk.bridge.received(ENDPOINT)]
    assert [data["subject"] for data in sent] == [
        f"Missed call from {UNKNOWN_CALLER}",
        "Missed call from an unknown caller",
    ]
    for data in sent:
        assert "from  " not in data["description"]
        assert "()" not in data["description"]
        assert data["description"].startswith("A caller (company: unknown) called ")
    assert f"from {UNKNOWN_CALLER} at " in sent[0]["description"]
    assert "called us from a hidden number at " in sent[1]["description"]
    assert unknown.json()["contact_id"] is None
    assert hidden.json()["contact_id"] is None
    del connected


# --- names and executions by automation -------------------------------------------------------


@pytest.mark.usefixtures("connected")
async def test_an_automation_is_named_by_its_action_and_trigger_unless_named(
    tenant: Tenant,
) -> None:
    first = (await tenant.client.post("/v1/automations", json=MISSED_CALL)).json()
    second = (await tenant.client.post("/v1/automations", json=MISSED_CALL)).json()
    named = await tenant.client.post(
        "/v1/automations", json=MISSED_CALL | {"name": "  Missed calls to sales "}
    )
    unknown_callers = MISSED_CALL | {"conditions": {"caller": "unknown"}}
    third = (await tenant.client.post("/v1/automations", json=unknown_callers)).json()

    generated = "Create a ticket in Demo Helpdesk when a call is missed"
    assert [first["name"], second["name"], named.json()["name"], third["name"]] == [
        generated,
        f"{generated} (2)",
        "Missed calls to sales",
        f"{generated} from an unknown caller",
    ]
    listed = (await tenant.client.get("/v1/automations")).json()["items"]
    assert len({automation["name"] for automation in listed}) == 4
    taken = await tenant.client.post("/v1/automations", json=MISSED_CALL | {"name": generated})
    error = assert_error(taken, 422, "invalid_request")
    assert error["details"] == [
        {
            "path": "name",
            "message": f'another automation is named "{generated}"; choose another name',
        }
    ]
    path = f"/v1/automations/{second['id']}"
    renamed = await tenant.client.patch(path, json={"name": "Missed calls to support"})
    assert renamed.json()["name"] == "Missed calls to support"
    clash = await tenant.client.patch(path, json={"name": "Missed calls to sales"})
    assert_error(clash, 422, "invalid_request")
    blank = await tenant.client.patch(path, json={"name": "   "})
    assert_error(blank, 422, "invalid_request")
    assert (await tenant.client.get(path)).json()["name"] == "Missed calls to support"
    # A name made from the trigger follows it; one a person gave stays.
    voicemail = {"trigger": "voicemail.left"}
    followed = await tenant.client.patch(f"/v1/automations/{third['id']}", json=voicemail)
    assert followed.json()["name"] == (
        "Create a ticket in Demo Helpdesk when a voicemail is left from an unknown caller"
    )
    kept = await tenant.client.patch(path, json=voicemail)
    assert kept.json()["name"] == "Missed calls to support"


@pytest.mark.usefixtures("connected")
async def test_executions_are_listed_by_the_automation_that_made_them(tenant: Tenant) -> None:
    first = (await tenant.client.post("/v1/automations", json=MISSED_CALL)).json()
    second = (await tenant.client.post("/v1/automations", json=MISSED_CALL)).json()
    await tenant.client.post("/v1/events", json=missed_call("evt-1", UNKNOWN_CALLER))
    await tenant.client.post("/v1/executions", json={"action": ACTION, "data": MISSED_CALL_DATA})

    def ids(answer: Any) -> list[str]:
        return [execution["automation_id"] for execution in answer.json()["items"]]

    everything = await tenant.client.get("/v1/executions")
    of_first = await tenant.client.get("/v1/executions", params={"automation_id": first["id"]})
    of_second = await tenant.client.get("/v1/executions", params={"automation_id": second["id"]})

    assert sorted(ids(everything), key=str) == sorted([first["id"], second["id"], None], key=str)
    assert ids(of_first) == [first["id"]]
    assert ids(of_second) == [second["id"]]
    not_an_id = await tenant.client.get("/v1/executions", params={"automation_id": "evt-1"})
    assert not_an_id.status_code == 422


MISSED_CALL_DATA = {"subject": "Call back", "description": "Jane called."}


# --- retry with the current mapping -----------------------------------------------------------


async def failed_execution(tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk) -> str:
    """An execution of a missed-call automation the bridge refused; answers its id."""
    helpdesk.bridge.fail_next(ENDPOINT, 1, 400)
    await tenant.client.post("/v1/events", json=missed_call("evt-1", UNKNOWN_CALLER))
    await run_jobs()
    (execution,) = (await tenant.client.get("/v1/executions")).json()["items"]
    assert execution["status"] == "failed", execution
    execution_id: str = execution["id"]
    return execution_id


@pytest.mark.usefixtures("connected")
async def test_a_retry_with_the_current_mapping_sends_the_corrected_input(
    tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    automation = (await tenant.client.post("/v1/automations", json=MISSED_CALL)).json()
    execution_id = await failed_execution(tenant, run_jobs, helpdesk)
    corrected = ticket(subject="Missed call from {{contact.name|call.from}}", priority="urgent")
    await tenant.client.patch(
        f"/v1/automations/{automation['id']}", json={"inputs": corrected["inputs"]}
    )

    retried = await tenant.client.post(
        f"/v1/executions/{execution_id}/retry", json={"input": "current"}
    )
    assert retried.status_code == 202, retried.text
    await run_jobs()

    first, again = (request.json()["data"] for request in helpdesk.bridge.received(ENDPOINT))
    assert first["subject"] == "Missed call from "
    assert again["subject"] == f"Missed call from {UNKNOWN_CALLER}"
    assert again["priority"] == "urgent"
    execution = (await tenant.client.get(f"/v1/executions/{execution_id}")).json()
    assert execution["status"] == "succeeded"
    assert execution["data"] == again


@pytest.mark.usefixtures("connected")
async def test_a_retry_with_the_same_input_is_still_the_default(
    tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    automation = (await tenant.client.post("/v1/automations", json=MISSED_CALL)).json()
    execution_id = await failed_execution(tenant, run_jobs, helpdesk)
    corrected = ticket(subject="Corrected")
    await tenant.client.patch(
        f"/v1/automations/{automation['id']}", json={"inputs": corrected["inputs"]}
    )

    without_body = await tenant.client.post(f"/v1/executions/{execution_id}/retry")
    assert without_body.status_code == 202, without_body.text
    await run_jobs()

    first, again = (request.json()["data"] for request in helpdesk.bridge.received(ENDPOINT))
    assert again == first


@pytest.mark.usefixtures("connected")
async def test_a_retry_with_the_current_mapping_needs_its_automation_and_event(
    tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk, hub_sql: HubSql
) -> None:
    automation = (await tenant.client.post("/v1/automations", json=MISSED_CALL)).json()
    execution_id = await failed_execution(tenant, run_jobs, helpdesk)
    helpdesk.bridge.fail_next(ENDPOINT, 1, 400)
    by_hand = await tenant.client.post(
        "/v1/executions", json={"action": ACTION, "data": MISSED_CALL_DATA}
    )
    await run_jobs()
    path = f"/v1/executions/{execution_id}/retry"

    refused = await tenant.client.post(
        f"/v1/executions/{by_hand.json()['id']}/retry", json={"input": "current"}
    )
    assert assert_error(refused, 422, "invalid_request")["details"][0]["path"] == "input"
    unknown = await tenant.client.post(path, json={"input": "latest"})
    assert_error(unknown, 422, "invalid_request")
    await hub_sql("DELETE FROM events")
    purged = await tenant.client.post(path, json={"input": "current"})
    assert "no longer kept" in assert_error(purged, 409, "conflict")["message"]
    await tenant.client.delete(f"/v1/automations/{automation['id']}")
    deleted = await tenant.client.post(path, json={"input": "current"})
    assert "automation was deleted" in assert_error(deleted, 409, "conflict")["message"]
    execution = (await tenant.client.get(f"/v1/executions/{execution_id}")).json()
    assert execution["status"] == "failed"
