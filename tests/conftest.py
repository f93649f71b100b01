"""Shared fixtures: GitHub's published fixtures from npm, the App key, and the fake GitHub.

The OpenAPI description and the webhook examples come from npm (scripts/fetch-fixtures,
run here when they are missing); they are loaded once per session. ``fake_github`` is a
fresh loopback server per test and fails the test at teardown if the bot sent a request
GitHub's description does not allow, or one inside a secondary-rate-limit window, unless
the test is marked ``allow_api_violations``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakegithub import (
    DEFAULT_WEBHOOK_SECRET,
    FakeGitHub,
    FixturePaths,
    FixturesUnavailable,
    OpenApiSpec,
    ensure_fixtures,
    generate_app_key,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "allow_api_violations: the test sends requests GitHub's description does not allow "
        "(or inside a retry-after window) on purpose; fake_github does not fail it for that",
    )


@pytest.fixture(scope="session")
def fixture_paths() -> FixturePaths:
    """Where GitHub's OpenAPI description and webhook examples are (fetched if missing)."""
    try:
        return ensure_fixtures()
    except FixturesUnavailable as exc:
        pytest.fail(str(exc), pytrace=False)


@pytest.fixture(scope="session")
def openapi_spec(fixture_paths: FixturePaths) -> OpenApiSpec:
    """The description, shared by every fake in the session (loaded on first request)."""
    return OpenApiSpec.shared(fixture_paths.openapi)


@pytest.fixture(scope="session")
def app_key() -> str:
    """The App's RSA private key as PEM text (one per session: generating one is slow)."""
    return generate_app_key()


@pytest.fixture
async def fake_github(
    openapi_spec: OpenApiSpec, app_key: str, request: pytest.FixtureRequest
) -> AsyncIterator[FakeGitHub]:
    fake = FakeGitHub(spec=openapi_spec, app_private_key=app_key)
    if request.node.get_closest_marker("allow_api_violations") is not None:
        fake.allow_violations = True
        fake.allow_window_violations = True
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()
    problems = fake.problems()
    if problems:
        shown = "\n  ".join(problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        pytest.fail(f"the fake GitHub saw {len(problems)} problem(s):\n  {shown}{more}",
                    pytrace=False)


@pytest.fixture
def app_env(fake_github: FakeGitHub, app_key: str) -> dict[str, str]:
    """Environment for running the bot as the App against the fake."""
    return {
        "GITHUB_APP_ID": str(fake_github.app_id),
        "GITHUB_PRIVATE_KEY": app_key,
        "GITHUB_WEBHOOK_SECRET": DEFAULT_WEBHOOK_SECRET,
        "GITHUB_API_URL": fake_github.api_url,
    }
