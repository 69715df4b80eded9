"""Non-negative matrix factorisation for discover, in numpy (no scikit-learn import).

``X ~= W @ H`` with W, H >= 0, minimising the squared error, by coordinate descent: each column of W
in turn is set to its best non-negative value given the others (and then each row of H), the rows
being independent, so one numpy step updates a whole column. It stops when the projected gradient
has fallen to ``tol`` times its size after the first sweep, or after ``max_iter`` sweeps.

The start is NNDSVD with zeros filled by the matrix mean ("nndsvda", Boutsidis & Gallopoulos 2008):
each of the leading singular pairs, from a randomised SVD seeded by ``seed``, is split into its
positive and negative parts and the larger part kept. scikit-learn's ``NMF(init="nndsvda",
solver="cd")`` follows the same method; tests/test_discover.py compares the clusters with its.

The matrix is a :class:`SparseRows` (compressed rows in numpy: SciPy's sparse module takes longer to
import than discover takes to run on a study), or a SciPy CSR matrix; both give the same numbers,
as the products add up their terms in the same order.
"""

from __future__ import annotations

import numpy as np


class SparseRows:
    """A sparse matrix in compressed-row form (``indptr``, ``indices``, ``data``, as SciPy's CSR) with
    the few operations NMF needs: ``shape``, ``X @ dense``, the transpose and the sum."""

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, shape: tuple[int, int]):
        self.indptr, self.indices, self.data, self.shape = indptr, indices, data, shape
        self._rows = np.repeat(np.arange(shape[0]), np.diff(indptr))  # the row of each entry

    def __matmul__(self, M: np.ndarray) -> np.ndarray:
        """``X @ M`` for a dense ``M``: each row's terms added in the order of its entries (as SciPy does)."""
        M = np.asarray(M, dtype=np.float64)
        out = np.empty((self.shape[0], M.shape[1]))
        for j in range(M.shape[1]):
            out[:, j] = np.bincount(self._rows, weights=self.data * M[self.indices, j], minlength=self.shape[0])
        return out

    @property
    def T(self) -> "SparseRows":
        """The transpose, in compressed-row form (each new row's entries in increasing column order)."""
        order = np.argsort(self.indices, kind="stable")
        indptr = np.zeros(self.shape[1] + 1, dtype=np.int64)
        np.cumsum(np.bincount(self.indices, minlength=self.shape[1]), out=indptr[1:])
        return SparseRows(indptr, self._rows[order], self.data[order], (self.shape[1], self.shape[0]))

    def sum(self) -> float:
        return self.data.sum()


def _transposed(X):
    """``X.T`` in compressed-row form, for a :class:`SparseRows` or a SciPy sparse matrix."""
    return X.T if isinstance(X, SparseRows) else X.T.tocsr()


def nmf(X, n_components: int, *, seed: int = 0, max_iter: int = 500, tol: float = 1e-4,
        eps: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """W (documents x components) and H (components x words) for a :class:`SparseRows` or SciPy CSR
    matrix ``X``."""
    W, H = nndsvda(X, n_components, seed=seed, eps=eps)
    Ht = np.ascontiguousarray(H.T)
    Xt = _transposed(X)
    first = None
    for _ in range(max_iter):
        violation = _sweep(X, W, Ht) + _sweep(Xt, Ht, W)
        if first is None:
            first = violation
        if first == 0 or violation / first <= tol:
            break
    return W, Ht.T


def _sweep(X, W: np.ndarray, Ht: np.ndarray) -> float:
    """One coordinate-descent pass over the columns of W (in place); returns the projected gradient's size."""
    HHt = Ht.T @ Ht
    XHt = np.asarray(X @ Ht)
    violation = 0.0
    for t in range(W.shape[1]):
        grad = W @ HHt[t] - XHt[:, t]
        violation += float(np.abs(np.where(W[:, t] == 0, np.minimum(grad, 0.0), grad)).sum())
        if HHt[t, t] != 0:
            W[:, t] = np.maximum(W[:, t] - grad / HHt[t, t], 0.0)
    return violation


def randomized_svd(X, k: int, *, seed: int = 0, oversample: int = 10, power: int | None = None):
    """The ``k`` leading singular triplets of a sparse matrix by a seeded random projection refined by power
    iterations (Halko, Martinsson & Tropp 2011). The projection is drawn on the shorter side, kept well
    conditioned by an LU factorisation after each multiplication and made orthonormal (QR) at the end:
    the choices scikit-learn's ``randomized_svd`` makes, so both start NMF from the same matrices."""
    n, m = X.shape
    if power is None:
        power = 7 if k < 0.1 * min(n, m) else 4
    transpose = n < m
    A = _transposed(X) if transpose else X
    At = _transposed(A)
    rng = np.random.RandomState(seed)
    Q = rng.normal(size=(A.shape[1], k + oversample))
    for _ in range(power):
        Q = _lu_pl(np.asarray(A @ Q))
        Q = _lu_pl(np.asarray(At @ Q))
    Q, _ = np.linalg.qr(np.asarray(A @ Q))
    B = np.asarray(At @ Q).T
    Uh, s, Vt = np.linalg.svd(B, full_matrices=False)
    U = Q @ Uh
    if transpose:
        return Vt[:k].T, s[:k], U[:, :k].T
    return U[:, :k], s[:k], Vt[:k]


def _lu_pl(A: np.ndarray) -> np.ndarray:
    """``P @ L`` of the LU factorisation with partial pivoting ``A = P @ L @ U`` of a tall matrix (the
    largest remaining entry of each column as pivot, the first of equal ones)."""
    A = np.array(A, dtype=np.float64)
    n, r = A.shape
    perm = np.arange(n)
    for j in range(min(n, r)):
        p = j + int(np.argmax(np.abs(A[j:, j])))
        if p != j:
            A[[j, p]] = A[[p, j]]
            perm[[j, p]] = perm[[p, j]]
        if A[j, j] != 0:
            A[j + 1:, j] /= A[j, j]
            A[j + 1:, j + 1:] -= np.outer(A[j + 1:, j], A[j, j + 1:])
    L = np.tril(A[:, :min(n, r)], -1)
    L[np.arange(min(n, r)), np.arange(min(n, r))] = 1.0
    PL = np.empty_like(L)
    PL[perm] = L
    return PL


def nndsvda(X, k: int, *, seed: int = 0, eps: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    U, S, V = randomized_svd(X, k, seed=seed)
    W = np.zeros((X.shape[0], k))
    H = np.zeros((k, X.shape[1]))
    W[:, 0] = np.sqrt(S[0]) * np.abs(U[:, 0])
    H[0] = np.sqrt(S[0]) * np.abs(V[0])
    for j in range(1, k):
        x, y = U[:, j], V[j]
        xp, yp, xn, yn = np.maximum(x, 0), np.maximum(y, 0), -np.minimum(x, 0), -np.minimum(y, 0)
        xpn, ypn, xnn, ynn = (float(np.linalg.norm(v)) for v in (xp, yp, xn, yn))
        if xpn * ypn > xnn * ynn:
            u, v, sigma = xp / xpn, yp / ypn, xpn * ypn
        elif xnn * ynn > 0:
            u, v, sigma = xn / xnn, yn / ynn, xnn * ynn
        else:
            continue  # no usable part: the column starts at the mean below
        lam = np.sqrt(S[j] * sigma)
        W[:, j], H[j] = lam * u, lam * v
    W[W < eps] = 0
    H[H < eps] = 0
    mean = X.sum() / (X.shape[0] * X.shape[1])
    W[W == 0] = mean
    H[H == 0] = mean
    return W, H
