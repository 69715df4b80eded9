"""New codes from where the student works: codes typed in the coding sheet (sheet import --new-codes),
rows added to its Codebook tab, "did you mean" on names as well as ids, and the codes of a coded table
(ingest --create-codes), including bad names."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from qualcode.codebook.newcodes import did_you_mean, find_code

ROOT = Path(__file__).resolve().parent.parent
IPS = ROOT / "codebooks" / "ips.yaml"

TRANSCRIPT = """\
# group: F1
Moderator: Wat denken jullie?
P1: Ik heb schulden, en daarom durf ik niet te gaan werken.
P2: Mijn jobcoach belt mij elke week.
P3: Ja.
"""


@pytest.fixture
def project(tmp_path, run):
    p = tmp_path / "p.qualcode"
    (tmp_path / "F1.txt").write_text(TRANSCRIPT, encoding="utf-8")
    assert run(p, "init", "--codebook", IPS).exit_code == 0
    assert run(p, "ingest", tmp_path / "F1.txt", "--allow-new-speakers").exit_code == 0
    return p


def exported(project, run, tmp_path) -> Path:
    out = tmp_path / "coding.xlsx"
    r = run(project, "sheet", "export", out)
    assert r.exit_code == 0, r.output
    return out


def set_code(path: Path, text_start: str, value: str, column: str = "code 1") -> None:
    wb = load_workbook(path)
    ws = wb["Coding"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        if str(row[header.index("text")].value).startswith(text_start):
            row[header.index(column)].value = value
    wb.save(path)


def add_codebook_row(path: Path, **values) -> None:
    wb = load_workbook(path)
    ws = wb["Codebook"]
    header = [c.value for c in ws[1]]
    ws.append([values.get(h.replace(" ", "_"), None) for h in header])
    wb.save(path)


def project_codes(project) -> dict[str, tuple[str, str]]:
    from qualcode.store import Store

    with Store.open(project) as s:
        return {c["key"]: (c["name"], c["theme"]) for c in s.codes()}


def codings(project, coder="tester") -> set[tuple[str, str]]:
    from qualcode.store import Store

    with Store.open(project) as s:
        return {(" ".join(c["text"].split()[:3]).strip(","), c["code"]) for c in s.codings(coder=coder)}


def test_typed_code_without_new_codes_is_refused_with_a_hint(project, run, tmp_path):
    out = exported(project, run, tmp_path)
    set_code(out, "Ik heb schulden", "schulden")
    r = run(project, "sheet", "import", out)
    assert r.exit_code == 1
    assert ("sheet Coding, row 3, cell F3: unknown code 'schulden'. To create it, import with --new-codes."
            in r.stderr)
    assert "schulden" not in project_codes(project)


def test_new_codes_creates_a_typed_code_under_the_theme_nieuw(project, run, tmp_path):
    out = exported(project, run, tmp_path)
    set_code(out, "Ik heb schulden", "Schulden & geldzorgen, pw_drempels_stigma")
    set_code(out, "Mijn jobcoach belt", "Jobcoach en begeleiding op de werkvloer")  # a name: the code st_jobcoach
    r = run(project, "sheet", "import", out, "--new-codes")
    assert r.exit_code == 0, r.stderr
    assert "new codes: schulden_geldzorgen (see them with 'qualcode codebook show')" in r.output
    codes = project_codes(project)
    assert codes["schulden_geldzorgen"] == ("Schulden & geldzorgen", "nieuw")  # the name as written
    assert codings(project) == {("Ik heb schulden", "schulden_geldzorgen"), ("Ik heb schulden", "pw_drempels_stigma"),
                                ("Mijn jobcoach belt", "st_jobcoach")}
    # one act: undo takes the codings and the new code and theme back
    assert run(project, "undo").exit_code == 0
    assert "schulden_geldzorgen" not in project_codes(project) and codings(project) == set()
    from qualcode.store import Store

    with Store.open(project) as s:
        assert "nieuw" not in {t["key"] for t in s.themes()}


def test_a_code_typed_twice_is_created_once_and_numbers_become_valid_ids(project, run, tmp_path):
    out = exported(project, run, tmp_path)
    set_code(out, "Ik heb schulden", "1 - None")
    set_code(out, "Mijn jobcoach belt", "1 - none")
    set_code(out, "Mijn jobcoach belt", "voortraject", column="code 2")
    r = run(project, "sheet", "import", out, "--new-codes")
    assert r.exit_code == 0, r.stderr
    codes = project_codes(project)
    assert codes["c_1_none"] == ("1 - None", "nieuw")
    assert codings(project) == {("Ik heb schulden", "c_1_none"), ("Mijn jobcoach belt", "c_1_none"),
                                ("Mijn jobcoach belt", "voortraject")}


def test_rows_added_to_the_codebook_tab_are_read_back(project, run, tmp_path):
    out = exported(project, run, tmp_path)
    add_codebook_row(out, theme="paid_work", code="pw_schulden", code_name="Schulden",
                     description="Schulden als drempel naar werk.")
    add_codebook_row(out, theme_name="Geld", code_name="Loonbeslag")  # a new theme, no id: made from the name
    set_code(out, "Ik heb schulden", "pw_schulden")
    r = run(project, "sheet", "import", out)
    assert r.exit_code == 1 and "unknown code 'pw_schulden'" in r.stderr  # without --new-codes: not created
    r = run(project, "sheet", "import", out, "--new-codes")
    assert r.exit_code == 0, r.stderr
    codes = project_codes(project)
    assert codes["pw_schulden"] == ("Schulden", "paid_work")
    assert codes["loonbeslag"] == ("Loonbeslag", "geld")
    assert codings(project) == {("Ik heb schulden", "pw_schulden")}
    from qualcode.store import Store

    with Store.open(project) as s:
        assert s.code("pw_schulden")["description"] == "Schulden als drempel naar werk."
        assert {t["key"]: t["name"] for t in s.themes()}["geld"] == "Geld"


def test_codebook_tab_rows_are_mentioned_when_not_created(project, run, tmp_path):
    out = exported(project, run, tmp_path)
    add_codebook_row(out, theme="paid_work", code="pw_schulden", code_name="Schulden")
    r = run(project, "sheet", "import", out)
    assert r.exit_code == 0, r.stderr
    assert ("the Codebook sheet lists 1 code(s) the project does not have (Schulden): added there, or removed "
            "from the project since the export; import with --new-codes to create them.") in r.output


@pytest.mark.parametrize("typed, message", [
    ("???", "the code name '???' has no letters or digits; give the code a name."),
    ("x" * 130, "is 130 characters long; a code name has at most 120 (is it text pasted into a code cell?)."),
])
def test_bad_typed_names_are_refused_and_nothing_is_written(project, run, tmp_path, typed, message):
    out = exported(project, run, tmp_path)
    set_code(out, "Ik heb schulden", typed)
    set_code(out, "Mijn jobcoach belt", "st_jobcoach")
    before = project_codes(project)
    r = run(project, "sheet", "import", out, "--new-codes")
    assert r.exit_code == 1 and message in r.stderr and "Nothing was imported." in r.stderr
    assert r.stderr.startswith(f"Error: {out}: sheet Coding, row 3, cell F3: the code name")
    assert project_codes(project) == before and codings(project) == set()


CODES = [{"key": "pw_inactiviteitsval", "name": "Inactiviteitsval en uitkering"},
         {"key": "pw_drempels_stigma", "name": "Drempels, angst en stigma"},
         {"key": "st_jobcoach", "name": "Jobcoach en begeleiding op de werkvloer"},
         {"key": "co_jobcoach_zorgteam", "name": "Jobcoach in het zorgteam"},
         {"key": "pw_nadelen", "name": "Nadelen van betaald werk"}]


@pytest.mark.parametrize("typed, hint", [
    ("drempel", " Did you mean: pw_drempels_stigma (Drempels, angst en stigma)?"),
    ("uitkering", " Did you mean: pw_inactiviteitsval (Inactiviteitsval en uitkering)?"),
    ("nadeel", " Did you mean: pw_nadelen (Nadelen van betaald werk)?"),
    ("olifant", ""),
])
def test_did_you_mean_compares_names_as_well_as_ids(typed, hint):
    assert did_you_mean(typed, CODES) == hint


def test_find_code_by_id_or_name_in_any_capitals():
    assert find_code("ST_JOBCOACH", CODES) == "st_jobcoach"
    assert find_code("  drempels,  ANGST en stigma ", CODES) == "pw_drempels_stigma"
    assert find_code("jobcoach", CODES) is None


def test_ingest_create_codes_from_a_coded_table(tmp_path, run):
    p = tmp_path / "p.qualcode"
    assert run(p, "init", "--codebook", IPS).exit_code == 0
    f = tmp_path / "F1.csv"
    f.write_text("speaker,text,codes\nP1,Ik werk graag,1 - None;Schulden & geldzorgen\n"
                 "P2,Mijn jobcoach belt,Jobcoach en begeleiding op de werkvloer\nP3,Ja,1 - None\n",
                 encoding="utf-8")
    r = run(p, "ingest", f, "--allow-new-speakers", "--coder", "ann")
    assert r.exit_code == 1
    assert ("uses codes that are not in the project's codebook: 1 - None, Schulden & geldzorgen. Load a codebook "
            "that has them ('qualcode codebook apply'), or create them with --create-codes") in r.stderr
    r = run(p, "ingest", f, "--allow-new-speakers", "--coder", "ann", "--create-codes")
    assert r.exit_code == 0, r.stderr
    assert "new codes (--create-codes, under the theme for new codes): c_1_none, schulden_geldzorgen" in r.output
    codes = project_codes(p)
    assert codes["c_1_none"] == ("1 - None", "nieuw") and codes["schulden_geldzorgen"][0] == "Schulden & geldzorgen"
    assert codings(p, "ann") == {("Ik werk graag", "c_1_none"), ("Ik werk graag", "schulden_geldzorgen"),
                                 ("Mijn jobcoach belt", "st_jobcoach"), ("Ja", "c_1_none")}


def test_ingest_create_codes_refuses_bad_names_and_writes_nothing(tmp_path, run):
    p = tmp_path / "p.qualcode"
    assert run(p, "init", "--codebook", IPS, "--language", "en").exit_code == 0
    f = tmp_path / "F1.csv"
    f.write_text("speaker,text,codes\nP1,I like work,---\nP2,Hi,ok code\n", encoding="utf-8")
    r = run(p, "ingest", f, "--allow-new-speakers", "--create-codes")
    assert r.exit_code == 1
    assert "the code name '---' has no letters or digits; give the code a name." in r.stderr
    from qualcode.store import Store

    with Store.open(p) as s:
        assert s.sources() == [] and "ok_code" not in {c["key"] for c in s.codes()}
