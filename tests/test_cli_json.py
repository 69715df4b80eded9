"""``--json`` (issue 20): every command listed in docs/json.md prints exactly one JSON document on stdout
with the documented keys and types; messages go to stderr."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from qualcode.store import Store

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")

NUM = (int, float)
OPT_NUM = (int, float, type(None))
EST = {"value": OPT_NUM, "low": OPT_NUM, "high": OPT_NUM}
CODE_ROW = {"code": str, "name": str, "segments": int, "positives": int, "per_coder": dict, "percent": EST,
            "cohen": EST, "fleiss": EST, "alpha": EST, "warning": (str, type(None))}
DOUBLE = {"segment_id": int, "key": str, "source": str, "coder": str, "codes": [str]}
SET_ROW = {"theme": str, "kind": str, "name": str, "codes": [str], "n_units": int, "percent": EST, "cohen": EST,
           "fleiss": EST, "alpha": EST, "double_coded": [DOUBLE]}
AGREEMENT = {"command": str, "schema_version": int, "coders": [str], "groups": (list, type(None)),
             "n_segments": int, "n_left_out": int, "left_out_by_coder": dict, "resamples": int, "seed": int,
             "confidence": float, "min_positives": int, "codes": [CODE_ROW], "overall": CODE_ROW,
             "exclusive_sets": [SET_ROW]}
COUNTS = {"command": str, "schema_version": int, "by": str, "coder": (str, type(None)), "units": [str],
          "codes": [{"code": str, "counts": dict, "total": int}]}
OVERVIEW = {"command": str, "schema_version": int,
            "groups": [{"group": str, "sources": int, "participants": int, "turns": int, "words": int,
                        "moderator_turns": int, "moderator_words": int, "gini": NUM, "largest_share": NUM}],
            "participants": [{"group": str, "participant": str, "key": str, "turns": int, "words": int,
                              "share": NUM}],
            "terms": dict}
REVIEW = {"command": str, "schema_version": int,
          "warnings": [{"check": str, "subject": str, "message": str, "look": str, "command": str}],
          "sources_checked": int, "segments_checked": int, "integrity": list,
          "coverage": [{"group": str, "participant": str, "segments": int, "uncoded": int, "share_uncoded": NUM}],
          "spread": [{"theme": str, "segments": int, "participants": int, "groups": int, "group_list": str,
                      "top_voice": str, "top_share": NUM}],
          "size": [{"level": str, "key": str, "segments": int, "median": NUM, "verdict": str}],
          "coherence": [{"theme": str, "segments": int, "within": OPT_NUM, "between": NUM, "ratio": OPT_NUM,
                         "closest": str, "closest_between": NUM}],
          "exclusive": [{"set": str, "kind": str, "segment_id": int, "key": str, "source": str, "coder": str,
                         "codes": [str]}]}
EVALUATE = {"command": str, "schema_version": int, "scheme": str, "n_segments": int, "n_coded": int,
            "threshold": NUM, "single_label": bool, "top1_precision": OPT_NUM, "top3_recall": OPT_NUM,
            "macro_f1": OPT_NUM,
            "codes": [{"code": str, "support": int, "suggested": int, "correct": int, "precision": OPT_NUM,
                       "recall": OPT_NUM, "f1": OPT_NUM, "verdict": str}],
            "calibration": [{"confidence": str, "suggestions": int, "share_right": NUM}],
            "fit_seconds": NUM, "predict_seconds": NUM, "notes": [str]}
STATUS = {"command": str, "schema_version": int, "project": str, "name": str, "language": str, "sources": int,
          "groups": int, "participants": int, "participant_segments": int, "segments_coded": int,
          "segments_uncoded": int, "codes": int, "codings": int, "coders": [str], "codes_without_codings": [str],
          "codes_without_theme": [str], "themes": dict, "themes_by_status": dict,
          "review": {"at": (str, type(None)), "warnings": (int, type(None)), "acts_since": (int, type(None))},
          "step": int, "next": str}


def check(value, schema, where="$") -> None:
    """``value`` has exactly the keys of ``schema`` (dict), every item matches ([schema]), or is of the type."""
    if isinstance(schema, dict):
        assert isinstance(value, dict), where
        assert list(value) == list(schema), f"{where}: keys {list(value)}"
        for k, sub in schema.items():
            check(value[k], sub, f"{where}.{k}")
    elif isinstance(schema, list):
        assert isinstance(value, list), where
        for i, item in enumerate(value):
            check(item, schema[0], f"{where}[{i}]")
    else:
        assert isinstance(value, schema) and not (schema in (int, NUM) and isinstance(value, bool)), \
            f"{where}: {value!r}"


def documented(schema) -> set[str]:
    keys = set()
    if isinstance(schema, dict):
        for k, sub in schema.items():
            keys.add(k)
            keys |= documented(sub)
    elif isinstance(schema, list):
        keys |= documented(schema[0])
    return keys


def document(result, command: str, schema) -> dict:
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert out.lstrip().startswith("{") and out.rstrip().endswith("}")
    doc = json.loads(out)                          # one document and nothing else on stdout
    assert doc["command"] == command and doc["schema_version"] == 1
    assert "NaN" not in out and "Infinity" not in out
    check(doc, schema)
    for key in documented(schema):
        assert f"`{key}`" in DOC, f"key {key} of '{command}' is not in docs/json.md"
    return doc


@pytest.fixture
def project(sample_path, tiny_codebook_factory):
    """coder_a and coder_b on F1 (both done), coder_a also on F2; theme 'work' is exclusive."""
    store = Store.open(sample_path)
    ids = tiny_codebook_factory(store)
    store.update_theme(store.theme("work")["id"], exclusive=True)
    rng = np.random.default_rng(4)
    with store.act("test codings"):
        for s in store.segments(role="participant"):
            if s["group_label"] == "F3":
                continue
            a = rng.choice(["pros", "cons", "coach", "intake"])
            b = a if rng.random() < 0.75 else rng.choice(["pros", "cons", "coach"])
            store.add_coding(s["id"], ids[a], "coder_a")
            if s["group_label"] == "F1":
                store.add_coding(s["id"], ids[b], "coder_b")
        first = next(store.segments(group="F1", role="participant"))["id"]
        store.add_coding(first, ids["pros"], "coder_b")
        store.add_coding(first, ids["cons"], "coder_b")
    store.close()
    return sample_path


def test_agreement_json(project, run, tmp_path):
    for coder in ("coder_a", "coder_b"):
        assert run(project, "agreement", "done", "--coder", coder, "--source", "F1.txt").exit_code == 0
    out = tmp_path / "a.xlsx"
    r = run(project, "agreement", "--json", "--groups", "F1", "--resamples", "100", "--out", out)
    doc = document(r, "agreement", AGREEMENT)
    assert r.stderr.strip() == f"Wrote {out}"
    assert doc["coders"] == ["coder_a", "coder_b"] and doc["groups"] == ["F1"] and doc["resamples"] == 100
    assert [c["code"] for c in doc["codes"]] == ["pros", "cons", "coach", "intake"]
    [work] = doc["exclusive_sets"]
    assert (work["theme"], work["kind"], work["codes"]) == ("work", "theme", ["pros", "cons"])
    assert [d["codes"] for d in work["double_coded"]] == [["pros", "cons"]]
    assert work["cohen"]["low"] <= work["cohen"]["value"] <= work["cohen"]["high"]
    # the same figures as the library gives
    from qualcode.agreement.measures import compute_agreement

    store = Store.open(project)
    rep = compute_agreement(store, groups=["F1"], n_boot=100)
    store.close()
    assert doc["exclusive_sets"][0]["fleiss"]["value"] == rep.exclusive[0].stats["fleiss"].value
    assert doc["codes"][0]["alpha"] == rep.codes[0].stats["alpha"].to_dict()
    # three coders: Cohen's kappa is undefined, so null
    store = Store.open(project)
    with store.act("third coder"):
        store.add_coding(next(store.segments(group="F1", role="participant"))["id"], store.code("pros")["id"], "c")
    store.close()
    run(project, "agreement", "done", "--coder", "c", "--source", "F1.txt")
    doc = document(run(project, "agreement", "--json", "--resamples", "0"), "agreement", AGREEMENT)
    assert doc["exclusive_sets"][0]["cohen"] == {"value": None, "low": None, "high": None}
    assert doc["codes"][0]["fleiss"]["low"] is None


def test_agreement_exclusive_option(project, run):
    store = Store.open(project)
    store.update_theme(store.theme("work")["id"], exclusive=False)
    acts = len(store.history())
    store.close()
    for coder in ("coder_a", "coder_b"):
        run(project, "agreement", "done", "--coder", coder, "--source", "F1.txt")
    r = run(project, "agreement", "--resamples", "50", "--exclusive", "work,care")
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("exclusive set"))
    assert [lines[head + 2].split()[0], lines[head + 3].split()[0]] == ["work", "care"]
    assert any(line.startswith("Coding error: work: segment #") for line in lines)
    store = Store.open(project)
    assert store.theme("work")["exclusive"] is False and len(store.history()) == acts + 2   # the two done marks
    store.close()
    r = run(project, "agreement", "--exclusive", "werk")
    assert r.exit_code == 1
    assert r.stderr.strip() == ("Error: no theme or parent code 'werk' to treat as an exclusive set. Did you mean: "
                                "work? An exclusive set is a theme (themes: work, care) or a code with sub-codes "
                                "(none in this codebook).")


def test_counts_json(project, run):
    doc = document(run(project, "counts", "--json", "--by", "group"), "counts", COUNTS)
    assert doc["by"] == "group" and doc["coder"] is None and doc["units"] == ["F1", "F2"]
    header_line = run(project, "counts", "--by", "group").stdout.splitlines()[2].split()
    pros = next(c for c in doc["codes"] if c["code"] == "pros")
    assert [str(pros["counts"]["F1"]), str(pros["counts"]["F2"]), str(pros["total"])] == header_line[1:]
    doc = document(run(project, "counts", "--json", "--coder", "coder_b"), "counts", COUNTS)
    assert doc["units"] == ["F1.txt"] and doc["coder"] == "coder_b"
    r = run(project, "counts", "--json", "--csv")
    assert r.exit_code == 2 and "choose one of --csv and --json." in r.stderr


def test_overview_json(project, run, tmp_path):
    out = tmp_path / "o.md"
    r = run(project, "overview", "--json", "--terms", "3", "--out", out)
    doc = document(r, "overview", OVERVIEW)
    assert r.stderr.strip() == f"wrote {out}"
    assert [g["group"] for g in doc["groups"]] == ["F1", "F2", "F3"]
    assert set(doc["terms"]) == {"F1", "F2", "F3"} and all(len(t) <= 3 for t in doc["terms"].values())
    for rows in doc["terms"].values():
        check(rows, [{"term": str, "count": int, "keyness": NUM}])
    assert sum(p["share"] for p in doc["participants"] if p["group"] == "F1") == pytest.approx(1.0)


def test_review_json_lists_double_coded_segments(project, run, tmp_path):
    out = tmp_path / "r.xlsx"
    r = run(project, "review", "--json", "--out", out)
    doc = document(r, "review", REVIEW)
    assert r.stderr.strip() == f"wrote {out}"
    [x] = doc["exclusive"]
    assert (x["set"], x["coder"], x["codes"], x["source"]) == ("work", "coder_b", ["pros", "cons"], "F1.txt")
    assert [w["subject"] for w in doc["warnings"] if w["check"] == "exclusive"] == ["theme work"]
    import openpyxl

    rows = list(openpyxl.load_workbook(out)["Exclusive"].iter_rows(values_only=True))
    assert rows[1] == ("work", "theme", x["segment_id"], x["key"], "F1.txt", "coder_b", "pros, cons")
    status = document(run(project, "status", "--json"), "status", STATUS)
    assert status["review"]["warnings"] == len(doc["warnings"])


def test_status_json_keeps_its_keys(project, run):
    doc = document(run(project, "status", "--json"), "status", STATUS)
    assert doc["sources"] == 3 and doc["coders"] == ["coder_a", "coder_b"] and doc["review"]["at"] is None


def test_suggest_evaluate_json(tmp_path, run):
    from test_suggest_cli import make_project

    project = make_project(tmp_path)
    doc = document(run(project, "suggest", "--evaluate", "--json", "--coder", "ann"), "suggest-evaluate", EVALUATE)
    assert doc["scheme"].startswith("leave-one-transcript-out over 2 transcripts")
    assert "money" in [c["code"] for c in doc["codes"]]
    assert all(0 <= c["share_right"] <= 1 for c in doc["calibration"])
    r = run(project, "suggest", "--json", "--coder", "ann")
    assert r.exit_code == 2 and "--json works with --evaluate" in r.stderr


def test_docs_list_every_json_command():
    from qualcode.cli import cli

    names = set(re.findall(r"`qualcode ([a-z -]+?) --json`", DOC))
    assert {"agreement", "counts", "overview", "review", "suggest --evaluate", "status"} <= names
    for name in ("agreement", "counts", "overview", "review", "suggest", "status"):
        assert any(p.name == "as_json" for p in cli.commands[name].params), name
