"""The search page in a real browser: Debian's headless ``chromium`` driven by Selenium through
Debian's ``chromium-driver`` (no browser download: both paths are the system's).

The test types into the page's box with the keyboard, submits with Enter, and reads the
answer the person would see. Skipped only where the browser is missing and
``SCAMETER_REQUIRE_SYSTEM_TOOLS`` is unset; ``.ci/run`` installs both packages and sets it, so
on CI a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from scameter.verdict import Level
from tests.unit.rpc.fakes import FakeSnapshot, FakeSource
from tests.unit.rpc.harness import Harness, serve_fake

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HAVE_BROWSER = Path(CHROMIUM).exists() and Path(DRIVER).exists()

pytestmark = pytest.mark.skipif(
    not HAVE_BROWSER and not os.environ.get("SCAMETER_REQUIRE_SYSTEM_TOOLS"),
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)",
)

LISTED = {"+85291234567": Level.HIGH_RISK, "hkpost-redelivery.top": Level.SUSPICIOUS}


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    # Selenium Manager would try to download a driver; the service names Debian's one.
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER), options=opts)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    source = FakeSource(FakeSnapshot("snap-b", LISTED))
    with serve_fake(tmp_path, source, transport="http") as h:
        yield h


def _search(browser: webdriver.Chrome, url: str, text: str) -> list[tuple[str, str]]:
    browser.get(url)
    box = browser.find_element(By.ID, "q")
    # The box has the focus on load (autofocus): typing needs no click, as for a keyboard user.
    assert browser.switch_to.active_element == box
    box.send_keys(text)
    # In a textarea Enter is a new line; the keyboard path to submit is Tab to the button.
    box.send_keys(Keys.TAB)
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    WebDriverWait(browser, 10).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#answer > *"))
    )
    return [
        (s.get_attribute("data-level") or "", s.find_element(By.TAG_NAME, "h2").text)
        for s in browser.find_elements(By.CSS_SELECTOR, "#answer .verdict")
    ]


def test_typing_a_number_shows_its_colour_and_reasons(
    browser: webdriver.Chrome, harness: Harness
) -> None:
    got = _search(browser, harness.http_base + "/", "+852 9123 4567")
    assert got == [("high_risk", "HIGH RISK")]
    assert browser.current_url == harness.http_base + "/"  # the number is not in the URL
    section = browser.find_element(By.CSS_SELECTOR, "#answer .verdict")
    assert "Linked to a case investigated by the police." in section.text
    assert section.value_of_css_property("background-color") == "rgba(179, 0, 27, 1)"
    assert browser.find_element(By.ID, "answer").get_attribute("role") == "status"


def test_unknown_number_is_no_record_never_safe(
    browser: webdriver.Chrome, harness: Harness
) -> None:
    got = _search(browser, harness.http_base + "/", "9000 0000")
    assert got == [("no_record", "NO RECORD")]
    assert "does not mean it is safe" in browser.find_element(By.ID, "answer").text


def test_chinese_page_and_a_pasted_message(browser: webdriver.Chrome, harness: Harness) -> None:
    msg = "你的包裹未能派送，請到 hkpost-redelivery.top 付款或致電 +852 9123 4567"
    got = _search(browser, harness.http_base + "/zh-hant", msg)
    assert got == [("high_risk", "高危"), ("suspicious", "可疑")]
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hant"
    assert browser.current_url == harness.http_base + "/zh-hant"
    # The language link leads back to English.
    browser.find_element(By.LINK_TEXT, "English").click()
    assert browser.find_element(By.TAG_NAME, "label").text == "Number, link, account or message"
