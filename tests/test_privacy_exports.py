"""Every file qualcode writes: formula-like text stays text, identifying attributes never appear,
and existing files are not overwritten without --force (except under reports/).

The project is built so that transcript text, code names, memos and participant attributes
start with =, +, -, @, tab or CR; one attribute holding a distinctive value is marked identifying.
Each exporter is driven through the CLI; exporters that do not exist (yet) are skipped with a reason.
"""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import pytest

from tests.helpers import tiny_codebook

FORMULAS = ["=HYPERLINK(\"http://x.invalid\",\"klik\")", "+32 475 12 34 56 is mijn nummer", "-- nee, dat niet",
            "@iedereen luister", "=1+1", "\tingesprongen", "\r=cmd|' /C calc'!A0"]
SECRET = "Geheimstraat 77 Zemst"      # value of the identifying attribute
SECRET_PHONE = "0499 88 77 66"

# (output file, CLI arguments); {out} is the output path
EXPORTS = [
    ("sheet.xlsx", ["sheet", "export", "{out}"]),
    ("workbook.xlsx", ["export", "workbook", "{out}"]),
    ("report.html", ["report", "--out", "{out}"]),
    ("report.docx", ["report", "--out", "{out}"]),
    ("report.md", ["report", "--out", "{out}"]),
    ("project.qdpx", ["export", "refi", "{out}"]),
    ("overview.xlsx", ["overview", "--out", "{out}"]),
    ("review.xlsx", ["review", "--out", "{out}"]),
    ("codebook.xlsx", ["codebook", "export", "{out}"]),
    ("agreement.xlsx", ["agreement", "--coders", "tester,other", "--resamples", "0", "--out", "{out}"]),
]


@pytest.fixture(scope="module")
def hostile_project(tmp_path_factory):
    from qualcode.ingest import ingest
    from qualcode.store import Store

    d = tmp_path_factory.mktemp("hostile")
    people = d / "participants.csv"
    with open(people, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["group", "participant", "gender", "address", "phone", "note"])
        w.writerow(["F1", "P1", "vrouw", SECRET, SECRET_PHONE, "=2+2"])
        w.writerow(["F1", "P2", "man", "Elders 1", "0488 00 00 00", "@home"])
    lines = ["# group: F1", "Moderator: Welkom. Wat denken jullie over werk?"]
    lines += [f"P{1 + i % 2}: {f}" for i, f in enumerate(FORMULAS)]
    t = d / "F1.txt"
    t.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path = d / "hostile.qualcode"
    store = Store.create(path)
    ingest(store, [t], participants=str(people))
    ids = tiny_codebook(store)
    segs = list(store.segments(role="participant"))
    with store.act("code"):
        store.update_code(ids["pros"], name="=Voordelen()")
        for k, s in enumerate(segs):
            store.add_coding(s["id"], ids["pros"] if k % 2 else ids["cons"], "tester")
            store.add_coding(s["id"], ids["pros"], "other")
        store.add_memo("segment", segs[0]["id"], "+memo die met een plus begint", "tester")
    with store.act("identifying"):
        store.set_attribute_identifying("address", True)
        store.set_attribute_identifying("phone", True)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path


@pytest.fixture(scope="module")
def outputs(hostile_project, tmp_path_factory):
    """Run every exporter once; {file name: path or skip reason}."""
    from click.testing import CliRunner

    from qualcode.cli import cli

    out_dir = tmp_path_factory.mktemp("out")
    results = {}
    for name, args in EXPORTS:
        out = out_dir / name
        r = CliRunner().invoke(cli, ["-p", str(hostile_project), *[a.replace("{out}", str(out)) for a in args]],
                               env={"QUALCODE_CODER": "tester"})
        if r.exit_code == 2 and "No such command" in r.output:
            results[name] = f"'{' '.join(args[:2])}' does not exist yet"
        elif r.exit_code != 0:
            results[name] = AssertionError(f"{name}: {r.output}")
        else:
            results[name] = out
    return results


def _get(outputs, name) -> Path:
    got = outputs[name]
    if isinstance(got, str):
        pytest.skip(got)
    if isinstance(got, Exception):
        raise got
    return got


