"""Code suggestions learnt from the researcher's own coding, and an honest self-evaluation.

:class:`CodeSuggester` is a scikit-learn estimator for multi-label code suggestion:

* features: word 1-2-grams over lemmas (blank spaCy tokens + simplemma lemmas, see
  :mod:`qualcode.text.nlp`), character 2-5-grams of the raw text (they catch Dutch compounds such as
  "arbeidsre-integratie" and dialect spellings such as "ge"/"gij", and punctuation such as a
  closing "?"), the words of the previous turn (often the moderator's question) as a separately
  weighted block, and two "echo" figures (how much of the segment repeats the previous turn, and
  its length);
* prior knowledge: each code's name, description, include text, example and rule keywords from
  the codebook are added as one pseudo-example of that code, so codes with few examples start
  from what the codebook says;
* one logistic regression per code (one-vs-rest, multi-label), with Platt scaling fitted on
  out-of-fold scores when a code has enough examples, so that a threshold of 0.5 means roughly
  "right at least half the time"; codes with few examples keep the plain (conservative)
  logistic probability;
* large projects: beyond ``max_samples`` (20,000) training segments the model learns from a
  deterministic sample stratified by code, with each code's log-odds corrected for the sample's
  over-representation of it; beyond ``holdout_above`` (8,000) Platt scaling is fitted on one
  shared held-out third instead of out-of-fold refits (see docs/suggest.md, "Large projects").

:func:`evaluate` scores any such estimator by leave-one-transcript-out (or grouped k-fold when
there are many transcripts): every figure comes from segments of a transcript the model did
not see while fitting.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any, Callable, Iterable, Sequence

import numpy as np
from sklearn.base import BaseEstimator

from ..errors import NotFittedError, QualcodeError
from ..store.core import exported

_TOKEN = re.compile(r"\w+(?:[-'’]\w+)*|[?!]", re.UNICODE)


# ----------------------------------------------------------------- documents
def as_doc(item: Any) -> dict:
    """A segment as the estimator sees it: {'text', 'context', 'id', 'vector', 'where'} (a plain string is
    a text). 'vector' is its sentence vector when known (see :mod:`.semantic`), 'where' a short label
    of where it is (source and segment number) used in explanations."""
    if isinstance(item, str):
        return {"text": item, "context": "", "id": None, "vector": None, "where": ""}
    if isinstance(item, dict):
        where = item.get("where")
        if where is None and item.get("group") is not None and item.get("key") is not None:
            where = f"{item['key']} #{item.get('ordinal', '?')}"  # the key names the group too: 'F1 P2'
        elif where is None and item.get("source") is not None:
            where = f"{item['source']} #{item.get('ordinal', '?')}"
        return {"text": str(item.get("text") or ""), "context": str(item.get("context") or ""),
                "id": item.get("id"), "vector": item.get("vector"), "where": where or ""}
    raise TypeError(f"a segment must be a str or a dict with 'text', got {type(item).__name__}")


def lemma_tokens(text: str, language: str) -> list[str]:
    """Lower-cased lemmas of a text, keeping '?' and '!' as tokens."""
    from ..text.nlp import lemmatizer

    lem = lemmatizer(language).lemma
    return [t if t in "?!" else lem(t) for t in _TOKEN.findall(text.lower())]


def _split(s: str) -> list[str]:
    return s.split()


@lru_cache(maxsize=4096)
def _char_analyzer(lo: int, hi: int):
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(analyzer="char_wb", ngram_range=(lo, hi)).build_analyzer()


@lru_cache(maxsize=2048)
def char_grams(text: str, lo: int = 2, hi: int = 5) -> tuple[str, ...]:
    """The character n-grams of ``text`` within word boundaries (scikit-learn's 'char_wb'), remembered
    for the last 2,048 texts: a self-evaluation analyses each text once, not once per fold."""
    return tuple(_char_analyzer(lo, hi)(text))


# ----------------------------------------------------------------- estimator
class CodeSuggester(BaseEstimator):
    """Multi-label code suggester (one calibrated linear model per code).

    ``fit(X, y)``: X is a sequence of segments (str, or dict with 'text', optional 'context' = the
    previous turn's text, optional 'id'); y is a sequence of code-key lists (an empty list = the
    coder gave this segment no code). ``predict_proba`` returns an (n_segments, n_codes) array in
    the order of ``classes_``; ``predict`` returns, per segment, the codes at or above ``threshold``.
    """

    def __init__(self, *, language: str = "en", word_ngrams: tuple = (1, 2), char_ngrams: tuple = (2, 5),
                 use_chars: bool = True, char_weight: float = 1.0, context_weight: float = 0.5,
                 echo_weight: float = 1.0, codebook: dict | None = None, prior_weight: float = 1.0,
                 C: float = 4.0, min_calibration: int = 8, calibration_folds: int = 3,
                 threshold: float = 0.5, max_samples: int | None = 20_000, holdout_above: int | None = 8_000,
                 semantic_weight: float = 0.0, random_state: int | None = 0):
        self.language = language
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.use_chars = use_chars
        self.char_weight = char_weight
        self.context_weight = context_weight
        self.echo_weight = echo_weight
        self.codebook = codebook
        self.prior_weight = prior_weight
        self.C = C
        self.min_calibration = min_calibration
        self.calibration_folds = calibration_folds
        self.threshold = threshold
        self.max_samples = max_samples
        self.holdout_above = holdout_above
        self.semantic_weight = semantic_weight
        self.random_state = random_state

    # ------------------------------------------------------------ features
    def _lemmas(self, docs: list[dict]) -> tuple[list[str], list[str]]:
        text = [" ".join(lemma_tokens(d["text"], self.language)) for d in docs]
        ctx = [" ".join(lemma_tokens(d["context"], self.language)) for d in docs]
        return text, ctx

    def _echo(self, text_lemmas: list[str], ctx_lemmas: list[str], docs: list[dict]) -> np.ndarray:
        from ..text.nlp import stop_words

        stops = stop_words(self.language)
        out = np.zeros((len(docs), 3))
        for i, (t, c) in enumerate(zip(text_lemmas, ctx_lemmas)):
            tw = {w for w in t.split() if w not in stops and len(w) > 2}
            cw = {w for w in c.split() if w not in stops and len(w) > 2}
            if tw:
                out[i, 0] = len(tw & cw) / len(tw)
            if tw | cw:
                out[i, 1] = len(tw & cw) / len(tw | cw)
            out[i, 2] = math.log1p(len(t.split())) / 5.0
        return out * self.echo_weight

    def _features(self, docs: list[dict], *, fit: bool):
        """The feature matrix of ``docs`` (fitting the vectorizers first when ``fit``). Each text is
        analysed once: when fitting, ``fit_transform`` gives the matrix in the same pass."""
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer

        text_l, ctx_l = self._lemmas(docs)
        raw = [d["text"].lower() for d in docs]
        blocks = []
        if fit:
            self.word_vectorizer_ = TfidfVectorizer(tokenizer=_split, token_pattern=None, lowercase=False,
                                                    ngram_range=tuple(self.word_ngrams), sublinear_tf=True,
                                                    dtype=np.float32)
            blocks.append(self.word_vectorizer_.fit_transform(text_l))
            self.char_vectorizer_ = None
            if self.use_chars:
                lo, hi = self.char_ngrams
                self.char_vectorizer_ = TfidfVectorizer(analyzer=partial(char_grams, lo=int(lo), hi=int(hi)),
                                                        sublinear_tf=True, min_df=2, max_features=200_000,
                                                        dtype=np.float32)
                try:
                    chars = self.char_vectorizer_.fit_transform(raw)
                except ValueError:  # too few documents for min_df
                    chars = self.char_vectorizer_.set_params(min_df=1).fit_transform(raw)
                blocks.append(chars * self.char_weight)
            self.context_vectorizer_ = None
            if self.context_weight and any(ctx_l):
                self.context_vectorizer_ = TfidfVectorizer(tokenizer=_split, token_pattern=None, lowercase=False,
                                                           sublinear_tf=True, dtype=np.float32)
                blocks.append(self.context_vectorizer_.fit_transform(ctx_l) * self.context_weight)
        else:
            blocks.append(self.word_vectorizer_.transform(text_l))
            if self.char_vectorizer_ is not None:
                blocks.append(self.char_vectorizer_.transform(raw) * self.char_weight)
            if self.context_vectorizer_ is not None:
                blocks.append(self.context_vectorizer_.transform(ctx_l) * self.context_weight)
        if self.echo_weight:
            blocks.append(sparse.csr_matrix(self._echo(text_l, ctx_l, docs), dtype=np.float32))
        if self.semantic_weight:
            blocks.append(sparse.csr_matrix(self._vectors(docs) * self.semantic_weight, dtype=np.float32))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    @staticmethod
    def _vectors(docs: list[dict]) -> np.ndarray:
        """The sentence vectors of ``docs``: those given with them, the others embedded now."""
        from .semantic import DIM, embed

        V = np.zeros((len(docs), DIM), dtype=np.float32)
        todo = []
        for i, d in enumerate(docs):
            if d.get("vector") is not None:
                V[i] = d["vector"]
            else:
                todo.append(i)
        if todo:
            V[todo] = embed([docs[i]["text"] for i in todo])
            for i in todo:
                docs[i]["vector"] = V[i]
        return V

    # ----------------------------------------------------------------- fit
    def fit(self, X: Sequence, y: Sequence[Iterable[str]], sample_weight=None):
        """Learn one model per code from segments X and their code lists y (from a stratified sample of
        ``max_samples`` of them when there are more, see :meth:`sample_indices`)."""
        docs = list(X)  # made into documents (as_doc) only once the sample is drawn
        n_real = len(docs)
        labels = [list(dict.fromkeys(v)) if not isinstance(v, str) else [v] for v in y]
        if len(docs) != len(labels):
            raise ValueError(f"X has {len(docs)} segments but y has {len(labels)} code lists")
        if not docs:
            raise QualcodeError("there is nothing to learn from: no coded segments.")
        weights = list(sample_weight) if sample_weight is not None else [1.0] * len(docs)
        prior = dict(self.codebook or {})
        classes = list(prior) + sorted({c for v in labels for c in v} - set(prior))
        self.classes_ = np.array(classes, dtype=object)
        self.n_examples_ = np.array([sum(1 for v in labels if c in v) for c in classes])
        self.n_seen_ = n_real
        keep = self.sample_indices(labels, classes)
        self.prior_shift_ = np.zeros(len(classes))
        if keep is not None:  # learn from a stratified sample; correct each code's base rate for it
            index = {c: k for k, c in enumerate(classes)}
            Y = np.zeros((n_real, len(classes)), dtype=bool)
            for i, v in enumerate(labels):
                Y[i, [index[c] for c in v]] = True
            pos, pos_kept = Y.sum(axis=0), Y[keep].sum(axis=0)
            neg, neg_kept = n_real - pos, len(keep) - pos_kept
            ok = (pos_kept > 0) & (neg_kept > 0)
            self.prior_shift_[ok] = np.log((pos_kept[ok] / pos[ok]) / (neg_kept[ok] / neg[ok]))
            docs = [docs[i] for i in keep]
            del Y
            labels = [labels[i] for i in keep]
            weights = [weights[i] for i in keep]
            n_real = len(docs)
        self.n_used_ = n_real
        docs = [as_doc(x) for x in docs]
        for key, text in prior.items():  # the codebook's own words, as one pseudo-example per code
            if text and self.prior_weight > 0:
                docs.append({"text": str(text), "context": "", "id": None})
                labels.append([key])
                weights.append(float(self.prior_weight))
        Xm = self._features(docs, fit=True).astype(np.float64)  # the solver works in float64: convert once
        if self.semantic_weight:  # kept for explanations: the coded segments most like a suggestion's
            self.example_vectors_ = np.vstack([d["vector"] for d in docs[:n_real]]).astype(np.float16)
            self.example_where_ = [d["where"] or (d["text"][:40]) for d in docs[:n_real]]
            self.example_text_ = [d["text"] for d in docs[:n_real]]
            self.example_labels_ = [list(v) for v in labels[:n_real]]
        w = np.asarray(weights, dtype=float)
        n_features = Xm.shape[1]
        self.coef_ = np.zeros((len(classes), n_features))
        self.intercept_ = np.zeros(len(classes))
        self.platt_ = np.tile([1.0, 0.0], (len(classes), 1))
        self.calibrated_ = np.zeros(len(classes), dtype=bool)
        self.constant_ = np.full(len(classes), np.nan)
        holdout = self._holdout(n_real)
        if holdout is not None:  # one shared split: slice the matrix once, not once per code and fold
            Xa, Xb = Xm[holdout[0]], Xm[holdout[1]]
        Xr = Xm[:n_real] if holdout is None else None
        for k, code in enumerate(classes):
            yk = np.array([code in v for v in labels], dtype=int)
            if yk.min() == yk.max():  # only positives or only negatives: a constant
                self.constant_[k] = float(yk[0])
                continue
            model = self._linear(Xm.shape)
            model.fit(Xm, yk, sample_weight=w)
            self.coef_[k] = model.coef_[0]
            self.intercept_[k] = model.intercept_[0]
            real = yk[:n_real]
            n_pos, n_neg = int(real.sum()), int(len(real) - real.sum())
            if n_pos < self.min_calibration or n_neg < self.min_calibration:
                continue
            if holdout is not None and self._enough(real[holdout[0]]) and self._enough(real[holdout[1]]):
                ya, yb = real[holdout[0]], real[holdout[1]]
                m = self._linear(Xa.shape).fit(Xa, ya, sample_weight=w[holdout[0]])
                self.platt_[k] = self._sigmoid(m.decision_function(Xb), yb)
            else:
                if Xr is None:
                    Xr = Xm[:n_real]
                self.platt_[k] = self._platt(Xr, real, w[:n_real])
            self.calibrated_[k] = True
        self.n_features_ = n_features
        return self

    def sample_indices(self, labels: Sequence[Sequence[str]], classes: Sequence[str]):
        """Which segments to learn from when there are more than ``max_samples`` (else None): a
        deterministic (``random_state``) sample stratified by code. In a random order of the
        segments, each code first gets up to ``max_samples / (2 * number of codes)`` of its examples,
        then the rest of the budget is filled in that same order, coded or not. The indices come back
        sorted. ``fit`` then shifts each code's log-odds back by log(kept share of its examples /
        kept share of its non-examples), so the probabilities describe the whole set, not the sample."""
        n, cap = len(labels), self.max_samples
        if not cap or n <= cap:
            return None
        order = np.random.RandomState(self.random_state).permutation(n)
        quota = max(1, int(cap) // (2 * max(1, len(classes))))
        taken = dict.fromkeys(classes, 0)
        chosen = np.zeros(n, dtype=bool)
        for i in order:
            v = labels[i]
            if v and any(taken.get(c, quota) < quota for c in v):
                chosen[i] = True
                for c in v:
                    if c in taken:
                        taken[c] += 1
        rest = order[~chosen[order]][:max(0, int(cap) - int(chosen.sum()))]
        chosen[rest] = True
        return np.flatnonzero(chosen)

    def _linear(self, shape):
        """L2 logistic regression (liblinear); the dual form when there are more features than
        segments, which is the usual case for text and many times faster there."""
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(C=self.C, solver="liblinear", dual=shape[1] > shape[0], max_iter=1000,
                                  random_state=self.random_state)

    def _holdout(self, n: int):
        """(learn, calibrate) index arrays of one shared random split (a third held out) when there
        are more than ``holdout_above`` segments, else None (then out-of-fold scores are used)."""
        if not self.holdout_above or n <= self.holdout_above:
            return None
        order = np.random.RandomState(self.random_state).permutation(n)
        cut = n // 3
        return np.sort(order[cut:]), np.sort(order[:cut])

    def _enough(self, y) -> bool:
        return int(y.sum()) >= self.min_calibration and int(len(y) - y.sum()) >= self.min_calibration

    def _platt(self, Xm, y, w) -> tuple[float, float]:
        """Sigmoid (Platt) scaling fitted on out-of-fold decision scores."""
        from sklearn.model_selection import StratifiedKFold

        folds = max(2, min(self.calibration_folds, int(y.sum()), int(len(y) - y.sum())))
        scores = np.zeros(len(y))
        for tr, te in StratifiedKFold(folds, shuffle=True, random_state=self.random_state).split(Xm, y):
            m = self._linear(Xm.shape)
            m.fit(Xm[tr], y[tr], sample_weight=w[tr])
            scores[te] = m.decision_function(Xm[te])
        return self._sigmoid(scores, y)

    @staticmethod
    def _sigmoid(scores, y) -> tuple[float, float]:
        """(slope, intercept) of the logistic fit of y on held-out decision scores: the fit of
        ``LogisticRegression(C=1e4)`` (an L2 penalty of 1/(2C) on the slope only), solved by Newton's
        method on the two parameters directly (a few microseconds instead of a general solver's setup)."""
        return _logistic_1d(np.asarray(scores, dtype=float).ravel(), np.asarray(y, dtype=float).ravel(), C=1e4)

    # ------------------------------------------------------------- predict
    def _check(self) -> None:
        if not hasattr(self, "coef_"):
            raise NotFittedError("this CodeSuggester is not fitted yet; call fit() with coded segments first.")

    def decision_function(self, X: Sequence) -> np.ndarray:
        self._check()
        docs = [as_doc(x) for x in X]
        return np.asarray(self._features(docs, fit=False) @ self.coef_.T) + self.intercept_

    def predict_proba(self, X: Sequence) -> np.ndarray:
        """Calibrated probability of each code (columns in the order of ``classes_``)."""
        self._check()
        s = self.decision_function(X)
        z = np.where(self.calibrated_, s * self.platt_[:, 0] + self.platt_[:, 1], s)
        z = z - getattr(self, "prior_shift_", 0.0)  # undo the sample's over-representation of a code
        p = 1.0 / (1.0 + np.exp(-z))
        fixed = ~np.isnan(self.constant_)
        p[:, fixed] = self.constant_[fixed]
        return p

    def predict(self, X: Sequence) -> list[list[str]]:
        """Per segment, the codes whose probability is at least ``threshold``."""
        p = self.predict_proba(X)
        return [[str(self.classes_[k]) for k in np.flatnonzero(row >= self.threshold)] for row in p]

    def drivers(self, X: Sequence, code: str, *, top: int = 3) -> list[list[str]]:
        """Per segment, the words of the segment that pushed most towards ``code``: each word scores
        the weight of its lemma plus that of its character n-grams (so 'IPS-jobcoach' counts for
        'jobcoach'). Stop words and fillers are left out."""
        from ..text.nlp import lemmatizer, stop_words

        self._check()
        idx = list(self.classes_).index(code)
        docs = [as_doc(x) for x in X]
        Xm = self._features(docs, fit=False)
        coef = self.coef_[idx]
        vocab = self.word_vectorizer_.vocabulary_
        offset = len(vocab)
        char_an = self.char_vectorizer_.build_analyzer() if self.char_vectorizer_ is not None else None
        char_vocab = self.char_vectorizer_.vocabulary_ if char_an else {}
        stops, lem = stop_words(self.language), lemmatizer(self.language).lemma
        out = []
        for i, d in enumerate(docs):
            row = Xm.getrow(i)
            contrib = dict(zip(row.indices.tolist(), (row.data * coef[row.indices]).tolist()))
            scores: dict[str, float] = {}
            for tok in dict.fromkeys(_TOKEN.findall(d["text"].lower())):
                if len(tok) < 3 or tok in stops or lem(tok) in stops or tok.isdigit():
                    continue
                s = contrib.get(vocab.get(lem(tok), -1), 0.0)
                if char_an:
                    s += sum(contrib.get(offset + char_vocab[g], 0.0) for g in set(char_an(tok)) if g in char_vocab)
                if s > 0:
                    scores[tok] = s
            out.append([t for t, _ in sorted(scores.items(), key=lambda t: (-t[1], t[0]))[:top]])
        return out


    def nearest(self, X: Sequence, code: str, *, top: int = 2) -> list[list[tuple[str, str, float]]]:
        """Per segment, the coded segments of ``code`` it is most like (semantic path only): (where, text,
        cosine) best first. Empty lists when the model has no sentence vectors."""
        from .semantic import nearest_examples

        self._check()
        if not self.semantic_weight or not hasattr(self, "example_vectors_"):
            return [[] for _ in X]
        rows = np.array([k for k, v in enumerate(self.example_labels_) if code in v], dtype=int)
        if not len(rows):
            return [[] for _ in X]
        E = self.example_vectors_[rows].astype(np.float32)
        docs = [as_doc(x) for x in X]
        V = self._vectors(docs)
        return [[(self.example_where_[rows[i]], self.example_text_[rows[i]], sim)
                 for i, sim in nearest_examples(v, E, top=top)] for v in V]

    def explain(self, X: Sequence, code: str, *, top: int = 3) -> list[str]:
        """Per segment, one line saying what drove the suggestion of ``code``: the words of the segment
        that pushed most towards it and, on the semantic path, the most similar segment coded with it."""
        words = self.drivers(X, code, top=top)
        near = self.nearest(X, code, top=1)
        out = []
        for w, n in zip(words, near):
            parts = []
            if w:
                parts.append("words: " + ", ".join(w))
            if n:
                where, text, sim = n[0]
                parts.append(f"like {where} ({sim:.2f}): \u201c{_snippet(text)}\u201d")
            out.append("; ".join(parts))
        return out


def _logistic_1d(x: np.ndarray, y: np.ndarray, *, C: float = 1e4, tol: float = 1e-10,
                 max_iter: int = 100) -> tuple[float, float]:
    """Minimise sum(log-loss of sigmoid(a*x + b) against y) + a^2 / (2C) over (a, b) by damped Newton steps."""
    theta = np.zeros(2)
    A = np.column_stack([x, np.ones_like(x)])
    reg = np.array([1.0 / C, 0.0])

    def loss(t):
        z = A @ t
        return float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * reg[0] * t[0] ** 2)

    current = loss(theta)
    for _ in range(max_iter):
        p = 1.0 / (1.0 + np.exp(-(A @ theta)))
        grad = A.T @ (p - y) + reg * theta
        H = (A * (p * (1 - p))[:, None]).T @ A + np.diag(reg) + 1e-12 * np.eye(2)
        step = np.linalg.solve(H, grad)
        t = 1.0
        while t > 1e-8:
            new = theta - t * step
            value = loss(new)
            if value <= current:
                break
            t /= 2
        else:
            break
        done = current - value < tol * max(1.0, abs(current))
        theta, current = new, value
        if done:
            break
    return float(theta[0]), float(theta[1])


