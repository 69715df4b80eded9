"""L2-regularised logistic regression for many codes at once, written with numpy.

The suggester needs one logistic regression per code (one-vs-rest, multi-label), fitted several times per
self-evaluation (each fold, and the folds of the calibration inside it). This module solves them all together,
without scikit-learn (importing it takes longer than the whole fit on a study's few thousand segments).

Each code ``k`` gets the problem that scikit-learn's ``LogisticRegression(solver="liblinear", C=C)`` solves
(with its default ``intercept_scaling=1``: the intercept is one more feature, of value 1, and is penalised like
the weights)::

    minimise over (w, b):  (|w|^2 + b^2) / 2  +  C * sum_i s_i * log(1 + exp(-t_ik * (x_i . w + b)))

with ``t_ik`` = +1 when segment ``i`` has code ``k`` and -1 when not, and ``s_i`` the segment's weight.

Text has many more features than segments, so the problem is solved in the span of the training rows (the
optimal ``(w, b)`` is a combination of the rows ``(x_i, 1)``; any other direction only adds to the penalty).
With the Gram matrix ``G = X X^T + 1`` factored as ``G = L L^T`` (Cholesky) and ``(w, b) = sum_i a_i (x_i, 1)``,
``z = L^T a`` turns it into an ``n``-dimensional dense problem with the same optimum::

    minimise over z:  |z|^2 / 2  +  C * sum_i loss_i((L z)_i)

solved by L-BFGS for every code in lock-step: one product with ``L`` and one with ``L^T`` per iteration serve
all codes, and a trial step costs no product at all (the scores move linearly along the search direction).
Segments whose rows are identical are merged first (their weights per code added up), so ``G`` has no
repeated rows. The Gram matrix of a subset of the rows is a sub-matrix of ``G``: the fits of a calibration
inside one fold reuse it (:class:`RowSpace`).

tests/test_logistic.py compares the coefficients and probabilities with scikit-learn's liblinear fit.
"""

from __future__ import annotations

from contextlib import contextmanager

import numpy as np

TOL = 1e-5          # stop when a code's gradient norm is below TOL times its norm at zero
MAX_ITER = 500
MEMORY = 12         # L-BFGS correction pairs


SMALL = 2_500       # up to this many rows, BLAS runs on one thread (see one_blas_thread)


