"""The rules a bridge is checked against: each with a stable identifier, for CI scripts and
bug reports to name, and a one-line description of what the bridge protocol asks."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    id: str
    description: str


HTTP_AVAILABLE = Rule(
    "http.available",
    "The endpoint is reachable under the network policy and answers without a 5xx, a 429, "
    "a timeout or a broken connection.",
)
HTTP_STATUS = Rule(
    "http.status",
    "Answers use only the statuses the protocol gives the endpoint (2xx, 401; 400 for "
    "actions and for a contact sync's unknown offset or checkpoint; 410 for a contact "
    "sync's checkpoint), never a redirect.",
)
HTTP_CONTENT_TYPE = Rule(
    "http.content-type",
    "Every answer with a body declares Content-Type: application/json.",
)
AUTH_ACCEPTS_VALID = Rule(
    "auth.accepts-valid",
    "The endpoint accepts the test credentials, built as the hub builds `auth`, without a 401.",
)
AUTH_REJECTS_INVALID = Rule(
    "auth.rejects-invalid",
    "The endpoint answers 401 to made-up credentials.",
)
AUTH_ANSWER_SHAPE = Rule(
    "auth.answer-shape",
    "A 2xx auth validation answer is empty or a JSON object of authentication values.",
)
CONTACTS_PAGE_SHAPE = Rule(
    "contacts.page-shape",
    "Each page is a JSON object with a `contacts` array and string `next_offset` and "
    "`synchronization_checkpoint` when present.",
)
CONTACTS_REQUIRED_FIELDS = Rule(
    "contacts.required-fields",
    "Every contact has a non-empty `id` and a `name`; `emails`, `phones` and `websites` "
    "are arrays of strings.",
)
CONTACTS_UNIQUE_IDS = Rule(
    "contacts.unique-ids",
    "No contact id comes twice in one run (on a test account nobody changes meanwhile).",
)
CONTACTS_OFFSET_REPEATS = Rule(
    "contacts.offset-repeats",
    "A run never hands out the same `next_offset` twice.",
)
CONTACTS_TERMINATES = Rule(
    "contacts.terminates",
    "A run ends with a page without `next_offset` within the page limit.",
)
CONTACTS_DELETED_IDS = Rule(
    "contacts.deleted-ids",
    "`deleted_contacts`, when present, is an array of non-empty string or number ids (no "
    "booleans, objects or nulls).",
)
CONTACTS_GONE_NEEDS_CHECKPOINT = Rule(
    "contacts.gone-needs-checkpoint",
    "410 Gone answers only a request that carried a `synchronization_checkpoint`, which the "
    "bridge can no longer use.",
)
CONTACTS_UNKNOWN_STATE = Rule(
    "contacts.unknown-state",
    "An `offset` or `synchronization_checkpoint` the bridge never gave, or a stale "
    "checkpoint, is answered 400 (or 410, for a checkpoint), never with a 5xx or a page of "
    "contacts.",
)
CONTACTS_INCREMENTAL = Rule(
    "contacts.incremental",
    "A run from the checkpoint a full run ended with returns no more contacts than the full run.",
)
INTERACTIONS_ARRAY = Rule(
    "interactions.array",
    "The answer is a JSON array of interactions.",
)
INTERACTIONS_FIELDS = Rule(
    "interactions.fields",
    "Every interaction is an object with `id`, `type`, `subject`, `priority` and `status`; "
    "`date`, when given, is a date and time.",
)
INTERACTIONS_ENUMS = Rule(
    "interactions.enums",
    "`priority` is none, low, normal, high or urgent; `status` is new, open, pending, "
    "solved or closed.",
)
INTERACTIONS_REQUESTED_TYPES = Rule(
    "interactions.requested-types",
    "Every interaction's `type` is one of the types the request asked for.",
)
AGENTS_LIST_SHAPE = Rule(
    "agents.list-shape",
    "The answer is a JSON object with an `agents` array.",
)
AGENTS_REQUIRED_FIELDS = Rule(
    "agents.required-fields",
    "Every agent has a non-empty `id`, a `name` and an `email`.",
)
ACTIONS_ACCEPTS_VALID = Rule(
    "actions.accepts-valid",
    "An action answers 2xx to each sample input marked valid.",
)
ACTIONS_REFUSES_INVALID = Rule(
    "actions.refuses-invalid",
    "An action answers 400 with a `message` saying why to each sample input marked invalid.",
)
ACTIONS_ANSWER_SHAPE = Rule(
    "actions.answer-shape",
    "A 2xx action answer is empty or a JSON object (`message`, `external_id`, ...).",
)

RULES: tuple[Rule, ...] = (
    HTTP_AVAILABLE,
    HTTP_STATUS,
    HTTP_CONTENT_TYPE,
    AUTH_ACCEPTS_VALID,
    AUTH_REJECTS_INVALID,
    AUTH_ANSWER_SHAPE,
    CONTACTS_PAGE_SHAPE,
    CONTACTS_REQUIRED_FIELDS,
    CONTACTS_UNIQUE_IDS,
    CONTACTS_OFFSET_REPEATS,
    CONTACTS_TERMINATES,
    CONTACTS_DELETED_IDS,
    CONTACTS_GONE_NEEDS_CHECKPOINT,
    CONTACTS_UNKNOWN_STATE,
    CONTACTS_INCREMENTAL,
    INTERACTIONS_ARRAY,
    INTERACTIONS_FIELDS,
    INTERACTIONS_ENUMS,
    INTERACTIONS_REQUESTED_TYPES,
    AGENTS_LIST_SHAPE,
    AGENTS_REQUIRED_FIELDS,
    ACTIONS_ACCEPTS_VALID,
    ACTIONS_REFUSES_INVALID,
    ACTIONS_ANSWER_SHAPE,
)
