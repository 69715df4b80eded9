"""Suggest on a project: coded table import (origin 'imported'), learnt suggestions, the sheet
and its accept round trip, the rules fallback, and the project self-evaluation."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook

from qualcode.coding import suggest as lib
from qualcode.errors import InputError, QualcodeError
from qualcode.ingest import ingest

from test_suggest import MONEY, OTHER, STRESS


def write_table(path, *, coded_groups=("1", "2"), code_columns=False):
    """An utterance table: per group a moderator question and participants' answers; groups in
    ``coded_groups`` carry codes (a ';'-separated codes column, or code:<id> 0/1 columns) by coder ann."""
    rows = []
    for grp in ("1", "2", "3"):
        for i in range(6):
            for who, text, codes in (("Moderator", "what about money and work?", ""),
                                     ("P1", MONEY[(i + int(grp)) % 6], "money"),
                                     ("P2", STRESS[(i + int(grp)) % 6], "stress"),
                                     ("P3", OTHER[(i + int(grp)) % 6], ""),
                                     ("P1", MONEY[i] + " and " + STRESS[i], "money;stress")):
                coded = grp in coded_groups
                rows.append({"group": grp, "speaker": who, "text": text,
                             "codes": codes if coded else "n/a" if who == "Moderator" else "",
                             "coder": "ann" if coded else ""})
    with open(path, "w", newline="", encoding="utf-8") as fh:
        if code_columns:
            fields = ["group", "speaker", "text", "code:money", "code:stress", "coder"]
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            for r in rows:
                cs = r["codes"].split(";")
                w.writerow({"group": r["group"], "speaker": r["speaker"], "text": r["text"],
                            "code:money": int("money" in cs), "code:stress": int("stress" in cs),
                            "coder": r["coder"]})
        else:
            w = csv.DictWriter(fh, fieldnames=["group", "speaker", "text", "codes", "coder"])
            w.writeheader()
            w.writerows(rows)
    return path


def codebook(store):
    with store.act("test codebook"):
        t = store.add_theme("work", "Work", "#E69F00")
        store.add_code("money", "Money", t, description="income salary wage", rules={"keywords": ["salary"]})
        store.add_code("stress", "Stress", t, description="pressure and stress at work",
                       rules={"keywords": ["pressure"]})


@pytest.fixture
def coded_store(tmp_path):
    from qualcode.store import Store

    store = Store.create(tmp_path / "p.qualcode", language="en")
    codebook(store)
    ingest(store, [str(write_table(tmp_path / "coded.csv"))], allow_new_speakers=True)
    yield store
    store.close()


@pytest.mark.parametrize("code_columns", [False, True])
def test_table_codes_become_imported_codings(tmp_path, code_columns):
    from qualcode.store import Store

    store = Store.create(tmp_path / "t.qualcode", language="en")
    codebook(store)
    rep = ingest(store, [str(write_table(tmp_path / "t.csv", code_columns=code_columns))], allow_new_speakers=True)
    codings = store.codings()
    assert rep.codings_imported == len(codings) == 2 * 6 * 4  # groups 1-2: money, stress, 2 x both
    assert {c["origin"] for c in codings} == {"imported"} and {c["coder"] for c in codings} == {"ann"}
    assert {c["group_label"] for c in codings} == {"F1", "F2"}
    both = [c for c in codings if " and " in c["text"]]
    assert sorted({c["code"] for c in both}) == ["money", "stress"]
    assert all(c["role"] == "participant" for c in codings)  # 'n/a' on moderator rows is no code
    store.close()


def test_table_with_unknown_code_writes_nothing(tmp_path, coded_store):
    path = tmp_path / "bad.csv"
    path.write_text("group,speaker,text,codes\n4,P1,hello,money;coach\n", encoding="utf-8")
    with pytest.raises(InputError, match="uses codes that are not in the project's codebook: coach"):
        ingest(coded_store, [str(path)], allow_new_speakers=True)
    assert "F4" not in coded_store.groups()


def test_suggest_learns_from_the_coder_and_targets_unfinished_sources(coded_store):
    result = lib.suggest(coded_store, min_confidence=0.5)
    assert result.method == "model" and result.coder == "ann"
    assert result.n_training == 2 * 6 * 4  # participant segments of F1, F2
    assert result.n_targets == 6 * 4
    rows = coded_store.suggestions(coder="ann")
    assert rows and {r["group_label"] for r in rows} == {"F3"} and {r["source"] for r in rows} == {"model"}
    assert all(r["confidence"] >= 0.5 for r in rows)
    money = [r for r in rows if r["code"] == "money"]
    assert money and all(r["drivers"] for r in money)
    assert any(w in money[0]["drivers"] for w in ("money", "salary", "wage", "pay", "benefits", "paid"))
    assert not any(r["code"] == "money" and r["text"] in OTHER for r in rows)
    # suggesting again replaces open suggestions, it does not pile them up
    lib.suggest(coded_store, min_confidence=0.5)
    again = coded_store.suggestions(coder="ann")
    assert [(r["segment_id"], r["code"], r["confidence"], r["drivers"]) for r in again] == \
           [(r["segment_id"], r["code"], r["confidence"], r["drivers"]) for r in rows]  # same seed, same result
    assert coded_store.history(1)[0]["command"] == "suggest"


def test_group_option_holds_that_group_out_of_training(coded_store):
    result = lib.suggest(coded_store, group="F2")
    assert result.n_training == 6 * 4 + 0  # only F1's segments are coded training data
    assert {r["group_label"] for r in coded_store.suggestions()} <= {"F2"}


def test_sheet_round_trip_accept_and_reject(tmp_path, coded_store):
    lib.suggest(coded_store)
    out = tmp_path / "sug.xlsx"
    n = lib.export_suggestions(coded_store, str(out), coder="ann")
    wb = load_workbook(out)
    ws = wb["Suggestions"]
    header = [c.value for c in ws[1]]
    assert header == lib.SHEET_HEADER and ws.max_row == n + 1
    first = [c.value for c in ws[2]]
    assert first[header.index("group")] == "F3" and 0.5 <= first[header.index("confidence")] <= 1
    ws.cell(row=2, column=len(header), value="yes")
    ws.cell(row=3, column=len(header), value="nee")
    wb.save(out)
    before = len(coded_store.codings())
    res = lib.accept_sheet(coded_store, str(out))
    assert (res.accepted, res.rejected, res.codings_added, res.skipped) == (1, 1, 1, n - 2)
    new = [c for c in coded_store.codings() if c["origin"] == "suggested"]
    assert len(coded_store.codings()) == before + 1 and len(new) == 1
    assert new[0]["segment_id"] == coded_store.suggestions(ids=[first[0]])[0]["segment_id"]
    assert {r["status"] for r in coded_store.suggestions()} == {"open", "accepted", "rejected"}
    assert coded_store.history(1)[0]["summary"] == "1 accepted, 1 rejected"


def test_accept_rejects_bad_values_and_changes_nothing(tmp_path, coded_store):
    lib.suggest(coded_store)
    out = tmp_path / "sug.xlsx"
    lib.export_suggestions(coded_store, str(out), coder="ann")
    wb = load_workbook(out)
    ws = wb["Suggestions"]
    ws.cell(row=2, column=12, value="yes")
    ws.cell(row=3, column=12, value="maybe")
    wb.save(out)
    with pytest.raises(InputError) as err:
        lib.accept_sheet(coded_store, str(out))
    assert str(err.value) == f"{out}, sheet Suggestions, cell L3: accept value 'maybe' is not yes or no"
    assert not [c for c in coded_store.codings() if c["origin"] == "suggested"]


def test_no_codings_falls_back_to_rules(tmp_path, monkeypatch):
    from qualcode.store import Store

    store = Store.create(tmp_path / "r.qualcode", language="en")
    codebook(store)
    ingest(store, [str(write_table(tmp_path / "u.csv", coded_groups=()))], allow_new_speakers=True)
    monkeypatch.setattr(lib, "rule_matches", lambda s: [(seg["id"], "money", "salary")
                                                        for seg in s.segments(role="participant")
                                                        if "salary" in seg["text"]])
    result = lib.suggest(store, coder="bea", semantic="off")
    assert result.method == "rules"
    assert "come from the codebook rules" in "\n".join(result.lines())
    rows = store.suggestions()
    assert rows and {r["source"] for r in rows} == {"rules"} and {r["code"] for r in rows} == {"money"}
    store.close()


def test_rule_matches_uses_autocode_dry_run(tmp_path):
    pytest.importorskip("qualcode.coding.autocode")
    from qualcode.store import Store

    store = Store.create(tmp_path / "r.qualcode", language="en")
    codebook(store)
    ingest(store, [str(write_table(tmp_path / "u.csv", coded_groups=()))], allow_new_speakers=True)
    matches = lib.rule_matches(store)
    assert matches and {code for _, code, _ in matches} <= {"money", "stress"}
    sid, code, words = next(m for m in matches if m[1] == "money")
    assert "salary" in words and "salary" in store.segment(sid)["text"]
    assert store.count_codings() == 0  # dry run: nothing coded
    store.close()


def test_project_evaluation(coded_store):
    ev = lib.evaluate_project(coded_store)
    assert ev.scheme == "leave-one-transcript-out over 2 transcripts"
    assert ev.n_segments == 48 and {c.code for c in ev.codes} == {"money", "stress"}
    assert ev.top1_precision > 0.8


def test_evaluation_and_suggest_need_data(empty_store):
    with pytest.raises(QualcodeError, match="no codings to evaluate"):
        lib.evaluate_project(empty_store)
    with pytest.raises(QualcodeError, match="has no codes yet"):
        lib.suggest(empty_store)


def test_several_coders_need_a_choice(coded_store):
    seg = next(coded_store.segments(group="F3", role="participant"))
    with coded_store.act("code"):
        coded_store.add_coding(seg["id"], coded_store.code_ids()["money"], "bea")
    with pytest.raises(QualcodeError) as err:
        lib.suggest(coded_store, coder=None)
    assert str(err.value) == ("several coders have codings (ann, bea); choose whose coding to learn from with "
                              "--coder NAME.")


def test_xlsx_table_with_code_columns(tmp_path):
    from openpyxl import Workbook

    from qualcode.store import Store

    wb = Workbook()
    ws = wb.active
    ws.append(["Groep", "Spreker", "Tekst", "code:money", "code:stress", "Codeur"])
    ws.append(["F1", "Moderator", "Hoe zit het met geld?", 0, 0, ""])
    ws.append(["F1", "P1", "Mijn loon betaalt de huur", 1, 0, "ann"])
    ws.append(["F1", "P2", "Stress en geld", 1, 1, "bea"])
    ws.append(["F1", "P3", "Ik weet het niet", 0, 0, "ann"])
    wb.save(tmp_path / "t.xlsx")
    store = Store.create(tmp_path / "x.qualcode", language="nl")
    codebook(store)
    ingest(store, [str(tmp_path / "t.xlsx")], allow_new_speakers=True)
    got = sorted((c["speaker"], c["code"], c["coder"], c["origin"]) for c in store.codings())
    assert got == [("P1", "money", "ann", "imported"), ("P2", "money", "bea", "imported"),
                   ("P2", "stress", "bea", "imported")]
    store.close()