def _snippet(text: str, width: int = 60) -> str:
    t = " ".join(text.split())
    return t if len(t) <= width else t[:width - 1].rstrip() + "\u2026"


class BaselineSuggester(BaseEstimator):
    """Plain TF-IDF (scikit-learn defaults) + one logistic regression per code: the yardstick."""

    def __init__(self, *, C: float = 1.0, threshold: float = 0.5, random_state: int | None = 0):
        self.C = C
        self.threshold = threshold
        self.random_state = random_state

    def fit(self, X, y):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        docs = [as_doc(x)["text"] for x in X]
        labels = [list(v) for v in y]
        self.classes_ = np.array(sorted({c for v in labels for c in v}), dtype=object)
        self.vectorizer_ = TfidfVectorizer()
        Xm = self.vectorizer_.fit_transform(docs)
        self.models_ = []
        for code in self.classes_:
            yk = np.array([code in v for v in labels], dtype=int)
            if yk.min() == yk.max():
                self.models_.append(float(yk[0]))
                continue
            self.models_.append(LogisticRegression(C=self.C, random_state=self.random_state,
                                                   max_iter=1000).fit(Xm, yk))
        return self

    def predict_proba(self, X):
        if not hasattr(self, "models_"):
            raise NotFittedError("this BaselineSuggester is not fitted yet; call fit() first.")
        Xm = self.vectorizer_.transform([as_doc(x)["text"] for x in X])
        cols = [np.full(Xm.shape[0], m) if isinstance(m, float) else m.predict_proba(Xm)[:, 1]
                for m in self.models_]
        return np.column_stack(cols) if cols else np.zeros((Xm.shape[0], 0))

    def predict(self, X):
        p = self.predict_proba(X)
        return [[str(self.classes_[k]) for k in np.flatnonzero(row >= self.threshold)] for row in p]


