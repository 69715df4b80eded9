"""qualcode status: counts, themes per status, review staleness, next action, and no heavy imports."""

from __future__ import annotations

import json
import subprocess
import sys

from qualcode.themes import retheme as T
from qualcode.themes.review import run_review
from qualcode.status import format_status, project_status

try:  # tests/ may or may not be a package
    from tests.test_themes_helpers import build_project
except ImportError:  # pragma: no cover
    from test_themes_helpers import build_project


def test_empty_project_says_ingest(empty_store):
    s = project_status(empty_store)
    assert (s["step"], s["next"]) == (1, "ingest transcripts: qualcode ingest FILES --participants participants.csv")


def test_counts_and_next_actions(empty_store, tiny_codebook_factory):
    store = empty_store
    ids = list(build_project(store))
    assert project_status(store)["next"].startswith("load a codebook")
    codes = tiny_codebook_factory(store)
    assert project_status(store)["next"] == "code segments: qualcode autocode, or qualcode code SEGMENT_ID CODE_ID"
    with store.act("c"):
        store.add_codings([(ids[0], codes["pros"]), (ids[1], codes["cons"]), (ids[1], codes["pros"])], "ann", "manual")
        store.add_codings([(ids[0], codes["pros"])], "bob", "manual")
    s = project_status(store)
    assert (s["sources"], s["groups"], s["participants"]) == (2, 2, 6)
    assert (s["participant_segments"], s["segments_coded"], s["segments_uncoded"]) == (8, 2, 6)
    assert (s["codes"], s["codings"], s["coders"]) == (4, 4, ["ann", "bob"])
    assert s["codes_without_codings"] == ["coach", "intake"]
    assert s["themes"] == {"candidate": 2, "reviewed": 0, "defined": 0, "reported": 0}
    assert (s["step"], s["next"]) == (4, "re-read and check the themes: qualcode review")
    run_review(store)
    s = project_status(store)
    assert s["review"]["acts_since"] == 0 and s["review"]["warnings"] == int(store.meta("review_warnings"))
    assert s["next"] == "after reading the review, mark themes reviewed: qualcode theme set-status work reviewed"
    T.rename_theme(store, "work", "Werk")  # a new name does not make the review stale
    assert project_status(store)["review"]["acts_since"] == 0
    T.move_code(store, "coach", "work")  # but moving codes does
    s = project_status(store)
    assert s["review"]["acts_since"] == 1
    assert "1 change(s) to codes or themes since, run qualcode review again" in format_status(s)
    for t in ("work", "care"):
        T.set_status(store, t, "reviewed")
    assert project_status(store)["next"].startswith("define and name themes: qualcode theme define work ")
    for t in ("work", "care"):
        T.define_theme(store, t, definition="d", key_messages=["k"])
        T.set_status(store, t, "defined")
    s = project_status(store)
    assert s["themes"]["defined"] == 2 and s["step"] == 6
    assert "step 3-6 themes: 0 candidate, 0 reviewed, 2 defined, 0 reported" in format_status(s)


def test_status_imports_no_heavy_libraries(sample_path):
    code = ("import sys; from qualcode.cli import main\n"
            "try:\n    main(['-p', sys.argv[1], 'status', '--json'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pandas', 'sklearn', 'spacy', 'numpy', 'openpyxl') if m in sys.modules]\n"
            "print('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code, str(sample_path)], capture_output=True, text=True, check=True)
    status_json, _, tail = out.stdout.rpartition("HEAVY")
    assert tail.strip() == "[]"
    assert json.loads(status_json)["sources"] == 3
