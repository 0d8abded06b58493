"""Browser tests: pytest-playwright driving Debian's Chromium against Django's live server.

Fixtures: `page` (desktop), `phone` (a 375 px wide page), `axe_check(page)` (no serious or
critical violations; axe-core from node_modules when `npm ci` ran, else the copy bundled with
axe-playwright-python), `login(page, user)`, `totp_code()`, and `shot(page, name)` for
screenshots, saved in var/screenshots (or SCREENSHOT_DIR).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

from tests.factories import TEST_PASSWORD, TEST_TOTP_SECRET

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
# Not under test-results/: pytest-playwright empties that folder at the start of a run.
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "var" / "screenshots"))
# axe-core from the npm registry (package.json, `npm ci`); the copy bundled with
# axe-playwright-python when npm is not there.
AXE_NPM = ROOT / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 375, "height": 812}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ],
    }


@pytest.fixture(autouse=True)
def _live_settings(settings):
    # allauth's rate limits would trip over a test that signs in several people quickly.
    settings.ACCOUNT_RATE_LIMITS = False
    settings.ACCOUNT_EMAIL_VERIFICATION = "optional"


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def desktop(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def axe():
    from axe_playwright_python.sync_playwright import Axe

    return Axe.from_file(AXE_NPM) if AXE_NPM.exists() else Axe()


@pytest.fixture
def axe_check(axe):
    def check(page) -> None:
        results = axe.run(page)
        serious = [
            v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")
        ]
        details = "\n".join(
            f"{v['id']} ({v['impact']}): {v['help']} -> "
            + "; ".join(n["target"][0] if n["target"] else "?" for n in v["nodes"][:5])
            for v in serious
        )
        assert not serious, (
            f"axe found problems on {page.url} ({page.title()!r}):\n{details}\n"
            f"{page.content()[:300]}"
        )

    return check


@pytest.fixture
def shot():
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


def totp_code(secret: str = TEST_TOTP_SECRET) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture
def login(live_server):
    def sign_in(page, user, password: str = TEST_PASSWORD, check=None) -> None:
        """Sign in; `check` (say `axe_check`) is run on each sign-in page on the way."""
        page.goto(f"{live_server.url}/accounts/login/")
        if check:
            check(page)
        page.get_by_label("Email").fill(user.email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign In").click()
        # Wait until the sign-in form has gone, so the page looked at next is the new one.
        page.wait_for_url(lambda address: "/accounts/login/" not in address)
        page.wait_for_load_state()
        if "/accounts/2fa/authenticate/" in page.url:
            if check:
                check(page)
            page.get_by_label("Code").fill(totp_code())
            page.get_by_role("button", name="Sign In").click()
            page.wait_for_url(lambda address: "/accounts/2fa/" not in address)
        page.wait_for_load_state()

    return sign_in
