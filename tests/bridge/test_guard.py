"""The SSRF guard: which bridge URLs the hub refuses, and that a refused call sends nothing.

No test here sends anything to an address other than 127.0.0.1: public and private
addresses are only ever checked by the guard itself, with an injected resolver.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bridgehub.bridge import (
    BridgeClient,
    BridgeUnavailable,
    NetworkPolicy,
    StaticCredentials,
    TargetRefused,
    Timeouts,
    check_target,
)
from bridgehub.bridge.guard import system_resolver
from bridgehub.demo.serving import serve
from tests.bridge.certificates import ServerCertificate, issue
from tests.bridge.conftest import LOCAL, StartBridge
from tests.bridge.fakes import AUTH, BridgeHost, FakeBridge, answer, failure

CREDENTIALS = StaticCredentials(AUTH)
DEFAULT = NetworkPolicy()
PUBLIC = "93.184.215.14"
HINT = "set BRIDGEHUB_ALLOW_PRIVATE_NETWORKS=true to allow private bridges"

NAMES = {
    "public.test": [PUBLIC],
    "internal.test": ["10.1.2.3"],
    "mixed.test": [PUBLIC, "10.1.2.3"],
    "bridge.test": ["127.0.0.1"],
    "other.test": ["127.0.0.1"],
}


async def resolve(host: str, port: int) -> list[str]:
    """Made-up names, and `localhost` as the system knows it (from its hosts file)."""
    if host == "localhost":
        return await system_resolver(host, port)
    if host not in NAMES:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    return NAMES[host]


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("https://127.0.0.1/", "is 127.0.0.1, a loopback address"),
        ("https://localhost/", "a loopback address"),
        ("https://10.0.0.1/", "is 10.0.0.1, a private address"),
        ("https://172.16.5.4/", "is 172.16.5.4, a private address"),
        ("https://192.168.1.1/", "is 192.168.1.1, a private address"),
        ("https://100.64.0.1/", "is 100.64.0.1, a shared address (carrier-grade NAT)"),
        ("https://169.254.10.1/", "is 169.254.10.1, a link-local address"),
        ("https://0.0.0.0/", "is 0.0.0.0, an unspecified address"),
        ("https://224.0.0.1/", "is 224.0.0.1, a multicast address"),
        ("https://255.255.255.255/", "is 255.255.255.255, a reserved address"),
        ("https://[::1]:8443/", "is ::1, a loopback address"),
        ("https://[::]/", "is ::, an unspecified address"),
        ("https://[fe80::1]/", "is fe80::1, a link-local address"),
        ("https://[fc00::1]/", "is fc00::1, a private address"),
        ("https://[::ffff:127.0.0.1]/", "a loopback address (IPv4 127.0.0.1 inside IPv6)"),
        ("https://[::ffff:10.0.0.1]/", "a private address (IPv4 10.0.0.1 inside IPv6)"),
        ("https://[64:ff9b::a00:1]/", "a private address (IPv4 10.0.0.1 inside IPv6)"),
        ("https://[2002:a00:1::]/", "a private address (IPv4 10.0.0.1 inside IPv6)"),
        ("https://internal.test/", "resolves to 10.1.2.3, a private address"),
        ("https://mixed.test/", "resolves to 10.1.2.3, a private address"),
    ],
)
async def test_non_public_addresses_are_refused(url: str, refusal: str) -> None:
    error = await failure(check_target(url, DEFAULT, resolve), TargetRefused)
    assert refusal in str(error)
    assert str(error).endswith(f"; {HINT}.")


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/",
        "https://[::ffff:169.254.169.254]/",
        "https://100.100.100.200/",
    ],
)
async def test_cloud_metadata_is_refused_even_where_private_networks_are_allowed(
    url: str,
) -> None:
    for policy in (DEFAULT, LOCAL):
        error = await failure(check_target(url, policy, resolve), TargetRefused)
        assert "a cloud metadata address, where bridges may never be" in str(error)


async def test_a_public_address_passes_and_is_the_one_to_connect_to() -> None:
    target = await check_target("https://public.test:8443/contacts?page=1", DEFAULT, resolve)
    assert target.address == PUBLIC
    assert target.connect_url == httpx.URL(f"https://{PUBLIC}:8443/contacts?page=1")
    assert target.host_header == "public.test:8443"
    assert target.server_name == "public.test"


async def test_public_ip_literals_pass_without_dns() -> None:
    async def no_dns(host: str, port: int) -> list[str]:
        raise AssertionError(f"{host} was looked up")

    for literal in (PUBLIC, "[2606:2800:21f:cb07:6820:80da:af6b:8b2c]", "[::ffff:93.184.215.14]"):
        target = await check_target(f"https://{literal}/bridge", DEFAULT, no_dns)
        assert target.server_name is None  # TLS verifies an IP literal as it is
    with pytest.raises(TargetRefused):
        await check_target("https://[::1]/", DEFAULT, no_dns)


async def test_plain_http_needs_to_be_allowed() -> None:
    error = await failure(check_target("http://public.test/", DEFAULT, resolve), TargetRefused)
    assert "uses plain HTTP" in str(error)
    assert "BRIDGEHUB_ALLOW_HTTP=true" in str(error)
    allowed = NetworkPolicy(allow_http=True)
    assert (await check_target("http://public.test/", allowed, resolve)).address == PUBLIC


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("ftp://public.test/bridge", "must use https, not ftp"),
        ("file:///etc/passwd", "must use https, not file"),
        ("public.test/bridge", "is not an absolute URL"),
        ("https:///bridge", "has no host"),
        ("https://[::1/", "is not a valid URL"),
    ],
)
async def test_urls_that_are_no_bridge_urls_are_refused(url: str, problem: str) -> None:
    assert problem in str(await failure(check_target(url, DEFAULT, resolve), TargetRefused))


async def test_a_host_that_does_not_resolve_is_unavailable() -> None:
    error = await failure(
        check_target("https://nowhere.test/", DEFAULT, resolve), BridgeUnavailable
    )
    assert "could not be resolved (Name or service not known)" in str(error)


# As the client applies it --------------------------------------------------------------


@contextmanager
def listening() -> Iterator[tuple[int, Callable[[], bool]]]:
    """A TCP port on 127.0.0.1 that nothing answers on, and whether anyone connected to it.

    The kernel completes a connection into the backlog whether or not it is accepted, so
    this notices even a call that would have failed its TLS handshake.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)

        def connected() -> bool:
            try:
                listener.accept()[0].close()
            except BlockingIOError:
                return False
            return True

        yield listener.getsockname()[1], connected


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "0.0.0.0", "bridge.test"],  # noqa: S104
)
async def test_a_refused_call_never_leaves_the_machine(host: str) -> None:
    with listening() as (port, connected):
        async with BridgeClient(DEFAULT, resolver=resolve) as client:
            url = f"https://{host}:{port}/agents"
            error = await failure(client.fetch_agents(url, CREDENTIALS), TargetRefused)
        assert HINT in str(error)
        assert not connected()


