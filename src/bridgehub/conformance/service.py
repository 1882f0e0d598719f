"""Checking a bridge against the bridge protocol (docs/bridge-protocol.md).

The checker is a hub without a database: it calls each configured endpoint through the
hub's own `BridgeClient` (so through the SSRF guard, with the hub's requests and the hub's
reading of answers), with the `auth` an activation made with the test credentials would
send, and judges every rule of `rules.py` for every endpoint it applies to.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import TypeVar

import httpx

from bridgehub.bridge import (
    ActionOutcome,
    BridgeClient,
    BridgeError,
    BridgeUnavailable,
    CheckpointRefused,
    ContactPage,
    CredentialsRejected,
    InteractionContact,
    InteractionResult,
    NetworkPolicy,
    ProtocolViolation,
    Rejection,
    RequestRefused,
    RetryPolicy,
    StaticCredentials,
    TargetRefused,
)
from bridgehub.bridge.guard import shown_url
from bridgehub.bridge.protocol import Contact
from bridgehub.conformance import rules as r
from bridgehub.conformance.credentials import TrialActivation
from bridgehub.conformance.files import ActionUnderCheck
from bridgehub.conformance.rules import Rule
from bridgehub.conformance.schemas import ActionSample, Finding, Report, Verdict
from bridgehub.conformance.trace import Tracer

DEFAULT_MAX_PAGES = 1000
INTERACTION_CONTACTS = 5
"""How many synced contacts the interactions are asked for."""
SHOWN_FAILURES = 3
"""Failures of one rule at one endpoint shown in full; the rest are counted."""
GONE = 410
NEVER_GIVEN = "bridgehub-check:never-given"
"""The offset and checkpoint a careless hub sends: no bridge gave them."""

_GENERIC = (r.HTTP_AVAILABLE, r.HTTP_STATUS, r.HTTP_CONTENT_TYPE)
_AUTH = (r.AUTH_ACCEPTS_VALID, r.AUTH_REJECTS_INVALID)
_ENDPOINT_RULES: dict[str, tuple[Rule, ...]] = {
    "auth_validation_endpoint": (*_GENERIC, *_AUTH, r.AUTH_ANSWER_SHAPE),
    "contact_synchronization_endpoint": (
        *_GENERIC,
        *_AUTH,
        r.CONTACTS_PAGE_SHAPE,
        r.CONTACTS_REQUIRED_FIELDS,
        r.CONTACTS_UNIQUE_IDS,
        r.CONTACTS_OFFSET_REPEATS,
        r.CONTACTS_TERMINATES,
        r.CONTACTS_DELETED_IDS,
        r.CONTACTS_GONE_NEEDS_CHECKPOINT,
        r.CONTACTS_UNKNOWN_STATE,
        r.CONTACTS_INCREMENTAL,
    ),
    "interaction_retrieval_endpoint": (
        *_GENERIC,
        *_AUTH,
        r.INTERACTIONS_ARRAY,
        r.INTERACTIONS_FIELDS,
        r.INTERACTIONS_ENUMS,
        r.INTERACTIONS_REQUESTED_TYPES,
    ),
    "agent_synchronization_endpoint": (
        *_GENERIC,
        *_AUTH,
        r.AGENTS_LIST_SHAPE,
        r.AGENTS_REQUIRED_FIELDS,
    ),
}
_ACTION_RULES = (
    *_GENERIC,
    r.AUTH_ACCEPTS_VALID,
    r.ACTIONS_ACCEPTS_VALID,
    r.ACTIONS_REFUSES_INVALID,
    r.ACTIONS_ANSWER_SHAPE,
)


async def check_bridge(
    activation: TrialActivation,
    actions: Sequence[ActionUnderCheck] | None,
    *,
    policy: NetworkPolicy,
    max_pages: int = DEFAULT_MAX_PAGES,
    trace: bool = False,
) -> Report:
    """Check every configured endpoint, and the actions when samples are given (None: the
    actions are not called, since they change the external system). With `trace`, the
    report holds every exchange, secrets masked."""
    answers = _Answers()
    ledger = _Ledger()
    tracer = Tracer() if trace else None
    # No retries: a bridge that fails once fails the check, instead of hiding it.
    async with BridgeClient(
        policy,
        retry=RetryPolicy(attempts=1),
        answer_hooks=[answers.record],
        recorder=None if tracer is None else tracer.record,
    ) as bridges:
        check = _Check(bridges, answers, ledger, activation, max_pages)
        await check.run(actions)
    return Report(
        activation.configuration.name,
        tuple(ledger.findings),
        None if tracer is None else tracer.exchanges(),
    )


@dataclass(frozen=True)
class _Endpoint:
    name: str
    url: str

    @property
    def shown_url(self) -> str:
        return shown_url(self.url)


@dataclass(frozen=True)
class _AnswerHead:
    status: int
    content_type: str | None
    has_body: bool

    @property
    def declares_json(self) -> bool:
        media_type = (self.content_type or "").split(";", 1)[0].strip().lower()
        return media_type == "application/json" or (
            media_type.startswith("application/") and media_type.endswith("+json")
        )


class _Answers:
    """The status and headers of each answer, as the client receives them."""

    def __init__(self) -> None:
        self._heads: list[_AnswerHead] = []

    async def record(self, response: httpx.Response) -> None:
        status = response.status_code
        empty = status in (204, 304) or response.headers.get("Content-Length") == "0"
        self._heads.append(_AnswerHead(status, response.headers.get("Content-Type"), not empty))

    def take(self) -> list[_AnswerHead]:
        taken, self._heads = self._heads, []
        return taken


@dataclass
class _Judgement:
    failures: list[str] = field(default_factory=list)
    passed: str | None = None
    skipped: str | None = None


class _Ledger:
    """What was found, by endpoint and rule; `close` turns an endpoint's into findings."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self._open: dict[tuple[str, str], _Judgement] = {}

    def fail(self, rule: Rule, endpoint: _Endpoint, message: str) -> None:
        failures = self._judgement(rule, endpoint).failures
        if message not in failures:
            failures.append(message)

    def passed(self, rule: Rule, endpoint: _Endpoint, message: str) -> None:
        self._judgement(rule, endpoint).passed = message

    def skipped(self, rule: Rule, endpoint: _Endpoint, message: str) -> None:
        self._judgement(rule, endpoint).skipped = message

    def failed(self, rule: Rule, endpoint: _Endpoint) -> bool:
        return bool(self._judgement(rule, endpoint).failures)

    def close(
        self,
        endpoint: _Endpoint,
        applicable: Sequence[Rule],
        stopped_by: Rule | None = None,
    ) -> None:
        for rule in applicable:
            judgement = self._open.pop((endpoint.name, rule.id), _Judgement())
            verdict, message = _verdict(judgement, stopped_by)
            self.findings.append(
                Finding(rule.id, endpoint.name, endpoint.shown_url, verdict, message)
            )

    def not_checked(self, endpoint: str, applicable: Sequence[Rule], why: str) -> None:
        for rule in applicable:
            self.findings.append(Finding(rule.id, endpoint, None, Verdict.SKIP, why))

    def _judgement(self, rule: Rule, endpoint: _Endpoint) -> _Judgement:
        return self._open.setdefault((endpoint.name, rule.id), _Judgement())


