"""Benchmark of qualcode's code suggester on real coded data, against a plain TF-IDF + logistic-regression
baseline, with and without sentence vectors, and the codebook-only (zero-shot) ranking.

Prints, for every dataset, top-1 precision, top-3 recall and macro-F1 of each model (split by transcript:
a model never sees the transcript it is tested on), as one table; then learning curves (the same figures
after the researcher has coded 1, 2 and 5 transcripts, averaged over random draws of those transcripts,
tested on other transcripts); then the time to fit and suggest.

    .venv/bin/python bench/suggest.py                      # every dataset, leave-one-transcript-out
    .venv/bin/python bench/suggest.py --folds 10           # grouped 10-fold by transcript (faster)
    .venv/bin/python bench/suggest.py --only annomi-client # one dataset
    .venv/bin/python bench/suggest.py --project P --coder NAME   # any qualcode project with codings

Datasets (licences and provenance in bench/SOURCES.md):
  annomi-therapist  AnnoMI (public domain): 133 transcribed motivational-interviewing demonstration videos;
                    every therapist utterance has one of four codes (question, reflection, therapist_input, other).
  annomi-client     the same transcripts; every client utterance has one of three codes (change, neutral,
                    sustain talk): a coding of meaning rather than of form.
  annomi-subcodes   AnnoMI-full: therapist utterances with any of eight sub-codes (open/closed question,
                    simple/complex reflection, information/advice/negotiation/options), several per utterance
                    or none (multi-label, like thematic coding); the first annotator of each transcript.
The csv is ingested through qualcode's own table ingest (``qualcode ingest --column ...``), and sentence
vectors go through the project's embedding cache, so the benchmark exercises the real path. Every model
runs with fixed settings chosen before the run; nothing is tuned on the held-out transcripts.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ANNOMI = ROOT.parent / "shared" / "data" / "annomi" / "AnnoMI-simple.csv"


def qc(project: Path, *args: str) -> str:
    cmd = [sys.executable, "-m", "qualcode", "-p", str(project), *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return done.stdout


def _codebook(name: str, codes: dict[str, tuple[str, str]]) -> str:
    lines = [f"name: {name}", "language: en", "themes:", "  - id: all", "    name: All codes", "    colour: \"#E69F00\"",
             "    codes:"]
    for key, (title, desc) in codes.items():
        lines += [f"      - id: {key}", f"        name: {json.dumps(title)}", f"        description: {json.dumps(desc)}"]
    return "\n".join(lines) + "\n"


# Descriptions written for this benchmark from the coding scheme's definitions (not from the data).
THERAPIST = {
    "question": ("Question", "The therapist asks the client something, open or closed."),
    "reflection": ("Reflection", "The therapist mirrors back what the client said or meant, simply or with added "
                                 "meaning."),
    "therapist_input": ("Therapist input", "The therapist gives information, advice, options or proposes what to "
                                           "do next."),
    "other": ("Other", "Anything else, such as greetings, short acknowledgements and fillers."),
}
CLIENT = {
    "change": ("Change talk", "The client speaks in favour of changing the behaviour: reasons, desire, ability, "
                              "need or commitment to change."),
    "neutral": ("Neutral talk", "The client says something that is neither for nor against changing the behaviour."),
    "sustain": ("Sustain talk", "The client speaks in favour of keeping the behaviour as it is: reasons not to "
                                "change, doubts, or enjoying the behaviour."),
}
SUBCODES = {
    "question_open": ("Open question", "The therapist asks an open question that invites the client to tell more."),
    "question_closed": ("Closed question", "The therapist asks a closed question answered with yes, no or a fact."),
    "reflection_simple": ("Simple reflection", "The therapist repeats or rephrases what the client said."),
    "reflection_complex": ("Complex reflection", "The therapist reflects back with added meaning: a feeling, a "
                                                 "guess at what the client means, or a double-sided reflection."),
    "input_information": ("Information", "The therapist gives facts or information."),
    "input_advice": ("Advice", "The therapist advises the client what to do."),
    "input_negotiation": ("Negotiation", "The therapist negotiates goals or a plan with the client."),
    "input_options": ("Options", "The therapist offers the client options to choose from."),
}
DATASETS = {
    "annomi-therapist": ("AnnoMI therapist behaviour (4 codes, one per utterance)", "therapist", THERAPIST),
    "annomi-client": ("AnnoMI client talk type (3 codes, one per utterance)", "client", CLIENT),
    "annomi-subcodes": ("AnnoMI-full therapist sub-codes (8 codes, 0-3 per utterance)", "therapist", SUBCODES),
}


def annomi_table(folder: Path, data: Path, dataset: str) -> Path:
    """A csv of one coding scheme of AnnoMI, in the layout the table ingest reads."""
    import pandas as pd

    _, role, _ = DATASETS[dataset]
    if dataset == "annomi-subcodes":
        df = pd.read_csv(data.parent / "AnnoMI-full.csv")
        first = df.groupby("transcript_id")["annotator_id"].transform("min")
        df = df[df.annotator_id == first].sort_values(["transcript_id", "utterance_id"])

        def codes(r):
            if r["interlocutor"] != role:
                return ""
            out = []
            for flag, sub, prefix in (("question_exists", "question_subtype", "question"),
                                      ("reflection_exists", "reflection_subtype", "reflection"),
                                      ("therapist_input_exists", "therapist_input_subtype", "input")):
                if str(r[flag]).strip().lower() in ("true", "1") and isinstance(r[sub], str):
                    out.append(f"{prefix}_{r[sub].strip()}")
            return ";".join(out)
    else:
        df = pd.read_csv(data)
        col = "main_therapist_behaviour" if role == "therapist" else "client_talk_type"

        def codes(r):
            return r[col] if r["interlocutor"] == role and isinstance(r[col], str) else ""
    out = pd.DataFrame({"transcript_id": df.transcript_id.astype(str), "interlocutor": df.interlocutor,
                        "utterance_text": df.utterance_text.fillna("").astype(str),
                        "codes": [codes(r) for r in df.to_dict("records")]})
    path = folder / f"{dataset}.csv"
    out.to_csv(path, index=False)
    return path


def annomi_project(folder: Path, data: Path, dataset: str) -> Path:
    title, _, codes = DATASETS[dataset]
    project = folder / f"{dataset}.qualcode"
    if project.exists():  # --keep: made (and its sentence vectors cached) by an earlier run
        print(f"[{dataset}] reusing {project}", flush=True)
        return project
    (folder / f"{dataset}.yaml").write_text(_codebook(title, codes), encoding="utf-8")
    qc(project, "init", "--codebook", str(folder / f"{dataset}.yaml"), "--language", "en")
    t0 = time.perf_counter()
    out = qc(project, "ingest", str(annomi_table(folder, data, dataset)), "--allow-new-speakers", "--default-speaker", "P1",
             "--coder", "annomi",
             "--column", "group=transcript_id", "--column", "speaker=interlocutor",
             "--column", "text=utterance_text", "--column", "codes=codes")  # every line is labelled: the
    # default speaker only tells the ingest that a therapist talking most of the time is expected
    print(f"[{dataset}] ingest through 'qualcode ingest --column ...': {time.perf_counter() - t0:.1f} s; "
          f"{out.strip().splitlines()[-1]}", flush=True)
    return project


def corpus(project: Path, coder: str, *, role: str | None, vectors: bool):
    """Documents, code lists and transcript of every segment to evaluate on (every segment of ``role`` if
    given, coded or not; else the coder's training set), with sentence vectors from the project's cache."""
    from qualcode.coding.suggest import codebook_texts, segment_docs, training_set
    from qualcode.store import Store

    store = Store.open(project)
    try:
        docs = segment_docs(store)
        if role:
            coded = store.segment_codes(coder)
            X = [d for d in docs.values() if d["role"] == role]
            y, groups = [coded.get(d["id"], []) for d in X], [d["source"] for d in X]
        else:
            X, y, groups = training_set(store, coder, docs=docs)
        embed_s = None
        if vectors:
            from qualcode.coding.semantic import attach_vectors

            t0 = time.perf_counter()
            attach_vectors(store, docs, [d["id"] for d in X])
            embed_s = time.perf_counter() - t0
        return X, y, groups, store.language, codebook_texts(store), embed_s
    finally:
        store.close()


def models(language: str, prior: dict, semantic: bool) -> dict:
    from qualcode.coding.suggest import SEMANTIC_WEIGHT, BaselineSuggester, CodeSuggester

    out = {"baseline (TF-IDF + logistic regression)": lambda: BaselineSuggester(),
           "qualcode, plain": lambda: CodeSuggester(language=language, codebook=prior, random_state=0)}
    if semantic:
        from qualcode.coding.semantic import ZeroShotSuggester

        out["qualcode + sentence vectors"] = lambda: CodeSuggester(language=language, codebook=prior, random_state=0,
                                                                   semantic_weight=SEMANTIC_WEIGHT)
        out["codebook only (zero-shot, no codings)"] = lambda: ZeroShotSuggester(codebook=prior)
    return out


def ranks(P, codes, y):
    """(top-1 precision, top-3 recall) of scores P (columns ``codes``) against code lists y, over coded rows."""
    import numpy as np

    truth = np.array([[c in v for c in codes] for v in y], dtype=bool)
    coded = truth.any(axis=1)
    order = np.argsort(-P, axis=1, kind="stable")
    top1 = truth[np.arange(len(y)), order[:, 0]][coded].mean()
    top = np.zeros_like(truth)
    for r in range(min(3, len(codes))):
        top[np.arange(len(y)), order[:, r]] = True
    return float(top1), float((top & truth)[coded].sum() / truth[coded].sum())


def learning_curve(make, X, y, groups, *, ks=(1, 2, 5), draws=5, test_groups=20, seed=0):
    """Per k: mean (top-1, top-3) over ``draws`` random choices of k coded transcripts to learn from, each
    tested on ``test_groups`` other transcripts (the same test transcripts for every model)."""
    import numpy as np

    names = sorted(set(groups))
    codes = sorted({c for v in y for c in v})
    out = {}
    for k in ks:
        got = []
        for r in range(draws):
            rng = np.random.RandomState(seed + 1000 * k + r)
            order = [names[i] for i in rng.permutation(len(names))]
            train_g, test_g = set(order[:k]), set(order[k:k + test_groups])
            tr = [i for i, g in enumerate(groups) if g in train_g]
            te = [i for i, g in enumerate(groups) if g in test_g]
            if not any(y[i] for i in tr):
                continue
            est = make().fit([X[i] for i in tr], [y[i] for i in tr])
            p = est.predict_proba([X[i] for i in te])
            cls = [str(c) for c in est.classes_]
            P = np.zeros((len(te), len(codes)))
            for j, c in enumerate(codes):
                if c in cls:
                    P[:, j] = p[:, cls.index(c)]
            got.append(ranks(P, codes, [y[i] for i in te]))
        out[k] = tuple(float(np.mean([g[i] for g in got])) for i in (0, 1)) if got else (None, None)
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--project", help="a qualcode project with codings (default: the datasets below)")
    ap.add_argument("--coder", default="annomi", help="whose codings to evaluate")
    ap.add_argument("--data", default=str(ANNOMI), help="AnnoMI-simple.csv (AnnoMI-full.csv beside it)")
    ap.add_argument("--only", default="", help="comma-separated dataset names (default all): " + ", ".join(DATASETS))
    ap.add_argument("--folds", default="loto", help="'loto' (leave-one-transcript-out) or a number of grouped folds")
    ap.add_argument("--threshold", type=float, default=0.5, help="confidence threshold for multi-label data")
    ap.add_argument("--no-curves", action="store_true", help="skip the learning curves")
    ap.add_argument("--draws", type=int, default=5, help="random draws of training transcripts per curve point")
    ap.add_argument("--keep", metavar="DIR", help="make the datasets' projects in DIR and reuse them when they are "
                                                  "there (ingest and sentence vectors once for several runs)")
    args = ap.parse_args(argv)

    from qualcode.coding import semantic
    from qualcode.coding.suggest import evaluate

    sem = semantic.available()
    if not sem:
        print(f"note: {semantic.PACKAGE} is not installed: no sentence-vector or zero-shot rows.")
    table, curves = [], []
    with tempfile.TemporaryDirectory() as tmp:
        if args.keep:
            Path(args.keep).mkdir(parents=True, exist_ok=True)
            tmp = args.keep
        if args.project:
            runs = [("project", Path(args.project), None)]
        else:
            if not Path(args.data).exists():
                raise SystemExit(f"{args.data} not found; give --data PATH to AnnoMI-simple.csv")
            wanted = [d for d in (args.only.split(",") if args.only else DATASETS) if d]
            roles = {"therapist": "moderator", "client": "participant"}  # as the ingest reads the speakers
            runs = [(d, annomi_project(Path(tmp), Path(args.data), d), roles[DATASETS[d][1]]) for d in wanted]
        for name, project, role in runs:
            X, y, groups, language, prior, embed_s = corpus(project, args.coder, role=role, vectors=sem)
            n_groups = len(set(groups))
            max_loto = n_groups if args.folds == "loto" else 0
            n_folds = 10 if args.folds == "loto" else int(args.folds)
            print(f"\n[{name}] {len(X)} segments, {n_groups} transcripts, codes: "
                  + ", ".join(f"{c} {n}" for c, n in sorted(_counts(y).items())), flush=True)
            if embed_s is not None:
                print(f"[{name}] sentence vectors of {len(X)} segments (embedded now or read from the project's "
                      f"cache): {embed_s:.1f} s", flush=True)
            for label, make in models(language, prior, sem).items():
                t0 = time.perf_counter()
                ev = evaluate(make, X, y, groups, threshold=args.threshold, max_loto=max_loto, n_folds=n_folds)
                took = time.perf_counter() - t0
                table.append((name, label, ev.top1_precision, ev.top3_recall, ev.macro_f1, ev.scheme, took))
                print(f"[{name}] {label}: top-1 {_p(ev.top1_precision)}, top-3 recall {_p(ev.top3_recall)}, "
                      f"macro-F1 {_p(ev.macro_f1)} ({ev.scheme}; {took:.0f} s)", flush=True)
                if not args.no_curves and "zero-shot" not in label:
                    lc = learning_curve(make, X, y, groups, draws=args.draws)
                    curves.append((name, label, lc))
                    print(f"[{name}] {label}: learning curve " + "; ".join(
                        f"{k} coded: {_p(a)} / {_p(b)}" for k, (a, b) in lc.items()), flush=True)

    print("\n== held-out quality (" + ", ".join(sorted({t[5] for t in table})) + ")")
    print(f"| {'dataset':18} | {'model':40} | top-1 precision | top-3 recall | macro-F1 |")
    print(f"|{'-' * 20}|{'-' * 42}|----------------:|-------------:|---------:|")
    for name, label, t1, t3, f1, _, _ in table:
        print(f"| {name:18} | {label:40} | {_p(t1):>15} | {_p(t3):>12} | {_p(f1):>8} |")
    if curves:
        print("\n== learning curves: top-1 precision / top-3 recall after coding k transcripts "
              f"(mean of {args.draws} random draws, each tested on 20 other transcripts)")
        print(f"| {'dataset':18} | {'model':40} | k = 1         | k = 2         | k = 5         |")
        print(f"|{'-' * 20}|{'-' * 42}|---------------|---------------|---------------|")
        for name, label, lc in curves:
            print(f"| {name:18} | {label:40} | " + " | ".join(f"{_p(a):>5} / {_p(b):>5}" for a, b in lc.values())
                  + " |")


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
