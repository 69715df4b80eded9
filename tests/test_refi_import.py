"""REFI-QDA import: the real sample files, vendor quirks, and malformed inputs (issue 8)."""

from __future__ import annotations

import io
import zipfile
from collections import Counter
from pathlib import Path

import pytest

from qualcode.errors import ConflictError, InputError
from qualcode.refi.importer import import_refi, import_refi_new
from qualcode.refi.read import TextIndex, read_refi
from qualcode.store import Store

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"

SAMPLES = SHARED / "refi-samples"
QC_DEMO = SAMPLES / "qc-1.3.2_demo.qdpx"
NVIVO_MAC = SAMPLES / "nvivo-mac-15.0.0_codebook-only.qdpx"
ATLAS = SAMPLES / "atlasti-8.4-mac_standard-project.qde"
NS = "urn:QDA-XML:project:1.0"

pytestmark = pytest.mark.skipif(not SAMPLES.exists(), reason="shared/refi-samples not present")


def counts(store) -> dict:
    q = store.conn.execute
    return {t: q(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
            for t in ("themes", "codes", "sources", "segments", "codings", "coders", "participants", "memos")}


# ------------------------------------------------------------ real samples
def test_qc_demo_counts_and_every_selection_text(tmp_path):
    report = import_refi_new(tmp_path / "p.qualcode", QC_DEMO)
    assert (report.sources, report.segments, report.codings, report.codes) == (2, 158, 205, 262)
    assert report.refused == []
    store = Store.open(tmp_path / "p.qualcode")
    assert counts(store) | {} == {"themes": 3, "codes": 262, "sources": 2, "segments": 158, "codings": 205,
                                  "coders": 1, "participants": 0, "memos": 0}
    assert {s["name"] for s in store.sources()} == {"board_2017.txt", "admin-1.txt"}
    # read the file independently: each selection's text is the .txt's characters start..end
    import xml.etree.ElementTree as ET

    with zipfile.ZipFile(QC_DEMO) as zf:
        root = ET.fromstring(zf.read("project.qde"))
        texts = {}
        expected = {}
        per_code = Counter()
        for src in root.iter(f"{{{NS}}}TextSource"):
            texts[src.get("guid")] = zf.read("sources/" + src.get("plainTextPath")).decode("utf-8")
            for sel in src.iter(f"{{{NS}}}PlainTextSelection"):
                s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
                expected[sel.get("guid")] = texts[src.get("guid")][s:e]
                for ref in sel.iter(f"{{{NS}}}CodeRef"):
                    per_code[ref.get("targetGUID")] += 1
    got = {r["guid"]: r["text"] for r in store.segment_rows()}
    assert got == expected
    for r in store.segment_rows():
        assert store.source(r["source_id"])["text"][r["start"]:r["end"]] == r["text"]
    assert Counter(c["code_guid"] for c in store.coding_rows()) == per_code
    assert {c["origin"] for c in store.coding_rows()} == {"imported"}
    assert store.coders() == ["cp"]
    # nesting: rq1_definition (codable, with children) became a theme and a code
    theme = store.theme("rq1_definition")
    assert store.code("rq1_definition")["theme_id"] == theme["id"]
    assert store.code("programming")["parent_id"] == store.code("competencies")["id"]
    store.close()


def test_qc_demo_import_is_idempotent_into_the_same_project(tmp_path):
    path = tmp_path / "p.qualcode"
    import_refi_new(path, QC_DEMO)
    with Store.open(path) as store:
        before = counts(store)
        again = import_refi(store, QC_DEMO)
        assert (again.codes, again.sources, again.segments, again.codings) == (0, 0, 0, 0)
        assert counts(store) == before


def test_nvivo_mac_codebook_and_docx_text(tmp_path):
    project = read_refi(NVIVO_MAC)
    assert len(project.all_codes()) == 262
    assert [s.text_from for s in project.sources] == ["docx", "docx"]   # the .txt files hold only "\n"
    report = import_refi_new(tmp_path / "p.qualcode", NVIVO_MAC)
    assert (report.codes, report.sources, report.segments, report.codings) == (262, 2, 0, 0)
    assert report.selections_in_file == 0 and report.refused == []
    # both Word documents are empty too, and the report says so
    assert sum("has no text" in n for n in report.notes) == 2
    with Store.open(tmp_path / "p.qualcode") as store:
        assert counts(store)["codes"] == 262
        assert all(c["colour"] is None for c in store.codes())        # NVivo wrote no colours
        assert store.coders() == []


def test_atlas_qde_imports_codebook_users_notes_and_reports_unplaceable(tmp_path):
    report = import_refi_new(tmp_path / "p.qualcode", ATLAS)
    assert (report.codes, report.themes, report.sources, report.segments, report.memos) == (14, 0, 0, 0, 2)
    assert report.selections_in_file == 6 and len(report.refused) == 6
    assert all("its source text is not available (a .qde file alone holds no source files; import the .qdpx "
               "archive instead)" in r for r in report.refused)
    assert any(r.startswith("selection 2F24EA88-C6A7-482B-8F89-893EF66D7A21 in 'Mabel.txt' (3 coding(s))")
               for r in report.refused)
    assert any(s.startswith("PDFSource 'Pay de Lim") and s.endswith(".pdf': only text sources are imported "
                                                                     "(6 selection(s) on it not imported)")
               for s in report.skipped)
    assert "16 set(s): not imported (qualcode has no sets)" in report.skipped
    with Store.open(tmp_path / "p.qualcode") as store:
        assert store.code("happiness")["colour"] == "#F00082"
        assert store.code("coke_full_fat_coke")["description"] == "aka regular"
        memos = store.memos()
        assert {m["author"] for m in memos} == {"Friedrich Markgraf"}
        assert any(m["text"].startswith("Research Plan\n\nThis is a great project") for m in memos)


# ------------------------------------------------------ synthetic vendor files
def make_qdpx(path: Path, qde: str, files: dict[str, bytes], qde_name: str = "project.qde") -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(qde_name, qde.encode("utf-8"))
        for name, data in files.items():
            zf.writestr(name, data)
    return path


G = "{:08x}-0000-4000-8000-000000000000".format
USER = G(1)
CODEBOOK = (f'<CodeBook><Codes><Code guid="{G(2)}" name="Werk" isCodable="false" color="#112233">'
            f'<Code guid="{G(3)}" name="Stress" isCodable="true"/></Code></Codes></CodeBook>')


def selection(guid, start, end, name=None, code=G(3)):
    n = f' name="{name}"' if name is not None else ""
    return (f'<PlainTextSelection guid="{guid}"{n} startPosition="{start}" endPosition="{end}">'
            f'<Coding guid="{G(900 + int(guid[:8], 16))}" creatingUser="{USER}"><CodeRef targetGUID="{code}"/>'
            "</Coding></PlainTextSelection>")


def project_xml(origin: str, selections: str, ns: str = NS, extra: str = "") -> str:
    return (f'\ufeff<?xml version="1.0" encoding="utf-8"?><Project xmlns="{ns}" name="t" origin="{origin}">'
            f'<Users><User guid="{USER}" name="an"/></Users>{CODEBOOK}{extra}'
            f'<Sources><TextSource guid="{G(10)}" name="F2 transcript.txt" plainTextPath="internal://{G(10)}.txt">'
            f"{selections}</TextSource></Sources></Project>")


NVIVO_TEXT = "P1: Ik 😀 werk graag.\r\nP2: Maar de stress!\r\n"


def test_nvivo_windows_utf16_positions_capital_sources_bom_crlf(tmp_path):
    raw = NVIVO_TEXT
    # UTF-16 units: the emoji counts 2, CRLF counts 2; positions of "werk graag." and "de stress"
    u = lambda s: len(s.encode("utf-16-le")) // 2  # noqa: E731
    s1 = u(raw[: raw.index("werk")])
    s2 = u(raw[: raw.index("de stress")])
    sels = (selection(G(20), s1, s1 + len("werk graag."), "werk graag.")
            + selection(G(21), s2, s2 + len("de stress"))                       # no name: trusted in UTF-16
            + selection(G(22), s2, s2 + 9, "niet dit!"))                       # a quote that contradicts the text
    qdpx = make_qdpx(tmp_path / "nvivo.qdpx", project_xml("NVivo 12 (12.6.0.959)", sels),
                     {f"Sources/{G(10)}.txt": b"\xef\xbb\xbf" + raw.encode("utf-8")}, qde_name="Study.qde")
    # two selections after the CRLF are too few to tell CRLF as 1 from CRLF as 2: refused, nothing written
    with pytest.raises(InputError) as err:
        import_refi_new(tmp_path / "p.qualcode", qdpx)
    assert str(err.value) == (
        f"{qdpx}: cannot tell how source 'F2 transcript.txt' counts selection positions: 2 of 2 selections start "
        "and end on word boundaries counting UTF-16 units, CRLF as 2, BOM not counted, 0 of 2 counting UTF-16 "
        "units, CRLF as 1, BOM not counted (only 2 selection(s) differ between the two; at least 3 are needed). "
        "Nothing was imported. If you know how the tool that wrote the file counts, rerun with --offsets "
        "utf16,crlf2 or --offsets utf16,crlf1")
    assert not (tmp_path / "p.qualcode").exists()
    # the user says the unit; CRLF and BOM follow the convention (as written, BOM not counted)
    report = import_refi_new(tmp_path / "p.qualcode", qdpx, offsets="utf16")
    assert report.segments == 2 and report.codings == 2
    assert report.refused == [f"selection {G(22)} in 'F2 transcript.txt' (1 coding(s)): the text at its positions "
                              "does not match the quote in its name ('niet dit!'), counting UTF-16 units, "
                              "CRLF as 2, BOM not counted"]
    assert report.units == ["F2 transcript.txt: UTF-16 units, CRLF as 2, BOM not counted (--offsets utf16; CRLF as "
                            "2, BOM not counted by convention, as the file cannot tell: 2 of 2 selections start and "
                            "end on word boundaries counting UTF-16 units, CRLF as 2, BOM not counted, 0 of 2 "
                            "counting UTF-16 units, CRLF as 1, BOM not counted (only 2 selection(s) differ between "
                            "the two; at least 3 are needed))"]
    with Store.open(tmp_path / "p.qualcode") as store:
        src = store.sources()[0]
        assert src["group_label"] == "F2"
        text = store.source(src["id"])["text"]
        assert text == raw.replace("\r\n", "\n")
        assert sorted(r["text"] for r in store.segment_rows()) == ["de stress", "werk graag."]


def test_the_same_offsets_from_a_code_point_tool_are_checked_against_the_name(tmp_path):
    raw = NVIVO_TEXT
    s1 = raw.index("werk")            # code points: the spec's unit, used for every tool but NVivo Windows
    sels = selection(G(20), s1, s1 + 11, "werk graag.")
    qdpx = make_qdpx(tmp_path / "m.qdpx", project_xml("MAXQDA 24", sels),
                     {f"sources/{G(10)}.txt": raw.encode("utf-8")})
    report = import_refi_new(tmp_path / "p.qualcode", qdpx)
    assert report.refused == []
    with Store.open(tmp_path / "p.qualcode") as store:
        assert [r["text"] for r in store.segment_rows()] == ["werk graag."]


def test_text_index_maps_utf16_and_crlf():
    idx = TextIndex("a😀b\r\nc")
    assert idx.text == "a😀b\nc"
    assert idx.place(0, 4, "utf16") == (0, 3)          # 'a😀b'
    assert idx.place(2, 3, "utf16") is None            # inside the emoji's surrogate pair
    assert idx.place(3, 5, "codepoints") == (3, 4)     # CRLF collapses to one LF
    assert idx.place(3, 6, "codepoints") == (3, 5)
    assert idx.place(0, 99, "codepoints") is None


def test_codebook_in_another_namespace_and_unknown_root(tmp_path):
    qdc = tmp_path / "maxqda.qdc"
    qdc.write_text('<?xml version="1.0"?><CodeBook xmlns="urn:QDA-XML:codebook:0:4"><Codes>'
                   f'<Code guid="{G(2)}" name="Werk" isCodable="true" color="#abc">'
                   f'<Code guid="{G(3)}" name="Stress" isCodable="true"/></Code></Codes></CodeBook>', "utf-8")
    report = import_refi_new(tmp_path / "p.qualcode", qdc)
    assert (report.themes, report.codes) == (1, 2)
    with Store.open(tmp_path / "p.qualcode") as store:
        assert store.theme("werk")["colour"] == "#AABBCC"
        assert store.code("stress")["parent_id"] == store.code("werk")["id"]


# ------------------------------------------------------------ malformed input
def bad(tmp_path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _zip(entries: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for k, v in entries.items():
            zf.writestr(k, v)
    return buf.getvalue()


def malformed_cases(tmp_path):
    ok_sel = selection(G(20), 0, 3)
    text = {f"sources/{G(10)}.txt": "abcdef"}
    return [
        ("notzip.qdpx", b"PK? not really a zip",
         "{p}: is not a valid REFI-QDA project (.qdpx) (not a ZIP archive; is it damaged or renamed?)"),
        ("noqde.qdpx", _zip({"sources/a.txt": "x"}),
         "{p}: has no project.qde inside, so it is not a REFI-QDA project export; nothing was imported"),
        ("schema.qdpx", _zip({"project.qde": f'<Project xmlns="{NS}" name="t"><Sources><TextSource guid="{G(10)}">'
                                             '<PlainTextSelection guid="x" startPosition="0" endPosition="1"/>'
                                             "</TextSource></Sources></Project>"}),
         "{p}: project.qde does not follow the REFI-QDA schema (line 1: Element 'PlainTextSelection', attribute "
         "'guid': [facet 'pattern'] The value 'x' is not accepted by the pattern '([0-9a-fA-F]{{8}}-[0-9a-fA-F]"
         "{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}})|(\\{{[0-9a-fA-F]{{8}}-[0-9a-fA-F]{{4}}-"
         "[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{4}}-[0-9a-fA-F]{{12}}\\}})'.); nothing was imported"),
        ("pastend.qdpx", _zip({"project.qde": project_xml("qc", ok_sel + selection(G(21), 2, 60))} | text),
         f"{{p}}: selection {G(21)} in source 'F2 transcript.txt' runs from 2 to 60, past the end of its text "
         "(6 characters); the file is damaged or its source text does not belong to it. Nothing was imported"),
        ("coderef.qdpx", _zip({"project.qde": project_xml("qc", ok_sel + selection(G(21), 1, 2, code=G(77)))}
                              | text),
         f"{{p}}: selection {G(21)} in source 'F2 transcript.txt' is coded with code {G(77)}, which is not in the "
         "codebook (unknown CodeRef); nothing was imported"),
        ("entities.qde", b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x "y">]><Project name="&x;"/>',
         "{p}: project.qde uses XML entities or external references (EntitiesForbidden); refusing to read it"),
        ("notes.txt", b"hello",
         "{p}: is not a REFI-QDA file (type '.txt'); qualcode imports .qdpx projects, .qde project files and "
         ".qdc codebooks"),
    ]


@pytest.mark.parametrize("case", range(7))
def test_malformed_inputs_give_clear_errors_and_write_nothing(tmp_path, run, case):
    name, data, message = malformed_cases(tmp_path)[case]
    path = bad(tmp_path, name, data)
    if name == "entities.qde":
        message = message.replace("project.qde", "entities.qde")
    project = tmp_path / "new.qualcode"
    result = run(project, "import", "refi", path)
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: " + message.format(p=path)
    assert not project.exists()
    # and nothing is written into an existing project either
    existing = tmp_path / "old.qualcode"
    Store.create(existing).close()
    with Store.open(existing) as store:
        before = counts(store), store.conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]
    result = run(tmp_path / "unused.qualcode", "import", "refi", path, "--into", existing)
    assert result.exit_code == 1 and result.stderr.strip() == "Error: " + message.format(p=path)
    with Store.open(existing) as store:
        assert (counts(store), store.conn.execute("SELECT COUNT(*) FROM audit_log").fetchone()[0]) == before


def test_import_refuses_to_overwrite_a_project_without_into(tmp_path, run):
    project = tmp_path / "p.qualcode"
    Store.create(project).close()
    result = run(project, "import", "refi", QC_DEMO)
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: {project} already exists. To add this import to it, use --into "
                                     f"{project}; for a new project, choose another path with -p.")


