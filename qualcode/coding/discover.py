"""Inductive discovery: cluster the participant segments nobody has coded yet into candidate codes.

TF-IDF over content lemmas (stop words and spoken fillers out, see :func:`qualcode.text.nlp.content_lemmas`),
then non-negative matrix factorisation (NMF in numpy, :mod:`qualcode.coding.nmf`; seeded ``nndsvda`` start):
each segment joins the cluster it loads on most. The same project, number of clusters and seed
always give the same clusters, so ``discover --create CLUSTER NAME`` refers to what was shown.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..files.atomic import write_text
from ..errors import ConflictError, QualcodeError, unknown
from ..codebook.ids import slug
from ..store.core import from_snapshot
from ..files.textsafe import xml_text

MIN_LEMMAS = 3
# Below this many non-zero weights NMF runs on numpy's compressed rows (nmf.SparseRows); above it on
# SciPy's CSR matrix, whose products are faster but whose import costs about 0.2 s (the results are
# the same to the last bit either way).
SCIPY_FROM = 20_000


@dataclass
class Cluster:
    number: int
    terms: list[str]
    segments: list[dict]              # each: id, key, group, text, weight (strongest first)
    groups: dict[str, int] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.segments)


@dataclass
class Discovery:
    n_segments: int
    clusters: list[Cluster]
    n_clusters: int
    seed: int

    def lines(self) -> list[str]:
        out = [f"{self.n_segments} uncoded participant segments in {len(self.clusters)} clusters "
               f"(--n {self.n_clusters} --seed {self.seed}); candidate new codes:"]
        for c in self.clusters:
            groups = ", ".join(f"{g} {n}" for g, n in c.groups.items())
            out.append(f"\ncluster {c.number}: {c.size} segments ({groups})")
            out.append(f"  terms: {', '.join(c.terms)}")
            for s in c.segments[:3]:
                text = s["text"] if len(s["text"]) <= 160 else s["text"][:159] + "…"
                out.append(f"  [{s['id']}] ({s['key']}) {text}")
        out.append("\nTurn one into a code with: qualcode discover --create CLUSTER NAME "
                   "(its segments become suggestions to accept or reject).")
        return out


@from_snapshot
def discover(store, *, n_clusters: int = 8, seed: int = 0, n_terms: int = 8, progress=None) -> Discovery:
    """Cluster uncoded participant segments (deterministic for a given seed). ``progress``: a callback
    ``progress(items, label)`` (qualcode.cli.progress) shown over its three stages, or None."""
    from ..text.lemmas import load
    from ..text.tfidf import as_scipy, tfidf
    from .nmf import SparseRows, nmf

    stage_names = ["segments", "weights", "clusters"]
    stages = iter(stage_names if progress is None else progress(stage_names, "discovering"))
    next(stages)
    cached = load(store).content  # lemmatised once, at ingest
    ids = store.uncoded_segment_ids(role="participant")
    segs = [s for s in store.segments(role="participant") if s["id"] in ids]
    lemmas = [cached[s["id"]] for s in segs]
    keep = [i for i, lem in enumerate(lemmas) if len(lem) >= MIN_LEMMAS]
    segs = [segs[i] for i in keep]
    lemmas = [lemmas[i] for i in keep]
    if len(segs) < 2 * n_clusters:
        raise QualcodeError(f"only {len(segs)} uncoded participant segments with enough words to cluster; "
                            f"ask for fewer clusters (--n) or discover before coding everything.")
    next(stages)
    try:
        X = tfidf(lemmas, min_df=2, max_df=0.5, sublinear_tf=True)
    except ValueError:
        raise QualcodeError("the uncoded segments share too few words to cluster.") from None
    next(stages)
    matrix = (as_scipy(X) if len(X.indices) >= SCIPY_FROM
              else SparseRows(X.indptr, X.indices, X.data, (X.n_rows, len(X.vocabulary))))
    W, H = nmf(matrix, n_clusters, seed=seed, max_iter=500)
    for _ in stages:   # finish the bar
        pass
    names = X.vocabulary
    members: dict[int, list[int]] = {}
    for i, row in enumerate(W):
        if row.max() > 0:
            members.setdefault(int(row.argmax()), []).append(i)
    order = sorted(members, key=lambda k: (-len(members[k]), k))
    clusters = []
    for number, k in enumerate(order, start=1):
        rows = sorted(members[k], key=lambda i: (-W[i, k], segs[i]["id"]))
        top = W[rows[0], k] or 1.0
        terms = [str(names[j]) for j in H[k].argsort()[::-1][:n_terms]]
        items = [{"id": segs[i]["id"], "key": segs[i]["key"], "group": segs[i]["group_label"],
                  "text": segs[i]["text"], "weight": float(W[i, k] / top),
                  "terms": [t for t in terms if t in set(lemmas[i])]} for i in rows]
        groups = Counter(s["group"] for s in items)
        clusters.append(Cluster(number, terms, items, dict(sorted(groups.items()))))
    return Discovery(n_segments=len(segs), clusters=clusters, n_clusters=n_clusters, seed=seed)


@dataclass
class Created:
    key: str
    name: str
    n_suggestions: int
    cluster: int

    def lines(self) -> list[str]:
        return [f"created code '{self.key}' ({self.name}) from cluster {self.cluster}; its {self.n_suggestions} "
                "segments are suggestions (not codings): they are listed in the sheet of "
                "'qualcode suggest --out FILE'; mark them yes/no and run 'qualcode suggest accept FILE'."]


def create_code(store, cluster: int, name: str, *, n_clusters: int = 8, seed: int = 0,
                theme: str | None = None, coder: str | None = None) -> Created:
    """Turn one cluster into a code (audit-logged); its segments become suggestions (source 'discover')."""
    from ..store import default_actor

    found = discover(store, n_clusters=n_clusters, seed=seed)
    chosen = next((c for c in found.clusters if c.number == cluster), None)
    if chosen is None:
        raise unknown("cluster", str(cluster), [str(c.number) for c in found.clusters])
    if not name.strip():
        raise QualcodeError("the new code needs a name.")
    key = slug(name)
    if key in store.code_ids():
        raise ConflictError(f"a code '{key}' already exists; choose another name.")
    theme_id = store.theme(theme)["id"] if theme else None
    who = coder or default_actor()
    with store.act("discover create", summary=f"code '{key}' from cluster {cluster}",
                   details={"cluster": cluster, "n": n_clusters, "seed": seed, "terms": chosen.terms}):
        cid = store.add_code(key, name.strip(), theme_id,
                             description=f"Found inductively (discover cluster {cluster}): "
                                         f"{', '.join(chosen.terms)}")
        rows = [(s["id"], cid, round(s["weight"], 4), ", ".join(s["terms"][:3])) for s in chosen.segments]
        n = store.add_suggestions(rows, coder=who, source="discover")
    return Created(key, name.strip(), n, cluster)


def write_clusters(result: Discovery, path: str) -> None:
    """Write the clusters to .xlsx (sheets Clusters and Segments) or .md."""
    p = Path(path)
    if p.suffix.lower() == ".md":
        write_text(p, xml_text("# Candidate codes (qualcode discover)\n\n" + "\n".join(result.lines()) + "\n"))
        return
    if p.suffix.lower() != ".xlsx":
        raise QualcodeError(f"{path}: write the clusters to a .xlsx or .md file.")
    from ..excel.xlsx import Styles, write_only_workbook, write_table

    with write_only_workbook(path) as wb:
        st = Styles()
        rows = []
        for c in result.clusters:
            ex = [f"[{s['id']}] ({s['key']}) {s['text']}" for s in c.segments[:3]] + ["", "", ""]
            rows.append([c.number, c.size, ", ".join(c.terms), ", ".join(f"{g} {n}" for g, n in c.groups.items()),
                         *ex[:3]])
        write_table(wb, "Clusters", ["cluster", "size", "top terms", "groups", "example 1", "example 2", "example 3"],
                    rows, widths=[8, 6, 40, 18, 60, 60, 60], wrap_cols=[2, 4, 5, 6], styles=st)
        seg_rows = [[c.number, s["id"], s["key"], round(s["weight"], 3), s["text"]]
                    for c in result.clusters for s in c.segments]
        write_table(wb, "Segments", ["cluster", "segment", "speaker", "weight", "text"], seg_rows,
                    widths=[8, 9, 9, 8, 90], wrap_cols=[4], styles=st)
