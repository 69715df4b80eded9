"""The web workspace over HTTP (Starlette's test client): every page and act, the token, the CSRF
check, escaping, and what a page says when the project is busy or changed. Each act is checked
against the project file itself."""

from __future__ import annotations

import re
import sqlite3
from html import unescape
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx2", reason="Starlette's test client needs httpx2 (the test extra)")

from starlette.testclient import TestClient  # noqa: E402

from qualcode.themes import retheme as T  # noqa: E402
from qualcode.store import Store  # noqa: E402
from qualcode.web import pages  # noqa: E402
from qualcode.web.app import create_app  # noqa: E402
from tests.helpers import rows

try:
    from tests.conftest import SAMPLE, tiny_codebook
except ImportError:  # pragma: no cover
    from conftest import SAMPLE, tiny_codebook

BASE = "http://127.0.0.1:8765"
EVIL = "<script>alert(1)</script>"


def build(path: Path) -> Path:
    """A small project: F1 and F2, the tiny codebook, a few codings by 'rules' and by 'anna'."""
    from qualcode.ingest import ingest

    with Store.create(path, language="nl") as store:
        ingest(store, [SAMPLE / "F1.txt", SAMPLE / "F2.txt"], participants=str(SAMPLE / "participants.csv"))
        ids = tiny_codebook(store)
        segs = [s for s in store.segments(role="participant") if s["n_words"] > 12][:6]
        with store.act("test codings"):
            for s in segs[:3]:
                store.add_coding(s["id"], ids["pros"], "rules", "rule")
            s = segs[3]
            store.add_coding(s["id"], ids["coach"], "anna", "manual", span=(s["start"], s["start"] + 20))
            store.add_coding(s["id"], ids["cons"], "anna", "manual", span=(s["start"] + 10, s["start"] + 30))
            store.add_suggestions([(segs[4]["id"], ids["intake"], 0.8, "intake, werk"),
                                   (segs[5]["id"], ids["cons"], 0.6, "stress")], coder="anna", source="model")
    return path


@pytest.fixture(scope="module")
def _built(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("web") / "p.qualcode")


@pytest.fixture
def project(_built, tmp_path) -> Path:
    import shutil

    dest = tmp_path / "p.qualcode"
    shutil.copy(_built, dest)
    return dest


def login(app) -> TestClient:
    client = TestClient(app, base_url=BASE, follow_redirects=False)
    r = client.get(f"/?token={app.state.workspace.token}")
    assert r.status_code == 303
    return client


@pytest.fixture
def app(project):
    return create_app(project, coder="student")


@pytest.fixture
def client(app) -> TestClient:
    return login(app)


def post(client, app, path: str, **fields):
    """A POST as the page's script sends it (JSON answer)."""
    return client.post(path, data={"csrf": app.state.workspace.csrf, **{k: str(v) for k, v in fields.items()}},
                       headers={"Accept": "application/json"})


def acts(project: Path) -> int:
    return rows(project, "SELECT COUNT(*) FROM audit_log")[0][0]


def source_id(project: Path, name: str = "F1.txt") -> int:
    return rows(project, "SELECT id FROM sources WHERE name = ?", name)[0][0]


