"""Playwright harness: Debian's Chromium, headless, driven through the sync API.

Never run ``playwright install``: it downloads a browser build, which this project cannot fetch.
"""

import os

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


# One browser for all the browser tests. Package scope (this folder), not session scope: while the
# browser lives, Playwright's sync API keeps an asyncio loop running in the main thread, which
# would break async_to_sync (and so any async view or AsyncClient) in tests collected after these.
@pytest.fixture(scope="package")
def browser():
    from playwright.sync_api import sync_playwright

    # That running loop also makes Django's async-safety check refuse the tests' (and the
    # transactional teardown's) queries; allow them for as long as the browser lives.
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if saved is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


def open_page(browser, **options):
    """A page in a new context that records every Content-Security-Policy violation and every
    uncaught script error: the pages run under the real CSP, and nothing of theirs may be blocked."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.script_problems = []
    page.on(
        "console",
        lambda message: (
            page.script_problems.append(message.text)
            if message.type == "error" and "Content Security Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: page.script_problems.append(str(error)))
    return context, page


@pytest.fixture
def page(browser):
    context, page = open_page(browser)
    try:
        yield page
        assert not page.script_problems, f"blocked or failing scripts: {page.script_problems}"
    finally:
        context.close()


def accessibility_problems(page) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now (axe-playwright-python
    injects axe into the page and runs it): one line per rule, with where it was found."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    problems = []
    for violation in results.response["violations"]:
        if violation.get("impact") in ("serious", "critical"):
            targets = [", ".join(node["target"]) for node in violation["nodes"][:3]]
            problems.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return problems