def all_text(path: Path) -> str:
    """Everything readable in an output file (zip members unpacked), for searching."""
    data = path.read_bytes()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return "\n".join(zf.read(n).decode("utf-8", "replace") for n in zf.namelist())
    return data.decode("utf-8", "replace")


@pytest.mark.parametrize("name", [n for n, _ in EXPORTS])
def test_identifying_attributes_never_exported(outputs, name):
    path = _get(outputs, name)
    text = all_text(path)
    assert SECRET not in text and "Geheimstraat" not in text
    assert SECRET_PHONE not in text
    # ... while a non-identifying attribute value does get through where attributes are exported
    if name == "workbook.xlsx":
        assert "vrouw" in text


@pytest.mark.parametrize("name", [n for n, _ in EXPORTS if n.endswith(".xlsx")])
def test_workbooks_never_hold_formulas(outputs, name):
    import openpyxl

    path = _get(outputs, name)
    wb = openpyxl.load_workbook(path)
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", f"{name} {ws.title}!{c.coordinate} is a formula: {c.value!r}"
                if isinstance(c.value, str):
                    texts.append(c.value)
    joined = "\n".join(texts)
    if name in ("sheet.xlsx", "workbook.xlsx"):
        # the transcript text arrives as text, readable as written (CR becomes a line end in Excel)
        for f in FORMULAS[:5]:
            assert f in joined, f"{name} lost {f!r}"
    if name in ("sheet.xlsx", "workbook.xlsx", "codebook.xlsx"):
        assert "=Voordelen()" in joined


def test_csv_output_is_neutralised(hostile_project, run):
    r = run(hostile_project, "counts", "--csv")
    if r.exit_code == 2:
        pytest.skip("'counts --csv' does not exist")
    rows = list(csv.reader(io.StringIO(r.stdout)))
    cells = [c for row in rows for c in row]
    assert any("Voordelen" in c or "pros" in c for c in cells), r.stdout
    assert not any(c.startswith(("=", "+", "-", "@", "\t", "\r")) for c in cells), cells


def test_mapping_csv_is_neutralised(hostile_project, tmp_path):
    from qualcode.privacy.pseudonyms import PseudonymiseReport, Replacement, write_mapping

    rep = PseudonymiseReport(replacements=[Replacement("F1.txt", 0, 3, "=evil()", "naam", "[naam 1]", "lijst")])
    rows = list(csv.reader(open(write_mapping(rep, tmp_path / "m.csv"), encoding="utf-8")))
    assert rows[1] == ["[naam 1]", "naam", "'=evil()"]


@pytest.mark.parametrize("name,args", [e for e in EXPORTS if not e[0].endswith((".html", ".md", ".docx"))
                                       or e[0] == "report.docx"])
def test_no_overwrite_without_force(hostile_project, run, tmp_path, name, args):
    out = tmp_path / name
    precious = (b"PK\x03\x04" if out.suffix in (".xlsx", ".docx", ".qdpx") else b"") + b"precious"
    out.write_bytes(precious)  # an earlier file of the output's kind (a zip for xlsx, docx, qdpx)
    r = run(hostile_project, *[a.replace("{out}", str(out)) for a in args])
    if r.exit_code == 2 and "No such command" in r.output:
        pytest.skip("exporter does not exist yet")
    assert r.exit_code == 1, r.output
    assert r.stderr.strip() == f"Error: {out} already exists; use --force to overwrite it."
    assert out.read_bytes() == precious


def test_output_paths_come_from_the_user_not_the_files(hostile_project, run, tmp_path, monkeypatch):
    """Exports land only where the user said (or the documented reports/ defaults), never at a path
    taken from file contents such as a source name like '../../evil'."""
    monkeypatch.chdir(tmp_path)
    before = set(Path(tmp_path).rglob("*"))
    out = tmp_path / "w.xlsx"
    r = run(hostile_project, "export", "workbook", out)
    if r.exit_code == 2:
        pytest.skip("'export workbook' does not exist yet")
    made = set(Path(tmp_path).rglob("*")) - before
    assert made == {out}
