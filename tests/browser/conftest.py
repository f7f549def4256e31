"""A real headless Chromium (Debian's chromium + chromedriver) driven by Selenium.

Selenium is synchronous and the bot serves the console on the test's event loop, so every
browser call runs in a thread (`Browser` wraps them). Screenshots of each page go to
SCREENSHOTS, whose path the test run prints at the end.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SCREENSHOTS = Path(__file__).parent / "screenshots"


def _missing() -> str | None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return "no Chromium here: apt-get install chromium chromium-driver (.ci/run does)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed: pip install -e '.[test]'"
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if SCREENSHOTS.is_dir() and any(SCREENSHOTS.iterdir()):
        terminalreporter.write_line(f"browser screenshots: {SCREENSHOTS}")


class Browser:
    """The few things the tests do with a page, each run off the event loop."""

    def __init__(self, driver: Any) -> None:
        self.driver = driver

    async def _run(self, call: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(call, *args)

    async def open(self, url: str) -> None:
        await self._run(self.driver.get, url)

    # Read in one script: live updates may replace the table between a find and a read,
    # which Selenium reports as a stale element.
    async def text(self, css: str = "body") -> str:
        return str(
            await self._run(
                lambda: self.driver.execute_script(
                    "const e = document.querySelector(arguments[0]);"
                    "if (!e) throw new Error('no element ' + arguments[0]); return e.innerText;",
                    css,
                )
            )
        )

    async def texts(self, css: str) -> list[str]:
        return list(
            await self._run(
                lambda: self.driver.execute_script(
                    "return Array.from(document.querySelectorAll(arguments[0]), e => e.innerText);",
                    css,
                )
            )
        )

    async def click(self, css: str) -> None:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By

        def click() -> None:
            for attempt in range(3):  # a live update may replace the element: find it again
                try:
                    self.driver.find_element(By.CSS_SELECTOR, css).click()
                    return
                except StaleElementReferenceException:
                    if attempt == 2:
                        raise

        await self._run(click)

    async def type(self, css: str, text: str) -> None:
        from selenium.webdriver.common.by import By

        await self._run(lambda: self.driver.find_element(By.CSS_SELECTOR, css).send_keys(text))

    async def choose(self, css: str, value: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.select import Select

        await self._run(
            lambda: Select(self.driver.find_element(By.CSS_SELECTOR, css)).select_by_value(value)
        )

    async def script(self, code: str) -> Any:
        return await self._run(self.driver.execute_script, code)

    async def wait_for_text(self, css: str, wanted: str, timeout: float = 20.0) -> str:
        """Until the element's text contains `wanted` (a failure shows the last text)."""
        from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        def wait() -> str:
            def found(driver: Any) -> Any:
                elements = driver.find_elements(By.CSS_SELECTOR, css)
                return elements and wanted in elements[0].text and elements[0].text

            try:
                # A live update may replace the element between the find and the read.
                return str(
                    WebDriverWait(
                        self.driver,
                        timeout,
                        poll_frequency=0.2,
                        ignored_exceptions=[StaleElementReferenceException],
                    ).until(found)
                )
            except TimeoutException:
                raise AssertionError(
                    f"{css!r} never showed {wanted!r}; page: "
                    f"{self.driver.find_element(By.TAG_NAME, 'body').text}"
                ) from None

        return str(await self._run(wait))

    async def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self._run(self.driver.save_screenshot, str(path))
        return path


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if SCREENSHOTS.is_dir():
        shutil.rmtree(SCREENSHOTS)
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--window-size=1280,900",
        "--lang=zh-CN",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def browser(chromium: Any) -> Iterator[Browser]:
    chromium.delete_all_cookies()
    yield Browser(chromium)
    chromium.delete_all_cookies()