def test_conflicting_source_text_is_refused(tmp_path):
    sels = selection(G(20), 0, 3)
    a = make_qdpx(tmp_path / "a.qdpx", project_xml("qc", sels), {f"sources/{G(10)}.txt": b"abcdef"})
    b = make_qdpx(tmp_path / "b.qdpx", project_xml("qc", sels), {f"sources/{G(10)}.txt": b"abcxyz"})
    import_refi_new(tmp_path / "p.qualcode", a)
    with Store.open(tmp_path / "p.qualcode") as store:
        with pytest.raises(ConflictError, match="^source 'F2 transcript.txt' is already in the project with a "
                                                "different text; nothing was imported$"):
            import_refi(store, b)


def test_cli_import_report_lines(tmp_path, run):
    result = run(tmp_path / "p.qualcode", "import", "refi", ATLAS)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("imported atlasti-8.4-mac_standard-project.qde (from ATLAS.ti 8.4.0")
    assert lines[0].endswith("0 themes, 14 codes, 0 sources, 0 segments, 0 codings, 0 coders, 0 participants, "
                             "2 memos")
    assert lines[1] == "selections: 0 of 6 placed"
    assert sum(line.startswith("  not placed: ") for line in lines) == 6


def test_input_error_is_raised_by_the_library(tmp_path):
    with pytest.raises(InputError, match="is not a REFI-QDA file"):
        read_refi(bad(tmp_path, "x.json", b"{}"))