def _verdict(judgement: _Judgement, stopped_by: Rule | None) -> tuple[Verdict, str]:
    if judgement.failures:
        shown = judgement.failures[:SHOWN_FAILURES]
        more = len(judgement.failures) - len(shown)
        return Verdict.FAIL, "\n".join(shown + ([f"(and {more} more)"] if more else []))
    if judgement.passed is not None:
        return Verdict.PASS, judgement.passed
    if judgement.skipped is not None:
        return Verdict.SKIP, judgement.skipped
    if stopped_by is not None:
        return Verdict.SKIP, f"not checked: the check of this endpoint stopped at {stopped_by.id}"
    return Verdict.PASS, "conforms"


@dataclass(frozen=True)
class _Run:
    """A contact synchronization run, page after page, to its end."""

    contacts: tuple[Contact, ...]
    checked: int
    """Contacts received, the rejected ones included."""
    pages: int
    checkpoint: str | None
    paged: bool
    """Whether a page gave a `next_offset`."""


class _CheckpointGone(Exception):
    """The bridge answered 410 to a run's checkpoint: it can no longer use it."""


class _Stopped(Exception):
    """The check of an endpoint cannot go on; the rule that failed says why."""

    def __init__(self, rule: Rule) -> None:
        super().__init__(rule.id)
        self.rule = rule


