"""The messages of the bridge protocol (docs/bridge-protocol.md) as pydantic models.

Requests are built by the hub and serialized without absent optional keys. Answers come
from bridges written by other people, so they are validated with the tolerance the
protocol grants sloppy bridges (identifiers as JSON numbers, unknown keys, empty bodies
where none is defined), and lists are validated item by item: a bad item is rejected with
its reason while the rest of the list is kept.

The `parse_*` functions take an answer's decoded JSON body (None for an empty body) and
raise `MalformedAnswer` when the body as a whole breaks the protocol.

The same models give the published JSON Schemas of the messages (bridge/schemas.py), so
their field docstrings are written for bridge authors, in the protocol's words.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.json_schema import JsonSchemaValue, SkipJsonSchema
from pydantic_core import CoreSchema, ErrorDetails, PydanticCustomError, from_json

from bridgehub.kit.messages import plain_message
from bridgehub.kit.paths import describe_value, format_path

Priority = Literal["none", "low", "normal", "high", "urgent"]
Status = Literal["new", "open", "pending", "solved", "closed"]


class MalformedAnswer(ValueError):
    """An answer's body as a whole does not have the shape the protocol gives it."""


def _number_as_text(value: Any) -> Any:
    # Sloppy bridges send identifiers as JSON numbers ("id": 341231). Booleans are no
    # identifiers, so they are left for validation to refuse.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def _null_as_empty(value: Any) -> Any:
    return () if value is None else value


def _utc_when_naive(moment: datetime) -> datetime:
    # Dates are compared across bridges, and naive and aware datetimes do not compare.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# The input types are what the published JSON Schemas accept: what the validators take in,
# not only what they give out. A JSON number without a fraction counts as an integer there.
LooseText = Annotated[str, BeforeValidator(_number_as_text, json_schema_input_type=str | int)]
"""A string that bridges may send as a JSON number."""
_NonEmpty = Annotated[str, StringConstraints(min_length=1)]
# The constraint goes first: after the validator it would count items, not characters.
ExternalId = Annotated[
    _NonEmpty, BeforeValidator(_number_as_text, json_schema_input_type=_NonEmpty | int)
]
Strings = Annotated[
    tuple[str, ...], BeforeValidator(_null_as_empty, json_schema_input_type=list[str] | None)
]
Moment = Annotated[datetime, AfterValidator(_utc_when_naive)]


@dataclass(frozen=True)
class _CheckedItemByItem:
    """Marks a list that an answer's envelope takes as it comes, for `validate_each` to
    check item by item; its JSON Schema gives the items' model all the same."""

    model: type[BaseModel]

    def __get_pydantic_json_schema__(
        self, _: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "array", "items": handler(self.model.__pydantic_core_schema__)}


class _Message(BaseModel):
    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)


# Requests ------------------------------------------------------------------------------


class BridgeRequest(_Message):
    auth: dict[str, Any] = Field(repr=False)  # kept out of reprs, and so out of logs
    """The integration's authentication field names, with what the hub holds for the account
    the call is made for: user input, defaults, values returned by auth validation, and for
    `oauth2` integrations the current `access_token`."""

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()


class AuthValidationRequest(BridgeRequest):
    """`{"auth": {...}}`: do these credentials work?"""


class ContactSyncMeta(_Message):
    synchronization_checkpoint: str | None = None
    """Absent on the very first (initial, full) sync of an activation; afterwards the
    checkpoint the last completed sync ended with, asking only for contacts changed after
    it. Opaque: chosen by the bridge, never interpreted by the hub."""
    offset: str | None = None
    """Absent on the first page of a run; afterwards the previous page's `next_offset`, with
    the same checkpoint. Opaque: chosen by the bridge, never interpreted by the hub."""


class ContactSyncRequest(BridgeRequest):
    meta: ContactSyncMeta = ContactSyncMeta()


class InteractionMeta(_Message):
    interaction_types: tuple[str, ...]
    """The subset of the integration's `interaction_types` that the account chose."""


class InteractionContact(_Message):
    """The contact whose interactions are wanted. Without `contact_external_id` (a contact
    that did not come from this integration) the bridge matches on the rest."""

    contact_external_id: str | None = None
    """Present when the contact came from this integration's own contact sync."""
    contact_name: str
    contact_emails: tuple[str, ...] = ()
    contact_phones: tuple[str, ...] = ()


class InteractionRequest(BridgeRequest):
    meta: InteractionMeta
    data: InteractionContact


class AgentSyncRequest(BridgeRequest):
    """`{"auth": {...}}`: which agents does the external service have?"""