@pytest.mark.parametrize("args", [["import", "refi"], ["export", "refi"]])
def test_commands_have_help_and_are_documented(args):
    from click.testing import CliRunner

    from qualcode.cli import cli

    group = cli.commands[args[0]]
    cmd = group.commands[args[1]]
    assert group.help and cmd.help and cmd.help.strip()
    for param in cmd.params:
        if param.param_type_name == "option" and param.name != "help":
            assert param.help, f"{args} {param.opts} has no help text"
    assert CliRunner().invoke(cli, [*args, "--help"]).exit_code == 0
    docs = (Path(__file__).resolve().parent.parent / "docs" / "interop.md").read_text("utf-8")
    assert f"qualcode {' '.join(args)}" in docs or f"{' '.join(args)} " in docs


def test_codebook_import_into_a_project_is_one_undoable_act(tmp_path, sample_store):
    qdc = tmp_path / "cb.qdc"
    qdc.write_text('<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>'
                   f'<Code guid="{G(2)}" name="Werk" isCodable="false" color="#112233">'
                   f'<Code guid="{G(3)}" name="Stress" isCodable="true"/></Code></Codes>'
                   f'<Sets><Set guid="{G(4)}" name="s"><MemberCode guid="{G(3)}"/></Set></Sets></CodeBook>', "utf-8")
    before = counts(sample_store)
    report = import_refi(sample_store, qdc)
    assert report.skipped == ["1 set(s): not imported (qualcode has no sets)"]
    assert counts(sample_store) == before | {"themes": 1, "codes": 1}
    assert sample_store.history(1)[0]["command"] == "import refi"
    sample_store.undo(1)
    assert counts(sample_store) == before


