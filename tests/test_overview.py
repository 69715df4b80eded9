"""Step 1 overview: talk shares, voice balance (Gini), distinctive terms, keyword in context."""

from __future__ import annotations

import pytest

from qualcode.ingest import ingest
from qualcode.familiarise.overview import (
    build_overview,
    format_overview,
    gini,
    kwic,
    log_likelihood,
    write_overview,
)

F1 = ("Moderator: Wat doet ge overdag?\n"
      "P1: Ik werkte vroeger in een keuken. De keuken was mijn leven, koken in de keuken elke dag.\n"
      "P2: Keuken, ja.\n"
      "Moderator: En nu?\n"
      "P1: Nu werk ik niet meer.\n"
      "P3: Ik ook niet.\n")
F2 = ("Moderator: En bij jullie?\n"
      "P1: Ik fiets naar mijn werk, de fiets is alles, elke dag met de fiets en een fiets extra.\n"
      "P2: Ik heb ook graag gewerkt.\n")


@pytest.fixture
def store(empty_store, tmp_path):
    (tmp_path / "F1.txt").write_text(F1, encoding="utf-8")
    (tmp_path / "F2.txt").write_text(F2, encoding="utf-8")
    (tmp_path / "people.csv").write_text("group,participant\nF1,P1\nF1,P2\nF1,P3\nF1,P4\nF2,P1\nF2,P2\n",
                                         encoding="utf-8")
    ingest(empty_store, [str(tmp_path / "F1.txt"), str(tmp_path / "F2.txt")],
           participants=str(tmp_path / "people.csv"))
    return empty_store


@pytest.mark.parametrize("values, expected", [
    ([], 0.0), ([5], 0.0), ([0, 0], 0.0), ([1, 1, 1, 1], 0.0), ([1, 3], 0.25), ([0, 0, 0, 1], 0.75),
    ([0.5, 0.25, 0.25], 1 / 6), ([1, 2, 3, 4], 0.25),
])
def test_gini_on_known_inputs(values, expected):
    assert gini(values) == pytest.approx(expected)


def test_log_likelihood():
    assert log_likelihood(10, 10, 100, 100) == pytest.approx(0.0)
    # 20 of 100 against 5 of 100: G2 = 2 * (20 ln(20/12.5) + 5 ln(5/12.5))
    assert log_likelihood(20, 5, 100, 100) == pytest.approx(9.6372, abs=1e-3)
    assert log_likelihood(20, 5, 100, 100) == pytest.approx(log_likelihood(5, 20, 100, 100))


def test_talk_per_group_and_participant(store):
    ov = build_overview(store)
    groups = {g["group"]: g for g in ov.groups}
    assert [g["group"] for g in ov.groups] == ["F1", "F2"]
    f1 = groups["F1"]
    assert (f1["sources"], f1["participants"], f1["turns"], f1["moderator_turns"]) == (1, 4, 4, 2)
    # P1 17 + 5 words, P2 2, P3 3, P4 silent
    assert f1["words"] == 27 and f1["moderator_words"] == 6
    people = {p["key"]: p for p in ov.participants}
    assert [k for k in people] == ["F1 P1", "F1 P2", "F1 P3", "F1 P4", "F2 P1", "F2 P2"]
    assert (people["F1 P1"]["turns"], people["F1 P1"]["words"]) == (2, 22)
    assert people["F1 P1"]["share"] == pytest.approx(22 / 27)
    assert (people["F1 P4"]["turns"], people["F1 P4"]["words"], people["F1 P4"]["share"]) == (0, 0, 0.0)
    assert f1["gini"] == pytest.approx(gini([22 / 27, 2 / 27, 3 / 27, 0.0]))
    assert f1["largest_share"] == pytest.approx(22 / 27)
    f2 = groups["F2"]
    assert f2["gini"] == pytest.approx(gini([18 / 23, 5 / 23]))


