"""Figures behind the rule matcher's design: lemmatiser choice and autocoding speed.

Run:  .venv/bin/python bench/rules.py
The spaCy lookup-table comparison needs the ``spacy-lookups-data`` package, which
qualcode does not depend on; install it in a scratch environment to include it
(the script says so when it is missing). Prints figures; asserts nothing.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Dutch word forms a focus group on work produces, with their dictionary lemma (written by hand).
GOLD = {
    "werkte": "werken", "gewerkt": "werken", "werkt": "werken", "werkten": "werken", "ging": "gaan",
    "gingen": "gaan", "gegaan": "gaan", "kreeg": "krijgen", "gekregen": "krijgen", "zei": "zeggen",
    "gezegd": "zeggen", "dacht": "denken", "gedacht": "denken", "moest": "moeten", "kon": "kunnen",
    "wilde": "willen", "vond": "vinden", "gevonden": "vinden", "betaalde": "betalen", "verdiende": "verdienen",
    "verloor": "verliezen", "verloren": "verliezen", "sprak": "spreken", "gesproken": "spreken", "hielp": "helpen",
    "geholpen": "helpen", "probeerde": "proberen", "geprobeerd": "proberen", "leerde": "leren", "geleerd": "leren",
    "stopte": "stoppen", "gestopt": "stoppen", "begon": "beginnen", "begonnen": "beginnen", "herviel": "hervallen",
    "solliciteerde": "solliciteren", "gesolliciteerd": "solliciteren", "begeleidde": "begeleiden",
    "sollicitaties": "sollicitatie", "uitkeringen": "uitkering", "stages": "stage", "begeleiders": "begeleider",
    "werkgevers": "werkgever", "jobs": "job", "gevoelens": "gevoel", "mensen": "mens", "kinderen": "kind",
    "zorgverleners": "zorgverlener", "diensten": "dienst", "ervaringen": "ervaring", "vrijwilligers": "vrijwilliger",
    "afspraken": "afspraak", "problemen": "probleem", "schulden": "schuld", "vooroordelen": "vooroordeel",
    "kansen": "kans", "dagen": "dag", "jaren": "jaar", "maanden": "maand", "weken": "week", "collega": "collega",
    "stress": "stress", "drempels": "drempel", "jobcoaches": "jobcoach", "opnames": "opname", "trajecten": "traject",
}


def sample_texts() -> list[str]:
    from qualcode.ingest import ingest
    from qualcode.store import Store

    with tempfile.TemporaryDirectory() as tmp:
        store = Store.create(Path(tmp) / "b.qualcode")
        sample = ROOT / "transcripts_sample"
        ingest(store, [sample / f"F{i}.txt" for i in (1, 2, 3)], participants=str(sample / "participants.csv"))
        texts = [t for _, t in store.rule_segment_texts(role="participant")]
        store.close()
    return texts


def spacy_lookup_nlp():
    import spacy

    try:
        import spacy_lookups_data  # noqa: F401
    except ImportError:
        return None
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


def accuracy(lemmatise) -> float:
    return sum(lemmatise(w) == lem for w, lem in GOLD.items()) / len(GOLD)


def coverage(nlp, texts) -> tuple[float, int]:
    from qualcode.codebook.yamlfile import load_codebook
    from qualcode.coding.autocode import compile_rules, match_texts

    cb = load_codebook(ROOT / "codebooks" / "ips.yaml")
    compiled = compile_rules([{"key": c.id, "rules": c.rules} for c in cb.codes], nlp)
    found = list(match_texts(compiled, texts))
    return sum(1 for f in found if f) / len(texts), sum(len(f) for f in found)


def timed(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    import spacy

    from qualcode.text.nlp import pipeline

    texts = sample_texts()
    n_words = sum(len(t.split()) for t in texts)
    ours = pipeline("nl")
    lookup = spacy_lookup_nlp()
    print(f"gold list: {len(GOLD)} Dutch word forms")
    print(f"  simplemma (qualcode_lemmatizer): {accuracy(lambda w: next(iter(ours.pipe([w])))[0].lemma_):.0%} correct")
    if lookup is not None:
        print(f"  spaCy lookup table (spacy-lookups-data): "
              f"{accuracy(lambda w: lookup(w)[0].lemma_.lower()):.0%} correct")
    else:
        print("  spaCy lookup table: spacy-lookups-data not installed; skipped")
    print(f"sample: {len(texts)} participant segments, {n_words} words")
    share, n = coverage(ours, texts)
    print(f"  ips.yaml coverage with simplemma lemmas: {share:.1%} of segments ({n} segment-code matches)")
    if lookup is not None:
        share, n = coverage(lookup, texts)
        print(f"  ips.yaml coverage with spaCy lookup lemmas: {share:.1%} of segments ({n} segment-code matches)")
    big = texts * 20
    words = n_words * 20
    bare = spacy.blank("nl")
    t_bare = timed(lambda: list(bare.pipe(big, batch_size=256)))
    t_lem = timed(lambda: list(ours.pipe(big, batch_size=256, disable=["sentencizer"])))
    from qualcode.codebook.yamlfile import load_codebook
    from qualcode.coding.autocode import compile_rules, match_texts

    cb = load_codebook(ROOT / "codebooks" / "ips.yaml")
    compiled = compile_rules([{"key": c.id, "rules": c.rules} for c in cb.codes], ours)
    t_rules = timed(lambda: list(match_texts(compiled, big)))
    print(f"speed on {len(big)} segments ({words} words, best of 3):")
    print(f"  bare spacy.blank('nl').pipe:        {t_bare:.2f} s ({words / t_bare:,.0f} words/s)")
    print(f"  + simplemma lemmatizer:             {t_lem:.2f} s ({t_lem / t_bare:.2f}x bare)")
    print(f"  + all ips.yaml rules (autocode):    {t_rules:.2f} s ({t_rules / t_bare:.2f}x bare)")
    if lookup is not None:
        t_look = timed(lambda: list(lookup.pipe(big, batch_size=256)))
        print(f"  spaCy lookup lemmatizer instead:    {t_look:.2f} s ({t_look / t_bare:.2f}x bare)")


if __name__ == "__main__":
    main()