def test_two_sources_with_one_name_are_numbered(tmp_path):
    xml = (f'<Project xmlns="{NS}" name="t" origin="MAXQDA 24"><Sources>'
           f'<TextSource guid="{G(10)}" name="interview.txt" plainTextPath="internal://{G(10)}.txt"/>'
           f'<TextSource guid="{G(11)}" name="interview.txt" plainTextPath="internal://{G(11)}.txt"/>'
           "</Sources></Project>")
    qdpx = make_qdpx(tmp_path / "two.qdpx", xml, {f"sources/{G(10)}.txt": b"een", f"sources/{G(11)}.txt": b"twee"})
    report = import_refi_new(tmp_path / "p.qualcode", qdpx)
    assert report.sources == 2
    with Store.open(tmp_path / "p.qualcode") as store:
        assert sorted(s["name"] for s in store.sources()) == ["interview.txt", "interview.txt (2)"]


def test_duplicate_guids_are_refused(tmp_path, run):
    qde = tmp_path / "dup.qde"
    qde.write_text(f'<Project xmlns="{NS}" name="t"><CodeBook><Codes><Code guid="{G(2)}" name="a" isCodable="true"/>'
                   f'<Code guid="{G(2).upper()}" name="b" isCodable="true"/></Codes></CodeBook></Project>', "utf-8")
    result = run(tmp_path / "p.qualcode", "import", "refi", qde)
    assert result.exit_code == 1
    assert result.stderr.strip() == (f"Error: {qde}: dup.qde gives two elements the same GUID {G(2).upper()} (<Code> "
                                     "and <Code>); every element needs its own GUID. Nothing was imported")
    assert not (tmp_path / "p.qualcode").exists()


