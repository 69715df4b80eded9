"""The project store: one SQLite file, and the only package that speaks SQL.

``Store`` is assembled from one mixin per kind of data, so every query on a table sits in one
module: :mod:`.core` (connection, schema migrations, transactions, audited acts, backups),
:mod:`.audit` (history and undo), :mod:`.segments` (groups, sources, participants, segments),
:mod:`.codings`, :mod:`.codebook` (themes, codes, coders), :mod:`.memos`, :mod:`.suggestions`,
:mod:`.counts`, :mod:`.privacy`, :mod:`.lemmas` and :mod:`.figures`. The table is in
docs/architecture.md.
"""

from __future__ import annotations

from .audit import AuditMixin
from .codebook import CodebookMixin
from .codings import CodingsMixin
from .core import Act, StoreCore, default_actor, exported, from_snapshot, new_guid, now, serialised
from .counts import CountsMixin
from .embeddings import EmbeddingsMixin
from .figures import FiguresMixin
from .lemmas import LemmasMixin
from .memos import MemosMixin
from .privacy import PrivacyMixin
from .schema import SCHEMA_VERSION
from .segments import SegmentsMixin
from .suggestions import SuggestionsMixin


class Store(SegmentsMixin, CodingsMixin, CodebookMixin, MemosMixin, SuggestionsMixin, CountsMixin, PrivacyMixin,
            LemmasMixin, EmbeddingsMixin, FiguresMixin, AuditMixin, StoreCore):
    """An open qualcode project file. Use :meth:`Store.open` or :meth:`Store.create`."""


__all__ = ["Store", "Act", "SCHEMA_VERSION", "default_actor", "exported", "from_snapshot", "new_guid", "now", "serialised"]