class ActionMeta(_Message):
    contact_external_id: str | None = None
    """Sent when the action runs in the scope of a contact that came from this integration."""
    agent_external_id: str | None = None
    """Sent when the acting agent is known to the integration (agent sync)."""


class ActionRequest(BridgeRequest):
    meta: ActionMeta = ActionMeta()
    data: dict[str, Any]
    """The action's input keys, with their values; a mandatory input always has one."""


# Answers -------------------------------------------------------------------------------


class _AnswerModel(_Message):
    model_config = ConfigDict(extra="ignore")


class Contact(_AnswerModel):
    id: ExternalId
    """Unique within the integration."""
    name: str
    company: str | None = None
    title: str | None = None
    emails: Strings = ()
    phones: Strings = ()
    photo_url: str | None = None
    address: str | None = None
    websites: Strings = ()
    twitter: str | None = None


class Interaction(_AnswerModel):
    id: ExternalId
    type: str
    """One of the request's `meta.interaction_types`."""
    subject: str
    priority: Priority
    status: Status
    description: str | None = None
    date: Moment | None = None
    """A date and time (RFC 3339); one without an offset is taken as UTC."""
    url: str | None = None

    @field_validator("type")
    @classmethod
    def _requested(cls, value: str, info: ValidationInfo) -> str:
        requested = (info.context or {}).get("interaction_types")
        if requested is not None and value not in requested:
            raise PydanticCustomError(
                "unrequested_type",
                "must be one of the requested types ({requested})",
                {"requested": ", ".join(requested)},
            )
        return value


class Agent(_AnswerModel):
    id: ExternalId
    name: str
    email: _NonEmpty
    """Matches the agent to the hub's users, which gives `meta.agent_external_id` in actions."""


class ActionOutcome(_AnswerModel):
    message: str | None = None
    external_id: LooseText | None = None
    """The id of the resource the action created."""
    contact_external_id: LooseText | None = None
    """For an action that creates a contact: the contact's id."""
    contact_external_type: str | None = None
    contact_external_url: str | None = None
    contact: Contact | None = None
    """The contact the action created, as a contact sync would deliver it (protocol 6.2)."""
    # The hub's notes are left out of the published schema: a bridge never sends them.
    problem: SkipJsonSchema[str | None] = None
    """Set by the hub, never by the bridge: why the answer of an action that was done (2xx)
    could not be used, in which case the fields above are empty."""
    contact_rejected: SkipJsonSchema[str | None] = None
    """Set by the hub, never by the bridge: why it rejected the answer's `contact`, which
    then is None while the rest of the answer stands."""
    status_code: SkipJsonSchema[int | None] = None
    """Set by the hub, never by the bridge: the HTTP status the bridge answered with."""


HUB_NOTES = frozenset({"problem", "contact_rejected", "status_code"})
"""The fields of `ActionOutcome` the hub sets about an answer, never sent by a bridge."""


@dataclass(frozen=True)
class Rejection:
    """An item of an answer's list that was left out, and why."""

    index: int
    id: str | None
    """The item's `id` as the bridge sent it, when it sent one."""
    reason: str


@dataclass(frozen=True)
class ContactPage:
    contacts: tuple[Contact, ...]
    rejected: tuple[Rejection, ...]
    next_offset: str | None
    synchronization_checkpoint: str | None
    deleted: tuple[str, ...] = ()
    """Ids of contacts deleted since the request's checkpoint (protocol 6.1)."""


@dataclass(frozen=True)
class InteractionResult:
    interactions: tuple[Interaction, ...]
    rejected: tuple[Rejection, ...]


@dataclass(frozen=True)
class AgentList:
    agents: tuple[Agent, ...]
    rejected: tuple[Rejection, ...]


class ContactPageBody(_AnswerModel):
    contacts: Annotated[list[Any], _CheckedItemByItem(Contact)]
    """Sorted ascending by whatever the checkpoint measures. A contact the hub rejects is
    reported with its reason, and the rest of the page is kept."""
    next_offset: LooseText | None = None
    """Where the next page starts; absent on the last page of a run."""
    synchronization_checkpoint: LooseText | None = None
    """Everything up to here has been delivered. A run ends with the checkpoint on its last
    page; a run without any makes every later sync a full sync."""
    deleted_contacts: list[ExternalId] = []
    """Ids of contacts deleted in the external service since the request's checkpoint
    (protocol 6.1); ids the hub does not hold are ignored."""


InteractionListBody = Annotated[list[Any], _CheckedItemByItem(Interaction)]
"""The interactions, an array; an item that breaks the rules is dropped and reported."""


class AgentListBody(_AnswerModel):
    agents: Annotated[list[Any], _CheckedItemByItem(Agent)]


