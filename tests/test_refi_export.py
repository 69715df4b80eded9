"""REFI-QDA export: schema validity, content, stable guids, privacy, round trip, and the qc tool (issue 8)."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree

from qualcode.refi.export import export_refi, project_xml
from qualcode.refi.importer import import_refi_new
from qualcode.store import Store

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "qualcode" / "data"
NS = {"q": "urn:QDA-XML:project:1.0"}
CB = {"c": "urn:QDA-XML:codebook:1.0"}


def schema(name: str) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(DATA / name)))


PROJECT_XSD = schema("refi-project.xsd")
CODEBOOK_XSD = schema("refi-codebook.xsd")


def valid_project(data: bytes) -> etree._Element:
    root = etree.fromstring(data)
    assert PROJECT_XSD.validate(root), PROJECT_XSD.error_log
    return root


@pytest.fixture
def coded(sample_store, tiny_codebook_factory):
    """The sample project (F1-F3) with the tiny codebook, codings by two coders and memos of every kind."""
    store = sample_store
    ids = tiny_codebook_factory(store)
    every = list(store.segments(role="participant"))
    segs, uncoded = every[:30], every[40]
    mod = next(store.segments(role="moderator"))
    with store.act("test coding"):
        for i, s in enumerate(segs):
            store.add_coding(s["id"], list(ids.values())[i % 4], "ann")
            if i % 3 == 0:
                store.add_coding(s["id"], ids["pros"], "bob")
        store.add_coding(mod["id"], ids["coach"], "ann")
        store.add_memo("project", None, "logboek: start", "ann")
        store.add_memo("theme", store.theme("work")["id"], "thema-memo", "supervisor", kind="supervisor")
        store.add_memo("code", ids["cons"], "code-memo", "ann")
        store.add_memo("segment", uncoded["id"], "segment-memo", "bob")
        store.add_memo("source", store.sources()[0]["id"], "bron-memo", "ann")
        store.add_memo("participant", store.participants()[0]["id"], "deelnemer-memo", "ann")
    return store


def read_qdpx(path: Path) -> tuple[etree._Element, dict[str, str]]:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        root = valid_project(zf.read("project.qde"))
        texts = {n: zf.read(n).decode("utf-8") for n in names if n != "project.qde"}
    return root, texts


# ------------------------------------------------------------------ export
def test_export_validates_and_says_what_the_project_holds(coded, tmp_path):
    out = tmp_path / "ips.qdpx"
    report = export_refi(coded, out)
    root, texts = read_qdpx(out)
    assert all(n.startswith("sources/") and n.endswith(".txt") for n in texts)       # lower-case sources/
    assert len(texts) == 3 == report.sources
    # users are the coders plus memo authors, with the stored coder guids
    users = {u.get("name"): u.get("guid") for u in root.iterfind("q:Users/q:User", NS)}
    assert {k: v for k, v in users.items() if k in ("ann", "bob")} == coded.coder_guids()
    assert set(users) == {"ann", "bob", "supervisor"}
    # themes are non-codable codes with their colour; codes beneath them
    top = root.findall("q:CodeBook/q:Codes/q:Code", NS)
    assert [(c.get("name"), c.get("isCodable"), c.get("color")) for c in top] == [
        ("Betaald werk", "false", "#E69F00"), ("Zorg en werk", "false", "#56B4E9")]
    assert [c.get("name") for c in top[0].findall("q:Code", NS)] == ["Voordelen", "Nadelen"]
    assert top[0].findtext("q:Description", namespaces=NS).endswith("qualcode id: work")
    # every selection is the source text at its offsets, with one Coding per coder and code
    sources = {s.get("guid"): s for s in root.iterfind("q:Sources/q:TextSource", NS)}
    n_sel = n_cod = 0
    by_guid = {r["guid"]: r for r in coded.segment_rows()}
    for guid, src in sources.items():
        assert src.get("plainTextPath") == f"internal://{guid}.txt"
        text = texts[f"sources/{guid}.txt"]
        for sel in src.iterfind("q:PlainTextSelection", NS):
            s, e = int(sel.get("startPosition")), int(sel.get("endPosition"))
            seg = by_guid[sel.get("guid")]
            assert text[s:e] == seg["text"]
            assert sel.get("name") == (seg["text"] if len(seg["text"]) <= 100 else seg["text"][:99].rstrip() + "…")
            n_sel += 1
            n_cod += len(sel.findall("q:Coding", NS))
    assert n_cod == coded.count_codings() == report.codings == 41
    assert n_sel == report.selections == 32      # 31 coded segments + 1 with a memo only
    # participants are cases with their group and attributes; the moderator has a case too
    cases = {c.get("name"): c for c in root.iterfind("q:Cases/q:Case", NS)}
    assert "F1 P1" in cases and "F1 Moderator" in cases
    assert len(cases["F1 P1"].findall("q:SelectionRef", NS)) == sum(
        1 for c in coded.codings() if c["key"] == "F1 P1" and c["coder"] == "ann")
    # memos: one note each, referred to from what they are about
    notes = {n.findtext("q:PlainTextContent", namespaces=NS): n for n in root.iterfind("q:Notes/q:Note", NS)}
    assert len(notes) == 6
    assert notes["thema-memo"].get("name") == "Supervisor comment"
    refs = {r.get("targetGUID") for r in root.iter("{urn:QDA-XML:project:1.0}NoteRef")}
    assert {notes[t].get("guid") for t in ("logboek: start", "thema-memo", "code-memo", "segment-memo",
                                           "bron-memo")} <= refs
    link = root.find("q:Links/q:Link", NS)
    assert link.get("originGUID") == notes["deelnemer-memo"].get("guid")
    assert link.get("targetGUID") == coded.participants()[0]["guid"]


def test_identifying_attributes_are_never_exported(coded, tmp_path):
    with coded.act("mark"):
        coded.set_attribute_identifying("gender", True)
    data = project_xml(coded)
    valid_project(data)
    names = {v.get("name") for v in etree.fromstring(data).iterfind("q:Variables/q:Variable", NS)}
    assert "gender" not in names and "age_band" in names
    for value in {p["gender"] for p in coded.participants(include_identifying=True)}:
        assert f"<TextValue>{value}</TextValue>".encode() not in data


def test_guids_are_stable_across_exports(coded, tmp_path):
    a, b = tmp_path / "a.qdpx", tmp_path / "b.qdpx"
    export_refi(coded, a)
    export_refi(coded, b)
    assert a.read_bytes() == b.read_bytes()
    root, _ = read_qdpx(a)
    guids = {e.get("guid") for e in root.iter() if e.get("guid")}
    stored = set()
    for table in ("themes", "codes", "sources", "codings", "memos", "participants"):
        stored |= set(coded.guid_index(table))
    assert stored <= guids | {p["guid"] for p in coded.participants()}


def test_codebook_export_validates(coded, tmp_path):
    out = tmp_path / "ips.qdc"
    report = export_refi(coded, out)
    root = etree.parse(str(out)).getroot()
    assert CODEBOOK_XSD.validate(root), CODEBOOK_XSD.error_log
    assert (report.themes, report.codes) == (2, 4)
    assert [c.get("name") for c in root.iterfind("c:Codes/c:Code/c:Code", CB)] == [
        "Voordelen", "Nadelen", "Jobcoach", "Werk bij intake"]
    # and a .qdc comes back as the same codebook
    import_refi_new(tmp_path / "cb.qualcode", out)
    with Store.open(tmp_path / "cb.qualcode") as back:
        assert [(c["key"], c["theme"]) for c in back.codes()] == [(c["key"], c["theme"]) for c in coded.codes()]


def test_cli_export_refi(coded, run, tmp_path):
    coded.close()
    project = coded.path
    out = tmp_path / "out.qdpx"
    result = run(project, "export", "refi", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == (f"wrote {out}: REFI-QDA project with 2 themes, 4 codes, 3 sources, "
                                     "32 selections, 41 codings, 21 cases, 6 notes")
    read_qdpx(out)
    again = run(project, "export", "refi", out)
    assert again.exit_code == 1 and again.stderr.strip() == f"Error: {out} already exists; use --force to overwrite it."
    bad = run(project, "export", "refi", tmp_path / "out.zip")
    assert bad.exit_code == 1
    assert bad.stderr.strip() == (f"Error: {tmp_path / 'out.zip'}: REFI-QDA exports end in .qdpx (whole project) "
                                  "or .qdc (codebook only)")


# --------------------------------------------------------------- round trip
def snapshot(store) -> dict:
    """Everything the round trip must keep, keyed by guid."""
    return {
        "sources": sorted((s["guid"], s["name"], s["group_label"], s["text"]) for s in store.source_rows()),
        "segments": sorted((s["guid"], s["source_guid"], s["ordinal"], s["turn"], s["speaker"], s["role"],
                            s["participant_guid"], s["start"], s["end"], s["timestamp"], s["text"])
                           for s in store.segment_rows()),
        "themes": sorted((t["guid"], t["key"], t["name"], t["colour"], t["description"], t["position"])
                         for t in store.themes()),
        "codes": sorted((c["guid"], c["key"], c["name"], c["theme"], c["parent"], c["description"], c["include"],
                         c["exclude"], c["example"], c["display_colour"]) for c in store.codes()),
        "code_order": [c["key"] for c in store.codes()],
        "codings": sorted((c["guid"], c["segment_guid"], c["code_guid"], c["coder"], c["created_at"], c["start"],
                           c["end"]) for c in store.coding_rows()),
        "coders": sorted(store.coder_guids().items()),
        "memos": sorted((m["guid"], m["target_type"], m["kind"], m["author"], m["created_at"], m["text"])
                        for m in store.memos()),
        "participants": sorted(tuple(sorted(p.items(), key=str)) for p in
                               [{k: v for k, v in p.items() if k != "id"} for p in store.participants()]),
    }


def memo_targets(store) -> list:
    """Memo targets by guid (ids differ between projects)."""
    lookup = {"theme": {v: k for k, v in store.guid_index("themes").items()},
              "code": {v: k for k, v in store.guid_index("codes").items()},
              "segment": {v: k for k, v in store.guid_index("segments").items()},
              "source": {v: k for k, v in store.guid_index("sources").items()},
              "participant": {v: k for k, v in store.guid_index("participants").items()}}
    return sorted((m["guid"], m["target_type"], lookup.get(m["target_type"], {}).get(m["target_id"]))
                  for m in store.memos())


TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r")
               | st.sampled_from("\n\t😀é…"), min_size=1, max_size=60)
LINE = st.text(alphabet=st.characters(whitelist_categories=("L", "N", "Zs", "Po")), min_size=0, max_size=20)
NAME = LINE.map(str.strip).filter(bool)


@st.composite
def projects(draw):
    texts = draw(st.lists(TEXT, min_size=1, max_size=2))
    spans = []
    for i, text in enumerate(texts):
        n = draw(st.integers(1, 4))
        for k in range(n):
            a = draw(st.integers(0, len(text)))
            b = draw(st.integers(a, len(text)))
            role = draw(st.sampled_from(["participant", "participant", "moderator"]))
            spans.append((i, k + 1, a, b, role, draw(st.sampled_from([None, 12.5, 3600.0])),
                          draw(st.sampled_from(["P1", "P2"])), draw(st.integers(1, 3))))
    n_themes = draw(st.integers(1, 2))
    themes = [(draw(NAME), draw(LINE), draw(st.sampled_from(["#112233", "#ABCDEF"]))) for _ in range(n_themes)]
    codes = [(draw(NAME), draw(st.integers(-1, n_themes - 1)), draw(LINE), draw(LINE),
              draw(st.sampled_from([None, "#445566"]))) for _ in range(draw(st.integers(1, 4)))]
    child = draw(st.booleans())
    # the last item: None for the whole segment, else a fragment (offset, length) inside it (issue 16)
    codings = draw(st.lists(st.tuples(st.integers(0, len(spans) - 1), st.integers(0, len(codes) - 1),
                                      st.sampled_from(["ann", "bob"]),
                                      st.none() | st.tuples(st.integers(0, 60), st.integers(0, 60))),
                            max_size=8, unique=True))
    memos = draw(st.lists(st.tuples(st.sampled_from(["project", "theme", "code", "segment", "source",
                                                     "participant"]), TEXT, st.sampled_from(["memo", "supervisor"]),
                                    st.sampled_from(["ann", "sup"])), max_size=4))
    return texts, spans, themes, codes, child, codings, memos


def build(path: Path, spec) -> Store:
    import hashlib

    texts, spans, themes, codes, child, codings, memos = spec
    store = Store.create(path)
    with store.act("build", undoable=False, capture=False):
        src_ids = []
        for i, text in enumerate(texts):
            src_ids.append(store.add_source(
                name=f"F{i + 1}.txt", format="txt", group_label=f"F{i + 1}", group_origin="test", text=text,
                sha256=hashlib.sha256(text.encode()).hexdigest(), file_sha256=str(i), encoding="utf-8", n_words=1))
            for p in ("P1", "P2"):
                store.add_participant(f"F{i + 1}", p, {"gender": "v" if p == "P1" else "m"})
        for src_index, ordinal, a, b, role, ts, person, turn in spans:
            group = f"F{src_index + 1}"
            pid = store.participant_ids()[(group, person)] if role == "participant" else None
            store.add_segments(src_ids[src_index], [{
                "ordinal": ordinal, "turn": turn, "speaker": person if pid else "Moderator", "role": role,
                "participant_id": pid, "start": a, "end": b, "timestamp": ts, "text": texts[src_index][a:b],
                "n_words": 1}])
        theme_ids = [store.add_theme(f"t{i}", name, colour, desc) for i, (name, desc, colour) in enumerate(themes)]
        code_ids = []
        for i, (name, theme, desc, include, colour) in enumerate(codes):
            parent = code_ids[0] if child and i == 1 and codes[0][1] == theme and theme >= 0 else None
            code_ids.append(store.add_code(f"c{i}", name, theme_ids[theme] if theme >= 0 else None,
                                           parent_id=parent, description=desc, include=include, colour=colour))
        segs = store.segment_rows()
        seg_ids = [r["id"] for r in segs]
        for seg, code, coder, *frag_given in codings:
            frag = frag_given[0] if frag_given else None
            row, span = segs[seg], None
            if frag is not None and row["end"] > row["start"]:
                n = row["end"] - row["start"]
                a = row["start"] + frag[0] % n
                span = (a, min(row["end"], a + 1 + frag[1] % n))
            store.add_coding(seg_ids[seg], code_ids[code], coder, span=span)
        targets = {"project": [None], "theme": theme_ids, "code": code_ids, "segment": seg_ids,
                   "source": src_ids, "participant": list(store.participant_ids().values())}
        for ttype, text, kind, author in memos:
            store.add_memo(ttype, targets[ttype][0], text, author, kind=kind)
    return store


def exported_guids(data: bytes) -> set:
    root = valid_project(data)
    tags = {f"{{{NS['q']}}}{t}" for t in ("Code", "TextSource", "PlainTextSelection", "Coding", "Note")}
    return {(e.tag, e.get("guid")) for e in root.iter() if e.tag in tags}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(spec=projects())
@example(spec=(["P1: werk 😀 is\nfijn en zwaar"], [(0, 1, 0, 25, "participant", None, "P1", 1),
                                               (0, 2, 0, 25, "participant", None, "P2", 1)],
               [("Werk", "", "#112233")], [("Pos", 0, "", "", None), ("Neg", 0, "", "", None)], False,
               [(0, 0, "ann", (4, 5)), (0, 1, "ann", (4, 5)), (1, 0, "ann", (4, 5)), (0, 0, "ann", None),
                (0, 1, "bob", (10, 30))], []))
def test_round_trip_is_identity(tmp_path_factory, spec):
    tmp = tmp_path_factory.mktemp("rt")
    store = build(tmp / "a.qualcode", spec)
    export_refi(store, tmp / "a.qdpx", all_segments=True)
    report = import_refi_new(tmp / "b.qualcode", tmp / "a.qdpx")
    assert report.refused == []
    back = Store.open(tmp / "b.qualcode")
    try:
        codes_in_a = {c["id"]: c for c in store.codes()}
        # a code whose colour equals its theme's comes back without its own colour: same display colour
        assert snapshot(back) == snapshot(store)
        assert memo_targets(back) == memo_targets(store)
        assert {c["origin"] for c in back.coding_rows()} <= {"imported"}
        assert len(codes_in_a) == len(back.codes())
        # export again: the same guids (stable through the round trip)
        assert exported_guids(project_xml(back, all_segments=True)) == exported_guids(
            project_xml(store, all_segments=True))
    finally:
        back.close()
        store.close()


def test_default_export_keeps_coded_segments_identical(coded, tmp_path):
    export_refi(coded, tmp_path / "a.qdpx")
    import_refi_new(tmp_path / "b.qualcode", tmp_path / "a.qdpx")
    with Store.open(tmp_path / "b.qualcode") as back:
        mine = snapshot(coded)
        theirs = snapshot(back)
        wanted = {r["guid"] for r in coded.segment_rows() if r["id"] in
                  {m["target_id"] for m in coded.memos("segment")}} | {c[1] for c in mine["codings"]}
        assert len(wanted) == 32
        assert [s for s in mine["segments"] if s[0] in wanted] == theirs["segments"]
        for key in ("sources", "themes", "codes", "codings", "coders", "memos", "participants"):
            assert theirs[key] == mine[key], key
        assert memo_targets(back) == memo_targets(coded)


# ------------------------------------------------------------ the qc tool
def qc_command() -> str | None:
    """The `qc` command of the qualitative-coding package, if installed in a scratch venv (see docs/interop.md)."""
    for cand in (os.environ.get("QUALCODE_QC"), str(ROOT / ".venv-qc" / "bin" / "qc"), shutil.which("qc")):
        if cand and Path(cand).exists():
            return cand
    return None


@pytest.mark.slow
@pytest.mark.skipif(qc_command() is None, reason="qualitative-coding (qc) is not installed; see docs/interop.md")
def test_qc_imports_our_export(coded, tmp_path):
    out = tmp_path / "ips.qdpx"
    export_refi(coded, out)
    work = tmp_path / "qc"
    work.mkdir()
    env = dict(os.environ, PYTHONBREAKPOINT="0")      # qc 1.7.8 left a breakpoint() in its importer
    done = subprocess.run([qc_command(), "init", "--import", str(out)], cwd=work, env=env, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=300)
    assert done.returncode == 0, done.stderr
    import yaml

    codebook = yaml.safe_load((work / "codebook.yaml").read_text())
    assert codebook == [{"Betaald werk": ["Nadelen", "Voordelen"]}, {"Zorg en werk": ["Jobcoach", "Werk bij intake"]}]
    for src in coded.source_rows():
        assert (work / "corpus" / src["name"]).read_text("utf-8") == src["text"]
    coders = subprocess.run([qc_command(), "coders"], cwd=work, env=env, capture_output=True, text=True,
                            stdin=subprocess.DEVNULL, timeout=120)
    assert coders.stdout.split() == ["ann", "bob", "supervisor"]
    stats = subprocess.run([qc_command(), "codes", "stats"], cwd=work, env=env, capture_output=True, text=True,
                           stdin=subprocess.DEVNULL, timeout=120)
    counts = {line.rsplit(None, 1)[0].strip(): int(line.rsplit(None, 1)[1]) for line in stats.stdout.splitlines()[2:]
              if line.strip()}
    assert all(counts[name] > 0 for name in ("Voordelen", "Nadelen", "Jobcoach", "Werk bij intake"))


def test_control_characters_and_emoji_survive(tmp_path):
    text = "P1: een\fpagina 😀 verder\x0b en klaar"
    spec = ([text], [(0, 1, 4, len(text), "participant", None, "P1", 1)], [("Thema\x0c", "", "#112233")],
            [("Code", 0, "uitleg\x01", "", None)], False, [(0, 0, "ann"), (0, 0, "ann", (9, 8))],
            [("project", "memo\x0c", "memo", "ann")])
    store = build(tmp_path / "a.qualcode", spec)
    data = project_xml(store)
    valid_project(data)
    export_refi(store, tmp_path / "a.qdpx")
    report = import_refi_new(tmp_path / "b.qualcode", tmp_path / "a.qdpx")
    assert report.refused == [] and report.segments == 1
    with Store.open(tmp_path / "b.qualcode") as back:
        assert [r["text"] for r in back.segment_rows()] == [text[4:]]      # the stored text is untouched
        assert back.memos()[0]["text"] == "memo "                          # XML cannot hold a form feed
        assert sorted((c["text"], bool(c["fragment"])) for c in back.codings()) == [
            ("a 😀 verde", True), (text[4:], False)]                     # the fragment at its exact place
    store.close()
