"""The web workspace in a real browser (Debian's chromium, driven through chromium-driver with
selenium): open a transcript, select words, code them, see the highlight, undo it from the history
page; drag a code to another theme on the board. Every step is checked against the project file.

Skipped, with the reason, when chromium, chromium-driver or selenium are not installed (.ci/run
installs them). The browser talks to a workspace served on 127.0.0.1 in this process; only
loopback connections are allowed, as everywhere else in the tests nothing reaches the network."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from pathlib import Path

import pytest

from tests.helpers import rows

pytest.importorskip("starlette")
pytest.importorskip("uvicorn")
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install -e '.[test]')")

try:
    from tests.test_web import build
except ImportError:  # pragma: no cover
    from test_web import build

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (Debian package chromium)"),
    pytest.mark.skipif(DRIVER is None, reason="chromedriver is not installed (Debian package chromium-driver)"),
]
WAIT = 20  # seconds a step may take at most (an upper bound on waiting, never a timing assertion)


@pytest.fixture
def no_network(monkeypatch):
    """As the conftest's guard, but the browser, its driver and the workspace talk over loopback."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo
    loopback = ("127.0.0.1", "::1", "localhost")

    def connect(self, address, *a, **k):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in loopback:
            raise AssertionError(f"a test tried to reach {address}; only loopback is allowed")
        return real_connect(self, address, *a, **k)

    def getaddrinfo(host, *a, **k):
        if host not in loopback:
            raise AssertionError(f"a test tried to look up {host}; only loopback is allowed")
        return real_getaddrinfo(host, *a, **k)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield


@pytest.fixture
def project(tmp_path) -> Path:
    return build(tmp_path / "p.qualcode")


@pytest.fixture
def served(project, monkeypatch):
    """The workspace on a free port, served from a thread; yields its token URL."""
    import uvicorn

    from qualcode.web.server import listen, prepare, url_of

    app = prepare(project, coder="student")
    sock = listen(0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the workspace did not start"
    yield url_of(sock, app.state.workspace.token)
    server.should_exit = True
    thread.join(WAIT)
    sock.close()


@pytest.fixture
def browser(tmp_path, monkeypatch):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")  # Selenium Manager, should it run, downloads nothing
    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000", f"--user-data-dir={tmp_path / 'chromium'}", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        opts.add_argument(arg)
    try:
        driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    except Exception as exc:  # a driver that does not match the browser, a machine without a display library
        pytest.skip(f"chromium could not be started through chromedriver: {str(exc).splitlines()[0]}")
    driver.set_page_load_timeout(WAIT)
    yield driver
    driver.quit()


def wait_for(driver, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(condition, message=f"waited for {what}")


SELECT_WORDS = """
const p = document.querySelector('p.text[data-seg="' + arguments[0] + '"]');
const span = p.querySelector('span.p');
const node = span.firstChild;
const range = document.createRange();
range.setStart(node, arguments[1]);
range.setEnd(node, arguments[2]);
const sel = window.getSelection();
sel.removeAllRanges();
sel.addRange(range);
const picked = sel.toString();
p.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
return picked;
"""


def test_select_words_code_them_see_the_highlight_and_undo_from_history(served, browser, project):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    seg, start, text = rows(project, "SELECT s.id, s.start, s.text FROM segments s WHERE s.role = 'participant' "
                                     "AND s.n_words > 12 AND NOT EXISTS (SELECT 1 FROM codings g WHERE "
                                     "g.segment_id = s.id) ORDER BY s.id LIMIT 1")[0]
    source = rows(project, "SELECT source_id FROM segments WHERE id = ?", seg)[0][0]
    base = served.split("/?")[0]
    browser.get(served.replace("/?", f"/read/{source}?"))
    wait_for(browser, lambda d: d.find_elements(By.ID, "transcript"), "the transcript")
    assert browser.current_url == f"{base}/read/{source}"  # the token left the address bar

    a = text.index(" ") + 1                     # from the second word ...
    b = len(" ".join(text.split(" ")[:5]))      # ... to the end of the fifth
    picked = browser.execute_script(SELECT_WORDS, seg, a, b)
    assert picked == text[a:b]
    box = browser.find_element(By.ID, "picker-input")
    wait_for(browser, lambda d: box.is_displayed(), "the code picker")
    box.send_keys("jobc")  # type-ahead on the name ("Jobcoach")
    wait_for(browser, lambda d: [li.get_attribute("data-code") for li in d.find_elements(By.CSS_SELECTOR,
                                 "#picker-list li")] == ["coach"], "the type-ahead to narrow to one code")
    box.send_keys(Keys.ENTER)

    def coded(_):
        got = rows(project, 'SELECT id, coder, origin, start, "end" FROM codings WHERE segment_id = ? '
                            "AND coder = 'student'", seg)
        return got or False
    [(cid, coder, origin, lo, hi)] = wait_for(browser, coded, "the coding in the project file")
    assert (coder, origin, lo, hi) == ("student", "manual", start + a, start + b)
    mark = wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'span.hl[data-ids="{cid}"]'),
                    "the highlight after the page reloads")[0]
    assert mark.text == text[a:b]
    assert "rgba(86, 180, 233" in mark.get_attribute("style")  # the care theme's colour
    assert "coded the words with coach as student" in browser.find_element(By.ID, "notice").text

    mark.click()  # the coding panel names the code and the coder
    panel = browser.find_element(By.ID, "panel")
    wait_for(browser, lambda d: panel.is_displayed(), "the coding panel")
    assert "Jobcoach" in panel.text and "student" in panel.text

    act = rows(project, "SELECT id FROM audit_log WHERE command = 'code' ORDER BY id DESC LIMIT 1")[0][0]
    browser.get(f"{base}/history")
    browser.find_element(By.CSS_SELECTOR, f'button[data-undo="{act}"]').click()
    wait_for(browser, lambda d: "undid #" in d.page_source, "the undo message")
    assert rows(project, "SELECT COUNT(*) FROM codings WHERE coder = 'student'") == [(0,)]
    assert rows(project, "SELECT undone_at IS NOT NULL FROM audit_log WHERE id = ?", act) == [(1,)]
    browser.get(f"{base}/read/{source}")
    assert not browser.find_elements(By.CSS_SELECTOR, f'span.hl[data-ids="{cid}"]')