# ---------------------------------------------------------------- evaluation
@dataclass
class CodeScore:
    code: str
    support: int          # segments that truly have the code (held-out)
    suggested: int        # segments where the model suggested it
    correct: int
    precision: float | None
    recall: float | None
    f1: float | None
    verdict: str


@dataclass
class Evaluation:
    scheme: str                       # e.g. 'leave-one-transcript-out over 3 sources'
    n_segments: int
    n_coded: int
    threshold: float
    single_label: bool
    top1_precision: float | None
    top3_recall: float | None
    macro_f1: float | None
    codes: list[CodeScore] = field(default_factory=list)
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0
    calibration: list[tuple[str, int, float]] = field(default_factory=list)  # (bin, n, share correct)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain data for ``--json`` (see docs/json.md); shares are 0-1, undefined ones None."""
        return {"scheme": self.scheme, "n_segments": self.n_segments, "n_coded": self.n_coded,
                "threshold": self.threshold, "single_label": self.single_label,
                "top1_precision": self.top1_precision, "top3_recall": self.top3_recall, "macro_f1": self.macro_f1,
                "codes": [{"code": c.code, "support": c.support, "suggested": c.suggested, "correct": c.correct,
                           "precision": c.precision, "recall": c.recall, "f1": c.f1, "verdict": c.verdict}
                          for c in self.codes],
                "calibration": [{"confidence": label, "suggestions": n, "share_right": share}
                                for label, n, share in self.calibration],
                "fit_seconds": self.fit_seconds, "predict_seconds": self.predict_seconds, "notes": list(self.notes)}

    def lines(self) -> list[str]:
        pct = _pct
        out = [f"Self-evaluation ({self.scheme}); every figure comes from segments of a transcript the model "
               "did not see while learning.",
               f"  segments evaluated: {self.n_segments} ({self.n_coded} with at least one code)",
               f"  top-1 precision: {pct(self.top1_precision)}   (the most likely code is one you gave)",
               f"  top-3 recall:    {pct(self.top3_recall)}   (your codes found among the three most likely)",
               f"  macro-F1:        {pct(self.macro_f1)}   ("
               + ("the most likely code per segment" if self.single_label
                  else f"suggestions at confidence >= {self.threshold:g}") + ")", ""]
        width = max([len(c.code) for c in self.codes] + [4])
        out.append(f"  {'code'.ljust(width)}  support  precision  recall  verdict")
        for c in self.codes:
            out.append(f"  {c.code.ljust(width)}  {c.support:7d}  {pct(c.precision):>9}  {pct(c.recall):>6}  "
                       f"{c.verdict}")
        if self.calibration:
            out.append("")
            out.append("  confidence  suggestions  right")
            for label, n, share in self.calibration:
                out.append(f"  {label:<10}  {n:11d}  {pct(share):>5}")
        out.extend(f"  note: {n}" for n in self.notes)
        return out