# Parsing -------------------------------------------------------------------------------


def decode_body(content: bytes) -> Any:
    """An answer's JSON body; None when it is empty."""
    if not content.strip():
        return None
    try:
        # Parsed without Python recursion: the standard parser's RecursionError on absurdly
        # deep nesting leaves CPython 3.11's recursion accounting off, and the process's
        # later compiles failing ("AST constructor recursion depth mismatch").
        return from_json(content)
    except ValueError:  # also nesting deeper than the parser's limit
        raise MalformedAnswer("the body is not JSON") from None


def parse_auth_values(body: Any) -> dict[str, Any]:
    """Extra authentication values from a successful auth validation; {} for none."""
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise MalformedAnswer(
            f"the body must be an object of authentication values; {_found(body)}"
        )
    return body


def parse_contact_page(body: Any) -> ContactPage:
    page = _envelope(ContactPageBody, body, "an object with `contacts`")
    contacts, rejected = validate_each(Contact, page.contacts)
    return ContactPage(
        contacts,
        rejected,
        page.next_offset,
        page.synchronization_checkpoint,
        deleted=tuple(page.deleted_contacts),
    )


def parse_interactions(body: Any, requested_types: Sequence[str]) -> InteractionResult:
    if not isinstance(body, list):
        raise MalformedAnswer(f"the body must be an array of interactions; {_found_body(body)}")
    context = {"interaction_types": tuple(requested_types)}
    return InteractionResult(*validate_each(Interaction, body, context=context))


def parse_agents(body: Any) -> AgentList:
    agents = _envelope(AgentListBody, body, "an object with `agents`").agents
    return AgentList(*validate_each(Agent, agents))


def parse_action_outcome(body: Any) -> ActionOutcome:
    if body is None:
        return ActionOutcome()
    if not isinstance(body, dict):
        raise MalformedAnswer(f"the body must be an object; {_found(body)}")
    contact, contact_rejected = _created_contact(body)
    notes = {"problem": None, "contact_rejected": contact_rejected, "status_code": None}
    return _validated(ActionOutcome, {**body, **notes, "contact": contact})


def _created_contact(body: dict[str, Any]) -> tuple[Contact | None, str | None]:
    """An action answer's `contact`, judged as a synced contact is, apart from the rest of
    the answer: the action was done, and a contact the hub cannot take spoils nothing else
    the bridge said. Answers the contact, or why it was rejected."""
    raw = body.get("contact")
    if raw is None:
        return None, None
    valid, rejected = validate_each(Contact, [raw])
    if rejected:
        return None, rejected[0].reason
    contact = valid[0]
    named = _number_as_text(body.get("contact_external_id"))
    if named is not None and named != contact.id:
        return None, f'id: differs from contact_external_id "{named}"; found "{contact.id}"'
    return contact, None


Item = TypeVar("Item", bound=BaseModel)


def validate_each(
    model: type[Item], items: Sequence[Any], *, context: dict[str, Any] | None = None
) -> tuple[tuple[Item, ...], tuple[Rejection, ...]]:
    """Validate a list item by item: (the valid items, the rejected ones with reasons)."""
    valid: list[Item] = []
    rejected: list[Rejection] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            rejected.append(Rejection(index, None, f"must be an object; {_found(item)}"))
            continue
        try:
            valid.append(model.model_validate(item, context=context))
        except ValidationError as error:
            rejected.append(Rejection(index, _raw_id(item), describe(error)))
    return tuple(valid), tuple(rejected)


def describe(error: ValidationError) -> str:
    """A validation error in words, located by paths: `priority: must be one of ...`."""
    return "; ".join(_problem(detail) for detail in error.errors(include_url=False))


def _problem(detail: ErrorDetails) -> str:
    message = plain_message(detail)
    if detail["type"] not in ("missing", "json_invalid"):
        message += f"; {_found(detail['input'])}"
    path = format_path(detail["loc"])
    return f"{path}: {message}" if path else message


def _found(value: Any) -> str:
    return f"found {describe_value(value)}"


def _found_body(body: Any) -> str:
    return "the body is empty" if body is None else _found(body)


Body = TypeVar("Body", bound=BaseModel)


def _envelope(model: type[Body], body: Any, expected: str) -> Body:
    if not isinstance(body, dict):
        raise MalformedAnswer(f"the body must be {expected}; {_found_body(body)}")
    return _validated(model, body)


def _validated(model: type[Body], body: dict[str, Any]) -> Body:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise MalformedAnswer(describe(error)) from None


def _raw_id(item: dict[str, Any]) -> str | None:
    raw = _number_as_text(item.get("id"))
    return raw if isinstance(raw, str) and raw else None