def test_drag_a_code_to_another_theme_on_the_board(served, browser, project):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    base = served.split("/?")[0]
    browser.get(served.replace("/?", "/board?"))
    grip = wait_for(browser, lambda d: d.find_element(By.CSS_SELECTOR, '#code-pros .grip'), "the board")
    target = browser.find_element(By.CSS_SELECTOR, '.dropzone[data-theme="care"]')
    (ActionChains(browser).click_and_hold(grip).move_by_offset(10, 10).move_to_element(target)
     .move_by_offset(0, 5).release().perform())
    wait_for(browser, lambda d: rows(project, "SELECT t.key FROM codes c JOIN themes t ON t.id = c.theme_id "
                                              "WHERE c.key = 'pros'") == [("care",)], "the move in the project file")
    assert rows(project, "SELECT command, actor FROM audit_log ORDER BY id DESC LIMIT 1") == \
        [("theme move-code", "student")]
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, '.dropzone[data-theme="care"] #code-pros'),
             "the code in its new column after the reload")
    assert browser.current_url == f"{base}/board"


def test_a_page_says_when_another_command_changed_the_project(served, browser, project):
    from selenium.webdriver.common.by import By

    from qualcode.store import Store
    from qualcode.themes import retheme

    browser.get(served.replace("/?", "/board?"))
    banner = wait_for(browser, lambda d: d.find_element(By.ID, "changed"), "the board")
    assert not banner.is_displayed()
    with Store.open(project) as store:  # as 'qualcode theme rename' in a terminal would
        retheme.rename_theme(store, "care", "Zorg en werk samen")
    wait_for(browser, lambda d: banner.is_displayed(), "the changed-project notice")
    assert "The project changed since this page was drawn" in banner.text and "theme rename" in banner.text
    browser.find_element(By.CSS_SELECTOR, "[data-reload]").click()
    wait_for(browser, lambda d: "Zorg en werk samen" in d.page_source, "the board after reloading")
