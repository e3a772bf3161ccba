"""The SSRF-safe fetcher against the local test site, and its address policy on literals and fake DNS."""

from __future__ import annotations

import ipaddress

import anyio
import pytest

from memento_core.errors import FetchError
from memento_core.fetch import Fetcher, FetchPolicy, check_url
from memento_core.netguard import AddressGuard, refusal_reason
from tests.fakes.site import LocalSite, site  # noqa: F401 (fixture)

pytestmark = pytest.mark.anyio

LOCAL = FetchPolicy(allow_hosts=["127.0.0.1"], timeout_s=10)


async def fetch(url: str, policy: FetchPolicy = LOCAL, **kwargs):
    async with Fetcher(policy, **kwargs) as fetcher:
        with anyio.fail_after(20):
            return await fetcher.fetch(url)


async def refusal(url: str, policy: FetchPolicy = LOCAL, **kwargs) -> FetchError:
    with pytest.raises(FetchError) as caught:
        await fetch(url, policy, **kwargs)
    return caught.value


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "fd00:ec2::254",
     "100.100.100.200", "0.0.0.0", "224.0.0.1", "ff02::1", "fe80::1", "::ffff:10.0.0.1", "64:ff9b::a00:1",
     "2002:7f00:1::", "240.0.0.1", "100.64.0.1"],
)
def test_non_public_addresses_are_refused_by_default(address):
    assert refusal_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_pass(address):
    assert refusal_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url", ["http://localhost/", "http://127.0.0.1/", "http://[::1]/", "http://10.0.0.1/", "http://169.254.169.254/latest/"]
)
async def test_private_hosts_are_refused_without_an_allowlist(url):
    error = await refusal(url, FetchPolicy())
    assert error.kind == "blocked"
    assert "--allow-host" in str(error)


@pytest.mark.parametrize(
    "url",
    ["http://2130706433/", "http://0x7f000001/", "http://127.1/", "http://017700000001/", "http://0/",
     "http://LOCALHOST./", "http://foo.localhost/", "http://[0:0:0:0:0:ffff:7f00:1]/"],
)
async def test_disguised_loopback_addresses_are_refused(url):
    assert (await refusal(url, FetchPolicy())).kind == "blocked"


async def test_names_resolving_to_private_addresses_are_refused():
    async def resolver(host: str, port: int) -> list[str]:
        return {"rebind.example": ["93.184.215.14", "10.0.0.7"], "meta.example": ["169.254.169.254"]}[host]

    assert (await refusal("http://rebind.example/", FetchPolicy(), resolver=resolver)).kind == "blocked"
    error = await refusal("http://meta.example/", FetchPolicy(), resolver=resolver)
    assert "meta.example (169.254.169.254)" in str(error) and "metadata" in str(error)


async def test_connection_goes_to_the_vetted_address_not_a_second_lookup(site):
    answers = iter([["127.0.0.1"], ["10.0.0.1"]])  # a rebinding DNS server would answer differently next time
    calls = []

    async def resolver(host: str, port: int) -> list[str]:
        calls.append(host)
        return next(answers)

    policy = FetchPolicy(allow_hosts=["127.0.0.1"])
    result = await fetch(f"http://pinned.test:{site.port}/articles/tides.html", policy, resolver=resolver)
    assert result.status == 200 and b"Sea Breathes" in result.content
    assert calls == ["pinned.test"]


async def test_dns_failure_is_reported():
    async def resolver(host: str, port: int) -> list[str]:
        raise FetchError(f"cannot resolve host {host!r}", kind="dns")

    assert (await refusal("http://nowhere.test/", FetchPolicy(), resolver=resolver)).kind == "dns"


def test_allowlist_accepts_names_wildcards_and_cidrs():
    guard = AddressGuard.from_allowlist(["intranet.local", "*.corp.example", "10.0.0.0/8"])
    private = ipaddress.ip_address("192.168.0.5")
    guard.check_address("intranet.local", private)
    guard.check_address("wiki.corp.example", private)
    guard.check_address("anything", ipaddress.ip_address("10.9.9.9"))
    with pytest.raises(FetchError):
        guard.check_address("other.example", private)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.org/x", "gopher://x/", "/relative", "http://"])
