"""TF-IDF in a few lines of numpy, for the commands that only need a cosine (report, workbook, review).

It computes what scikit-learn's ``TfidfVectorizer`` computes with its defaults (smoothed idf
``ln((1 + n) / (1 + df)) + 1``, optional sublinear tf ``1 + ln(tf)``, rows scaled to unit length,
features in sorted order), without importing scikit-learn and SciPy, which take longer to load than
the whole computation on a study's few thousand segments. tests/test_tfidf.py checks it against
scikit-learn's output.

A matrix is kept in compressed-row form (:class:`Tfidf`: ``indptr``, ``indices``, ``data``), so a
large project never needs a dense documents x words array.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

SKLEARN_TOKEN = re.compile(r"(?u)\b\w+\b")  # TfidfVectorizer(token_pattern=r"(?u)\b\w+\b")


@dataclass
class Tfidf:
    vocabulary: list[str]
    indptr: np.ndarray     # row i's entries are indices/data[indptr[i]:indptr[i + 1]]
    indices: np.ndarray    # column (vocabulary position) of each entry
    data: np.ndarray       # weight of each entry

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def row_of_entries(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_rows), np.diff(self.indptr))

    def row_nnz(self) -> np.ndarray:
        return np.diff(self.indptr)

    def column_sums(self, row_weights: np.ndarray | None = None) -> np.ndarray:
        """Sum of the rows (each multiplied by ``row_weights[row]`` when given), as a dense vector."""
        w = self.data if row_weights is None else self.data * row_weights[self.row_of_entries()]
        return np.bincount(self.indices, weights=w, minlength=len(self.vocabulary))

    def dot(self, vector: np.ndarray) -> np.ndarray:
        """Each row's dot product with a dense vector."""
        return np.bincount(self.row_of_entries(), weights=self.data * vector[self.indices], minlength=self.n_rows)


def tfidf(docs: Sequence[Iterable[str]], *, sublinear_tf: bool = False, min_df: int = 1,
          max_df: float = 1.0) -> Tfidf:
    """TF-IDF rows of ``docs`` (each a sequence of tokens), L2-normalised. Only words in at least
    ``min_df`` documents and at most ``max_df`` (a share) of them are kept. ValueError when no word is
    left (as scikit-learn's 'empty vocabulary' and 'no terms remain')."""
    counts = [Counter(d) for d in docs]
    df: Counter = Counter()
    for c in counts:
        df.update(c.keys())
    if not df:
        raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
    if min_df > 1 or max_df < 1.0:
        most = max_df * len(counts)
        df = Counter({w: n for w, n in df.items() if min_df <= n <= most})
        if not df:
            raise ValueError("after pruning, no terms remain")
        counts = [Counter({w: n for w, n in c.items() if w in df}) for c in counts]
    vocabulary = sorted(df)
    column = {w: j for j, w in enumerate(vocabulary)}
    n = len(counts)
    idf = np.array([math.log((1 + n) / (1 + df[w])) + 1.0 for w in vocabulary])
    indptr = np.zeros(n + 1, dtype=np.int64)
    indices: list[int] = []
    tf: list[float] = []
    for i, c in enumerate(counts):
        for w in sorted(c, key=column.__getitem__):
            indices.append(column[w])
            tf.append(c[w])
        indptr[i + 1] = len(indices)
    idx = np.array(indices, dtype=np.int64)
    data = np.array(tf, dtype=np.float64)
    if sublinear_tf:
        data = np.log(data) + 1.0
    data *= idf[idx]
    rows = np.repeat(np.arange(n), np.diff(indptr))
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=n))
    data /= np.where(norms > 0, norms, 1.0)[rows]
    return Tfidf(vocabulary, indptr, idx, data)


def as_scipy(X: Tfidf):
    """The matrix as a SciPy CSR matrix (SciPy's sparse module loads in a fraction of scikit-learn's time)."""
    from scipy.sparse import csr_matrix

    return csr_matrix((X.data, X.indices, X.indptr), shape=(X.n_rows, len(X.vocabulary)))


# ---------------------------------------------------------------- a fitted vectorizer (the code suggester)
_WHITE = re.compile(r"\s\s+")


def char_wb_grams(text: str, lo: int = 2, hi: int = 5) -> list[str]:
    """Character n-grams of ``lo``-``hi`` characters inside word boundaries, each word padded with one space
    (scikit-learn's ``analyzer="char_wb"``, on the text as given)."""
    out: list[str] = []
    for w in _WHITE.sub(" ", text).split():
        out.extend(_word_char_grams(w, lo, hi))
    return out


@lru_cache(maxsize=200_000)
def _word_char_grams(word: str, lo: int, hi: int) -> tuple[str, ...]:
    """The n-grams of one word (words repeat: each is cut once)."""
    out = []
    add = out.append
    w = f" {word} "
    size = len(w)
    for n in range(lo, hi + 1):
        offset = 0
        add(w[offset:offset + n])
        while offset + n < size:
            offset += 1
            add(w[offset:offset + n])
        if offset == 0:  # a word shorter than n counts once
            break
    return tuple(out)