Answer = TypeVar("Answer")
EndpointCheck = Callable[["_Endpoint"], Awaitable[Answer]]


class _Check:
    def __init__(
        self,
        bridges: BridgeClient,
        answers: _Answers,
        ledger: _Ledger,
        activation: TrialActivation,
        max_pages: int,
    ) -> None:
        self._bridges = bridges
        self._answers = answers
        self._ledger = ledger
        self._activation = activation
        self._configuration = activation.configuration
        self._max_pages = max_pages
        self._last_status: int | None = None
        """The status of the last answer, whatever the client made of it."""
        made_up = activation.made_up_auth()
        self._made_up = None if made_up is None else StaticCredentials(made_up)

    async def run(self, actions: Sequence[ActionUnderCheck] | None) -> None:
        added = await self._endpoint("auth_validation_endpoint", self._auth_validation)
        credentials = StaticCredentials(self._activation.auth(added or {}))
        full_run = await self._endpoint(
            "contact_synchronization_endpoint", lambda e: self._contacts(e, credentials)
        )
        contacts = full_run.contacts if full_run is not None else ()
        await self._endpoint(
            "interaction_retrieval_endpoint",
            lambda e: self._interactions(e, credentials, contacts),
        )
        await self._endpoint(
            "agent_synchronization_endpoint", lambda e: self._agents(e, credentials)
        )
        if actions is None:
            why = (
                "not checked: actions change the external system, so they run only with "
                "--actions SAMPLES.json"
            )
            self._ledger.not_checked("actions", _ACTION_RULES, why)
        for action in actions or ():
            endpoint = _Endpoint(
                f"action {action.configuration.name}", action.configuration.endpoint
            )
            check = partial(self._action, credentials=credentials, action=action)
            await self._checked(endpoint, _ACTION_RULES, check)

    async def _endpoint(self, key: str, check: EndpointCheck[Answer]) -> Answer | None:
        url: str | None = getattr(self._configuration, key)
        applicable = _ENDPOINT_RULES[key]
        if url is None:
            self._ledger.not_checked(
                key, applicable, f"not checked: the configuration has no {key}"
            )
            return None
        return await self._checked(_Endpoint(key, url), applicable, check)

    async def _checked(
        self, endpoint: _Endpoint, applicable: Sequence[Rule], check: EndpointCheck[Answer]
    ) -> Answer | None:
        try:
            result = await check(endpoint)
        except _Stopped as stop:
            self._ledger.close(endpoint, applicable, stop.rule)
            return None
        self._ledger.close(endpoint, applicable)
        return result

    # Calling ----------------------------------------------------------------------------

    async def _ask(
        self, endpoint: _Endpoint, call: Awaitable[Answer], *, made_up: bool = False
    ) -> Answer | BridgeError:
        """One call; its answers' statuses and headers are judged whatever it answers."""
        self._answers.take()
        try:
            answer = await call
        except BridgeError as error:
            return error
        finally:
            heads = self._answers.take()
            self._judge_heads(endpoint, heads)
            self._last_status = heads[-1].status if heads else None
        if not made_up:
            self._ledger.passed(r.AUTH_ACCEPTS_VALID, endpoint, "accepted the test credentials")
        return answer

    async def _answer(self, endpoint: _Endpoint, call: Awaitable[Answer], shape: Rule) -> Answer:
        """One call whose error ends the check of `endpoint` (see `_stop`)."""
        answer = await self._ask(endpoint, call)
        if isinstance(answer, BridgeError):
            raise self._stop(endpoint, answer, shape)
        return answer

    def _judge_heads(self, endpoint: _Endpoint, heads: list[_AnswerHead]) -> None:
        for head in heads:
            self._ledger.passed(r.HTTP_AVAILABLE, endpoint, "answered every request")
            self._ledger.passed(
                r.HTTP_STATUS, endpoint, "answered only with statuses the protocol allows"
            )
            if not (head.has_body and (200 <= head.status < 300 or head.status == 400)):
                continue
            if head.declares_json:
                self._ledger.passed(
                    r.HTTP_CONTENT_TYPE, endpoint, "every answer with a body declared JSON"
                )
            else:
                found = (
                    f"Content-Type {head.content_type}" if head.content_type else "no Content-Type"
                )
                self._ledger.fail(
                    r.HTTP_CONTENT_TYPE,
                    endpoint,
                    f"answered {head.status} with a body and {found}; answers are JSON "
                    "(Content-Type: application/json)",
                )

    def _stop(self, endpoint: _Endpoint, error: BridgeError, shape: Rule) -> _Stopped:
        """Record an error the check of `endpoint` cannot go on after."""
        rule = _rule_broken_by(error, shape)
        message = error.message
        if isinstance(error, TargetRefused):
            message = _refusal(error)
        elif isinstance(error, CredentialsRejected):
            message = (
                "refused the test credentials (401); check them, and how the bridge reads `auth`"
            )
        self._ledger.fail(rule, endpoint, message)
        return _Stopped(rule)

    async def _refuses_made_up(self, endpoint: _Endpoint, call: Awaitable[object] | None) -> None:
        if call is None:
            why = "not checked: the test credentials hold nothing to make up"
            self._ledger.skipped(r.AUTH_REJECTS_INVALID, endpoint, why)
            return
        answer = await self._ask(endpoint, call, made_up=True)
        if isinstance(answer, TargetRefused):
            self._ledger.fail(r.HTTP_AVAILABLE, endpoint, _refusal(answer))
        elif isinstance(answer, CredentialsRejected):
            self._ledger.passed(
                r.AUTH_REJECTS_INVALID, endpoint, "answered 401 to made-up credentials"
            )
        elif isinstance(answer, BridgeError):
            self._ledger.fail(
                r.AUTH_REJECTS_INVALID,
                endpoint,
                f"made-up credentials must get 401, but: {answer.message}",
            )
        else:
            self._ledger.fail(
                r.AUTH_REJECTS_INVALID,
                endpoint,
                "accepted made-up credentials (2xx); credentials that do not work must get 401",
            )

    # The endpoints ----------------------------------------------------------------------

    async def _auth_validation(self, endpoint: _Endpoint) -> dict[str, object]:
        auth = self._activation.validation_auth()
        answer = await self._ask(
            endpoint, self._bridges.validate_auth(endpoint.url, StaticCredentials(auth))
        )
        made_up = self._made_up
        await self._refuses_made_up(
            endpoint,
            None if made_up is None else self._bridges.validate_auth(endpoint.url, made_up),
        )
        if isinstance(answer, BridgeError):
            raise self._stop(endpoint, answer, r.AUTH_ANSWER_SHAPE)
        returned = sorted(answer)
        self._ledger.passed(
            r.AUTH_ACCEPTS_VALID,
            endpoint,
            "accepted the test credentials"
            + (f" and answered {', '.join(returned)}" if returned else ""),
        )
        self._ledger.passed(r.AUTH_ANSWER_SHAPE, endpoint, "answered nothing or a JSON object")
        return dict(answer)

    async def _contacts(self, endpoint: _Endpoint, credentials: StaticCredentials) -> _Run:
        await self._refuses_made_up(endpoint, self._made_up_contacts(endpoint))
        full = await self._contact_run(endpoint, credentials, "the full run", checkpoint=None)
        self._judge_held_pages(endpoint, full)
        self._ledger.passed(r.CONTACTS_OFFSET_REPEATS, endpoint, "no next_offset came twice")
        self._ledger.passed(
            r.CONTACTS_TERMINATES,
            endpoint,
            f"the full run ended after {_count(full.pages, 'page')}",
        )
        await self._careless_requests(endpoint, credentials, full)
        if full.checkpoint is None:
            self._ledger.skipped(
                r.CONTACTS_INCREMENTAL,
                endpoint,
                "not checked: the full run carried no synchronization_checkpoint, so every "
                "sync is a full one (which the protocol allows)",
            )
            return full
        try:
            since = await self._contact_run(
                endpoint, credentials, "the run from its checkpoint", checkpoint=full.checkpoint
            )
        except _CheckpointGone:
            self._ledger.passed(
                r.CONTACTS_GONE_NEEDS_CHECKPOINT, endpoint, "answered 410 only to a checkpoint"
            )
            self._ledger.skipped(
                r.CONTACTS_INCREMENTAL,
                endpoint,
                "not checked: the bridge answered 410 to the checkpoint the full run had just "
                "ended with, so the hub will sync in full every time",
            )
            return full
        if len(since.contacts) > len(full.contacts):
            self._ledger.fail(
                r.CONTACTS_INCREMENTAL,
                endpoint,
                f"the run from checkpoint {full.checkpoint!r} returned {len(since.contacts)} "
                f"contacts, more than the {len(full.contacts)} of the full run",
            )
        else:
            self._ledger.passed(
                r.CONTACTS_INCREMENTAL,
                endpoint,
                f"the run from the checkpoint returned {len(since.contacts)} contacts, the "
                f"full run {len(full.contacts)}",
            )
        self._ledger.passed(
            r.CONTACTS_TERMINATES,
            endpoint,
            f"the full run ended after {_count(full.pages, 'page')}, the run from its "
            f"checkpoint after {since.pages}",
        )
        return full

    def _made_up_contacts(self, endpoint: _Endpoint) -> Awaitable[ContactPage] | None:
        if self._made_up is None:
            return None
        return self._bridges.fetch_contacts(
            endpoint.url, self._made_up, checkpoint=None, offset=None
        )

    async def _contact_run(
        self,
        endpoint: _Endpoint,
        credentials: StaticCredentials,
        label: str,
        *,
        checkpoint: str | None,
    ) -> _Run:
        contacts: list[Contact] = []
        given: dict[str, int] = {}  # offset -> the page that gave it
        first_seen: dict[str, int] = {}  # contact id -> its page
        rejected = 0
        offset: str | None = None

        def held(pages: int) -> _Run:
            return _Run(tuple(contacts), len(contacts) + rejected, pages, None, bool(given))

        for number in range(1, self._max_pages + 1):
            page = await self._ask(
                endpoint,
                self._bridges.fetch_contacts(
                    endpoint.url, credentials, checkpoint=checkpoint, offset=offset
                ),
            )
            if isinstance(page, BridgeError):
                failure = self._contact_page_failed(endpoint, page, label, checkpoint=checkpoint)
                if not isinstance(failure, _CheckpointGone):
                    self._judge_held_pages(endpoint, held(number - 1))
                raise failure
            rejected += len(page.rejected)
            for rejection in page.rejected:
                self._ledger.fail(
                    r.CONTACTS_REQUIRED_FIELDS,
                    endpoint,
                    f"{label}, page {number}: {_item(rejection, 'contact')}",
                )
            for contact in page.contacts:
                if contact.id in first_seen:
                    self._ledger.fail(
                        r.CONTACTS_UNIQUE_IDS,
                        endpoint,
                        f'{label}: contact id "{contact.id}" came on page '
                        f"{first_seen[contact.id]} and again on page {number}",
                    )
                first_seen.setdefault(contact.id, number)
            contacts.extend(page.contacts)
            if page.next_offset is None:
                return replace(held(number), checkpoint=page.synchronization_checkpoint)
            if page.next_offset in given:
                self._ledger.fail(
                    r.CONTACTS_OFFSET_REPEATS,
                    endpoint,
                    f'{label}: page {number} gave next_offset "{page.next_offset}", which '
                    f"page {given[page.next_offset]} gave already; the hub ends such a run "
                    "with an error instead of looping",
                )
                self._judge_held_pages(endpoint, held(number))
                raise _Stopped(r.CONTACTS_OFFSET_REPEATS)
            given[page.next_offset] = number
            offset = page.next_offset
        self._ledger.fail(
            r.CONTACTS_TERMINATES,
            endpoint,
            f"{label} still had a next_offset after {self._max_pages} pages (--max-pages); "
            "the hub ends such a run with an error",
        )
        self._judge_held_pages(endpoint, held(self._max_pages))
        raise _Stopped(r.CONTACTS_TERMINATES)

    def _judge_held_pages(self, endpoint: _Endpoint, run: _Run) -> None:
        """The page rules, judged on the pages a run got (the contacts on them were checked
        one by one as they came), also when a paging error ended it."""
        if run.pages == 0:
            return
        pages = _count(run.pages, "page")
        self._ledger.passed(
            r.CONTACTS_PAGE_SHAPE,
            endpoint,
            f"every page was an object with a contacts array ({pages} checked)",
        )
        checked = f"{_count(run.checked, 'contact')} in {pages}"
        self._ledger.passed(r.CONTACTS_REQUIRED_FIELDS, endpoint, f"{checked} checked")
        self._ledger.passed(r.CONTACTS_UNIQUE_IDS, endpoint, f"{checked}, no id twice")

    async def _careless_requests(
        self, endpoint: _Endpoint, credentials: StaticCredentials, full: _Run
    ) -> None:
        """Send what a careless hub or an old state would: an offset or a checkpoint the
        bridge never gave, and a stale checkpoint. Each must be refused (400, or 410 for a
        checkpoint): answered with a page, it would be taken for the changes asked for."""
        careless: list[tuple[str, str | None, str | None]] = []
        if full.paged:
            careless.append((f'meta.offset "{NEVER_GIVEN}" (never given)', None, NEVER_GIVEN))
        if full.checkpoint is not None:
            careless.append(
                (
                    f'meta.synchronization_checkpoint "{NEVER_GIVEN}" (never given)',
                    NEVER_GIVEN,
                    None,
                )
            )
            stale = _aged(full.checkpoint)
            if stale is not None:
                careless.append((f'meta.synchronization_checkpoint "{stale}" (stale)', stale, None))
        if not careless:
            self._ledger.skipped(
                r.CONTACTS_UNKNOWN_STATE,
                endpoint,
                "not checked: the full run gave neither a next_offset nor a checkpoint, so the "
                "hub never sends either",
            )
            return
        for sent, checkpoint, offset in careless:
            answer = await self._ask(
                endpoint,
                self._bridges.fetch_contacts(
                    endpoint.url, credentials, checkpoint=checkpoint, offset=offset
                ),
            )
            problem = self._careless_answer_problem(answer, checkpoint)
            if problem is not None:
                self._ledger.fail(r.CONTACTS_UNKNOWN_STATE, endpoint, f"sent {sent}: {problem}")
        self._ledger.passed(
            r.CONTACTS_UNKNOWN_STATE,
            endpoint,
            f"refused {_count(len(careless), 'unknown offset or checkpoint')} with 400 or 410",
        )

    def _careless_answer_problem(
        self, answer: ContactPage | BridgeError, checkpoint: str | None
    ) -> str | None:
        """What is wrong with the answer to a careless request; None when it was refused."""
        status = self._last_status
        if isinstance(answer, RequestRefused) or (
            isinstance(answer, CheckpointRefused) and checkpoint is not None
        ):
            return None
        if isinstance(answer, ContactPage):
            received = _count(len(answer.contacts) + len(answer.rejected), "contact")
            return (
                f"answered {status} with {received} instead of refusing it with 400 or 410; "
                "the hub would take the page for the changes it asked for"
                + (", a silent full dump" if answer.contacts else "")
            )
        if status == GONE:
            return "answered 410 Gone without a checkpoint to drop; an unknown offset is a 400"
        return f"{answer.message} Expected 400 or 410."

    def _contact_page_failed(
        self, endpoint: _Endpoint, error: BridgeError, label: str, *, checkpoint: str | None
    ) -> Exception:
        """What ends a run whose page failed: a checkpoint the bridge gave up (410), or a
        broken rule."""
        if self._last_status == GONE:
            if checkpoint is not None:
                return _CheckpointGone()
            self._ledger.fail(
                r.CONTACTS_GONE_NEEDS_CHECKPOINT,
                endpoint,
                f"{label}: answered 410 Gone to a request without a synchronization_checkpoint; "
                "410 says a checkpoint can no longer be used, and a full run has none to drop",
            )
            return _Stopped(r.CONTACTS_GONE_NEEDS_CHECKPOINT)
        # The hub reads a page whole: a malformed `deleted_contacts` fails the page, and the
        # reason names the key.
        shape = (
            r.CONTACTS_DELETED_IDS if "deleted_contacts" in error.message else r.CONTACTS_PAGE_SHAPE
        )
        return self._stop(endpoint, error, shape)

    async def _interactions(
        self, endpoint: _Endpoint, credentials: StaticCredentials, synced: Sequence[Contact]
    ) -> None:
        types = tuple(self._configuration.interaction_types or ())
        asked_about = [_as_asked(contact) for contact in synced[:INTERACTION_CONTACTS]] or [
            InteractionContact(contact_name="Bridgehub Conformance Check")
        ]
        if self._made_up is not None:
            made_up = self._bridges.fetch_interactions(
                endpoint.url, self._made_up, interaction_types=types, contact=asked_about[0]
            )
            await self._refuses_made_up(endpoint, made_up)
        else:
            await self._refuses_made_up(endpoint, None)
        # Each type alone too: a bridge that ignores the request's types shows it then.
        selections = [types, *([(each,) for each in types] if len(types) > 1 else [])]
        seen = 0
        for contact in asked_about:
            for selection in selections:
                result = await self._answer(
                    endpoint,
                    self._bridges.fetch_interactions(
                        endpoint.url, credentials, interaction_types=selection, contact=contact
                    ),
                    r.INTERACTIONS_ARRAY,
                )
                seen += self._judge_interactions(endpoint, contact, selection, result)
        about = f"{_count(seen, 'interaction')} for {_count(len(asked_about), 'contact')}"
        self._ledger.passed(r.INTERACTIONS_ARRAY, endpoint, f"every answer was an array ({about})")
        for rule in (r.INTERACTIONS_FIELDS, r.INTERACTIONS_ENUMS, r.INTERACTIONS_REQUESTED_TYPES):
            self._ledger.passed(rule, endpoint, f"{about} checked")

    def _judge_interactions(
        self,
        endpoint: _Endpoint,
        contact: InteractionContact,
        selection: tuple[str, ...],
        result: InteractionResult,
    ) -> int:
        who = contact.contact_external_id or contact.contact_name
        asked = f'asked for contact "{who}" and types [{", ".join(selection)}]'
        for rejection in result.rejected:
            for rule in _interaction_rules_broken(rejection.reason):
                self._ledger.fail(rule, endpoint, f"{asked}: {_item(rejection, 'interaction')}")
        return len(result.interactions) + len(result.rejected)

    async def _agents(self, endpoint: _Endpoint, credentials: StaticCredentials) -> None:
        made_up = self._made_up
        await self._refuses_made_up(
            endpoint, None if made_up is None else self._bridges.fetch_agents(endpoint.url, made_up)
        )
        answer = await self._answer(
            endpoint, self._bridges.fetch_agents(endpoint.url, credentials), r.AGENTS_LIST_SHAPE
        )
        for rejection in answer.rejected:
            self._ledger.fail(r.AGENTS_REQUIRED_FIELDS, endpoint, _item(rejection, "agent"))
        count = len(answer.agents) + len(answer.rejected)
        self._ledger.passed(
            r.AGENTS_LIST_SHAPE, endpoint, "answered an object with an agents array"
        )
        self._ledger.passed(r.AGENTS_REQUIRED_FIELDS, endpoint, f"{_count(count, 'agent')} checked")

    async def _action(
        self, endpoint: _Endpoint, credentials: StaticCredentials, action: ActionUnderCheck
    ) -> None:
        for number, sample in enumerate(action.valid):
            answer = await self._run_action(endpoint, credentials, sample)
            label = f"valid sample #{number}"
            if isinstance(answer, ActionOutcome):
                if answer.problem is not None:
                    self._ledger.fail(
                        r.ACTIONS_ANSWER_SHAPE, endpoint, f"{label}: {answer.problem}"
                    )
            elif isinstance(answer, RequestRefused):
                self._ledger.fail(r.ACTIONS_ACCEPTS_VALID, endpoint, f"{label}: {answer.message}")
            else:
                raise self._stop(endpoint, answer, r.ACTIONS_ANSWER_SHAPE)
        for number, sample in enumerate(action.invalid):
            answer = await self._run_action(endpoint, credentials, sample)
            label = f"invalid sample #{number}"
            if isinstance(answer, ActionOutcome):
                self._ledger.fail(
                    r.ACTIONS_REFUSES_INVALID,
                    endpoint,
                    f"{label} was carried out (2xx); the bridge must refuse it with 400",
                )
            elif isinstance(answer, RequestRefused):
                if answer.bridge_message is None:
                    self._ledger.fail(
                        r.ACTIONS_REFUSES_INVALID,
                        endpoint,
                        f"{label} got 400 without a `message` saying why",
                    )
            else:
                raise self._stop(endpoint, answer, r.ACTIONS_ANSWER_SHAPE)
        self._judge_samples(endpoint, action)

    def _judge_samples(self, endpoint: _Endpoint, action: ActionUnderCheck) -> None:
        if action.valid:
            valid = _count(len(action.valid), "valid sample")
            self._ledger.passed(r.ACTIONS_ACCEPTS_VALID, endpoint, f"{valid} carried out")
            self._ledger.passed(r.ACTIONS_ANSWER_SHAPE, endpoint, f"{valid} answered usably")
        else:
            for rule in (r.ACTIONS_ACCEPTS_VALID, r.ACTIONS_ANSWER_SHAPE):
                self._ledger.skipped(rule, endpoint, "not checked: no sample is marked valid")
        if action.invalid:
            invalid = _count(len(action.invalid), "invalid sample")
            self._ledger.passed(
                r.ACTIONS_REFUSES_INVALID, endpoint, f"{invalid} refused with 400 and a message"
            )
        else:
            self._ledger.skipped(
                r.ACTIONS_REFUSES_INVALID, endpoint, "not checked: no sample is marked invalid"
            )

    async def _run_action(
        self, endpoint: _Endpoint, credentials: StaticCredentials, sample: ActionSample
    ) -> ActionOutcome | BridgeError:
        return await self._ask(
            endpoint,
            self._bridges.execute_action(
                endpoint.url,
                credentials,
                data=sample.data,
                contact_external_id=sample.contact_external_id,
                agent_external_id=sample.agent_external_id,
            ),
        )


