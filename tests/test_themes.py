"""Re-theming operations: each is one audited act with exact effects and exact error messages."""

from __future__ import annotations

import pytest

from qualcode.themes import retheme as T
from qualcode.errors import ConflictError, InputError, NotFoundError
try:  # tests/ may or may not be a package
    from tests.test_themes_helpers import coded_project
except ImportError:  # pragma: no cover
    from test_themes_helpers import coded_project


@pytest.fixture
def proj(empty_store, tiny_codebook_factory):
    segs, codes = coded_project(empty_store, tiny_codebook_factory, with_bob=True)
    return empty_store, segs, codes


def _coded(store, code):
    return sorted((r["segment_id"], r["coder"]) for r in store.codings(code=code))


def test_add_theme_and_errors(proj):
    store, _, _ = proj
    t = T.add_theme(store, "stigma", "Stigma en vooroordelen")
    assert (t["status"], t["colour"]) == ("candidate", "#009E73")  # the first free palette colour
    with pytest.raises(ConflictError) as e:
        T.add_theme(store, "stigma", "Nog eens")
    assert str(e.value) == "a theme with id 'stigma' already exists (Stigma en vooroordelen); choose another id."
    with pytest.raises(InputError) as e:
        T.add_theme(store, "Stigma!", "x")
    assert str(e.value) == ("theme id 'Stigma!' is not valid: use lower-case letters, digits and _ "
                            "(starting with a letter), e.g. 'paid_work'.")
    assert store.history(1)[0]["command"] == "theme add"


def test_merge_codes_moves_and_collapses(proj):
    store, segs, codes = proj
    ids = list(segs)
    before_pros = _coded(store, "pros")
    r = T.merge_codes(store, "cons", "pros", backup=False)
    # ann: cons on ids[1], ids[6] move; bob: cons on ids[0] collapses into bob's pros on ids[0]
    assert (r["moved"], r["collapsed"]) == (2, 1)
    assert _coded(store, "pros") == sorted(before_pros + [(ids[1], "ann"), (ids[6], "ann")])
    assert "cons" not in store.code_ids()
    assert store.code("pros")["rules"]["keywords"] == ["structuur", "trots", "stress", "werkdruk"]
    act = store.history(1)[0]
    assert act["summary"] == "merged code cons into pros (2 codings moved, 1 duplicates collapsed)"


def test_merge_themes_moves_codes_memos_and_messages(proj):
    store, _, _ = proj
    T.define_theme(store, "care", definition="Zorg en werk samen.", key_messages=["Werk hoort bij de intake."])
    T.add_memo(store, "theme:care", "Misschien samenvoegen met werk?", author="ann")
    T.merge_themes(store, "care", "work", backup=False)
    work = store.theme("work")
    assert [c["key"] for c in store.codes("work")] == ["pros", "cons", "coach", "intake"]
    assert work["definition"] == "Zorg en werk samen." and work["key_messages"] == ["Werk hoort bij de intake."]
    assert [m["text"] for m in store.memos("theme", work["id"])] == ["Misschien samenvoegen met werk?"]
    with pytest.raises(NotFoundError) as e:
        store.theme("care")
    assert str(e.value) == "unknown theme 'care'. Known: work."


def test_split_theme_and_move_code(proj):
    store, _, _ = proj
    r = T.split_theme(store, "work", ["cons"], "downsides", "Nadelen van werk")
    assert r == {"from": "work", "new": "downsides", "codes": ["cons"]}
    assert [c["key"] for c in store.codes("downsides")] == ["cons"]
    assert store.theme("downsides")["status"] == "candidate"
    with pytest.raises(ConflictError) as e:
        T.split_theme(store, "work", ["coach"], "x", "X")
    assert str(e.value) == "code(s) coach are not in theme 'work'; see 'qualcode theme show work'."
    with pytest.raises(ConflictError) as e:
        T.split_theme(store, "work", ["pros"], "x", "X")
    assert str(e.value) == ("splitting off every code of theme 'work' would leave it empty; "
                            "use 'qualcode theme rename work' instead.")
    T.move_code(store, "coach", "work")
    assert store.code("coach")["theme"] == "work"
    with pytest.raises(ConflictError) as e:
        T.move_code(store, "coach", "work")
    assert str(e.value) == "code 'coach' is already in theme 'work'."


