"""The notebook API: ``from qualcode import Project`` (issue 8)."""

from __future__ import annotations

import sqlite3

import pytest

import qualcode
from qualcode.errors import ConflictError, NotFoundError
from qualcode.store import Store


@pytest.fixture
def project_path(sample_path, tiny_codebook_factory):
    store = Store.open(sample_path)
    ids = tiny_codebook_factory(store)
    segs = list(store.segments(role="participant", group="F1"))[:6] + list(
        store.segments(role="participant", group="F2"))[:6]
    with store.act("test coding"):
        for s in segs:
            store.add_coding(s["id"], ids["pros"] if s["group_label"] == "F1" else ids["coach"], "ann")
        store.add_coding(segs[0]["id"], ids["cons"], "ann")
        store.add_coding(segs[0]["id"], ids["pros"], "bob")
        store.set_attribute_identifying("gender", True)
    store.close()
    return sample_path


def test_project_is_exported_lazily_from_the_package():
    from qualcode import Project
    from qualcode.api import Project as Direct

    assert Project is Direct and qualcode.Project is Direct


def test_tables_have_the_documented_columns(project_path):
    from qualcode import Project

    with Project.open(project_path) as p:
        seg = p.segments()
        assert list(seg.columns) == ["id", "source", "group", "ordinal", "turn", "speaker", "role", "participant",
                                     "key", "start", "end", "timestamp", "text", "n_words"]
        assert len(seg) == p.store.count_segments()
        assert set(seg["role"]) == {"participant", "moderator"}
        cod = p.codings()
        assert list(cod.columns) == ["id", "segment_id", "code", "code_name", "theme", "theme_name", "coder",
                                     "origin", "created_at", "source", "group", "speaker", "role", "participant",
                                     "key", "text", "start", "end", "fragment", "segment_text"]
        assert len(cod) == 14 and len(p.codings(coder="bob")) == 1
        codes = p.codes()
        assert codes.set_index("key").loc["pros", "n_codings"] == 7        # 6 F1 segments by ann + 1 by bob
        assert list(p.themes()["key"]) == ["work", "care"]
        people = p.participants()
        assert list(people.columns[:4]) == ["id", "key", "group", "label"]
        assert "gender" not in people.columns and "age_band" in people.columns   # identifying left out
        assert len(people) == 20


def test_quotes_one_row_per_segment_with_key(project_path):
    from qualcode import Project

    with Project.open(project_path) as p:
        q = p.quotes(theme="work")
        assert list(q.columns) == ["theme", "code", "key", "group", "segment_id", "text", "quote"]
        assert q["segment_id"].is_unique
        first = q.iloc[0]
        assert first["code"] == "pros, cons"
        assert first["quote"] == f'"{first["text"].strip()}" ({first["key"]})'
        assert set(q["group"]) == {"F1"}
        with pytest.raises(NotFoundError):
            p.quotes(theme="nothing")


def test_read_only_by_default(project_path):
    from qualcode import Project

    with Project.open(project_path) as p:
        seg = int(p.segments().iloc[0]["id"])
        with pytest.raises(ConflictError, match=r"^this project was opened read-only; use "
                                                r"Project.open\(path, writable=True\) to add or remove codings.$"):
            p.add_coding(seg, "pros")
        with pytest.raises(sqlite3.OperationalError):
            p.store.conn.execute("DELETE FROM codings")
        assert len(p.codings()) == 14


def test_scripted_coding_is_audited_and_undoable(project_path):
    from qualcode import Project

    with Project.open(project_path, writable=True) as p:
        seg = int(p.segments(role="participant").iloc[-1]["id"])
        assert p.add_coding(seg, "intake", coder="script") is True
        assert p.add_coding(seg, "intake", coder="script") is False
        assert ((p.codings()["segment_id"] == seg) & (p.codings()["code"] == "intake")).sum() == 1
        acts = p.store.history(2)
        assert [a["command"] for a in acts] == ["code", "code"] and acts[0]["actor"] == "script"
        assert p.remove_coding(seg, "intake", coder="script") is True
        with pytest.raises(NotFoundError, match=f"^coder 'script' has no coding intake on segment\\(s\\) {seg}; "
                                                "nothing was removed.$"):
            p.remove_coding(seg, "intake", coder="script")
        p.store.undo(1)                                   # the removal comes back
        assert len(p.codings(code="intake")) == 1