# ------------------------------------------------------------ fragments (issue 16)
NVIVO_SHARED_TEXT = ("P1: Ik 😀 werk graag, het geeft structuur.\r\n"
                     "P2: Maar de stress, daar 😀 heb ik last van.\r\n"
                     "P3: Mijn jobcoach helpt bij de intake.\r\n")
# passage -> the codes NVivo wrote one selection each for (shared passages: several codes)
NVIVO_PASSAGES = [("Ik 😀 werk graag, het geeft structuur.", [3, 4]),
                  ("Maar de stress, daar 😀 heb ik last van.", [4, 5, 6]),
                  ("jobcoach helpt", [5]),
                  ("het geeft structuur", [6])]          # inside the first passage: a fragment of it


def nvivo_shared_passages(path: Path) -> Path:
    """A .qdpx in NVivo (Windows) layout: one selection per code, several over the same passage,
    positions in UTF-16 units over CRLF text with emoji, a BOM, capital 'Sources/'."""
    u = lambda s: len(s.encode("utf-16-le")) // 2  # noqa: E731
    raw = NVIVO_SHARED_TEXT
    sels, n = "", 100
    for words, codes in NVIVO_PASSAGES:
        start = u(raw[:raw.index(words)])
        for code in codes:
            n += 1
            sels += (f'<PlainTextSelection guid="{G(n)}" name="{words}" startPosition="{start}" '
                     f'endPosition="{start + u(words)}"><Coding guid="{G(n + 500)}" creatingUser="{USER}">'
                     f'<CodeRef targetGUID="{G(code)}"/></Coding></PlainTextSelection>')
    codebook = (f'<CodeBook><Codes><Code guid="{G(2)}" name="Werk" isCodable="false" color="#112233">'
                + "".join(f'<Code guid="{G(i)}" name="{name}" isCodable="true"/>'
                          for i, name in ((3, "Voordelen"), (4, "Stress"), (5, "Jobcoach"), (6, "Intake")))
                + "</Code></Codes></CodeBook>")
    qde = (f'\ufeff<?xml version="1.0" encoding="utf-8"?><Project xmlns="{NS}" name="t" '
           f'origin="NVivo 14 (14.23.0.0)"><Users><User guid="{USER}" name="an"/></Users>{codebook}'
           f'<Sources><TextSource guid="{G(10)}" name="F2 transcript.txt" plainTextPath="internal://{G(10)}.txt">'
           f"{sels}</TextSource></Sources></Project>")
    return make_qdpx(path, qde, {f"Sources/{G(10)}.txt": b"\xef\xbb\xbf" + raw.encode("utf-8")},
                     qde_name="Study.qde")