def test_split_code_by_ids_and_filter(proj):
    store, segs, _ = proj
    ids = list(segs)
    r = T.split_code(store, "pros", "structure", "Structuur", contains="structuur")
    assert r["segments"] == [ids[0], ids[4]]
    assert _coded(store, "structure") == [(ids[0], "ann"), (ids[0], "bob"), (ids[4], "ann")]
    assert _coded(store, "pros") == []
    assert store.code("structure")["theme"] == "work"
    r = T.split_code(store, "cons", "relapse", "Herval", segment_ids=[ids[6]])
    assert _coded(store, "relapse") == [(ids[6], "ann")]
    with pytest.raises(ConflictError) as e:
        T.split_code(store, "cons", "other", "Ander", segment_ids=[ids[3]])
    assert str(e.value) == f"segment(s) {ids[3]} are not coded with 'cons'; see 'qualcode segments --codes'."
    r = T.split_code(store, "coach", "coach_f2", "Jobcoach F2", participant="F2 P2")
    assert r["segments"] == [ids[5]]


def test_status_transitions(proj):
    store, _, _ = proj
    with pytest.raises(ConflictError) as e:
        T.set_status(store, "work", "defined")
    assert str(e.value) == ("theme 'work' is candidate; it moves to reviewed first "
                            "(qualcode theme set-status work reviewed).")
    T.set_status(store, "work", "reviewed")
    with pytest.raises(ConflictError) as e:
        T.set_status(store, "work", "defined")
    assert str(e.value) == ("theme 'work' cannot be defined without a definition and a key message: run qualcode "
                            "theme define work --definition \"...\" --key-message \"...\".")
    T.define_theme(store, "work", definition="Wat betaald werk brengt en kost.", key_messages=["Werk geeft structuur."])
    assert T.set_status(store, "work", "defined")["status"] == "defined"
    with pytest.raises(ConflictError) as e:
        T.set_status(store, "work", "candidate")
    assert str(e.value) == "theme 'work' is defined; moving it back to candidate needs --back."
    assert T.set_status(store, "work", "candidate", back=True)["status"] == "candidate"


def test_several_themes_move_in_one_act_that_one_undo_reverses(proj):
    store, _, _ = proj
    before = store.last_act_id()
    moved = T.set_statuses(store, ["work", "care"], "reviewed")
    assert [(t["key"], t["status"]) for t in moved] == [("work", "reviewed"), ("care", "reviewed")]
    assert store.last_act_id() == before + 1
    act = store.history(1)[0]
    assert (act["command"], act["summary"]) == ("theme set-status", "themes work, care: candidate -> reviewed")
    T.undo(store)
    assert [(t["key"], t["status"]) for t in T.list_themes(store)] == [("work", "candidate"), ("care", "candidate")]


def test_several_themes_move_all_or_none(proj):
    store, _, _ = proj
    T.set_status(store, "work", "reviewed")
    T.define_theme(store, "work", definition="Wat betaald werk brengt en kost.", key_messages=["Werk geeft structuur."])
    T.set_status(store, "care", "reviewed")
    before = store.last_act_id()
    with pytest.raises(ConflictError) as e:
        T.set_statuses(store, ["work", "care"], "defined")   # care has no definition yet
    assert str(e.value) == ("theme 'care' cannot be defined without a definition and a key message: run qualcode "
                            "theme define care --definition \"...\" --key-message \"...\". None of the 2 themes was "
                            "changed.")
    with pytest.raises(InputError) as e:
        T.set_statuses(store, ["work", "Betaald werk"], "defined")  # one theme, by id and by name
    assert str(e.value) == "theme 'work' is named twice; name each theme once."
    with pytest.raises(InputError) as e:
        T.set_statuses(store, [], "defined")
    assert str(e.value) == ("name at least one theme before the status, e.g. qualcode theme set-status pathways "
                            "reviewed.")
    with pytest.raises(NotFoundError):
        T.set_statuses(store, ["work", "nope"], "defined")
    assert store.last_act_id() == before
    assert [t["status"] for t in T.list_themes(store)] == ["reviewed", "reviewed"]


