"""Polite fetching on loopback: user agent, robots.txt, conditional GET, per-host pacing,
retries with backoff and Retry-After, timeouts and size caps."""

from __future__ import annotations

import pytest

from ews.sources.live.http import Fetcher, FetchError, FetchPolicy, user_agent
from tests.live.loopback import Answer, loopback


class FakeTime:
    """A clock that only moves when the fetcher sleeps: pacing is checked, not waited for."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _fetcher(fake: FakeTime | None = None, **policy: object) -> Fetcher:
    base = {"timeout": 2.0, "retries": 2, "backoff": 0.5, "host_interval": 0.0}
    base.update(policy)
    pol = FetchPolicy(**base)  # type: ignore[arg-type]
    if fake is None:
        return Fetcher(pol)
    return Fetcher(pol, clock=fake.clock, sleep=fake.sleep)


def test_user_agent_names_the_project_and_the_operator() -> None:
    assert user_agent().startswith("EWS-supply-chain-early-warning/")
    assert user_agent("ops@example.org").endswith("(+ops@example.org)")


def test_conditional_get_and_user_agent() -> None:
    with loopback() as server:
        url = server.route("/feed", Answer(b"<rss/>", headers={"ETag": '"a1"'}))
        fetcher = _fetcher()
        first = fetcher.get(url)
        assert first.status == 200 and first.etag == '"a1"' and first.body == b"<rss/>"
        again = fetcher.get(url, etag=first.etag)
        assert again.not_modified and again.body == b""
        seen = server.requests("/feed")
        assert seen[1].headers["If-None-Match"] == '"a1"'
        assert "EWS-supply-chain-early-warning" in seen[0].headers["User-Agent"]


def test_robots_txt_is_respected_per_rfc_9309() -> None:
    with loopback() as server:
        server.route("/robots.txt", Answer(b"User-agent: *\nDisallow: /private/\n"))
        open_url = server.route("/public", Answer(b"ok"))
        closed_url = server.route("/private/x", Answer(b"secret"))
        fetcher = _fetcher()
        assert fetcher.get(open_url).body == b"ok"
        with pytest.raises(FetchError, match=r"robots\.txt disallows"):
            fetcher.get(closed_url)
        assert not server.requests("/private/x")
        assert len(server.requests("/robots.txt")) == 1  # cached
    with loopback() as server:
        server.route("/robots.txt", Answer(b"down", status=503))
        url = server.route("/page", Answer(b"ok"))
        with pytest.raises(FetchError, match=r"robots\.txt unreadable"):
            _fetcher().get(url)
        assert not server.requests("/page")
    with loopback() as server:  # no robots.txt (404): no rules
        url = server.route("/page", Answer(b"ok"))
        assert _fetcher().get(url).body == b"ok"


def test_requests_to_one_host_are_paced_and_crawl_delay_wins() -> None:
    fake = FakeTime()
    with loopback() as server:
        url = server.route("/a", Answer(b"x"))
        fetcher = _fetcher(fake, host_interval=5.0)
        for _ in range(3):
            fetcher.get(url)
        # robots.txt, then three pages: each waits its 5 s turn after the previous request.
        assert fake.sleeps == pytest.approx([5.0, 5.0, 5.0])
    fake = FakeTime()
    with loopback() as server:
        server.route("/robots.txt", Answer(b"User-agent: *\nCrawl-delay: 20\n"))
        url = server.route("/a", Answer(b"x"))
        fetcher = _fetcher(fake, host_interval=5.0)
        fetcher.get(url)
        fetcher.get(url)
        assert fake.sleeps[-1] == pytest.approx(20.0)


def test_server_errors_are_retried_with_backoff_then_succeed() -> None:
    fake = FakeTime()
    with loopback() as server:
        url = server.route(
            "/flaky",
            Answer(b"busy", status=503, headers={"Retry-After": "7"}, repeat=False),
            Answer(b"oops", status=500, repeat=False),
            Answer(b"fine"),
        )
        response = _fetcher(fake, robots=False).get(url)
        assert response.body == b"fine" and response.attempts == 3
        assert len(server.requests("/flaky")) == 3
    # Retry-After (7 s) beats the first backoff (0.5 s); then 1 s doubled; jitter is +-20 %.
    assert 7 * 0.8 <= fake.sleeps[0] <= 7 * 1.2
    assert 1.0 * 0.8 <= fake.sleeps[1] <= 1.0 * 1.2


def test_failures_give_up_after_the_retries_with_a_clear_reason() -> None:
    fake = FakeTime()
    with loopback() as server:
        url = server.route("/gone", Answer(b"", status=500))
        with pytest.raises(FetchError, match=r"HTTP 500 \(after 3 attempts\)"):
            _fetcher(fake, robots=False).get(url)
        not_found = server.route("/missing", Answer(b"", status=404))
        with pytest.raises(FetchError, match="HTTP 404") as caught:
            _fetcher(fake, robots=False).get(not_found)
        assert caught.value.status == 404 and len(server.requests("/missing")) == 1


def test_a_server_that_does_not_answer_times_out() -> None:
    with loopback() as server:
        url = server.route("/slow", Answer(b"late", delay=1.5))
        with pytest.raises(FetchError, match="ReadTimeout"):
            _fetcher(timeout=0.3, retries=1, backoff=0.0, robots=False).get(url)
        assert len(server.requests("/slow")) == 2


def test_oversized_answers_are_cut_off() -> None:
    with loopback() as server:
        url = server.route("/big", Answer(b"x" * 5000))
        with pytest.raises(FetchError, match="over the 1,000-byte limit"):
            _fetcher(robots=False, max_bytes=1000).get(url)
        assert _fetcher(robots=False, max_bytes=1000).get(url, max_bytes=10_000).body


def test_only_web_urls_are_fetched() -> None:
    for url in ("file:///etc/passwd", "ftp://example.org/x", "http:///nohost"):
        with pytest.raises(FetchError, match="only http and https"):
            _fetcher().get(url)
