"""Benchmark of qualcode's code suggester against a plain TF-IDF + logistic-regression baseline.

Prints, for a corpus with hand codes, the self-evaluation figures of both models (split by
transcript: the model never sees the transcript it is tested on) and the time to fit and to suggest.

    .venv/bin/python bench/suggest.py                      # AnnoMI, leave-one-transcript-out
    .venv/bin/python bench/suggest.py --folds 10           # AnnoMI, grouped 10-fold by transcript
    .venv/bin/python bench/suggest.py --project P --coder NAME   # any qualcode project with codings

AnnoMI (../shared/data/annomi/AnnoMI-simple.csv; public domain, see its SOURCES.md): 133 transcribed
motivational-interviewing demonstration videos; every therapist utterance has one of four codes
(question, reflection, therapist_input, other). The csv is ingested through qualcode's own table
ingest (``qualcode ingest --column ...``), so the benchmark exercises the real path. Both models are
run with fixed settings chosen before the run; nothing is tuned on the held-out transcripts.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANNOMI = ROOT.parent / "shared" / "data" / "annomi" / "AnnoMI-simple.csv"

CODEBOOK = """\
name: AnnoMI therapist behaviour
language: en
description: Main behaviour of the therapist in each utterance of a motivational interview.
themes:
  - id: behaviour
    name: Therapist behaviour
    colour: "#E69F00"
    codes:
      - id: question
        name: Question
        description: The therapist asks the client something, open or closed.
      - id: reflection
        name: Reflection
        description: The therapist mirrors back what the client said or meant, simply or with added meaning.
      - id: therapist_input
        name: Therapist input
        description: The therapist gives information, advice, options or proposes what to do next.
      - id: other
        name: Other
        description: Anything else, such as greetings, short acknowledgements and fillers.
"""


def qc(project: Path, *args: str) -> str:
    cmd = [sys.executable, "-m", "qualcode", "-p", str(project), *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return done.stdout


def annomi_project(folder: Path, csv: Path) -> Path:
    project = folder / "annomi.qualcode"
    (folder / "annomi.yaml").write_text(CODEBOOK, encoding="utf-8")
    qc(project, "init", "--codebook", str(folder / "annomi.yaml"), "--language", "en")
    t0 = time.perf_counter()
    out = qc(project, "ingest", str(csv), "--allow-new-speakers", "--coder", "annomi",
             "--column", "group=transcript_id", "--column", "speaker=interlocutor",
             "--column", "text=utterance_text", "--column", "codes=main_therapist_behaviour")
    print(f"ingest through 'qualcode ingest --column ...': {time.perf_counter() - t0:.1f} s; "
          f"{out.strip().splitlines()[-1]}")
    return project


def corpus(project: Path, coder: str, *, role: str | None):
    """Documents, code lists and transcript of every segment the coder coded (of ``role`` if given)."""
    from qualcode.coding.suggest import codebook_texts, segment_docs, training_set
    from qualcode.store import Store

    store = Store.open(project)
    try:
        if role:  # AnnoMI: every therapist utterance carries exactly one code
            docs = segment_docs(store)
            coded = store.segment_codes(coder)
            keep = [d for sid, d in docs.items() if sid in coded and d["role"] == role]
            X, y, groups = keep, [coded[d["id"]] for d in keep], [d["source"] for d in keep]
        else:
            X, y, groups = training_set(store, coder)
        return X, y, groups, store.language, codebook_texts(store)
    finally:
        store.close()


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", help="a qualcode project with codings (default: build AnnoMI)")
    ap.add_argument("--coder", default="annomi", help="whose codings to evaluate")
    ap.add_argument("--data", default=str(ANNOMI), help="AnnoMI-simple.csv")
    ap.add_argument("--folds", default="loto", help="'loto' (leave-one-transcript-out) or a number of grouped folds")
    ap.add_argument("--threshold", type=float, default=0.5, help="confidence threshold for multi-label data")
    args = ap.parse_args(argv)

    from qualcode.coding.suggest import BaselineSuggester, CodeSuggester, evaluate

    with tempfile.TemporaryDirectory() as tmp:
        if args.project:
            project, role = Path(args.project), None
        else:
            if not Path(args.data).exists():
                raise SystemExit(f"{args.data} not found; give --data PATH to AnnoMI-simple.csv")
            project, role = annomi_project(Path(tmp), Path(args.data)), "moderator"
        X, y, groups, language, prior = corpus(project, args.coder, role=role)
    n_groups = len(set(groups))
    max_loto = n_groups if args.folds == "loto" else 0
    n_folds = 10 if args.folds == "loto" else int(args.folds)
    print(f"corpus: {len(X)} segments, {n_groups} transcripts, codes: "
          + ", ".join(f"{c} {n}" for c, n in sorted(_counts(y).items())))

    models = {
        "baseline (TF-IDF + logistic regression)": lambda: BaselineSuggester(),
        "qualcode CodeSuggester": lambda: CodeSuggester(language=language, codebook=prior, random_state=0),
    }
    results = {}
    for name, make in models.items():
        t0 = time.perf_counter()
        ev = evaluate(make, X, y, groups, threshold=args.threshold, max_loto=max_loto, n_folds=n_folds)
        results[name] = ev
        print(f"\n== {name}  ({time.perf_counter() - t0:.0f} s in all)")
        print("\n".join(ev.lines()))
        folds = n_groups if max_loto else n_folds
        print(f"  time: fit {ev.fit_seconds / folds:.2f} s per fold; suggest "
              f"{1000 * ev.predict_seconds / max(len(X), 1):.2f} ms per segment")

    print("\n== summary (" + next(iter(results.values())).scheme + ")")
    print(f"  {'model':42}  top-1 precision  top-3 recall  macro-F1")
    for name, ev in results.items():
        print(f"  {name:42}  {_p(ev.top1_precision):>15}  {_p(ev.top3_recall):>12}  {_p(ev.macro_f1):>8}")

    t0 = time.perf_counter()
    model = CodeSuggester(language=language, codebook=prior, random_state=0).fit(X, y)
    t1 = time.perf_counter()
    model.predict_proba(X)
    t2 = time.perf_counter()
    print(f"\nqualcode CodeSuggester on all {len(X)} segments: fit {t1 - t0:.1f} s, suggest {t2 - t1:.1f} s "
          f"({1000 * (t2 - t1) / max(len(X), 1):.2f} ms per segment)")


def _counts(y):
    out = {}
    for v in y:
        for c in v:
            out[c] = out.get(c, 0) + 1
    return out


def _p(v):
    return "n/a" if v is None else f"{100 * v:.1f}%"


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