def test_distinctive_terms_are_lemmas_without_stop_words(store):
    terms = build_overview(store).terms
    assert terms["F1"][0]["term"] == "keuken" and terms["F1"][0]["count"] == 4
    # simplemma lemmatises both 'fiets' forms here to the verb 'fietsen'
    assert terms["F2"][0]["term"] == "fietsen" and terms["F2"][0]["count"] == 4
    everything = {r["term"] for rows in terms.values() for r in rows}
    assert not everything & {"de", "een", "ik", "in", "en"}


def test_format_overview(store):
    text = format_overview(build_overview(store))
    lines = text.splitlines()
    assert lines[0] == "Focus groups"
    f1 = next(line for line in lines if line.startswith("F1 ") and "%" in line)
    assert f1.split() == ["F1", "1", "4", "4", "27", "6", f"{gini([22 / 27, 2 / 27, 3 / 27, 0]):.2f}", "81%"]
    p1 = next(line for line in lines if line.startswith("F1 P1"))
    assert p1.split()[:5] == ["F1", "P1", "2", "22", "81%"]
    assert "F1: keuken (4)" in text


def test_write_markdown(store, tmp_path):
    out = write_overview(build_overview(store), tmp_path / "overview.md")
    md = out.read_text(encoding="utf-8")
    assert md.startswith("# Overview (step 1: familiarise)\n")
    g = f"{gini([22 / 27, 2 / 27, 3 / 27, 0]):.2f}"
    assert f"| F1 | 1 | 4 | 4 | 27 | 6 | {g} | 81% |" in md
    assert "| F1 P4 | 0 | 0 | 0.0% |" in md
    assert "- **F2**: fietsen (4)" in md


def test_write_xlsx_read_back(store, tmp_path):
    from openpyxl import load_workbook

    out = write_overview(build_overview(store), tmp_path / "overview.xlsx")
    wb = load_workbook(out)
    assert wb.sheetnames == ["Groups", "Participants", "Distinctive terms"]
    rows = list(wb["Groups"].iter_rows(values_only=True))
    assert rows[0][:3] == ("group", "sources", "participants")
    assert rows[1][:6] == ("F1", 1, 4, 4, 27, 6)
    assert rows[1][6] == pytest.approx(round(gini([22 / 27, 2 / 27, 3 / 27, 0]), 3))
    people = list(wb["Participants"].iter_rows(values_only=True))
    assert people[1] == ("F1 P1", "F1", "P1", 2, 22, round(22 / 27, 4))
    terms = list(wb["Distinctive terms"].iter_rows(values_only=True))
    assert ("F1", 1, "keuken", 4) == terms[1][:4]


def test_write_refuses_other_formats(store, tmp_path):
    with pytest.raises(Exception) as exc:
        write_overview(build_overview(store), tmp_path / "overview.pdf")
    assert str(exc.value) == f"{tmp_path / 'overview.pdf'}: cannot write '.pdf'; use .md or .xlsx"


def test_kwic_matches_lemmas(store):
    hits = kwic(store, "werken", width=12)
    # werkte and gewerkt have the lemma 'werken'; the noun 'werk' ('mijn werk') does not
    assert [(h["key"], h["match"]) for h in hits] == [("F1 P1", "werkte"), ("F2 P2", "gewerkt")]
    assert hits[0]["left"] == "Ik " and hits[0]["right"] == " vroeger in "


def test_kwic_prefix_group_and_limit(store):
    assert [h["match"] for h in kwic(store, "keuk*")] == ["keuken", "keuken", "keuken", "Keuken"]
    assert [h["key"] for h in kwic(store, "werk*", group="F2")] == ["F2 P1"]
    assert len(kwic(store, "keuken", limit=2)) == 2
    for empty in ("  ", "*"):
        with pytest.raises(Exception) as exc:
            kwic(store, empty)
        assert str(exc.value) == "give a term to look for (a word, or the start of one followed by *)"


def test_overview_of_an_empty_project(empty_store, tmp_path):
    ov = build_overview(empty_store)
    assert ov.groups == [] and ov.participants == [] and ov.terms == {}
    assert "(no transcripts yet: run 'qualcode ingest FILES --participants FILE')" in format_overview(ov)
    out = write_overview(ov, tmp_path / "new" / "folder" / "overview.md")  # folders are created
    assert out.read_text(encoding="utf-8").startswith("# Overview")