def _pct(v: float | None) -> str:
    return "n/a" if v is None else f"{100 * v:.1f}%"


def verdict(support: int, precision: float | None, recall: float | None, *, min_support: int = 5) -> str:
    """Plain-language advice for one code."""
    if support < min_support:
        return "too few examples"
    if precision is not None and recall is not None and precision >= 0.8 and recall >= 0.6:
        return "reliable"
    return "check every one"


def split_scheme(groups: Sequence[str], *, max_loto: int = 40, n_folds: int = 10, random_state: int | None = 0):
    """(description, list of (train_idx, test_idx)) split by transcript: leave-one-out for up to
    ``max_loto`` transcripts, else ``n_folds`` grouped folds."""
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

    g = np.asarray(list(groups), dtype=object)
    n = len(set(g.tolist()))
    if n < 2:
        raise QualcodeError("a self-evaluation needs coded segments in at least two transcripts (sources): "
                            "the model is tested on a transcript it did not learn from. Code part of another "
                            "transcript first.")
    idx = np.arange(len(g))
    if n <= max_loto:
        splits = list(LeaveOneGroupOut().split(idx, groups=g))
        return f"leave-one-transcript-out over {n} transcripts", splits
    k = min(n_folds, n)
    splits = list(GroupKFold(n_splits=k).split(idx, groups=g))
    return f"grouped {k}-fold by transcript over {n} transcripts", splits