def _rule_broken_by(error: BridgeError, shape: Rule) -> Rule:
    if isinstance(error, TargetRefused | BridgeUnavailable):
        return r.HTTP_AVAILABLE
    if isinstance(error, CredentialsRejected):
        return r.AUTH_ACCEPTS_VALID
    if isinstance(error, ProtocolViolation) and (
        error.status_code is None or 200 <= error.status_code < 300
    ):
        return shape
    # A 400 outside actions, a redirect or a status the protocol does not know.
    return r.HTTP_STATUS


# `describe` writes each problem of an item as "path: message", joined by "; ".
_PROBLEM = re.compile(r"(?:^|; )(\w+)[^:;\s]*: (is required)?")


def _refusal(error: TargetRefused) -> str:
    return (
        f"{error.message} (check-bridge: --allow-private-networks allows loopback and private "
        "addresses, over plain HTTP too)"
    )


def _interaction_rules_broken(reason: str) -> set[Rule]:
    broken: set[Rule] = set()
    for key, missing in _PROBLEM.findall(reason):
        if key in ("priority", "status") and not missing:
            broken.add(r.INTERACTIONS_ENUMS)
        elif key == "type" and not missing:
            broken.add(r.INTERACTIONS_REQUESTED_TYPES)
        else:
            broken.add(r.INTERACTIONS_FIELDS)
    return broken or {r.INTERACTIONS_FIELDS}


def _aged(checkpoint: str) -> str | None:
    """The checkpoint with every digit 0: of the bridge's own form, older than any it gave
    (None when it holds no digit to age)."""
    aged = re.sub(r"\d", "0", checkpoint)
    return aged if aged != checkpoint else None


def _item(rejection: Rejection, noun: str) -> str:
    which = f"{noun} #{rejection.index}" + (f' (id "{rejection.id}")' if rejection.id else "")
    return f"{which}: {rejection.reason}"


def _as_asked(contact: Contact) -> InteractionContact:
    """The contact as the hub asks about one that came from this integration's sync."""
    return InteractionContact(
        contact_external_id=contact.id,
        contact_name=contact.name,
        contact_emails=contact.emails,
        contact_phones=contact.phones,
    )


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"
