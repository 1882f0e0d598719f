"""`BridgeClient`: the hub's only way to call bridges.

One client holds the connection pools for all bridges. Each call is checked by the SSRF
guard and connects to the address the guard checked, runs under its endpoint's deadline,
reads at most `max_response_bytes`, is retried after transient failures when it is safe to
repeat, and is repeated once with refreshed credentials after a 401 (the protocol's 401
rule). Whatever goes wrong is raised as a `BridgeError`.
"""

from __future__ import annotations

import asyncio
import random
import textwrap
import time
import zlib
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace
from http import HTTPStatus
from types import TracebackType
from typing import Any, Protocol, Self, TypeVar

import httpx
import structlog

from bridgehub import __version__, metrics
from bridgehub.bridge.errors import (
    BridgeError,
    BridgeUnavailable,
    CheckpointRefused,
    CredentialsRejected,
    ProtocolViolation,
    RequestRefused,
    TargetRefused,
)
from bridgehub.bridge.guard import (
    CheckedTarget,
    NetworkPolicy,
    Resolver,
    check_target,
    shown_url,
    system_resolver,
)
from bridgehub.bridge.protocol import (
    ActionMeta,
    ActionOutcome,
    ActionRequest,
    AgentList,
    AgentSyncRequest,
    AuthValidationRequest,
    BridgeRequest,
    ContactPage,
    ContactSyncMeta,
    ContactSyncRequest,
    InteractionContact,
    InteractionMeta,
    InteractionRequest,
    InteractionResult,
    MalformedAnswer,
    decode_body,
    parse_action_outcome,
    parse_agents,
    parse_auth_values,
    parse_contact_page,
    parse_interactions,
)
from bridgehub.kit.messages import network_failure
from bridgehub.kit.retry_after import retry_after_seconds

log = structlog.get_logger(__name__)

MiB = 1024 * 1024


class Credentials(Protocol):
    """What a call authenticates with, for the account it is made for.

    Concurrent calls that each get a 401 each call `refreshed()`: an implementation whose
    refresh must happen once (a single-use refresh token) shares it among them itself.
    """

    def auth(self) -> Mapping[str, Any]:
        """The `auth` object to send now."""
        ...

    async def refreshed(self) -> Mapping[str, Any] | None:
        """Called after a 401: the `auth` object to repeat the call with (after refreshing an
        OAuth 2.0 access token, say), or None when the credentials cannot be refreshed."""
        ...


class StaticCredentials:
    """Credentials that cannot be refreshed: custom authentication, or none."""

    def __init__(self, auth: Mapping[str, Any]) -> None:
        self._auth = dict(auth)

    def auth(self) -> Mapping[str, Any]:
        return self._auth

    async def refreshed(self) -> Mapping[str, Any] | None:
        return None

    def __repr__(self) -> str:
        return "StaticCredentials(<hidden>)"


@dataclass(frozen=True)
class RetryPolicy:
    """How calls that are safe to repeat are retried after a transient failure. Actions are
    never retried here: their caller's job queue does it."""

    attempts: int = 3
    base_delay: float = 0.25
    max_delay: float = 10.0
    max_retry_after: float = 60.0
    """The longest `Retry-After` waited for within a call. When a bridge asks for more, the
    call fails at once with `BridgeUnavailable.retry_after` set, for the caller to wait."""

    @classmethod
    def waiting_at_most(cls, seconds: float) -> RetryPolicy:
        """The defaults, with no pause longer than `seconds`, whatever a bridge asks."""
        defaults = cls()
        return replace(
            defaults,
            max_delay=min(defaults.max_delay, seconds),
            max_retry_after=min(defaults.max_retry_after, seconds),
        )

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number `retry` (1 for the first): exponential, with
        full jitter so that calls that failed together do not all come back together."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry - 1))
        return random.uniform(0, ceiling)  # noqa: S311 (jitter, not a secret)