# ------------------------------------------------------------------ the door
PAGES = ["/", "/read/1", "/board", "/review", "/supervisor", "/history", "/fragments?theme=work", "/as-of"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_refuse_a_browser_without_the_token(app, path):
    r = TestClient(app, base_url=BASE).get(path)
    assert r.status_code == 403
    assert "open the link 'qualcode serve' printed" in unescape(r.text)


def test_a_wrong_token_is_refused_and_sets_no_cookie(app):
    client = TestClient(app, base_url=BASE, follow_redirects=False)
    r = client.get("/?token=guessed")
    assert r.status_code == 403 and "set-cookie" not in r.headers
    assert client.get("/").status_code == 403


def test_the_token_becomes_a_strict_httponly_cookie_and_leaves_the_url(app):
    client = TestClient(app, base_url=BASE, follow_redirects=False)
    r = client.get(f"/board?token={app.state.workspace.token}&x=1")
    assert r.status_code == 303 and r.headers["location"] == "/board?x=1"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "qualcode_8765=" in cookie
    assert client.get("/board").status_code == 200


def test_each_run_has_its_own_token(project):
    a, b = create_app(project, coder="x"), create_app(project, coder="x")
    assert a.state.workspace.token != b.state.workspace.token
    assert a.state.workspace.csrf != b.state.workspace.csrf
    assert len(a.state.workspace.token) >= 32


def test_another_host_name_is_refused(app):
    client = TestClient(app, base_url="http://attacker.example:8765")
    r = client.get(f"/?token={app.state.workspace.token}")
    assert r.status_code == 400 and "only at 127.0.0.1" in r.text


@pytest.mark.parametrize("path", ["/act/code", "/act/uncode", "/act/confirm", "/act/suggestion", "/act/memo",
                                  "/act/move", "/act/merge-codes", "/act/merge-themes", "/act/split-theme",
                                  "/act/split-code", "/act/rename-theme", "/act/rename-code", "/act/status",
                                  "/act/define", "/act/add-theme", "/act/undo"])
def test_every_act_needs_the_csrf_token(client, app, project, path):
    before = acts(project)
    for csrf in (None, "wrong"):
        data = {"theme": "work", "code": "pros", "name": "x", "key": "x_new", "text": "x"}
        if csrf:
            data["csrf"] = csrf
        r = client.post(path, data=data)
        assert r.status_code == 403, path
        assert "CSRF token is missing or wrong" in r.text
    assert acts(project) == before


def test_acts_need_the_cookie_too(app, project):
    r = TestClient(app, base_url=BASE).post("/act/add-theme", data={"csrf": app.state.workspace.csrf,
                                                                     "key": "x", "name": "X"})
    assert r.status_code == 403
    assert rows(project, "SELECT COUNT(*) FROM themes WHERE key = 'x'") == [(0,)]


def test_a_post_from_another_origin_is_refused(client, app, project):
    r = client.post("/act/add-theme", data={"csrf": app.state.workspace.csrf, "key": "x", "name": "X"},
                    headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "another site" in r.text
    assert rows(project, "SELECT COUNT(*) FROM themes WHERE key = 'x'") == [(0,)]


def test_gets_never_change_the_project(client, project):
    before = rows(project, "SELECT COUNT(*) FROM codings")
    for path in PAGES + ["/act/add-theme?key=x&name=X"]:
        client.get(path)
    assert rows(project, "SELECT COUNT(*) FROM codings") == before
    assert rows(project, "SELECT COUNT(*) FROM themes WHERE key = 'x'") == [(0,)]


def test_pages_forbid_framing_and_outside_scripts(client):
    r = client.get("/")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-frame-options"] == "DENY"


def test_assets_load_nothing_from_the_internet():
    root = Path(pages.__file__).parent
    files = list((root / "static").iterdir()) + list((root / "templates").iterdir())
    assert {p.suffix for p in files} >= {".css", ".js", ".html"}
    for p in files:
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", p.read_text(encoding="utf-8")), p.name


def test_static_assets_are_served_without_the_token(app):
    r = TestClient(app, base_url=BASE).get("/static/app.css")
    assert r.status_code == 200 and ".read-layout" in r.text


# ---------------------------------------------------------------------- pages
def test_index_lists_the_transcripts(client, project):
    r = client.get("/")
    assert r.status_code == 200
    assert "F1.txt" in r.text and "F2.txt" in r.text and f'href="/read/{source_id(project)}"' in r.text


def test_read_shows_turns_keys_highlights_suggestions_and_legend(client, project):
    html = client.get(f"/read/{source_id(project)}").text
    assert "(F1 P3)" in html and "(F1 Moderator)" in html
    frag = rows(project, "SELECT id, segment_id FROM codings WHERE coder = 'anna' ORDER BY id")
    # the two fragments overlap: the piece in both carries both coding ids and two colours
    both = f'data-ids="{frag[1][0]},{frag[0][0]}"'  # codebook order: cons (theme work) before coach (care)
    assert both in html
    piece = re.search(r'<span class="p hl ov"[^>]*' + re.escape(both) + r'[^>]*>', html).group(0)
    assert "rgba(230, 159, 0, 0.32)" in piece and "inset 0 -3px 0 #56B4E9" in piece
    assert "Voordelen" in html  # whole-segment codings as chips, named
    assert "intake, werk" in html and 'action="/act/suggestion"' in html
    assert "Betaald werk" in html and "Zorg en werk" in html  # legend


def test_read_offsets_rebuild_the_source_text(client, project):
    """The pieces' offsets and text are the source's text at those offsets, so a selection maps back."""
    sid = source_id(project)
    text = rows(project, "SELECT text FROM sources WHERE id = ?", sid)[0][0]
    html = client.get(f"/read/{sid}").text
    import html as H

    found = re.findall(r'<span class="p[^"]*" data-o="(\d+)"[^>]*>(.*?)</span>', html, flags=re.S)
    assert len(found) > 50
    for o, piece in found:
        piece = H.unescape(piece)
        assert text[int(o):int(o) + len(piece)] == piece


def test_read_filters(client, project):
    sid = source_id(project)
    html = client.get(f"/read/{sid}?coder=anna").text
    assert "2 of 5 coding(s) highlighted" in html
    html = client.get(f"/read/{sid}?participant=F1 P3").text
    assert "(F1 P3)" in html and "(F1 P1)" not in html and "(F1 Moderator)" in html
    html = client.get(f"/read/{sid}?theme=care").text
    assert "faded" in html


def test_pages_say_which_act_they_show_and_as_of_names_the_newest(client, app, project):
    last = rows(project, "SELECT MAX(id) FROM audit_log")[0][0]
    for path in PAGES[:-1]:
        assert f'data-as-of="{last}"' in client.get(path).text, path
    assert client.get("/as-of").json() == {"act": last, "command": "test codings", "actor": rows(
        project, "SELECT actor FROM audit_log WHERE id = ?", last)[0][0], "summary": ""}
    with Store.open(project) as store:  # a CLI command meanwhile
        T.add_memo(store, "project", "Van de CLI.", author="anna")
    assert client.get("/as-of").json() == {"act": last + 1, "command": "memo add", "actor": "anna",
                                           "summary": "memo on project"}
    assert 'data-as-of=' not in client.get("/read/999").text  # an error page does not watch


def test_read_unknown_source_is_a_message_not_a_traceback(client):
    r = client.get("/read/999")
    assert r.status_code == 404
    assert "unknown source '999'" in unescape(r.text) and "Traceback" not in r.text


def test_board_review_supervisor_history_fragments(client, project):
    board = client.get("/board").text
    assert 'data-theme="work"' in board and 'data-code="pros"' in board and 'data-from="work"' in board
    review = client.get("/review").text
    assert "Review (step 4)" in review and 'id="check-coverage"' in review
    sup = client.get("/supervisor").text
    assert "Themes for the supervisor" in sup and 'value="theme:work"' in sup and 'value="supervisor"' in sup
    hist = client.get("/history").text
    assert "test codings" in hist and 'data-undo="' in hist
    frag = client.get("/fragments?theme=care").text
    assert "Fragments of theme care" in frag and "(F1 " in frag
    assert client.get("/fragments").status_code == 404


def test_review_links_to_the_segment_a_warning_cites(client, project):
    cid, seg = rows(project, "SELECT id, segment_id FROM codings WHERE start IS NOT NULL ORDER BY id LIMIT 1")[0]
    conn = sqlite3.connect(project)
    with conn:  # a fragment that no longer lies inside its segment (as after a bad hand edit)
        conn.execute('UPDATE codings SET "end" = "end" + 100000 WHERE id = ?', (cid,))
    conn.close()
    html = client.get("/review").text
    assert f"coding #{cid} (" in unescape(html)
    assert f'<a href="/read/{source_id(project)}#seg-{seg}">segment #{seg}</a>' in html
    assert f">segment #{cid}</a>" not in html or cid == seg


def test_review_links_to_what_each_warning_names(client, project):
    page = client.get("/review")
    assert page.status_code == 200
    links = re.findall(r'<p class="links">(.*?)</p>', page.text, flags=re.S)
    assert links, "the sample has coverage warnings with links"
    f1 = source_id(project)
    assert f'<a href="/read/{f1}">read group F1</a>' in page.text
    assert re.search(rf'<a href="/read/{f1}\?participant=F1%20P\d">read F1 P\d</a>', page.text)


# ----------------------------------------------------------------------- acts
def test_code_a_selection_then_undo_it_from_the_history(client, app, project):
    seg = rows(project, "SELECT id, start, text FROM segments WHERE role = 'participant' AND n_words > 12 "
                        "ORDER BY id LIMIT 1 OFFSET 8")[0]
    sid, start, text = seg
    words = text[5:25]
    r = post(client, app, "/act/code", segment=sid, start=start + 5, end=start + 25, text=words, code="coach")
    assert r.status_code == 200 and r.json() == {"ok": True, "message": "coded the words with coach as student"}
    got = rows(project, "SELECT coder, origin, start, \"end\" FROM codings WHERE segment_id = ? AND coder = 'student'",
               sid)
    assert got == [("student", "manual", start + 5, start + 25)]
    act = rows(project, "SELECT id, command, actor FROM audit_log ORDER BY id DESC LIMIT 1")[0]
    assert act[1:] == ("code", "student")
    html = client.get(f"/read/{source_id(project)}").text
    cid = rows(project, "SELECT id FROM codings WHERE coder = 'student'")[0][0]
    assert f'data-ids="{cid}"' in html
    r = post(client, app, "/act/undo", act=act[0])
    assert r.json()["ok"] and f"#{act[0]} code" in r.json()["message"]
    assert rows(project, "SELECT COUNT(*) FROM codings WHERE coder = 'student'") == [(0,)]


def test_code_trims_spaces_and_codes_a_whole_turn_as_the_segment(client, app, project):
    sid, start, end, text = rows(project, 'SELECT id, start, "end", text FROM segments WHERE role = \'participant\' '
                                          "ORDER BY id LIMIT 1 OFFSET 3")[0]
    r = post(client, app, "/act/code", segment=sid, start=start, end=end, text=text, code="pros")
    assert r.json()["ok"]
    assert rows(project, "SELECT start FROM codings WHERE segment_id = ? AND coder = 'student'", sid) == [(None,)]


def test_code_refuses_words_that_changed_under_the_page(client, app, project):
    sid, start = rows(project, "SELECT id, start FROM segments WHERE n_words > 12 ORDER BY id LIMIT 1")[0]
    before = acts(project)
    r = post(client, app, "/act/code", segment=sid, start=start, end=start + 10, text="iets anders", code="pros")
    assert r.status_code == 409
    assert "no longer has the selected words" in r.json()["error"] and "Reload the page" in r.json()["error"]
    assert acts(project) == before


def test_code_refuses_a_selection_outside_the_turn_and_an_unknown_code(client, app, project):
    sid, end = rows(project, 'SELECT id, "end" FROM segments ORDER BY id LIMIT 1')[0]
    r = post(client, app, "/act/code", segment=sid, start=end - 3, end=end + 40, text="x", code="pros")
    assert r.status_code == 409 and "is not inside segment" in r.json()["error"]
    r = post(client, app, "/act/code", segment=sid, start=0, end=5, code="prso")
    assert r.status_code == 404 and "unknown code 'prso'" in r.json()["error"] and "pros" in r.json()["error"]
    r = post(client, app, "/act/code", segment="abc", start=0, end=5, code="pros")
    assert r.status_code == 400 and "'segment' must be a number" in r.json()["error"]


def test_remove_and_confirm_a_rule_coding(client, app, project):
    (cid, seg), (cid2, seg2) = rows(project, "SELECT id, segment_id FROM codings WHERE coder = 'rules' ORDER BY id")[:2]
    r = post(client, app, "/act/confirm", coding=cid)
    assert r.json()["ok"]
    assert rows(project, "SELECT origin FROM codings WHERE segment_id = ? AND coder = 'student'", seg) == [("manual",)]
    r = post(client, app, "/act/uncode", coding=cid2)
    assert r.json()["ok"] and "removed pros (rules)" in r.json()["message"]
    assert rows(project, "SELECT COUNT(*) FROM codings WHERE id = ?", cid2) == [(0,)]
    assert rows(project, "SELECT actor, command FROM audit_log ORDER BY id DESC LIMIT 1") == [("student", "uncode")]
    r = post(client, app, "/act/uncode", coding=cid2)
    assert r.status_code == 404 and "reload the page" in r.json()["error"]


def test_accept_and_reject_suggestions(client, app, project):
    (a, seg_a), (b, _) = rows(project, "SELECT id, segment_id FROM suggestions ORDER BY id")
    assert post(client, app, "/act/suggestion", suggestion=a, decision="yes").json()["ok"]
    assert post(client, app, "/act/suggestion", suggestion=b, decision="no").json()["ok"]
    assert rows(project, "SELECT status FROM suggestions ORDER BY id") == [("accepted",), ("rejected",)]
    assert rows(project, "SELECT origin FROM codings WHERE segment_id = ? AND coder = 'student'", seg_a) == \
        [("suggested",)]
    r = post(client, app, "/act/suggestion", suggestion=a, decision="no")
    assert r.status_code == 409 and "already accepted" in r.json()["error"]


def test_memo_on_a_segment_and_a_supervisor_comment(client, app, project):
    seg = rows(project, "SELECT id FROM segments ORDER BY id LIMIT 1")[0][0]
    assert post(client, app, "/act/memo", target=f"segment:{seg}", text="Mooi citaat.").json()["ok"]
    assert post(client, app, "/act/memo", target="theme:work", text="Scherper formuleren.",
                kind="supervisor").json()["ok"]
    assert rows(project, "SELECT target_type, kind, author, text FROM memos ORDER BY id") == [
        ("segment", "memo", "student", "Mooi citaat."), ("theme", "supervisor", "student", "Scherper formuleren.")]
    assert "Scherper formuleren." in client.get("/supervisor").text
    assert "Mooi citaat." in client.get(f"/read/{source_id(project)}").text
    r = post(client, app, "/act/memo", target="theme:work", text="  ")
    assert r.status_code == 400 and "a memo needs text" in r.json()["error"]


def test_html_forms_come_back_to_the_page_with_the_message(client, app, project):
    r = client.post("/act/add-theme", data={"csrf": app.state.workspace.csrf, "key": "stigma", "name": "Stigma",
                                            "next": "/board?x=1"})
    assert r.status_code == 303 and r.headers["location"].startswith("/board?x=1&msg=added%20theme%20stigma")
    r = client.post("/act/add-theme", data={"csrf": app.state.workspace.csrf, "key": "stigma", "name": "Stigma",
                                            "next": "//evil.example/"})
    assert r.status_code == 303 and r.headers["location"].startswith("/?err=a%20theme%20with%20id")
    page = client.get(r.headers["location"]).text
    assert "a theme with id &#39;stigma&#39; already exists" in page


def test_board_acts_are_the_cli_acts(client, app, project):
    def ok(path, **f):
        r = post(client, app, path, **f)
        assert r.status_code == 200 and r.json()["ok"], r.text
        return r.json()["message"]

    assert ok("/act/move", code="pros", theme="care", **{"from": "work"}) == "moved code pros from work to care"
    assert rows(project, "SELECT t.key FROM codes c JOIN themes t ON t.id = c.theme_id WHERE c.key = 'pros'") == \
        [("care",)]
    ok("/act/rename-code", code="cons", name="Wat werk kost")
    ok("/act/rename-theme", theme="work", name="Betaald werk (herzien)")
    ok("/act/define", theme="care", definition="Hoe zorg en werk samengaan.", key_messages="Eén\nTwee\n")
    assert rows(project, "SELECT definition, key_messages FROM themes WHERE key = 'care'") == \
        [("Hoe zorg en werk samengaan.", '["Eén", "Twee"]')]
    ok("/act/status", theme="care", status="reviewed")
    ok("/act/status", theme="care", status="defined")
    ok("/act/status", theme="care", status="candidate")  # back: chosen explicitly on the board
    ok("/act/split-theme", theme="care", codes="coach,pros", new_key="support", new_name="Steun")
    assert rows(project, "SELECT c.key FROM codes c JOIN themes t ON t.id = c.theme_id WHERE t.key = 'support' "
                         "ORDER BY c.key") == [("coach",), ("pros",)]
    ok("/act/split-code", code="pros", contains="e", new_key="pros_e", new_name="Voordelen met e")
    ok("/act/merge-codes", code="pros_e", into="pros")
    ok("/act/merge-themes", theme="support", into="care")
    assert rows(project, "SELECT COUNT(*) FROM themes WHERE key = 'support'") == [(0,)]
    commands = [r[0] for r in rows(project, "SELECT command FROM audit_log WHERE actor IS NOT NULL ORDER BY id")][-11:]
    assert commands == ["theme move-code", "code rename", "theme rename", "theme define", "theme set-status",
                        "theme set-status", "theme set-status", "theme split", "code split", "code merge",
                        "theme merge"]


def test_a_drag_from_a_theme_the_code_left_meanwhile_is_refused(client, app, project):
    with Store.open(project) as store:  # another command moved it after the board was drawn
        T.move_code(store, "pros", "care")
    before = acts(project)
    r = post(client, app, "/act/move", code="pros", theme="work", **{"from": "work"})
    assert r.status_code == 409
    assert "is in theme 'care' now, not in 'work'" in r.json()["error"] and "Reload the board" in r.json()["error"]
    assert acts(project) == before


def test_status_and_define_refusals_are_messages(client, app, project):
    r = post(client, app, "/act/status", theme="work", status="defined")
    assert r.status_code == 409 and "moves to reviewed first" in r.json()["error"]
    r = post(client, app, "/act/undo", act=99999)
    assert r.status_code in (404, 409) and "Traceback" not in r.text


def test_a_busy_project_gives_a_message_and_writes_nothing(client, app, project, monkeypatch):
    monkeypatch.setenv("QUALCODE_BUSY_TIMEOUT", "0.2")
    other = sqlite3.connect(project, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        r = post(client, app, "/act/add-theme", key="stigma", name="Stigma")
        assert r.status_code == 503
        assert "is busy" in r.json()["error"] and "Try again" in r.json()["error"]
        assert client.get("/board").status_code == 200  # reading goes on while another command writes
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert rows(project, "SELECT COUNT(*) FROM themes WHERE key = 'stigma'") == [(0,)]


def test_an_unexpected_error_is_one_line_not_a_traceback(client, app, monkeypatch):
    from qualcode.web import acts as A

    def broken(store, form, me):
        raise RuntimeError("boom")

    monkeypatch.setitem(A.ACTS, "/act/memo", broken)
    r = post(client, app, "/act/memo", target="project", text="x")
    assert r.status_code == 500 and r.json()["error"].startswith("unexpected RuntimeError: boom. This is a bug")


# -------------------------------------------------------------------- escaping
def test_markup_in_names_memos_and_transcripts_is_shown_as_text(tmp_path):
    from qualcode.ingest import ingest

    f = tmp_path / "F9.txt"
    f.write_text(f"# group: F9\nModerator: Wat denkt u? {EVIL}\nP1: Ik zeg {EVIL} en \"quotes\" & meer.\n",
                 encoding="utf-8")
    path = tmp_path / "x.qualcode"
    with Store.create(path, language="nl") as store:
        ingest(store, [f], allow_new_speakers=True, names_file=str(tmp_path / "names.csv"))
        T.add_theme(store, "evil", f"Thema {EVIL}")
        with store.act("codebook"):
            store.add_code("bad", f"Code {EVIL}", store.theme("evil")["id"], colour="red;background:url(x)")
        seg = [s for s in store.segments() if s["role"] == "participant"][0]
        with store.act("c"):
            at = seg["start"] + seg["text"].index('"quotes"')
            store.add_coding(seg["id"], store.code("bad")["id"], f"coder{EVIL}", "manual", span=(at, at + 16))
        T.add_memo(store, f"segment:{seg['id']}", f"Memo {EVIL}")
        T.add_memo(store, "theme:evil", f"Opmerking {EVIL}", kind="supervisor", author=f"prof{EVIL}")
        T.define_theme(store, "evil", definition=f"Definitie {EVIL}", key_messages=[f"Boodschap {EVIL}"])
    app = create_app(path, coder=f"me{EVIL}")
    client = login(app)
    for page in ["/", "/read/1", "/board", "/supervisor", "/history", "/fragments?theme=evil", "/review",
                 "/read/1?coder=x" + EVIL]:
        html = client.get(page).text
        assert "<script>alert" not in html, page
    html = client.get("/read/1").text
    assert "Ik zeg &lt;script&gt;alert(1)&lt;/script&gt; en " in html
    assert 'rgba(153, 153, 153, 0.32);">&#34;quotes&#34; &amp; meer.</span>' in html  # coded fragment, escaped
    assert "Memo &lt;script&gt;" in html
    assert "red;background" not in html  # a code colour that is not #RRGGBB never reaches a style attribute
    assert '<script type="application/json" id="codings-data">' in html
    data = re.search(r'id="codings-data">(.*?)</script>', html, flags=re.S).group(1)
    assert "<" not in data  # JSON for the script is escaped too (\u003c)
    assert "Thema &lt;script&gt;" in client.get("/board").text
    assert "Opmerking &lt;script&gt;" in client.get("/supervisor").text


# ------------------------------------------------------------ page helpers
def test_pieces_cut_at_every_fragment_edge():
    seg = {"start": 100, "end": 120, "text": "abcdefghijklmnopqrst"}
    frags = [{"id": 1, "start": 102, "end": 110, "colour": "#E69F00"},
             {"id": 2, "start": 105, "end": 125, "colour": "#56B4E9"}]
    got = [(p["o"], p["text"], p["ids"]) for p in pages.pieces(seg, frags)]
    assert got == [(100, "ab", []), (102, "cde", [1]), (105, "fghij", [1, 2]), (110, "klmnopqrst", [2])]
    assert "".join(t for _, t, _ in got) == seg["text"]


def test_colours_and_clock():
    assert pages.safe_colour("#e69f00") == "#E69F00"
    assert pages.safe_colour("red; background: url(x)") == pages.GREY
    assert pages.safe_colour(None) == pages.GREY
    assert pages.tint("#FF0000", 0.5) == "rgba(255, 0, 0, 0.5)"
    assert pages.highlight_style([]) == ""
    assert pages.highlight_style(["#000000", "#FFFFFF", "#00FF00"]).endswith(
        "box-shadow: inset 0 -3px 0 #FFFFFF, inset 0 -6px 0 #00FF00; padding-bottom: 6px;")
    assert pages.clock(None) == "" and pages.clock(75.9) == "1:15" and pages.clock(3725) == "1:02:05"


# ------------------------------------------------------------- undo of each act
def _dump(project: Path) -> dict:
    try:
        from tests.test_themes_helpers import dump
    except ImportError:  # pragma: no cover
        from test_themes_helpers import dump
    with Store.open(project) as store:
        return dump(store)


def _fields(project: Path, path: str) -> dict:
    seg, start, text = rows(project, "SELECT id, start, text FROM segments WHERE role = 'participant' AND n_words > 12 "
                                     "ORDER BY id LIMIT 1 OFFSET 9")[0]
    rule = rows(project, "SELECT id FROM codings WHERE coder = 'rules' ORDER BY id LIMIT 1")[0][0]
    sug = rows(project, "SELECT id FROM suggestions ORDER BY id LIMIT 1")[0][0]
    return {
        "/act/code": {"segment": seg, "start": start, "end": start + 12, "text": text[:12], "code": "intake"},
        "/act/uncode": {"coding": rule}, "/act/confirm": {"coding": rule},
        "/act/suggestion": {"suggestion": sug, "decision": "yes"},
        "/act/memo": {"target": f"segment:{seg}", "text": "Een memo."},
        "/act/move": {"code": "cons", "theme": "care", "from": "work"},
        "/act/merge-codes": {"code": "cons", "into": "pros"},
        "/act/merge-themes": {"theme": "care", "into": "work"},
        "/act/split-theme": {"theme": "work", "codes": "cons", "new_key": "costs", "new_name": "Kosten"},
        "/act/split-code": {"code": "pros", "group": "F1", "new_key": "pros_f1", "new_name": "Voordelen F1"},
        "/act/rename-theme": {"theme": "care", "name": "Zorg"},
        "/act/rename-code": {"code": "coach", "key": "jobcoach"},
        "/act/status": {"theme": "care", "status": "reviewed"},
        "/act/define": {"theme": "care", "definition": "Zorg en werk.", "key_messages": "Een boodschap."},
        "/act/add-theme": {"key": "stigma", "name": "Stigma"},
    }[path]


@pytest.mark.parametrize("path", ["/act/code", "/act/uncode", "/act/confirm", "/act/suggestion", "/act/memo",
                                  "/act/move", "/act/merge-codes", "/act/merge-themes", "/act/split-theme",
                                  "/act/split-code", "/act/rename-theme", "/act/rename-code", "/act/status",
                                  "/act/define", "/act/add-theme"])
def test_every_act_of_the_workspace_is_one_act_that_undo_reverses_exactly(client, app, project, path):
    before, n = _dump(project), acts(project)
    r = post(client, app, path, **_fields(project, path))
    assert r.status_code == 200 and r.json()["ok"], r.text
    assert acts(project) == n + 1  # one audited act, named after the workspace's coder or the OS user
    assert _dump(project) != before
    last = rows(project, "SELECT id FROM audit_log ORDER BY id DESC LIMIT 1")[0][0]
    assert f'data-undo="{last}"' in client.get("/history").text
    assert post(client, app, "/act/undo", act=last).json()["ok"]
    assert _dump(project) == before


def test_a_refusal_to_the_page_script_is_json(client, app):
    r = client.post("/act/memo", data={"csrf": "wrong", "target": "project", "text": "x"},
                    headers={"Accept": "application/json"})
    assert r.status_code == 403 and r.json() == {
        "ok": False, "error": "this form is out of date or did not come from the workspace (its CSRF token is "
                              "missing or wrong); reload the page and try again."}
    r = client.post("/act/memo", content=b"\xff\xfe", headers={"Accept": "application/json",
                                                                "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 403


from hypothesis import example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def _segment_and_fragments(draw):
    text = draw(st.text(alphabet="ab c\u00e9\U0001F600\n", min_size=1, max_size=40))
    start = draw(st.integers(0, 500))
    spans = draw(st.lists(st.tuples(st.integers(0, len(text) - 1), st.integers(1, len(text))), max_size=6))
    frags = [{"id": i + 1, "start": start + min(a, b), "end": start + max(a, b), "colour": "#123456"}
             for i, (a, b) in enumerate(spans) if min(a, b) < max(a, b)]
    return {"start": start, "end": start + len(text), "text": text}, frags


@settings(deadline=None, max_examples=200)
@given(_segment_and_fragments())
@example(({"start": 0, "end": 3, "text": "abc"}, []))
@example(({"start": 5, "end": 9, "text": "abcd"}, [{"id": 1, "start": 5, "end": 9, "colour": "#000000"},
                                                   {"id": 2, "start": 6, "end": 7, "colour": "#FFFFFF"}]))
def test_pieces_tile_the_segment_and_carry_exactly_the_covering_codings(case):
    seg, frags = case
    got = pages.pieces(seg, frags)
    assert "".join(p["text"] for p in got) == seg["text"]
    for p, nxt in zip(got, got[1:] + [None]):
        end = nxt["o"] if nxt else seg["end"]
        assert p["o"] + len(p["text"]) == end and p["text"]
        assert p["ids"] == [f["id"] for f in frags if f["start"] <= p["o"] and f["end"] >= end]
        assert bool(p["style"]) == bool(p["ids"])


def test_supervisor_page_shows_the_analysts_codings(client, project):
    """The supervisor page is the report's view: the analyst's codings (anna, the first person who
    coded), not the rule matches; it says whose codings it shows."""
    with Store.open(project) as store:
        assert store.analyst() == "anna"
        data = pages.supervisor_page(store)
        by_rules = {c["segment_id"] for c in store.codings(coder="rules")}
        by_anna = {c["segment_id"] for c in store.codings(coder="anna")}
    quoted = {q["segment_id"] for t in data["themes"] for q in t["quotes"]}
    assert quoted and quoted <= by_anna and not quoted & by_rules
    assert "anna" in data["whose"]
    assert "anna" in client.get("/supervisor").text


def test_board_acts_are_in_the_history_under_the_workspace_coder(client, app, project, monkeypatch):
    """The re-theming functions name no actor: the workspace's store gives them its coder, whatever the
    environment of the process says."""
    monkeypatch.setenv("QUALCODE_CODER", "someone-else")
    assert post(client, app, "/act/move", code="pros", theme="care", **{"from": "work"}).json()["ok"]
    assert rows(project, "SELECT actor, command FROM audit_log ORDER BY id DESC LIMIT 1") == [("student", "theme move-code")]
