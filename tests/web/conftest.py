"""The approval page in a real browser: the local stack, the system's Chromium, a page per test.

The browser is Debian's `chromium` (apt), driven by Playwright: a clean CI
machine installs it with apt-get (see .ci/run), and nothing downloads a
browser of Playwright's own. Every test leaves a screenshot of its page in
test-artifacts/web/ (git-ignored), and on failure also the page's console.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import firestore
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright

from approvals.emulator.stack import LocalStack
from tests.support.stacks import client, stack

# Flags for a headless browser in a container and without network of its own: no sandbox
# (CI runs as root), no GPU, and none of the background traffic to Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
DESKTOP = {"width": 1280, "height": 800}
# How long `expect` and actions wait for the page: a request crosses the engine, Firestore and a
# listener before it shows, so allow more than Playwright's 5 s default on a busy CI machine.
SETTLE_MS = 15_000
expect.set_options(timeout=SETTLE_MS)

# The dev stack as in tests/e2e, one per module, and a client: another user's hands besides the page.
__all__ = ["client", "stack"]


@pytest.fixture(scope="module")
def db(stack: LocalStack) -> Iterator[firestore.Client]:
    """The stack's Firestore as an admin, for documents no running workflow could write on demand."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FIRESTORE_EMULATOR_HOST", stack.firestore.host)
        yield firestore.Client(project=stack.project, database=stack.plan.database)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("the browser tests need Chromium: `apt-get install chromium` (see the README)")
    browser = playwright.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep each phase's report on the item, so that the page fixture knows whether the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def viewport() -> dict[str, int]:
    """The page's size; a test overrides it with `@pytest.mark.parametrize("viewport", ...)`."""
    return DESKTOP


@pytest.fixture
def console() -> list[str]:
    """What the test's page logged, uncaught errors included, one line each."""
    return []


@pytest.fixture
def page(
    browser: Browser,
    stack: LocalStack,
    viewport: dict[str, int],
    console: list[str],
    request: pytest.FixtureRequest,
) -> Iterator[Page]:
    """A fresh browser context (no shared sign-in) on the stack's origin; screenshots it at the end."""
    context = browser.new_context(base_url=stack.origin_url, viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(SETTLE_MS)
    page.on("console", lambda message: console.append(describe(message)))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    yield page
    artifacts = Path(request.config.rootpath) / "test-artifacts" / "web"
    artifacts.mkdir(parents=True, exist_ok=True)
    failed = getattr(request.node, "report_call", None) is None or request.node.report_call.failed
    name = re.sub(r"[^\w.-]+", "_", request.node.name) + ("-failed" if failed else "")
    try:
        page.screenshot(path=artifacts / f"{name}.png", full_page=True)
        if failed:
            (artifacts / f"{name}.console.txt").write_text("\n".join(console) + "\n")
            # Also into the report: a CI log is all there is of a failure on another machine.
            print("the page's console:", *console, sep="\n")
    finally:
        context.close()
    # web/src/contract.js reports each read of a document field the contract does not declare.
    undeclared = sorted({line for line in console if "contract: the page read" in line})
    if undeclared:
        pytest.fail("the page read undeclared fields:\n" + "\n".join(undeclared))


def describe(message: ConsoleMessage) -> str:
    location = message.location
    return f"{message.type}: {message.text} ({location.get('url')}:{location.get('lineNumber')})"