@dataclass(frozen=True)
class Timeouts:
    """Seconds one attempt at each endpoint may take: resolving the host, connecting,
    sending the request and reading the whole answer."""

    auth_validation: float = 10.0
    contacts: float = 30.0
    interactions: float = 5.0  # a person is waiting for them
    agents: float = 30.0
    actions: float = 30.0

    @classmethod
    def within(cls, seconds: float) -> Timeouts:
        """The defaults, none longer than `seconds`."""
        defaults = cls()
        return cls(**{f.name: min(getattr(defaults, f.name), seconds) for f in fields(cls)})


@dataclass(frozen=True)
class _Call:
    endpoint: str  # as people name it in messages: "contact synchronization"
    url: str
    timeout: float
    """Of one attempt."""
    repeatable: bool  # safe to send again after a transient failure
    kind: str  # as the protocol names the endpoint: "contacts"
    integration: str  # whose bridge is called ("" outside an integration: check-bridge)
    sends_checkpoint: bool = False  # a 410 then means the bridge cannot use it (6.3)

    def __str__(self) -> str:
        return f"The bridge's {self.endpoint} endpoint ({shown_url(self.url)})"


@dataclass(frozen=True)
class _Answer:
    status: int
    content: bytes


Result = TypeVar("Result")
MakeRequest = Callable[[dict[str, Any]], BridgeRequest]
AnswerHook = Callable[[httpx.Response], Awaitable[None]]
"""Sees each answer's status and headers before its body is read; it must not read the body."""


def _of_body(parse: Callable[[Any], Result]) -> Callable[[_Answer], Result]:
    """`parse` applied to an answer's JSON body."""
    return lambda answer: parse(decode_body(answer.content))


def _outcome_with_status(answer: _Answer) -> ActionOutcome:
    """An action's outcome, with the status the bridge answered (201 for a created record)."""
    outcome = parse_action_outcome(decode_body(answer.content))
    return outcome.model_copy(update={"status_code": answer.status})


@dataclass(frozen=True)
class Exchange:
    """One request to a bridge and its answer, as they went over the wire."""

    request: httpx.Request
    """Sent to the checked address; its `Host` header names the bridge's host."""
    status: int
    headers: httpx.Headers
    body: bytes
    """As received: still compressed when the bridge compressed it."""


ExchangeRecorder = Callable[[Exchange], None]