def evaluate(make_estimator: Callable[[], Any], X: Sequence, y: Sequence[Sequence[str]], groups: Sequence[str], *,
             threshold: float = 0.5, max_loto: int = 40, n_folds: int = 10, single_label: bool | None = None,
             min_support: int = 5, progress: Callable | None = None) -> Evaluation:
    """Score a suggester by transcript-wise cross-validation. ``make_estimator()`` gives a fresh,
    unfitted estimator per fold; it is fitted only on the other transcripts' segments."""
    import time

    X = list(X)
    y = [list(v) for v in y]
    scheme, splits = split_scheme(groups, max_loto=max_loto, n_folds=n_folds)
    if single_label is None:
        single_label = all(len(v) == 1 for v in y)
    codes = sorted({c for v in y for c in v})
    P = np.zeros((len(X), len(codes)))
    fit_s = pred_s = 0.0
    loop = progress(splits, "Evaluating") if progress else splits
    for train, test in loop:
        est = make_estimator()
        t0 = time.perf_counter()
        est.fit([X[i] for i in train], [y[i] for i in train])
        t1 = time.perf_counter()
        p = est.predict_proba([X[i] for i in test])
        fit_s += t1 - t0
        pred_s += time.perf_counter() - t1
        cls = [str(c) for c in est.classes_]
        for j, code in enumerate(codes):
            if code in cls:
                P[test, j] = p[:, cls.index(code)]
    truth = np.array([[c in v for c in codes] for v in y], dtype=bool).reshape(len(X), len(codes))
    if single_label:
        pred = np.zeros_like(truth)
        if codes:
            pred[np.arange(len(X)), P.argmax(axis=1)] = True
    else:
        pred = P >= threshold
    scores, f1s = [], []
    for j, code in enumerate(codes):
        sup, sug = int(truth[:, j].sum()), int(pred[:, j].sum())
        cor = int((truth[:, j] & pred[:, j]).sum())
        prec = cor / sug if sug else None
        rec = cor / sup if sup else None
        f1 = (2 * cor / (sup + sug)) if (sup + sug) else None
        if sup:
            f1s.append(f1 or 0.0)
        scores.append(CodeScore(code, sup, sug, cor, prec, rec, f1, verdict(sup, prec, rec, min_support=min_support)))
    coded = truth.any(axis=1)
    top1 = top3 = None
    if coded.any() and codes:
        order = np.argsort(-P, axis=1, kind="stable")
        top1 = float(truth[np.arange(len(X)), order[:, 0]][coded].mean())
        top = np.zeros_like(truth)
        for r in range(min(3, len(codes))):
            top[np.arange(len(X)), order[:, r]] = True
        top3 = float((top & truth)[coded].sum() / truth[coded].sum())
    calib = []
    for lo, hi in ((0.5, 0.7), (0.7, 0.9), (0.9, 1.01)):
        sel = (P >= lo) & (P < hi)
        if sel.any():
            calib.append((f"{lo:.1f}-{min(hi, 1.0):.1f}", int(sel.sum()), float(truth[sel].mean())))
    char_grams.cache_clear()  # the analysed texts are not kept beyond the evaluation
    ev = Evaluation(scheme=scheme, n_segments=len(X), n_coded=int(coded.sum()), threshold=threshold,
                    single_label=bool(single_label), top1_precision=top1, top3_recall=top3,
                    macro_f1=float(np.mean(f1s)) if f1s else None, codes=scores, fit_seconds=fit_s,
                    predict_seconds=pred_s, calibration=calib)
    return ev


# ------------------------------------------------------------- on a project
YES = {"yes", "y", "ja", "j", "x", "1", "true", "ok", "accept", "accepted"}
NO = {"no", "n", "nee", "neen", "0", "false", "reject", "rejected"}
SHEET_TITLE = "Suggestions"
SHEET_HEADER = ["suggestion id", "group", "source", "segment", "speaker", "text", "code", "code name",
                "confidence", "drivers", "origin", "accept (yes/no)"]