async def test_a_refused_scheme_never_leaves_the_machine() -> None:
    with listening() as (port, connected):
        private_only = NetworkPolicy(allow_private_networks=True)
        async with BridgeClient(private_only, resolver=resolve) as client:
            url = f"http://127.0.0.1:{port}/agents"
            await failure(client.fetch_agents(url, CREDENTIALS), TargetRefused)
        assert not connected()


async def test_the_listener_does_notice_a_call_that_is_let_through() -> None:
    with listening() as (port, connected):
        async with BridgeClient(LOCAL, timeouts=Timeouts(actions=0.2)) as client:
            # Nobody answers, so the call times out; but it did connect.
            fetch = client.execute_action(f"http://127.0.0.1:{port}/act", CREDENTIALS, data={})
            await failure(fetch, BridgeUnavailable)
        assert connected()


async def test_local_bridges_are_reachable_when_allowed(start_bridge: StartBridge) -> None:
    bridge = start_bridge(answer({"agents": []}))
    localhost_url = bridge.url.replace("127.0.0.1", "localhost")
    async with BridgeClient(LOCAL) as client:
        await client.fetch_agents(bridge.url, CREDENTIALS)
        await client.fetch_agents(localhost_url, CREDENTIALS)
    assert len(bridge.received) == 2


async def test_the_call_connects_to_the_checked_address_with_the_host_name_kept(
    start_bridge: StartBridge,
) -> None:
    # Only the injected resolver knows bridge.test: the call can only have succeeded by
    # connecting to the address the guard checked, not by resolving the name again.
    bridge = start_bridge(answer({"agents": []}))
    port = httpx.URL(bridge.url).port
    url = bridge.url.replace("127.0.0.1", "bridge.test")
    async with BridgeClient(LOCAL, resolver=resolve) as client:
        await client.fetch_agents(url, CREDENTIALS)
    assert bridge.received[0].headers["host"] == f"bridge.test:{port}"


@pytest.fixture(scope="module")
def tls_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BridgeHost, Path]]:
    """Fake bridges over HTTPS, with a certificate for bridge.test only; and its CA."""
    files: ServerCertificate = issue(tmp_path_factory.mktemp("tls"), "bridge.test")
    host = BridgeHost()
    with serve(host.app, ssl_certfile=str(files.certificate), ssl_keyfile=str(files.key)) as url:
        host.url = url
        yield host, files.authority


async def test_tls_verifies_the_host_name_while_connecting_to_the_checked_address(
    tls_host: tuple[BridgeHost, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    host, authority = tls_host
    monkeypatch.setenv("SSL_CERT_FILE", str(authority))
    bridge = host.add(FakeBridge(answer({"agents": []})))
    port = httpx.URL(bridge.url).port
    url = bridge.url.replace("127.0.0.1", "bridge.test")
    async with BridgeClient(NetworkPolicy(allow_private_networks=True), resolver=resolve) as client:
        await client.fetch_agents(url, CREDENTIALS)
        assert bridge.received[0].headers["host"] == f"bridge.test:{port}"
        # other.test has the same address but not the certificate: the connection that is
        # open to bridge.test must not serve it.
        other = url.replace("bridge.test", "other.test")
        error = await failure(client.fetch_agents(other, CREDENTIALS), BridgeUnavailable)
    assert "certificate verify failed" in str(error)
    assert len(bridge.received) == 1
