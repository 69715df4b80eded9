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
