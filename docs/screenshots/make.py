"""Screenshots of the web workspace for the README: the reading view, the theme board, the review
and the supervisor page, on the demo project.

    python docs/screenshots/make.py

Builds the demo project with the Makefile's own steps 1-5 (in bench/out/screens/, with this Python's
environment, as bench/interactive.py does), lets a student code a few fragments in F2 through the
same library acts the workspace uses and a supervisor comment on a theme, serves the workspace on
127.0.0.1 and photographs each view with headless chromium (through chromium-driver).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WORK = ROOT / "bench" / "out" / "screens"
OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))


def demo() -> Path:
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    for name in ("codebooks", "transcripts_sample", "bench"):
        (WORK / name).symlink_to(ROOT / name)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QUALCODE_CODER": "student"}
    bin_dir = Path(sys.executable).parent
    subprocess.run(["make", "-s", "-f", str(ROOT / "Makefile"), "-o", f"{bin_dir}/.installed", f"BIN={bin_dir}",
                    "demo-step1", "demo-step2", "demo-step3-5"], cwd=WORK, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return WORK / "reports" / "ips-demo.qualcode"


def student_work(project: Path) -> None:
    """A student's fragment codings in F2 (some overlapping) and a supervisor's comment."""
    from qualcode.themes import retheme as T
    from qualcode.coding.manual import code_span
    from qualcode.store import Store

    with Store.open(project) as store:
        codes = [c["key"] for c in store.codes()]
        segs = [s for s in store.segments(group="F2", role="participant") if s["n_words"] >= 25][2:40]
        for n, s in enumerate(segs[::2]):
            words = s["text"].split(" ")
            a = len(" ".join(words[:3])) + 1
            b = len(" ".join(words[:11]))
            code_span(store, s["id"], s["start"] + a, s["start"] + b, codes[(3 * n) % len(codes)], coder="student")
            if n % 3 == 0:
                c = len(" ".join(words[:7])) + 1
                d = len(" ".join(words[:17]))
                code_span(store, s["id"], s["start"] + c, s["start"] + d, codes[(3 * n + 7) % len(codes)],
                          coder="student")
        T.add_memo(store, f"segment:{segs[4]['id']}", "Mooi voorbeeld van werk als structuur.", author="student")
        T.add_memo(store, "theme:obstacles", "Sterk thema. Maak het onderscheid tussen willen en kunnen werken "
                   "nog wat scherper in de definitie.", author="promotor", kind="supervisor")


SELECT = """
const p = document.querySelector('p.text[data-seg="' + arguments[0] + '"]');
const spans = p.querySelectorAll('span.p');
const words = (n) => {
  const t = spans[0].textContent; let at = 0;
  for (let i = 0; i < n; i++) { at = t.indexOf(' ', at) + 1; }
  return at;
};
const range = document.createRange();
range.setStart(spans[0].firstChild, words(arguments[1]));
range.setEnd(spans[0].firstChild, words(arguments[2]) - 1);
window.getSelection().removeAllRanges();
window.getSelection().addRange(range);
p.dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
"""


def shoot(project: Path) -> None:
    import uvicorn
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By

    from qualcode.store import Store
    from qualcode.web.server import listen, prepare, url_of

    os.environ["QUALCODE_CODER"] = "student"
    app = prepare(project, coder="student")
    sock = listen(0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = url_of(sock, app.state.workspace.token)
    base = url.split("/?")[0]
    opts = Options()
    opts.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1440,900", "--hide-scrollbars",
                f"--user-data-dir={WORK / 'chromium'}"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    try:
        with Store.open(project) as store:
            f2 = store.source("F2.txt")["id"]
            coded = [s for s in store.segments(group="F2", role="participant") if s["n_words"] >= 25][2:40]
        driver.get(url.replace("/?", f"/read/{f2}?"))
        driver.execute_script("document.getElementById(arguments[0]).scrollIntoView();", f"seg-{coded[0]['id']}")
        driver.execute_script("window.scrollBy(0, -80);")
        # a selection of words with the code picker open, as a student codes them
        driver.execute_script(SELECT, coded[1]["id"], 4, 9)
        driver.find_element(By.ID, "picker-input").send_keys("werk")
        time.sleep(0.3)
        driver.save_screenshot(str(OUT / "web-read.png"))
        for name, path in (("web-board", "/board"), ("web-review", "/review"),
                           ("web-supervisor", "/supervisor#theme-obstacles")):
            driver.set_window_size(1600 if name == "web-board" else 1440, 900)
            driver.get(base + path)
            if "#" in path:
                driver.execute_script("window.scrollBy(0, -70);")
            time.sleep(0.3)
            driver.save_screenshot(str(OUT / f"{name}.png"))
        assert driver.find_elements(By.CSS_SELECTOR, ".theme-summary")
    finally:
        driver.quit()
        server.should_exit = True


if __name__ == "__main__":
    p = demo()
    student_work(p)
    shoot(p)
    print("wrote", ", ".join(sorted(x.name for x in OUT.glob("web-*.png"))))