def segment_docs(store) -> dict[int, dict]:
    """Every segment as an estimator document: id, text, context (the previous turn's text), source,
    group, role, key."""
    from ..text.lemmas import load

    load(store)  # teaches the lemmatiser the project's word forms (lemmatised once, at ingest)
    out: dict[int, dict] = {}
    names: dict[str, str] = {}  # one string object per distinct source, group, role and speaker key
    source_id, turn, prev, cur = None, None, "", []
    for s in store.segments():  # in transcript order: the previous turn is always just behind
        if s["source_id"] != source_id:
            source_id, turn, prev, cur = s["source_id"], None, "", []
        if s["turn"] != turn:
            if turn is not None:
                prev = " ".join(cur)[-1000:] if s["turn"] == turn + 1 else ""
            turn, cur = s["turn"], []
        cur.append(s["text"])
        out[s["id"]] = {"id": s["id"], "text": s["text"], "context": prev,
                        "source": names.setdefault(s["source"], s["source"]),
                        "group": names.setdefault(s["group_label"], s["group_label"]),
                        "role": names.setdefault(s["role"], s["role"]),
                        "key": names.setdefault(s["key"], s["key"]),
                        "ordinal": s["ordinal"], "source_id": s["source_id"]}
    return out


def codebook_texts(store) -> dict[str, str]:
    """Code key -> what the codebook says about it (name, description, include, example, rule words)."""
    out = {}
    for c in store.codes():
        rules = c.get("rules") or {}
        words = []
        for k in ("keywords", "phrases"):
            v = rules.get(k) or []
            words.extend(v if isinstance(v, list) else [str(v)])
        parts = [c["name"], c.get("description", ""), c.get("include", ""), c.get("example", ""), " ".join(words)]
        out[c["key"]] = " ".join(p for p in parts if p).strip()
    return out


def choose_coder(store, coder: str | None) -> str | None:
    """The coder whose codings teach the model: the one given, else the only coder with codings, else the
    current user if they have codings. None when nobody has coded anything."""
    have = store.coders_with_codings()
    if not have:
        return None
    if coder:
        if coder not in have:
            raise QualcodeError(f"coder '{coder}' has no codings to learn from (coders with codings: "
                                f"{', '.join(have)}); choose one with --coder NAME.")
        return coder
    if len(have) == 1:
        return have[0]
    from ..store import default_actor

    me = default_actor()
    if me in have:
        return me
    raise QualcodeError(f"several coders have codings ({', '.join(have)}); choose whose coding to learn from "
                        "with --coder NAME.")


def training_set(store, coder: str, *, exclude_group: str | None = None, docs: dict | None = None):
    """(documents, code lists, source names) to learn from: every segment this coder coded, plus the
    uncoded participant segments of the sources they finished (those teach what gets no code)."""
    docs = docs if docs is not None else segment_docs(store)
    coded = store.segment_codes(coder)
    done = store.coded_source_ids(coder)
    X, y, groups = [], [], []
    for sid, d in docs.items():
        if exclude_group and d["group"] == exclude_group:
            continue
        if sid in coded or (d["source_id"] in done and d["role"] == "participant"):
            X.append(d)
            y.append(coded.get(sid, []))
            groups.append(d["source"])
    return X, y, groups


SEMANTIC_WEIGHT = 0.5   # the sentence vectors' weight beside the word and character blocks (see docs/suggest.md)
SEMANTIC_CHOICES = ("auto", "on", "off")  # as qualcode.coding.semantic.CHOICES


def use_semantic(choice: str = "auto") -> bool:
    """Whether to add sentence vectors: 'auto' when the encoder is installed, 'on' (an error without it),
    'off' never (:func:`qualcode.coding.semantic.wanted`)."""
    from . import semantic

    return semantic.wanted(choice)


def make_suggester(store, *, random_state: int | None = 0, semantic: bool = False) -> CodeSuggester:
    return CodeSuggester(language=store.language, codebook=codebook_texts(store), random_state=random_state,
                         semantic_weight=SEMANTIC_WEIGHT if semantic else 0.0)


def _attach(store, docs: dict, items: Iterable[dict]) -> None:
    from .semantic import attach_vectors

    attach_vectors(store, docs, [d["id"] for d in items])


@dataclass
class SuggestResult:
    coder: str | None
    method: str                 # 'model', 'rules' or 'codebook' (zero-shot from the codebook's texts)
    semantic: bool = False      # sentence vectors were used
    n_training: int = 0
    n_used: int = 0             # segments the model learnt from (a sample when n_training > max_samples)
    n_targets: int = 0
    n_suggestions: int = 0
    per_code: dict = field(default_factory=dict)
    shown: list[dict] = field(default_factory=list)   # the most confident suggestions, with what drove them
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        if self.method == "rules":
            out = ["No coded segments to learn from: these suggestions come from the codebook rules "
                   "(keywords and phrases), not from a learnt model."]
        elif self.method == "codebook":
            out = ["No coded segments to learn from: these suggestions come from the codebook rules and from "
                   "how close each segment's meaning is to each code's description (sentence vectors)."]
        else:
            out = [f"Learnt from {self.n_training} segments of coder '{self.coder}'."]
            if self.n_used and self.n_used < self.n_training:
                out = [f"Learnt from a sample of {self.n_used:,} of {self.n_training:,} segments of coder "
                       f"'{self.coder}' (stratified by code; see docs/suggest.md)."]
        if self.method == "model":
            out.append("Features: words, character n-grams and the previous turn"
                       + (", plus sentence vectors (semantic)." if self.semantic else "."))
        out.append(f"{self.n_suggestions} suggestion(s) for {self.n_targets} uncoded segment(s).")
        out.extend(f"  {k}: {n}" for k, n in sorted(self.per_code.items(), key=lambda t: (-t[1], t[0])))
        if self.shown:
            out.append(f"Most confident {len(self.shown)} (why: the words that pushed most towards the code"
                       + ("; the most similar segment you coded with it)" if self.semantic else ")") + ":")
            for r in self.shown:
                out.append(f"  {r['where']}  {r['code']}  {r['confidence']:.2f}  {_snippet(r['text'], 50)}")
                out.append(f"      why: {r['why'] or '(no single word stands out)'}")
        out.extend(self.notes)
        return out


def target_segments(store, coder: str | None, docs: dict, *, group: str | None = None) -> list[dict]:
    """Participant segments to suggest for: of ``group`` if given, else of the sources the coder has not
    finished; never ones the coder already coded."""
    coded = store.segment_codes(coder) if coder else store.segment_codes()
    done = store.coded_source_ids(coder) if coder else set()
    out = []
    for sid, d in docs.items():
        if d["role"] != "participant" or sid in coded:
            continue
        if group is not None and d["group"] != group:
            continue
        if group is None and d["source_id"] in done:
            continue
        out.append(d)
    return out


