"""Headless Chromium for the tests that open the report and the labelling page (Debian's ``chromium`` and
``chromium-driver``, Selenium from PyPI), as root, with a fresh profile and every background request of the
browser itself switched off, so that what the page requests is all the network log shows.

Use :func:`chromium` as a context manager; :func:`console_errors` reads the browser's console log and
:func:`requests_outside` the requests (from the performance log) that left the opened file.
"""

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator, List, Optional

from tests.helpers.runs import require

__all__ = [
    "CHROMIUM",
    "CHROMEDRIVER",
    "unavailable",
    "require_browser",
    "chromium",
    "open_file",
    "console_errors",
    "requests_outside",
    "screenshot",
]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
]


def unavailable() -> Optional[str]:
    """Why no headless Chromium can be driven here, or None."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not os.access(path, os.X_OK):
            return f"{path} not found (Debian's chromium and chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (the test extra)"
    return None


def require_browser() -> None:
    """Skip the calling test where no browser can run; fail in CI, which installs one (.ci/run)."""
    require(unavailable(), "the browser tests")


@contextlib.contextmanager
def chromium(download_dir: Optional[Path] = None, javascript: bool = True) -> Iterator[object]:
    """A Selenium driver of a fresh headless Chromium; downloads land in ``download_dir`` without a prompt;
    ``javascript=False``: a browser that runs no script (what the static parts of a page must survive)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="dj-hpo-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    prefs = {} if javascript else {"profile.managed_default_content_settings.javascript": 2}
    if download_dir is not None:
        prefs.update(
            {
                "download.default_directory": str(download_dir),
                "download.prompt_for_download": False,
                "download.directory_upgrade": True,
                "safebrowsing.enabled": False,
            }
        )
    if prefs:
        options.add_experimental_option("prefs", prefs)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        if download_dir is not None:  # headless Chromium honours the preference only with this call as well
            driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_file(driver, path: Path) -> str:
    """Open a local file (after a blank page, its logs drained: the browser's own start page is not the file's);
    returns its URL."""
    driver.get("about:blank")
    driver.get_log("performance")
    driver.get_log("browser")
    url = Path(path).resolve().as_uri()
    driver.get(url)
    return url


def console_errors(driver) -> List[str]:
    """Every console message of level SEVERE (errors, refused requests, CSP violations) since the last read."""
    return [entry["message"] for entry in driver.get_log("browser") if entry.get("level") == "SEVERE"]


def requests_outside(driver, url: str) -> List[str]:
    """The URLs the page requested other than its own file and ``data:``/``blob:`` URLs (from the performance
    log: every ``Network.requestWillBeSent``) since the last read."""
    outside = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") != "Network.requestWillBeSent":
            continue
        requested = message["params"]["request"]["url"]
        if requested.split("#")[0] != url and not requested.startswith(("data:", "blob:")):
            outside.append(requested)
    return outside


def screenshot(driver, name: str, fallback_dir: Path, css: Optional[str] = None) -> Path:
    """A PNG of the viewport (scrolled to ``css`` first) in ``$DJ_HPO_SCREENSHOTS`` (the docs' pictures are taken
    with ``DJ_HPO_SCREENSHOTS=docs``) or ``fallback_dir``; reduced to a 64-colour palette to stay small."""
    from PIL import Image

    if css:
        element = driver.find_element("css selector", css)
        driver.execute_script("arguments[0].scrollIntoView(); window.scrollBy(0, -8);", element)
    directory = Path(os.environ.get("DJ_HPO_SCREENSHOTS") or fallback_dir)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    driver.save_screenshot(str(path))
    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=64)
    small.save(path, optimize=True)
    return path