def _coding_state(path) -> tuple[list, list]:
    """The codings (no generated guid or time) and the audit log (no time) of the project at ``path``."""
    with Store.open(path) as store:
        codings = sorted(tuple(r) for r in store.conn.execute(
            'SELECT c.segment_id, k.key, c.coder, c.origin, c.start, c."end" FROM codings c '
            "JOIN codes k ON k.id = c.code_id"))
        acts = [{k: a[k] for k in ("command", "actor", "summary", "details", "undoable")} for a in store.history()]
    return codings, acts


def test_api_and_cli_code_and_uncode_alike(project_path, tmp_path, run):
    """Project.add_coding/remove_coding make the very acts 'qualcode code' and 'qualcode uncode' make:
    the same codings, the same audit rows, the same refusal."""
    import shutil

    from qualcode import Project

    by_cli, by_api = tmp_path / "cli.qualcode", tmp_path / "api.qualcode"
    shutil.copy(project_path, by_cli)
    shutil.copy(project_path, by_api)
    with Store.open(project_path) as store:
        seg, other = [s["id"] for s in store.segments(role="participant", group="F3")][:2]
    steps = [("code", seg, "intake"), ("code", seg, "intake"), ("code", other, "cons"), ("uncode", seg, "intake")]
    for verb, s, code in steps:
        assert run(by_cli, verb, s, code, "--coder", "script").exit_code == 0
    with Project.open(by_api, writable=True) as p:
        said = [p.add_coding(seg, "intake", coder="script"), p.add_coding(seg, "intake", coder="script"),
                p.add_coding(other, "cons", coder="script"), p.remove_coding(seg, "intake", coder="script")]
        assert said == [True, False, True, True]
        with pytest.raises(NotFoundError) as refused:
            p.remove_coding(seg, "intake", coder="script")
    res = run(by_cli, "uncode", seg, "intake", "--coder", "script")
    assert res.exit_code == 1 and res.stderr == f"Error: {refused.value}\n"
    cli_state, api_state = _coding_state(by_cli), _coding_state(by_api)
    assert cli_state == api_state
    assert [a["command"] for a in api_state[1][:4]] == ["uncode", "code", "code", "code"]
    assert api_state[1][0]["summary"] == "intake removed from 1 segment(s) for script"
    assert [c[:4] for c in api_state[0] if c[2] == "script"] == [(other, "cons", "script", "manual")]


def test_theme_by_group_table(project_path):
    from qualcode import Project

    with Project.open(project_path) as p:
        table = (p.codings().drop_duplicates(["theme", "segment_id"])
                 .pivot_table(index="theme_name", columns="group", values="segment_id", aggfunc="count",
                              fill_value=0))
        assert table.to_dict(orient="index") == {"Betaald werk": {"F1": 6, "F2": 0},
                                                 "Zorg en werk": {"F1": 0, "F2": 6}}


def test_codings_give_the_fragment_text_and_offsets(sample_path, tiny_codebook_factory):
    from qualcode.api import Project
    from qualcode.store import Store

    store = Store.open(sample_path)
    tiny_codebook_factory(store)
    seg = next(iter(store.segments(role="participant")))
    with store.act("codings"):
        store.add_coding(seg["id"], store.code("pros")["id"], "ann", span=(seg["start"] + 2, seg["start"] + 9))
        store.add_coding(seg["id"], store.code("cons")["id"], "ann")
    source_text = store.conn.execute("SELECT text FROM sources WHERE id = ?", (seg["source_id"],)).fetchone()[0]
    store.close()
    with Project.open(sample_path) as p:
        cod = p.codings().set_index("code")
        assert cod.loc["pros", "text"] == seg["text"][2:9] == source_text[cod.loc["pros", "start"]:cod.loc["pros", "end"]]
        assert bool(cod.loc["pros", "fragment"]) and cod.loc["pros", "segment_text"] == seg["text"]
        assert cod.loc["cons", "text"] == seg["text"] and not cod.loc["cons", "fragment"]
        assert (cod.loc["cons", "start"], cod.loc["cons", "end"]) == (seg["start"], seg["end"])