def suggest(store, *, coder: str | None = None, min_confidence: float = 0.5, group: str | None = None,
            random_state: int | None = 0, top: int = 3, semantic: str = "auto", show: int = 10) -> SuggestResult:
    """Learn from a coder's codings and store suggestions (source 'model') for uncoded segments, each with
    what drove it; with no codings at all, store the codebook rules' matches instead (source 'rules'), and,
    with sentence vectors, each segment's closest code by meaning (source 'model', see :func:`zero_shot`).
    ``semantic``: 'auto' (sentence vectors when the encoder is installed), 'on' or 'off'. ``show``: how
    many of the most confident suggestions the result lists with their explanation."""
    if not 0.0 < min_confidence <= 1.0:
        raise QualcodeError(f"--min-confidence must be between 0 and 1, got {min_confidence}.")
    if group is not None and group not in store.groups():
        from ..errors import unknown
        raise unknown("group", group, store.groups())
    if not store.codes():
        raise QualcodeError("the project has no codes yet; load a codebook first ('qualcode codebook apply').")
    sem = use_semantic(semantic)
    who = choose_coder(store, coder)
    docs = segment_docs(store)
    if who is None or not store.segment_codes(who):
        return _rule_fallback(store, who or _me(), docs, group=group, semantic=sem,
                              min_confidence=min_confidence, show=show)
    X, y, _ = training_set(store, who, exclude_group=group, docs=docs)
    if not any(y):
        raise QualcodeError(f"coder '{who}' has no codings outside group {group} to learn from.")
    targets = target_segments(store, who, docs, group=group)
    result = SuggestResult(coder=who, method="model", semantic=sem, n_training=len(X), n_targets=len(targets))
    rows = []
    if targets:
        if sem:
            _attach(store, docs, [*X, *targets])
        model = make_suggester(store, random_state=random_state, semantic=sem).fit(X, y)
        result.n_used = model.n_used_
        P = model.predict_proba(targets)
        ids = store.code_ids()
        for k, code in enumerate(model.classes_):
            hit = np.flatnonzero(P[:, k] >= min_confidence)
            if not len(hit):
                continue
            why = model.explain([targets[i] for i in hit], str(code), top=top)
            for i, words in zip(hit, why):
                rows.append((targets[i]["id"], ids[str(code)], round(float(P[i, k]), 4), words))
            result.per_code[str(code)] = len(hit)
        result.shown = _most_confident(rows, docs, ids, show)
    else:
        result.notes.append("Nothing to suggest for: every participant segment in scope is coded or in a source "
                            "you finished. Use --group to suggest for one group.")
    with store.act("suggest", summary="", details={"coder": who, "min_confidence": min_confidence,
                                                   "group": group}) as act:
        result.n_suggestions = store.replace_open_suggestions(rows, coder=who, source="model")
        act.summary = f"{result.n_suggestions} suggestions learnt from {who}"
    return result


def _most_confident(rows: list[tuple], docs: dict, ids: dict, n: int) -> list[dict]:
    """The ``n`` most confident of (segment id, code id, confidence, why) rows, for display."""
    keys = {v: k for k, v in ids.items()}
    best = sorted(rows, key=lambda r: (-r[2], r[0], r[1]))[:max(n, 0)]
    out = []
    for sid, cid, p, why in best:
        d = docs[sid]
        out.append({"segment_id": sid, "where": f"{d['key']} #{d['ordinal']}", "text": d["text"],
                    "code": keys[cid], "confidence": p, "why": why})
    return out


def _me() -> str:
    from ..store import default_actor

    return default_actor()


def rule_matches(store) -> list[tuple[int, str, str]]:
    """(segment id, code key, matched words) the codebook rules would code, without coding anything
    (``qualcode.coding.autocode.autocode`` in dry-run mode)."""
    try:
        from .autocode import autocode
    except ImportError as exc:  # pragma: no cover - rules module missing from the installation
        raise QualcodeError("the codebook rules are not available in this installation, so there is nothing "
                            "to suggest without codings.") from exc
    report = autocode(store, dry_run=True)
    texts = getattr(report, "texts", {}) or {}
    out = []
    for sid, code, words in _matches_of(report):
        if not words and sid in texts:  # matched spans -> the words themselves
            m = next(m for m in report.matches if m.segment_id == sid and m.code == code)
            text = texts[sid][1]
            words = ", ".join(dict.fromkeys(text[a:b].lower() for a, b in m.spans))
        out.append((sid, code, words))
    return out


def _matches_of(report) -> list[tuple[int, str, str]]:
    """Read (segment id, code key, words) out of an autocode dry-run report."""
    items = None
    for attr in ("matches", "planned", "codings", "hits"):
        if hasattr(report, attr):
            items = getattr(report, attr)
            break
    if items is None and isinstance(report, (list, tuple)):
        items = report
    out = []
    for it in items or []:
        if isinstance(it, dict):
            sid, code = it.get("segment_id"), it.get("code") or it.get("code_key")
            words = it.get("matched") or it.get("words") or it.get("terms") or ""
        elif hasattr(it, "segment_id"):
            sid, code = it.segment_id, getattr(it, "code", None) or getattr(it, "code_key", None)
            words = getattr(it, "matched", "") or getattr(it, "words", "") or getattr(it, "terms", "")
        else:
            sid, code, *rest = it
            words = rest[0] if rest else ""
        if not isinstance(words, str):
            words = ", ".join(map(str, words))
        out.append((int(sid), str(code), words))
    return out


def _rule_fallback(store, coder: str, docs: dict, *, group: str | None, semantic: bool = False,
                   min_confidence: float = 0.5, show: int = 10) -> SuggestResult:
    target_docs = target_segments(store, None, docs, group=group)
    targets = {d["id"] for d in target_docs}
    ids = store.code_ids()
    rows = [(sid, ids[code], 0.5, f"rule words: {words}" if words else "rule match")
            for sid, code, words in rule_matches(store) if sid in targets and code in ids]
    result = SuggestResult(coder=coder, method="codebook" if semantic else "rules", semantic=semantic,
                           n_targets=len(targets))
    sem_rows = zero_shot(store, docs, target_docs, min_confidence=min_confidence) if semantic else []
    for _, cid, _, _ in rows + sem_rows:
        key = next(k for k, v in ids.items() if v == cid)
        result.per_code[key] = result.per_code.get(key, 0) + 1
    with store.act("suggest", summary="", details={"coder": coder, "method": result.method, "group": group}) as act:
        result.n_suggestions = store.replace_open_suggestions(rows, coder=coder, source="rules")
        if semantic:
            result.n_suggestions += store.replace_open_suggestions(sem_rows, coder=coder, source="model")
        act.summary = f"{result.n_suggestions} suggestions from the codebook (no codings to learn from)"
    result.shown = _most_confident(rows + sem_rows, docs, ids, show)
    result.notes.append("Confidence 0.5 is a placeholder for rule matches: the rules have not been evaluated "
                        "on your coding. Code part of the data by hand and run 'qualcode suggest' again.")
    result.notes.append("Every segment's main theme from the codebook, also where no rule matched: "
                        "qualcode suggest themes.")
    if semantic:
        result.notes.append("Meaning-based suggestions rank the codes by how close a segment is to each code's "
                            "name, description, include text and example; their confidence is a share of that "
                            "closeness over all codes, not a tested probability.")
    return result