def test_define_adds_or_replaces(proj):
    store, _, _ = proj
    T.define_theme(store, "work", key_messages=["a", "b"])
    T.define_theme(store, "work", key_messages=["b", "c"], add=True)
    assert store.theme("work")["key_messages"] == ["a", "b", "c"]
    T.define_theme(store, "work", key_messages=["z"])
    assert store.theme("work")["key_messages"] == ["z"]
    with pytest.raises(InputError) as e:
        T.define_theme(store, "work")
    assert str(e.value) == "give --definition, --key-message (repeatable) or --name for theme 'work'."


def test_memos_on_every_target(proj):
    store, segs, _ = proj
    sid = list(segs)[2]
    for target in ("project", "theme:work", "code:coach", f"segment:{sid}"):
        T.add_memo(store, target, f"memo over {target}", author="ann")
    memos = T.list_memos(store)
    assert [m["target"] for m in memos] == ["project", "theme:work", "code:coach", f"segment:{sid}"]
    assert all(m["author"] == "ann" and m["created_at"].endswith("Z") for m in memos)
    assert [m["text"] for m in T.list_memos(store, "code:coach")] == ["memo over code:coach"]
    with pytest.raises(InputError) as e:
        T.add_memo(store, "thema:work", "x")
    assert str(e.value) == ("memo target 'thema:work' is not valid: use project, theme:KEY, code:KEY or "
                            "segment:ID.")
    with pytest.raises(NotFoundError) as e:
        T.show_memo(store, 99)
    assert str(e.value) == "unknown memo '99'; see 'qualcode memo list'."


def test_undo_refuses_when_later_act_depends(proj):
    store, _, _ = proj
    T.split_theme(store, "work", ["cons"], "downsides", "Nadelen")
    split_id = store.history(1)[0]["id"]
    T.rename_theme(store, "downsides", "Nadelen van betaald werk")
    rename_id = store.history(1)[0]["id"]
    with pytest.raises(ConflictError) as e:
        store.undo(audit_id=split_id)
    assert str(e.value) == (f"cannot undo #{split_id} (theme split): later act #{rename_id} (theme rename: renamed "
                            "theme downsides (Nadelen) to downsides (Nadelen van betaald werk)) depends on it. "
                            f"Undo #{rename_id} first.")
    assert store.theme("downsides")["name"] == "Nadelen van betaald werk"  # nothing changed
    T.undo(store, 2)
    assert [t["key"] for t in store.themes()] == ["work", "care"]


def test_show_theme_lists_voices(proj):
    store, _, _ = proj
    t = T.show_theme(store, "work")
    assert t["voices"] == {"F1 P1": 1, "F2 P1": 1, "F1 P2": 1, "F2 P2": 1}
    assert t["groups"] == ["F1", "F2"]
    page = T.format_theme(t)
    assert "definition: (none yet: qualcode theme define work)" in page


def test_sub_codes_move_with_their_parent(proj):
    store, _, codes = proj
    with store.act("sub"):
        store.add_code("pros_money", "Geld", store.theme("work")["id"], parent_id=codes["pros"])
    T.split_theme(store, "work", ["pros"], "gains", "Winst")
    assert [c["key"] for c in store.codes("gains")] == ["pros", "pros_money"]
    T.move_code(store, "pros", "care")
    assert [c["key"] for c in store.codes("care")] == ["pros", "coach", "intake", "pros_money"]


def test_rename_to_the_same_is_refused(proj):
    store, _, _ = proj
    with pytest.raises(ConflictError) as e:
        T.rename_theme(store, "work", "Betaald werk")
    assert str(e.value) == "theme 'work' already has that name and id; nothing to change."
    with pytest.raises(ConflictError) as e:
        T.rename_code(store, "coach", key="coach")
    assert str(e.value) == "code 'coach' already has that name and id; nothing to change."
    assert T.rename_code(store, "coach", key="jobcoach")["key"] == "jobcoach"