def word_grams(text: str, lo: int = 1, hi: int = 1) -> list[str]:
    """Word ``lo``-``hi``-grams of a text whose tokens are separated by spaces (joined by one space)."""
    tokens = text.split()
    out = list(tokens) if lo <= 1 else []
    for n in range(max(lo, 2), min(hi, len(tokens)) + 1):
        out.extend(" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1))
    return out


def forget_words() -> None:
    """Drop the remembered n-grams of words (see :func:`char_wb_grams`)."""
    _word_char_grams.cache_clear()


class TermIndex:
    """Every term seen so far gets an integer id; each text is analysed once and remembered as (term ids,
    counts). One index serves the folds of a self-evaluation, so a text is analysed once, not once per fold.
    ``analyse`` gives a text's terms; or, with ``split``, ``analyse`` gives the terms of one piece of a text
    (a word) and a text's terms are those of its pieces in turn: each distinct piece is then analysed once.
    ``limit`` bounds how many texts are remembered (the oldest half is forgotten beyond it; ids stay)."""

    def __init__(self, analyse, *, split=None, limit: int = 50_000):
        self.analyse = analyse
        self.split = split
        self.limit = limit
        self.ids: dict[str, int] = {}
        self.terms: list[str] = []
        self.memo: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self.pieces: dict[str, np.ndarray] = {}

    def _ids(self, terms) -> list[int]:
        ids, names = self.ids, self.terms
        out = []
        for t in terms:
            i = ids.get(t)
            if i is None:
                i = ids[t] = len(names)
                names.append(t)
            out.append(i)
        return out

    def _piece(self, piece: str) -> np.ndarray:
        got = self.pieces.get(piece)
        if got is None:
            got = self.pieces[piece] = np.array(self._ids(self.analyse(piece)), dtype=np.int64)
        return got

    def terms_of(self, text: str) -> list[str]:
        """The terms of a text, in order (as scikit-learn's analyzer gives them)."""
        if self.split is None:
            return list(self.analyse(text))
        return [t for piece in self.split(text) for t in self.analyse(piece)]

    def counts(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        got = self.memo.get(text)
        if got is None:
            if self.split is None:
                c = Counter(self.analyse(text))
                got = (np.array(self._ids(c), dtype=np.int64), np.array(list(c.values()), dtype=np.float64))
            else:
                parts = [self._piece(p) for p in self.split(text)]
                ids, n = np.unique(np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64),
                                   return_counts=True)
                got = (ids, n.astype(np.float64))
            if len(self.memo) >= self.limit:
                for key in list(self.memo)[:self.limit // 2]:
                    del self.memo[key]
                if len(self.pieces) >= 4 * self.limit:
                    self.pieces.clear()
            self.memo[text] = got
        return got


def words_of(text: str) -> list[str]:
    """The words of a text as scikit-learn's ``char_wb`` analyzer sees them (split on white space)."""
    return _WHITE.sub(" ", text).split()


class TfidfVectorizer:
    """What scikit-learn's ``TfidfVectorizer(analyzer=..., sublinear_tf=..., min_df=..., max_features=...)``
    computes (smoothed idf, rows of unit length, columns in sorted order of the terms), on texts analysed
    through a :class:`TermIndex`. Kept terms: those in at least ``min_df`` training texts (all of them when
    none would be left); beyond ``max_features``, the most frequent (ties: alphabetical; scikit-learn breaks
    ties in no particular order). Returns SciPy CSR matrices (float64)."""

    def __init__(self, index: TermIndex, *, sublinear_tf: bool = True, min_df: int = 1,
                 max_features: int | None = None):
        self.index = index
        self.sublinear_tf = sublinear_tf
        self.min_df = min_df
        self.max_features = max_features

    def _rows(self, texts):
        rows = [self.index.counts(t) for t in texts]
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        indptr[1:] = np.cumsum([len(r[0]) for r in rows])
        ids = np.concatenate([r[0] for r in rows]) if rows else np.zeros(0, dtype=np.int64)
        cnt = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0)
        return indptr, ids, cnt

    def fit_transform(self, texts: Sequence[str]):
        indptr, ids, cnt = self._rows(texts)
        n_terms = len(self.index.terms)
        df = np.bincount(ids, minlength=n_terms)
        keep = df >= max(self.min_df, 1)
        if not keep.any():
            keep = df >= 1
        kept = np.flatnonzero(keep)
        if self.max_features is not None and len(kept) > self.max_features:
            tf = np.bincount(ids, weights=cnt, minlength=n_terms)[kept]
            names = [self.index.terms[i] for i in kept]
            order = sorted(range(len(kept)), key=lambda j: (-tf[j], names[j]))[:self.max_features]
            kept = kept[np.sort(np.asarray(order, dtype=np.int64))]
        names = [self.index.terms[i] for i in kept]
        order = sorted(range(len(kept)), key=names.__getitem__)
        self.terms_ = [names[j] for j in order]
        self.column_ = np.full(n_terms, -1, dtype=np.int64)
        self.column_[kept[order]] = np.arange(len(kept))
        n = len(texts)
        self.idf_ = np.log((1.0 + n) / (1.0 + df[kept[order]])) + 1.0
        return self._matrix(indptr, ids, cnt)

    def transform(self, texts: Sequence[str]):
        return self._matrix(*self._rows(texts))

    def _matrix(self, indptr, ids, cnt):
        from scipy.sparse import csr_matrix

        col = np.full(len(ids), -1, dtype=np.int64)
        known = ids < len(self.column_)
        col[known] = self.column_[ids[known]]
        ok = col >= 0
        row = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))[ok]
        col, data = col[ok], cnt[ok]
        if self.sublinear_tf:
            data = np.log(data) + 1.0
        data = data * self.idf_[col]
        n = len(indptr) - 1
        norms = np.sqrt(np.bincount(row, weights=data * data, minlength=n))
        data = data / np.where(norms > 0, norms, 1.0)[row]
        out = csr_matrix((data, (row, col)), shape=(n, len(self.terms_)))
        out.sort_indices()
        return out

    @property
    def vocabulary_(self) -> dict[str, int]:
        """Term -> column, as scikit-learn's ``vocabulary_``."""
        if getattr(self, "_vocabulary", None) is None:
            self._vocabulary = {t: j for j, t in enumerate(self.terms_)}
        return self._vocabulary

    def build_analyzer(self):
        return self.index.terms_of