@contextmanager
def one_blas_thread(n_rows: int):
    """Run BLAS (matrix products, Cholesky) on one thread while the problem is small (``n_rows`` <= SMALL): a
    few hundred rows take milliseconds on one core, whereas waking a pool of BLAS threads on a busy machine
    (other processes on the cores) costs up to a second per call. Uses threadpoolctl (a dependency of
    scikit-learn) when installed; otherwise does nothing."""
    if n_rows > SMALL:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - installed with scikit-learn
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def gram(X, dense=None) -> np.ndarray:
    """``X X^T + 1`` of a SciPy CSR matrix ``X`` (n x d), as a dense float64 array. Columns used by many rows
    are multiplied as a dense block (BLAS), the rest as sparse products; ``dense`` (n x m array) is an
    optional extra dense block of features (e.g. sentence vectors) beside ``X``."""
    n = X.shape[0]
    G = np.ones((n, n))
    if X.shape[1] and X.nnz:
        Xc = X.tocsc()
        df = np.diff(Xc.indptr)
        busy = df > max(8, n // 40)
        if busy.any():
            block = Xc[:, np.flatnonzero(busy)].toarray()
            G += block @ block.T
        if (~busy).any():
            rest = Xc[:, np.flatnonzero(~busy)].tocsr()
            G += (rest @ rest.T).toarray()
    if dense is not None and dense.shape[1]:
        D = np.asarray(dense, dtype=np.float64)
        G += D @ D.T
    return G


def unique_rows(X, dense=None) -> tuple[np.ndarray, np.ndarray]:
    """(first row of each group of identical rows, group of every row) of CSR ``X`` (plus ``dense``)."""
    X = X.tocsr()
    X.sort_indices()
    seen: dict = {}
    first, group = [], np.empty(X.shape[0], dtype=np.int64)
    for i in range(X.shape[0]):
        a, b = X.indptr[i], X.indptr[i + 1]
        key = (X.indices[a:b].tobytes(), X.data[a:b].tobytes(),
               b"" if dense is None else np.ascontiguousarray(dense[i]).tobytes())
        g = seen.get(key)
        if g is None:
            g = seen[key] = len(first)
            first.append(i)
        group[i] = g
    return np.asarray(first, dtype=np.int64), group


def _cholesky(G: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor of ``G`` (a scratch copy: its diagonal is changed and put back), with the smallest
    diagonal jitter that lets it succeed (rows that are nearly, not exactly, identical make ``G`` nearly
    singular)."""
    scale = float(np.mean(np.diag(G))) if len(G) else 1.0
    diagonal = np.diag(G).copy()
    for jitter in (1e-12, 1e-10, 1e-8, 1e-6):
        np.fill_diagonal(G, diagonal + jitter * scale)
        try:
            return np.linalg.cholesky(G)
        except np.linalg.LinAlgError:
            continue
        finally:
            np.fill_diagonal(G, diagonal)
    raise np.linalg.LinAlgError("the Gram matrix of the segments is not positive definite")


BLOCK = 64


def solve_lower(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``L^-1 B`` for a lower-triangular ``L``, by blocks: each diagonal block is inverted (small), the rest
    is matrix products (numpy alone: ``scipy.linalg`` takes longer to import than this takes to run)."""
    X = np.array(B, dtype=np.float64)
    for a in range(0, len(L), BLOCK):
        b = min(a + BLOCK, len(L))
        if a:
            X[a:b] -= L[a:b, :a] @ X[:a]
        X[a:b] = np.linalg.solve(L[a:b, a:b], X[a:b])
    return X


def solve_upper_t(L: np.ndarray, B: np.ndarray) -> np.ndarray:
    """``L^-T B`` for a lower-triangular ``L`` (back substitution by blocks of ``L^T``)."""
    X = np.array(B, dtype=np.float64)
    n = len(L)
    starts = list(range(0, n, BLOCK))
    for a in reversed(starts):
        b = min(a + BLOCK, n)
        if b < n:
            X[a:b] -= L[b:, a:b].T @ X[b:]
        X[a:b] = np.linalg.solve(L[a:b, a:b].T, X[a:b])
    return X


def _softplus(u: np.ndarray) -> np.ndarray:
    return np.logaddexp(0.0, u)


def _sigmoid(u: np.ndarray) -> np.ndarray:
    out = np.empty_like(u)
    pos = u >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-u[pos]))
    e = np.exp(u[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def solve(L: np.ndarray, Wpos: np.ndarray, Wneg: np.ndarray, *, C: float, Z0: np.ndarray | None = None,
          tol: float = TOL, max_iter: int = MAX_ITER) -> np.ndarray:
    """The ``z`` (n x K) minimising ``|z_k|^2 / 2 + C * sum_i (Wpos_ik log(1 + e^-u_ik) + Wneg_ik log(1 + e^u_ik))``
    with ``u = L z``, for every column ``k`` (L-BFGS, all columns in lock-step, each with its own memory and
    step). ``Wpos``/``Wneg``: the weight of row ``i`` as an example / non-example of code ``k``."""
    n, K = Wpos.shape
    Z = np.zeros((n, K)) if Z0 is None else np.array(Z0, dtype=np.float64)
    if not K or not n:
        return Z
    Wsum = Wpos + Wneg
    LT = L.T

    def losses(U, cols):
        soft = _softplus(U)  # log(1 + e^u); log(1 + e^-u) = that - u
        return C * np.sum(Wpos[:, cols] * (soft - U) + Wneg[:, cols] * soft, axis=0)

    def residual(U, cols):
        return C * (Wsum[:, cols] * _sigmoid(U) - Wpos[:, cols])

    every = np.arange(K)
    scale = np.linalg.norm(LT @ residual(np.zeros((n, K)), every), axis=0)  # the gradient's size at z = 0
    limit = tol * np.maximum(scale, 1e-300)
    U = L @ Z
    F = 0.5 * np.sum(Z * Z, axis=0) + losses(U, every)
    Gr = Z + LT @ residual(U, every)
    active = np.flatnonzero(np.linalg.norm(Gr, axis=0) > limit)
    # the state of the active columns only (compressed whenever a column converges)
    Za, Ua, Ga, Fa = Z[:, active], U[:, active], Gr[:, active], F[active]
    S: list[np.ndarray] = []
    Y: list[np.ndarray] = []
    R: list[np.ndarray] = []
    for _ in range(max_iter):
        if not len(active):
            break
        q = Ga.copy()  # two-loop recursion, every column with its own pairs
        alphas = []
        for s, y, r in zip(reversed(S), reversed(Y), reversed(R)):
            a = r * np.einsum("ij,ij->j", s, q)
            q -= y * a
            alphas.append(a)
        if S:
            yy = np.einsum("ij,ij->j", Y[-1], Y[-1])
            q *= np.where(yy > 0, np.einsum("ij,ij->j", S[-1], Y[-1]) / np.where(yy > 0, yy, 1.0), 1.0)
        else:
            q /= np.maximum(1.0, np.linalg.norm(q, axis=0))
        for s, y, r, a in zip(S, Y, R, reversed(alphas)):
            q += s * (a - r * np.einsum("ij,ij->j", y, q))
        P = -q
        slope = np.einsum("ij,ij->j", Ga, P)
        bad = slope >= 0  # not a descent direction (should not happen): fall back to the gradient
        if bad.any():
            P[:, bad] = -Ga[:, bad]
            slope[bad] = -np.einsum("ij,ij->j", Ga[:, bad], Ga[:, bad])
        Q = L @ P
        zz, zp, pp = (np.einsum("ij,ij->j", Za, Za), np.einsum("ij,ij->j", Za, P), np.einsum("ij,ij->j", P, P))
        t = np.ones(len(active))
        for _ in range(60):  # backtracking (Armijo): a trial step needs no matrix product
            Unew = Ua + Q * t
            Fnew = 0.5 * (zz + 2 * t * zp + t * t * pp) + losses(Unew, active)
            short = Fnew > Fa + 1e-4 * t * slope
            if not short.any():
                break
            t = np.where(short, t * 0.5, t)
        step = P * t
        Znew = Za + step
        Gnew = Znew + LT @ residual(Unew, active)
        diff = Gnew - Ga
        sy = np.einsum("ij,ij->j", step, diff)
        S.append(step)
        Y.append(diff)
        R.append(np.where(sy > 1e-12, 1.0 / np.where(sy > 1e-12, sy, 1.0), 0.0))  # 0: the pair does nothing
        if len(S) > MEMORY:
            S.pop(0), Y.pop(0), R.pop(0)
        Z[:, active], U[:, active] = Znew, Unew
        done = np.linalg.norm(Gnew, axis=0) <= limit[active]
        done |= (Fa - Fnew) <= 1e-14 * np.maximum(1.0, np.abs(Fa))  # no more progress possible
        Za, Ua, Ga, Fa = Znew, Unew, Gnew, Fnew
        if done.any():
            keep = ~done
            active = active[keep]
            Za, Ua, Ga, Fa = Za[:, keep], Ua[:, keep], Ga[:, keep], Fa[keep]
            S, Y, R = [s[:, keep] for s in S], [y[:, keep] for y in Y], [r[keep] for r in R]
    return Z


class RowSpace:
    """Logistic regressions on rows of one feature matrix, solved in the span of the rows (see the module's
    docstring). ``X`` is a SciPy CSR matrix, ``dense`` an optional dense block of more features. The Gram
    matrix is computed once; :meth:`fit` on any subset of the rows reuses it."""

    def __init__(self, X, dense=None):
        self.X = X.tocsr()
        self.dense = dense
        self.first, self.group = unique_rows(self.X, dense)
        U = self.X[self.first]
        self.G = gram(U, None if dense is None else np.asarray(dense)[self.first])
        self._factor = None  # (distinct rows, Cholesky factor) of the last fit: the next one on them reuses it

    def fit(self, Y: np.ndarray, weights: np.ndarray, *, C: float, rows: np.ndarray | None = None,
            start: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(``A``, ``used``): the coefficients (one row per distinct row used, one column per code) of the fit on ``rows``
        (default all) with labels ``Y`` (n x K booleans) and row ``weights`` (n, or n x K: a weight per row and
        code; a zero leaves the row out of that code's fit): the model of code ``k`` is
        ``(w, b) = sum_j A[j, k] (x_j, 1)`` over the distinct rows ``used`` (indices into :attr:`first`). ``start``: scores (n x K) of
        an earlier fit, whose model is projected onto these rows as a warm start."""
        rows = np.arange(self.X.shape[0]) if rows is None else np.asarray(rows)
        groups, inverse = np.unique(self.group[rows], return_inverse=True)
        Yb = np.asarray(Y, dtype=bool)[rows]
        w = np.asarray(weights, dtype=np.float64)[rows]
        w = w if w.ndim == 2 else w[:, None]
        Wpos = np.zeros((len(groups), Y.shape[1]))
        Wneg = np.zeros_like(Wpos)
        np.add.at(Wpos, inverse, w * Yb)
        np.add.at(Wneg, inverse, w * ~Yb)
        known = self._factor
        if known is not None and len(groups) <= len(known[0]) and np.array_equal(known[0][:len(groups)], groups):
            L = known[1][:len(groups), :len(groups)]  # the factor of a leading block is the factor's leading block
        else:
            L = _cholesky(self.G[np.ix_(groups, groups)])
            self._factor = (groups, L)
        Z0 = None
        if start is not None:  # scores of the earlier model on these rows -> its projection onto their span
            first_of = np.zeros(len(groups), dtype=np.int64)
            first_of[inverse] = rows
            Z0 = solve_lower(L, np.asarray(start, dtype=np.float64)[first_of])
        Z = solve(L, Wpos, Wneg, C=C, Z0=Z0)
        return solve_upper_t(L, Z), groups

    def scores(self, A: np.ndarray, used: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Decision scores (x_i . w + b) on ``rows`` (default all) of the model ``A`` over distinct rows ``used``."""
        rows = np.arange(self.X.shape[0]) if rows is None else np.asarray(rows)
        return self.G[np.ix_(self.group[rows], used)] @ A

    def coefficients(self, A: np.ndarray, used: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(coef (K x d, plus the dense block's columns at the end), intercept (K,)) of the model ``A``."""
        rows = self.first[used]
        coef = np.asarray(self.X[rows].T @ A).T
        if self.dense is not None:
            coef = np.hstack([coef, (np.asarray(self.dense, dtype=np.float64)[rows].T @ A).T])
        return coef, A.sum(axis=0)
