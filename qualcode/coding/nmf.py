"""Non-negative matrix factorisation for discover, in numpy (no scikit-learn import).

``X ~= W @ H`` with W, H >= 0, minimising the squared error, by coordinate descent: each column of W
in turn is set to its best non-negative value given the others (and then each row of H), the rows
being independent, so one numpy step updates a whole column. It stops when the projected gradient
has fallen to ``tol`` times its size after the first sweep, or after ``max_iter`` sweeps.

The start is NNDSVD with zeros filled by the matrix mean ("nndsvda", Boutsidis & Gallopoulos 2008):
each of the leading singular pairs, from a randomised SVD seeded by ``seed``, is split into its
positive and negative parts and the larger part kept. scikit-learn's ``NMF(init="nndsvda",
solver="cd")`` follows the same method; tests/test_discover.py compares the clusters with its.
"""

from __future__ import annotations

import numpy as np


def nmf(X, n_components: int, *, seed: int = 0, max_iter: int = 500, tol: float = 1e-4,
        eps: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    """W (documents x components) and H (components x words) for a SciPy CSR matrix ``X``."""
    W, H = nndsvda(X, n_components, seed=seed, eps=eps)
    Ht = np.ascontiguousarray(H.T)
    Xt = X.T.tocsr()
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
    A = X.T.tocsr() if transpose else X
    rng = np.random.RandomState(seed)
    Q = rng.normal(size=(A.shape[1], k + oversample))
    for _ in range(power):
        Q = _lu_pl(np.asarray(A @ Q))
        Q = _lu_pl(np.asarray(A.T @ Q))
    Q, _ = np.linalg.qr(np.asarray(A @ Q))
    B = np.asarray(A.T @ Q).T
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
