"""Inductive discovery: deterministic clusters of uncoded participant segments, and --create."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from qualcode.coding import discover as lib
from qualcode.errors import ConflictError, NotFoundError, QualcodeError

from test_suggest import OTHER
from test_suggest_cli import make_project


@pytest.fixture
def store(tmp_path):
    from qualcode.store import Store

    s = Store.open(make_project(tmp_path, coded_groups=("1",)))
    yield s
    s.close()


def test_clusters_are_deterministic_and_cover_uncoded_segments(store):
    a = lib.discover(store, n_clusters=3, seed=1)
    b = lib.discover(store, n_clusters=3, seed=1)
    assert [(c.number, c.terms, [s["id"] for s in c.segments]) for c in a.clusters] == \
           [(c.number, c.terms, [s["id"] for s in c.segments]) for c in b.clusters]
    uncoded = store.uncoded_segment_ids(role="participant")
    ids = [s["id"] for c in a.clusters for s in c.segments]
    assert len(ids) == len(set(ids)) and set(ids) <= uncoded
    f1 = {s["text"] for c in a.clusters for s in c.segments if s["group"] == "F1"}
    assert f1 and f1 <= set(OTHER)  # of F1 only the segments its coder left uncoded
    assert [c.size for c in a.clusters] == sorted((c.size for c in a.clusters), reverse=True)
    for c in a.clusters:
        assert sum(c.groups.values()) == c.size and len(c.terms) <= 8
    text = "\n".join(a.lines())
    assert "cluster 1:" in text and "terms:" in text and "--create CLUSTER NAME" in text


TOPICS = {
    "garden": ["roses", "tulips", "garden", "flowers", "soil", "watering"],
    "football": ["football", "goal", "referee", "match", "stadium", "striker"],
    "music": ["piano", "violin", "concert", "orchestra", "melody", "rehearsal"],
}


def test_separate_topics_become_separate_clusters(tmp_path):
    from qualcode.ingest import ingest
    from qualcode.store import Store

    lines = ["group,speaker,text"]
    for t, words in TOPICS.items():
        for i in range(8):
            picked = [words[(i + k) % 6] for k in range(4)]
            lines.append(f"{1 + i % 2},P{1 + i % 3},I talk about {' and '.join(picked)} today")
    (tmp_path / "t.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = Store.create(tmp_path / "d.qualcode", language="en")
    ingest(store, [str(tmp_path / "t.csv")], allow_new_speakers=True)
    d = lib.discover(store, n_clusters=3, seed=0)
    assert sorted(c.size for c in d.clusters) == [8, 8, 8]
    for c in d.clusters:
        topic = next(t for t, words in TOPICS.items() if any(w.startswith(c.terms[0]) for w in words))
        assert all(any(w in s["text"] for w in TOPICS[topic]) for s in c.segments)
        assert all(any(w.startswith(term) for w in TOPICS[topic]) for term in c.terms[:4])  # lemmas
        assert c.groups == {"F1": 4, "F2": 4}
    store.close()


def test_create_code_makes_suggestions_not_codings(store):
    d = lib.discover(store, n_clusters=3, seed=0)
    before = store.count_codings()
    created = lib.create_code(store, 2, "Daily life", n_clusters=3, seed=0, theme="work", coder="ann")
    assert created.key == "daily_life" and created.n_suggestions == d.clusters[1].size
    code = store.code("daily_life")
    assert code["name"] == "Daily life" and code["theme"] == "work"
    assert code["description"].startswith("Found inductively (discover cluster 2): ")
    assert store.count_codings() == before
    sug = store.suggestions(source="discover")
    assert {s["segment_id"] for s in sug} == {s["id"] for s in d.clusters[1].segments}
    assert {s["code"] for s in sug} == {"daily_life"} and max(s["confidence"] for s in sug) == 1.0
    act = store.history(1)[0]
    assert act["command"] == "discover create" and act["summary"] == "code 'daily_life' from cluster 2"
    store.undo(1)
    assert "daily_life" not in store.code_ids() and not store.suggestions(source="discover")


def test_create_errors(store):
    with pytest.raises(NotFoundError, match="unknown cluster '9'"):
        lib.create_code(store, 9, "X", n_clusters=3)
    lib.create_code(store, 1, "Money talk", n_clusters=3)
    with pytest.raises(ConflictError) as err:
        lib.create_code(store, 2, "money talk", n_clusters=3)
    assert str(err.value) == "a code 'money_talk' already exists; choose another name."
    with pytest.raises(QualcodeError, match="ask for fewer clusters"):
        lib.discover(store, n_clusters=50)


def test_cli_discover_writes_sheet_and_creates(tmp_path, run):
    project = make_project(tmp_path, coded_groups=("1",))
    out = tmp_path / "d.xlsx"
    r = run(project, "discover", "--n", "3", "--out", out)
    assert r.exit_code == 0, r.output
    assert "uncoded participant segments in 3 clusters" in r.output
    wb = load_workbook(out)
    header = [c.value for c in wb["Clusters"][1]]
    assert header == ["cluster", "size", "top terms", "groups", "example 1", "example 2", "example 3"]
    rows = list(wb["Clusters"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in rows] == [1, 2, 3]
    assert sum(row[1] for row in rows) == wb["Segments"].max_row - 1
    md = tmp_path / "d.md"
    assert run(project, "discover", "--n", "3", "--out", md).exit_code == 0
    assert md.read_text(encoding="utf-8").startswith("# Candidate codes (qualcode discover)")
    r = run(project, "discover", "--n", "3", "--create", "1", "Talk about money")
    assert r.exit_code == 0 and "created code 'talk_about_money'" in r.output


@pytest.mark.parametrize("n_clusters,seed", [(8, 0), (5, 3)])
def test_numpy_nmf_gives_scikit_learns_clusters(sample_store, n_clusters, seed):
    """discover's TF-IDF and NMF (numpy, issue 24) against scikit-learn's TfidfVectorizer(min_df=2,
    max_df=0.5, sublinear_tf=True) and NMF(init='nndsvda', solver='cd') on the sample's participant
    segments: the same matrix, each segment in the same cluster, the same top terms."""
    import numpy as np
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    from qualcode.coding.nmf import nmf
    from qualcode.text.lemmas import load
    from qualcode.text.tfidf import as_scipy, tfidf

    content = load(sample_store).content
    lemmas = [content[s["id"]] for s in sample_store.segments(role="participant") if len(content[s["id"]]) >= 3]
    assert len(lemmas) > 500
    X = tfidf(lemmas, min_df=2, max_df=0.5, sublinear_tf=True)
    vec = TfidfVectorizer(analyzer=lambda x: x, min_df=2, max_df=0.5, sublinear_tf=True)
    Xs = vec.fit_transform(lemmas)
    assert X.vocabulary == list(vec.get_feature_names_out())
    assert np.allclose(as_scipy(X).toarray(), Xs.toarray(), rtol=0, atol=1e-12)
    W, H = nmf(as_scipy(X), n_clusters, seed=seed, max_iter=500)
    model = NMF(n_components=n_clusters, init="nndsvda", random_state=seed, max_iter=500)
    Ws = model.fit_transform(Xs)
    assert (W.argmax(axis=1) == Ws.argmax(axis=1)).all()
    for k in range(n_clusters):
        assert list(H[k].argsort()[::-1][:8]) == list(model.components_[k].argsort()[::-1][:8])
    assert np.allclose(W, Ws, rtol=0, atol=1e-6)


def test_tfidf_refuses_when_pruning_leaves_no_word():
    from qualcode.text.tfidf import tfidf

    with pytest.raises(ValueError):
        tfidf([["een"], ["twee"], ["drie"]], min_df=2)


def test_nmf_on_numpy_rows_equals_nmf_on_scipy_to_the_last_bit(sample_store):
    """discover runs NMF on numpy's compressed rows for a study's few thousand weights (no SciPy
    import) and on SciPy's CSR matrix above SCIPY_FROM: the same products in the same order, so the
    same clusters and weights exactly."""
    import numpy as np

    from qualcode.coding.nmf import SparseRows, nmf
    from qualcode.text.lemmas import load
    from qualcode.text.tfidf import as_scipy, tfidf

    content = load(sample_store).content
    lemmas = [content[s["id"]] for s in sample_store.segments(role="participant") if len(content[s["id"]]) >= 3]
    X = tfidf(lemmas, min_df=2, max_df=0.5, sublinear_tf=True)
    rows = SparseRows(X.indptr, X.indices, X.data, (X.n_rows, len(X.vocabulary)))
    csr = as_scipy(X)
    M = np.random.RandomState(3).normal(size=(csr.shape[1], 5))
    assert np.array_equal(rows @ M, csr @ M)
    assert np.array_equal(rows.T @ (rows @ M), csr.T.tocsr() @ (csr @ M))
    assert np.array_equal(rows.T.T @ M, csr @ M) and rows.T.shape == csr.T.shape
    assert rows.sum() == csr.sum()
    for n_clusters, seed in ((8, 0), (5, 3)):
        W1, H1 = nmf(rows, n_clusters, seed=seed)
        W2, H2 = nmf(csr, n_clusters, seed=seed)
        assert np.array_equal(W1, W2) and np.array_equal(H1, H2)


def test_sparse_rows_of_a_matrix_with_empty_rows_and_columns():
    import numpy as np
    from scipy.sparse import csr_matrix

    from qualcode.coding.nmf import SparseRows

    dense = np.array([[0.0, 2.0, 0.0, 1.0], [0.0, 0.0, 0.0, 0.0], [3.0, 0.0, 0.0, 4.0]])
    csr = csr_matrix(dense)
    rows = SparseRows(csr.indptr, csr.indices, csr.data, csr.shape)
    M = np.arange(8.0).reshape(4, 2)
    assert np.array_equal(rows @ M, dense @ M)
    assert np.array_equal(rows.T @ np.ones((3, 1)), dense.T @ np.ones((3, 1)))
    assert rows.T.shape == (4, 3) and list(rows.T.indptr) == [0, 1, 2, 2, 4]