def zero_shot(store, docs: dict, targets: list[dict], *, min_confidence: float = 0.5) -> list[tuple]:
    """(segment id, code id, score, why) of each target segment's closest code by meaning, from the
    codebook alone (no codings needed), where the score clears ``min_confidence`` divided by the number
    of codes' square root (a softmax over many codes spreads thin; see docs/suggest.md)."""
    from . import semantic

    if not targets:
        return []
    _attach(store, docs, targets)
    texts = codebook_texts(store)
    keys, S = semantic.zero_shot(np.vstack([d["vector"] for d in targets]), texts)
    ids = store.code_ids()
    floor = min_confidence / math.sqrt(max(len(keys), 1))
    out = []
    for i, d in enumerate(targets):
        k = int(np.argmax(S[i]))
        if S[i, k] >= floor:
            out.append((d["id"], ids[keys[k]], round(float(S[i, k]), 4),
                        f"meaning close to the codebook's text of {keys[k]}: \u201c{_snippet(texts[keys[k]], 50)}\u201d"))
    return out


def evaluate_project(store, *, coder: str | None = None, threshold: float = 0.5, random_state: int | None = 0,
                     progress: Callable | None = None, semantic: str = "auto") -> Evaluation:
    """Leave-one-transcript-out self-evaluation on a coder's own codings (the suggester as ``suggest`` runs
    it, with sentence vectors when ``semantic`` says so)."""
    sem = use_semantic(semantic)
    who = choose_coder(store, coder)
    if who is None or not store.segment_codes(who):
        raise QualcodeError("there are no codings to evaluate suggestions against; code part of the data first "
                            "(or import coded data), then run 'qualcode suggest --evaluate'.")
    docs = segment_docs(store)
    X, y, groups = training_set(store, who, docs=docs)
    if sem:
        _attach(store, docs, X)
    language, prior = store.language, codebook_texts(store)
    weight = SEMANTIC_WEIGHT if sem else 0.0
    ev = evaluate(lambda: CodeSuggester(language=language, codebook=prior, random_state=random_state,
                                        semantic_weight=weight), X, y,
                  groups, threshold=threshold, single_label=False, progress=progress)
    ev.notes.append(f"coder '{who}'; per code: precision and recall of suggestions at confidence >= {threshold:g}.")
    ev.notes.append("features: words, character n-grams, previous turn" + (", sentence vectors." if sem else
                                                                          " (no sentence vectors)."))
    return ev


@exported
def export_suggestions(store, path: str, *, coder: str | None = None, status: str | None = "open") -> int:
    """Write suggestions to an xlsx sheet with an accept column. Returns the number of rows."""
    from ..excel.xlsx import Styles, write_only_workbook, write_table

    rows = [r for r in store.suggestions(status=status)
            if coder is None or r["coder"] == coder or r["source"] == "discover"]
    with write_only_workbook(path) as wb:
        st = Styles()
        data = [[r["id"], r["group_label"], r["source_name"], r["ordinal"], r["key"], r["text"], r["code"],
                 r["code_name"], round(r["confidence"], 3), r["drivers"], r["source"], ""] for r in rows]
        write_table(wb, SHEET_TITLE, SHEET_HEADER, data, widths=[10, 7, 14, 8, 9, 70, 18, 24, 11, 28, 9, 14],
                    wrap_cols=[5], styles=st)
    return len(data)


@dataclass
class AcceptResult:
    accepted: int = 0
    rejected: int = 0
    codings_added: int = 0
    skipped: int = 0

    def lines(self) -> list[str]:
        return [f"accepted {self.accepted} suggestion(s) ({self.codings_added} new coding(s), origin 'suggested'); "
                f"rejected {self.rejected}; left open {self.skipped}."]


def accept_sheet(store, path: str, *, coder: str | None = None) -> AcceptResult:
    """Record the suggestions marked 'yes' in the sheet's accept column as codings (origin 'suggested')
    and mark 'no' ones rejected, in one act. Codings go to ``coder``, else to the suggestion's coder."""
    from ..errors import InputError
    from ..excel.xlsx import column_letter, read_xlsx

    book = read_xlsx(path, "suggestions workbook", sheets=[SHEET_TITLE])
    if SHEET_TITLE not in book:
        raise InputError(f"has no sheet '{SHEET_TITLE}'; give a file written by 'qualcode suggest --out'",
                         path=path)
    rows = book[SHEET_TITLE].rows
    header = [str(h or "").strip().lower() for h in (rows[0] if rows else [])]
    for need in ("suggestion id", "accept (yes/no)"):
        if need not in header:
            raise InputError(f"has no column '{need}'", path=path, where=f"sheet {SHEET_TITLE}")
    ci, ca = header.index("suggestion id"), header.index("accept (yes/no)")
    decisions: dict[int, bool] = {}
    result = AcceptResult()
    for n, row in enumerate(rows[1:], start=2):
        raw = row[ca] if ca < len(row) else None
        value = str(raw).strip().lower() if raw is not None else ""
        if value.endswith(".0"):
            value = value[:-2]
        if not value:
            result.skipped += 1
            continue
        if value not in YES | NO:
            raise InputError(f"accept value '{raw}' is not yes or no", path=path,
                             where=f"sheet {SHEET_TITLE}, cell {column_letter(ca + 1)}{n}")
        try:
            decisions[int(row[ci])] = value in YES
        except (TypeError, ValueError):
            raise InputError(f"suggestion id '{row[ci]}' is not a number", path=path,
                             where=f"sheet {SHEET_TITLE}, cell {column_letter(ci + 1)}{n}") from None
    known = {s["id"]: s for s in store.suggestions(ids=decisions)}
    missing = sorted(set(decisions) - set(known))
    if missing:
        raise InputError(f"suggestion id(s) {', '.join(map(str, missing[:5]))} are not in this project (was the "
                         "sheet written for another project, or were the suggestions replaced by a later "
                         "'qualcode suggest'?)", path=path)
    with store.act("suggest accept", summary="", details={"file": str(path)}) as act:
        for sid, yes in decisions.items():
            s = known[sid]
            if yes:
                result.accepted += 1
                if store.add_coding(s["segment_id"], s["code_id"], coder or s["coder"], "suggested"):
                    result.codings_added += 1
            else:
                result.rejected += 1
            store.set_suggestion_status(sid, "accepted" if yes else "rejected")
        act.summary = f"{result.accepted} accepted, {result.rejected} rejected"
        act.details.update(accepted=result.accepted, rejected=result.rejected)
    return result