def test_only_absolute_http_urls_are_accepted(url):
    with pytest.raises(FetchError) as caught:
        check_url(url)
    assert caught.value.kind == "invalid_url"


async def test_fetches_a_page_with_its_type_and_headers(site):
    result = await fetch(site.url("/articles/tides.html"))
    assert result.status == 200
    assert result.content_type == "text/html" and result.charset == "utf-8"
    assert "Why the Sea Breathes" in result.text()
    assert result.final_url == result.url and result.redirects == []


async def test_follows_a_redirect_chain_and_records_each_hop(site):
    result = await fetch(site.url("/redirect/chain/3"))
    assert result.final_url == site.url("/articles/tides.html")
    assert len(result.redirects) == 3


async def test_too_many_redirects_fail(site):
    assert (await refusal(site.url("/redirect/loop"))).kind == "redirects"


@pytest.mark.parametrize("target", ["http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "http://[::1]:9/"])
async def test_a_redirect_to_a_private_address_is_refused(site, target):
    error = await refusal(site.redirect_to(target))
    assert error.kind == "blocked"


async def test_a_redirect_to_another_scheme_is_refused(site):
    assert (await refusal(site.redirect_to("file:///etc/passwd"))).kind == "invalid_url"


@pytest.mark.parametrize("code", [404, 500])
async def test_http_errors_carry_their_status(site, code):
    error = await refusal(site.url(f"/status/{code}"))
    assert error.kind == "http_status" and error.status == code and str(code) in str(error)


async def test_http_errors_can_be_returned_instead(site):
    async with Fetcher(LOCAL) as fetcher:
        result = await fetcher.fetch(site.url("/status/404"), raise_for_status=False)
    assert result.status == 404


async def test_bodies_over_the_size_cap_are_refused(site):
    error = await refusal(site.url("/huge.html"), FetchPolicy(allow_hosts=["127.0.0.1"], max_bytes=1_000_000))
    assert error.kind == "too_large" and "1,000,000" in str(error)


async def test_slow_responses_time_out(site):
    policy = FetchPolicy(allow_hosts=["127.0.0.1"], timeout_s=0.5)
    assert (await refusal(site.url("/slow.html?delay=2"), policy)).kind == "timeout"


async def test_connection_refused_is_reported():
    policy = FetchPolicy(allow_hosts=["127.0.0.1"])
    assert (await refusal("http://127.0.0.1:9/", policy)).kind == "connect"


async def test_non_html_bodies_are_returned_as_bytes(site):
    pdf = await fetch(site.url("/files/report.pdf"))
    assert pdf.content_type == "application/pdf" and pdf.content.startswith(b"%PDF")
    image = await fetch(site.url("/image.png"))
    assert image.content_type == "image/png" and image.content.startswith(b"\x89PNG")


async def test_robots_disallow_is_respected_when_asked(site):
    policy = FetchPolicy(allow_hosts=["127.0.0.1"], respect_robots=True)
    assert (await refusal(site.url("/private/secret.html"), policy)).kind == "robots"
    assert (await fetch(site.url("/articles/bread.html"), policy)).status == 200
    assert (await fetch(site.url("/private/secret.html"))).status == 200  # robots off by default


async def test_robots_server_error_means_disallowed_and_404_means_allowed():
    policy = FetchPolicy(allow_hosts=["127.0.0.1"], respect_robots=True)
    with LocalSite(robots_status=503) as broken:
        assert (await refusal(broken.url("/articles/tides.html"), policy)).kind == "robots"
    with LocalSite(robots_status=404) as missing:
        assert (await fetch(missing.url("/articles/tides.html"), policy)).status == 200


def _self_signed(directory) -> tuple[str, str]:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(cert_path), str(key_path)


async def test_an_untrusted_certificate_is_a_tls_failure(tmp_path):
    import ssl
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*_self_signed(tmp_path))
    server = HTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        error = await refusal(f"https://localhost:{server.server_address[1]}/", FetchPolicy(allow_hosts=["127.0.0.1"], timeout_s=5))
    finally:
        server.shutdown()
        server.server_close()
    assert error.kind == "tls" and "localhost" in str(error)


async def test_with_robots_on_a_blocked_host_is_reported_as_blocked():
    error = await refusal("http://10.0.0.1/page", FetchPolicy(respect_robots=True))
    assert error.kind == "blocked"
