"""Tokenise once: spaCy's tokens of every segment, stored in the project with its lemmas.

Autocode matches its rules on tokens (lemmas, lower-case forms, token patterns). spaCy cuts the texts
into tokens once, in the lemma cache's pass (:func:`qualcode.text.lemmas.analyse`), and what the rules
need is stored (schema 6, ``TOKEN_CACHE_SQL`` in :mod:`qualcode.store.schema`):

* per segment, each token's length and whether a space follows it (:func:`encode`): spaCy's tokens and
  their spaces give back the text exactly, so the offsets and the token texts follow from the segment's
  text; the lower-case form is the text's ``lower()`` (checked when stored) and the lemma that of the
  lemma cache (the pipeline's lemmatiser gives each lower-case form one lemma);
* per token form, its lexical flags (:data:`FLAGS`: ``is_alpha``, ``is_punct``, ``like_num``, ...), as
  spaCy's vocabulary gives them, for token patterns that test them;
* per rule word or phrase of the codebook (keywords, phrases, hints, Dutch verb stems), its tokens.

They are stored under the lemma cache's version (lemmatiser, language, spaCy version, pipeline) and the
hash of the segment's text, so a new spaCy or an edited text recomputes them. A segment whose tokens do
not give back its text (never seen) is stored as an empty value: autocode then uses spaCy for the run.
"""

from __future__ import annotations

import json
import sys
from array import array
from itertools import accumulate
from operator import add

# Lexical flags of a token form, as bits; the names are those of spaCy's Matcher attributes.
FLAGS = {name: 1 << i for i, name in enumerate((
    "IS_ALPHA", "IS_ASCII", "IS_DIGIT", "IS_LOWER", "IS_UPPER", "IS_TITLE", "IS_PUNCT", "IS_SPACE", "IS_STOP",
    "LIKE_NUM", "LIKE_URL", "LIKE_EMAIL", "IS_BRACKET", "IS_QUOTE", "IS_LEFT_PUNCT", "IS_RIGHT_PUNCT",
    "IS_CURRENCY"))}
UNKNOWN = b""  # stored for a segment whose tokens cannot be stored (autocode then uses spaCy)


def encode(lengths, spaces) -> bytes:
    """One segment's tokens as bytes: a width byte (1, 2 or 4), then ``length * 2 + space`` per token as
    little-endian unsigned integers of that width (one byte a token for words under 128 characters)."""
    import numpy as np

    values = np.asarray(lengths, dtype=np.int64) * 2 + np.asarray(spaces, dtype=np.int64)
    top = int(values.max()) if len(values) else 0
    width = 1 if top < 1 << 8 else 2 if top < 1 << 16 else 4
    return bytes([width]) + values.astype(f"<u{width}").tobytes()


def decode(blob: bytes) -> list[tuple[int, int]]:
    """The (start, end) character offsets of the tokens :func:`encode` stored."""
    starts, ends = bounds(blob)
    return list(zip(starts, ends))


def bounds(blob: bytes) -> tuple[list[int], list[int]]:
    """The start and the end offsets of the tokens :func:`encode` stored, as two lists. Done by C loops
    (``bytes.translate``, ``accumulate``, ``map``), not a Python loop a token: autocode decodes every
    segment, and 100 transcripts hold 1.5 million tokens."""
    if blob[0] == 1:
        body = blob[1:]
        lengths = body.translate(_LENGTH)
        starts = list(accumulate(body.translate(_STEP), initial=0))
        starts.pop()
        return starts, list(map(add, starts, lengths))
    values = array(_FORMATS[blob[0]])
    values.frombytes(blob[1:])
    if sys.byteorder == "big":
        values.byteswap()   # stored little-endian
    starts, ends, pos = [], [], 0
    for v in values:
        starts.append(pos)
        ends.append(pos + (v >> 1))
        pos += (v >> 1) + (v & 1)
    return starts, ends


_FORMATS = {1: "B", 2: "H", 4: "I"}
_LENGTH = bytes(b >> 1 for b in range(256))          # a one-byte value -> the token's length
_STEP = bytes((b >> 1) + (b & 1) for b in range(256))  # ... -> its length and its space


def doc_tokens(doc, text: str) -> bytes:
    """A processed text's tokens, encoded (:func:`checked_encode`)."""
    from spacy.attrs import LENGTH, SPACY

    if not len(doc):
        return checked_encode([], [], text)
    arr = doc.to_array([LENGTH, SPACY])
    return checked_encode(arr[:, 0], arr[:, 1], text)


def checked_encode(lengths, spaces, text: str) -> bytes:
    """:func:`encode`, or :data:`UNKNOWN` if the tokens and their spaces do not make up ``text`` (spaCy's
    always do; never stored otherwise)."""
    total = (int(lengths.sum()) + int(spaces.sum())) if hasattr(lengths, "sum") else sum(lengths) + sum(spaces)
    if total != len(text):
        return UNKNOWN
    return encode(lengths, spaces)


def lexeme_flags(lex) -> int:
    """The :data:`FLAGS` bit mask of a spaCy lexeme."""
    out = 0
    for name, bit in FLAGS.items():
        if getattr(lex, name.lower()):
            out |= bit
    return out


def docs_forms(docs) -> set[str]:
    """The distinct token texts (case kept) of processed docs."""
    import numpy as np
    from spacy.attrs import ORTH

    docs = [d for d in docs if len(d)]
    if not docs:
        return set()
    strings = docs[0].vocab.strings
    return {strings[h] for h in np.unique(np.concatenate([d.to_array(ORTH) for d in docs])).tolist()}


def forms_ok(nlp, forms) -> tuple[dict[str, int], bool]:
    """Flags of each form, and whether every form's lower-case form is its ``lower()`` (as the stored
    tokens assume)."""
    vocab = nlp.vocab
    flags, ok = {}, True
    for f in forms:
        lex = vocab[f]
        flags[f] = lexeme_flags(lex)
        ok = ok and lex.lower_ == f.lower()
    return flags, ok


def rule_words_tokens(nlp, words) -> dict[str, str]:
    """Rule word or phrase -> JSON list of its token texts, as spaCy's tokenizer cuts it alone."""
    return {w: json.dumps([t.text for t in nlp.make_doc(w)], ensure_ascii=False) for w in words}