def test_nvivo_one_selection_per_code_over_shared_passages(tmp_path):
    qdpx = nvivo_shared_passages(tmp_path / "nvivo.qdpx")
    n_selections = sum(len(codes) for _, codes in NVIVO_PASSAGES)
    report = import_refi_new(tmp_path / "p.qualcode", qdpx)
    assert report.refused == [] and report.codings == n_selections == 7
    # one segment per passage (the passage inside another one is a fragment of it, not a segment)
    assert report.segments == 3
    with Store.open(tmp_path / "p.qualcode") as store:
        assert sorted(r["text"] for r in store.segment_rows()) == sorted(w for w, _ in NVIVO_PASSAGES[:3])
        got = sorted((c["code_name"], c["text"]) for c in store.codings())
        assert got == sorted((name, words) for words, codes in NVIVO_PASSAGES for code in codes
                             for i, name in ((3, "Voordelen"), (4, "Stress"), (5, "Jobcoach"), (6, "Intake"))
                             if i == code)
        [frag] = [c for c in store.codings() if c["fragment"]]
        assert frag["text"] == "het geeft structuur" and frag["segment_text"] == NVIVO_PASSAGES[0][0]
    # importing it again changes nothing
    with Store.open(tmp_path / "p.qualcode") as store:
        again = import_refi(store, qdpx)
        assert (again.segments, again.codings) == (0, 0)