class BridgeClient:
    """Calls bridges. Use it as an async context manager, or `aclose()` it."""

    def __init__(
        self,
        policy: NetworkPolicy = NetworkPolicy(),
        *,
        resolver: Resolver = system_resolver,
        retry: RetryPolicy = RetryPolicy(),
        timeouts: Timeouts = Timeouts(),
        max_response_bytes: int = 10 * MiB,
        answer_hooks: Sequence[AnswerHook] = (),
        recorder: ExchangeRecorder | None = None,
    ) -> None:
        """`recorder` is handed every exchange, each answer read whole first (for
        `check-bridge --trace`: a hub reads answers as they come, within its size cap)."""
        self._policy = policy
        self._resolver = resolver
        self._retry = retry
        self._timeouts = timeouts
        self._max_response_bytes = max_response_bytes
        pools = _PoolPerOrigin()
        self._http = httpx.AsyncClient(
            transport=pools if recorder is None else _Recorded(pools, recorder),
            # A redirect would lead to an address the guard never checked.
            follow_redirects=False,
            # No proxy or .netrc from the environment: connections go where the guard said.
            trust_env=False,
            event_hooks={"response": list(answer_hooks)},
            headers={
                "User-Agent": f"bridgehub/{__version__}",
                "Accept": "application/json",
                # Not br or zstd, whose ratios would let a small answer fill the memory
                # before the size cap sees it.
                "Accept-Encoding": "gzip",
            },
        )

    async def __aenter__(self) -> Self:
        await self._http.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._http.__aexit__(exc_type, exc, traceback)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def validate_auth(
        self, url: str, credentials: Credentials, *, integration: str = ""
    ) -> dict[str, Any]:
        """Check the credentials. Answers the extra authentication values the bridge returned
        ({} when none); CredentialsRejected when the credentials do not work.

        Every call names the `integration` whose bridge it calls, for the metrics."""
        call = _Call(
            "authorization validation",
            url,
            self._timeouts.auth_validation,
            repeatable=True,
            kind="auth_validation",
            integration=integration,
        )
        return await self._call(
            call,
            credentials,
            lambda auth: AuthValidationRequest(auth=auth),
            _of_body(parse_auth_values),
        )

    async def fetch_contacts(
        self,
        url: str,
        credentials: Credentials,
        *,
        checkpoint: str | None,
        offset: str | None,
        integration: str = "",
    ) -> ContactPage:
        """One page of contacts: changed after `checkpoint` (all when None), from `offset`
        (the first page when None)."""
        call = _Call(
            "contact synchronization",
            url,
            self._timeouts.contacts,
            repeatable=True,
            kind="contacts",
            integration=integration,
            sends_checkpoint=checkpoint is not None,
        )
        meta = ContactSyncMeta(synchronization_checkpoint=checkpoint, offset=offset)
        return await self._call(
            call,
            credentials,
            lambda auth: ContactSyncRequest(auth=auth, meta=meta),
            _of_body(parse_contact_page),
        )

    async def fetch_interactions(
        self,
        url: str,
        credentials: Credentials,
        *,
        interaction_types: Sequence[str],
        contact: InteractionContact,
        integration: str = "",
    ) -> InteractionResult:
        """The contact's interactions of the given types."""
        call = _Call(
            "interaction retrieval",
            url,
            self._timeouts.interactions,
            repeatable=True,
            kind="interactions",
            integration=integration,
        )
        meta = InteractionMeta(interaction_types=tuple(interaction_types))
        return await self._call(
            call,
            credentials,
            lambda auth: InteractionRequest(auth=auth, meta=meta, data=contact),
            _of_body(lambda body: parse_interactions(body, meta.interaction_types)),
        )

    async def fetch_agents(
        self, url: str, credentials: Credentials, *, integration: str = ""
    ) -> AgentList:
        call = _Call(
            "agent synchronization",
            url,
            self._timeouts.agents,
            repeatable=True,
            kind="agents",
            integration=integration,
        )
        return await self._call(
            call, credentials, lambda auth: AgentSyncRequest(auth=auth), _of_body(parse_agents)
        )

    async def execute_action(
        self,
        url: str,
        credentials: Credentials,
        *,
        data: Mapping[str, Any],
        contact_external_id: str | None = None,
        agent_external_id: str | None = None,
        integration: str = "",
    ) -> ActionOutcome:
        """Run an action, once: a transient failure raises BridgeUnavailable for the caller
        to retry later. A 2xx means the action was done, so an answer that cannot be used
        is reported in `ActionOutcome.problem` instead of raised."""
        call = _Call(
            "action",
            url,
            self._timeouts.actions,
            repeatable=False,
            kind="action",
            integration=integration,
        )
        meta = ActionMeta(
            contact_external_id=contact_external_id, agent_external_id=agent_external_id
        )
        try:
            return await self._call(
                call,
                credentials,
                lambda auth: ActionRequest(auth=auth, meta=meta, data=dict(data)),
                _outcome_with_status,
            )
        except ProtocolViolation as violation:
            if violation.status_code is None or not 200 <= violation.status_code < 300:
                raise
            log.warning("unusable action answer", url=shown_url(url), problem=violation.message)
            return ActionOutcome(problem=violation.message, status_code=violation.status_code)

    async def _call(
        self,
        call: _Call,
        credentials: Credentials,
        request: MakeRequest,
        parse: Callable[[_Answer], Result],
    ) -> Result:
        """The parsed 2xx answer."""
        sent = [credentials.auth()]
        with _measured(call), _concealed(sent):
            try:
                answer = await self._send(call, request(dict(sent[0])))
            except CredentialsRejected:
                # The protocol's 401 rule: repeat once with refreshed credentials.
                fresh = await credentials.refreshed()
                if fresh is None:
                    raise
                sent.append(fresh)
                answer = await self._send(call, request(dict(fresh)))
            try:
                return parse(answer)
            except MalformedAnswer as problem:
                raise ProtocolViolation(
                    f"{call} answered {_status(answer.status)} with a body that breaks the "
                    f"bridge protocol: {problem}.",
                    status_code=answer.status,
                ) from None

    async def _send(self, call: _Call, request: BridgeRequest) -> _Answer:
        """The answer to `request`, retried when it may be. The whole call, attempts and
        pauses included, ends within `attempts` times one attempt's deadline: a bridge's
        `Retry-After` or slowness never stretches it further."""
        payload = request.to_json()
        attempts = self._retry.attempts if call.repeatable else 1
        clock = asyncio.get_running_loop().time
        deadline = clock() + call.timeout * attempts
        attempt = 0
        while True:
            attempt += 1
            try:
                return await self._attempt(call, payload, min(call.timeout, deadline - clock()))
            except BridgeUnavailable as failure:
                pause = self._pause(failure, attempt, attempts)
                if clock() + pause >= deadline:
                    raise _gave_up(
                        failure,
                        f"Gave up after {attempt} attempts: waiting {pause:g} s more would "
                        f"pass the call's deadline of {call.timeout * attempts:g} s.",
                    ) from None
                log.info(
                    "retrying bridge call",
                    endpoint=call.endpoint,
                    url=shown_url(call.url),
                    status=failure.status_code,
                    attempt=attempt,
                    pause=round(pause, 3),
                )
            await asyncio.sleep(pause)

    def _pause(self, failure: BridgeUnavailable, attempt: int, attempts: int) -> float:
        """Seconds to wait before the next attempt; raises when there is none."""
        if attempt >= attempts:
            if attempts == 1:
                raise failure
            raise _gave_up(failure, f"Gave up after {attempts} attempts.")
        if failure.retry_after is None:
            return self._retry.backoff(attempt)
        if failure.retry_after > self._retry.max_retry_after:
            raise _gave_up(failure, f"It asked to retry after {failure.retry_after:g} s.")
        return failure.retry_after

    async def _attempt(self, call: _Call, payload: bytes, seconds: float) -> _Answer:
        try:
            # The whole attempt, body included: httpx's own timeout is per read, which a
            # bridge sending a byte at a time would never trip.
            async with asyncio.timeout(seconds):
                target = await check_target(call.url, self._policy, self._resolver)
                async with self._http.stream(
                    "POST",
                    target.connect_url,
                    content=payload,
                    timeout=seconds,
                    headers={"Content-Type": "application/json", "Host": target.host_header},
                    extensions=_tls_extensions(target),
                ) as response:
                    return await self._answer(call, response)
        except (TimeoutError, httpx.TimeoutException):
            raise BridgeUnavailable(f"{call} did not answer within {seconds:.3g} s.") from None
        except httpx.ConnectError as error:
            raise BridgeUnavailable(f"{call} could not be reached: {_reason(error)}.") from None
        except httpx.TransportError as error:  # the connection broke once made
            raise BridgeUnavailable(f"{call} broke the connection off: {_reason(error)}.") from None
        except httpx.HTTPError as error:  # an undecodable body, for one
            raise ProtocolViolation(
                f"{call} sent an unreadable answer: {_reason(error)}."
            ) from None

    async def _answer(self, call: _Call, response: httpx.Response) -> _Answer:
        status = response.status_code
        if response.is_success:
            content = await self._read(response)
            if content is None:
                raise ProtocolViolation(
                    f"{call} answered {_status(status)} with a body larger than the "
                    f"{self._max_response_bytes} bytes allowed.",
                    status_code=status,
                )
            return _Answer(status, content)
        if status == 401:
            reason = _bridge_message(await self._read(response))
            raise CredentialsRejected(
                f"{call} refused the credentials (401 Unauthorized)"
                + (f": {reason}." if reason else "."),
                bridge_message=reason,
            )
        if status == 400:
            reason = _bridge_message(await self._read(response))
            raise RequestRefused(
                f"{call} refused the request (400 Bad Request): {reason or 'it gave no reason'}.",
                bridge_message=reason,
            )
        if status == 410 and call.sends_checkpoint:
            reason = _bridge_message(await self._read(response))
            raise CheckpointRefused(
                f"{call} can no longer use the checkpoint (410 Gone): "
                f"{reason or 'it gave no reason'}."
            )
        if status == 429 or status >= 500:
            raise BridgeUnavailable(
                f"{call} answered {_status(status)}.",
                status_code=status,
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if response.is_redirect:
            location = shown_url(response.headers["Location"])
            raise ProtocolViolation(
                f"{call} answered {_status(status)}, a redirect to {location}; redirects are "
                "not followed, so the URL must be the bridge's own.",
                status_code=status,
            )
        raise ProtocolViolation(
            f"{call} answered {_status(status)}, which the bridge protocol does not allow "
            "(only 2xx, 400, 401, 429 and 5xx).",
            status_code=status,
        )

    async def _read(self, response: httpx.Response) -> bytes | None:
        """The body, or None when it is larger than allowed (then it is not read further).

        The cap holds on the decompressed bytes as they are produced: httpx's own decoding
        inflates each chunk received whole, so a 64 KiB chunk of a gzip bomb would become
        64 MiB in memory before any count could see it."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_response_bytes:
            return None
        inflate = _decoder(response.headers.get("Content-Encoding", ""))
        body = bytearray()
        async for chunk in response.aiter_raw():
            for piece in inflate(chunk):
                body += piece
                if len(body) > self._max_response_bytes:
                    return None
        return bytes(body)


class _PoolPerOrigin(httpx.AsyncBaseTransport):
    """A connection pool for each address and TLS server name.

    Requests go to the checked address rather than the host name, so httpx alone would key
    its pool by address and let a request for `b.example` reuse a connection whose
    certificate was verified for `a.example`, or that a TLS-routing proxy sent to a's
    backend, whenever the two share an address: the server name is part of the key.

    And a pool of its own for each address: httpcore looks at every connection of a pool
    (a socket poll each) whenever a request starts or ends, and compares each with all the
    others, so one pool shared by every bridge made each request cost more with every
    connection kept to any of them (bench/interactions.py, five bridges and ten clients:
    httpcore's pool upkeep was an eighth of the hub's CPU).
    """

    def __init__(self) -> None:
        self._ssl_context = httpx.create_ssl_context()
        self._pools: dict[tuple[str | None, bytes, str, int | None], httpx.AsyncHTTPTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        key = (request.extensions.get("sni_hostname"), url.raw_scheme, url.host, url.port)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = httpx.AsyncHTTPTransport(
                verify=self._ssl_context, limits=_POOL_LIMITS
            )
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        for pool in self._pools.values():
            await pool.aclose()


class _Recorded(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, recorder: ExchangeRecorder) -> None:
        self._inner = inner
        self._recorder = recorder

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        try:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
        self._recorder(Exchange(request, response.status_code, response.headers, body))
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(body),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._inner.aclose()


_POOL_LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=100)
"""Every idle connection kept (httpx keeps 20 by default): with a bridge asked by many
requests at once, as interactions are, a smaller keep-alive pool closes most connections
after one request, and each request then pays a new connection (measured with
bench/interactions.py: 487 connections opened for 1,000 requests with 10 clients)."""


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that sends each request only where the network policy allows, to
    the very address it checked. For HTTP clients besides BridgeClient that reach URLs
    taken from configurations, such as an OAuth 2.0 client's token endpoint."""

    def __init__(self, policy: NetworkPolicy, resolver: Resolver = system_resolver) -> None:
        self._policy = policy
        self._resolver = resolver
        self._pools = _PoolPerOrigin()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        target = await check_target(str(request.url), self._policy, self._resolver)
        request.url = target.connect_url
        request.headers["Host"] = target.host_header
        request.extensions = {**request.extensions, **_tls_extensions(target)}
        return await self._pools.handle_async_request(request)

    async def aclose(self) -> None:
        await self._pools.aclose()


def _tls_extensions(target: CheckedTarget) -> dict[str, Any]:
    # The connection goes to an address, but TLS must still name and verify the host.
    return {} if target.server_name is None else {"sni_hostname": target.server_name}


@contextmanager
def _measured(call: _Call) -> Iterator[None]:
    """Count the call by its outcome and time it, whatever ends it."""
    started = time.perf_counter()
    outcome = "ok"
    try:
        yield
    except BaseException as error:
        outcome = _outcome(error)
        raise
    finally:
        metrics.bridge_calls.labels(call.integration, call.kind, outcome).inc()
        metrics.bridge_call_duration.labels(call.integration, call.kind).observe(
            time.perf_counter() - started
        )


def _outcome(error: BaseException) -> str:
    for kind, outcome in _OUTCOMES:
        if isinstance(error, kind):
            return outcome
    return "hub_error"  # a fault of the hub's own, not of the bridge


_OUTCOMES: tuple[tuple[type[BaseException], str], ...] = (
    (TargetRefused, "target_refused"),
    (CredentialsRejected, "credentials_rejected"),
    (CheckpointRefused, "checkpoint_refused"),
    (RequestRefused, "request_refused"),
    (BridgeUnavailable, "unavailable"),
    (ProtocolViolation, "protocol_violation"),
    # Given up by its caller: interactions are abandoned when a person stops waiting.
    (asyncio.CancelledError, "cancelled"),
)


@contextmanager
def _concealed(auths: list[Mapping[str, Any]]) -> Iterator[None]:
    """Keep the auth values sent out of error messages, even when a bridge echoes them."""
    try:
        yield
    except BridgeError as error:
        error.redact({text for auth in auths for text in _texts(auth.values())})
        raise


def _texts(values: Iterable[Any]) -> Iterator[str]:
    for value in values:
        if isinstance(value, str) and len(value) >= _SHORTEST_HIDDEN:
            yield value
        elif isinstance(value, Mapping):
            yield from _texts(value.values())
        elif isinstance(value, list | tuple):
            yield from _texts(value)


# Hiding shorter values ("us", "1") would garble messages without protecting any secret.
_SHORTEST_HIDDEN = 4


def _gave_up(failure: BridgeUnavailable, why: str) -> BridgeUnavailable:
    return BridgeUnavailable(
        f"{failure.message} {why}",
        status_code=failure.status_code,
        retry_after=failure.retry_after,
    )


Inflate = Callable[[bytes], Iterator[bytes]]
"""Decodes a received chunk, a piece of at most `_INFLATE_STEP` bytes at a time."""


def _decoder(encoding: str) -> Inflate:
    """How to decode a body of this `Content-Encoding`; only gzip is asked for."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return lambda chunk: iter((chunk,))
    if encoding not in ("gzip", "x-gzip"):
        raise httpx.DecodingError(f"the body is encoded as {encoding!r}; only gzip is accepted")
    gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS)

    def inflate(chunk: bytes) -> Iterator[bytes]:
        pending = chunk
        while True:
            try:
                piece = gunzip.decompress(pending, _INFLATE_STEP)
            except zlib.error as error:
                raise httpx.DecodingError(f"the gzip body is corrupt ({error})") from None
            if piece:
                yield piece
            pending = gunzip.unconsumed_tail
            # A full piece may leave output inside zlib even once the input is used up.
            if not pending and len(piece) < _INFLATE_STEP:
                return

    return inflate


_INFLATE_STEP = 64 * 1024
"""The most inflated at a time: small steps hold a bomb's inflation to the size cap (and
a step more), and big enough ones keep an honest body quick to decode."""


def _bridge_message(content: bytes | None) -> str | None:
    """The `message` of a 400 or 401 answer, on one line and of a reasonable length."""
    try:
        body = decode_body(content or b"")
    except MalformedAnswer:
        return None
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message.strip():
        return None
    return textwrap.shorten(message, width=500, placeholder="...")


def _status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _reason(error: httpx.HTTPError) -> str:
    return network_failure(error)
