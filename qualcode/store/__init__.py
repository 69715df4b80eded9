"""The project store: one SQLite file, and the only package that speaks SQL.

``Store`` is assembled from mixins, one per area, so that each area's queries
sit together: :mod:`.core` (connection, schema, transactions, audited acts,
undo, backups), :mod:`.sources` (groups, sources, participants, segments),
:mod:`.codebook` (themes, codes, coders, codings), :mod:`.memos`, and the
areas later features add: :mod:`.codebook_rules`, :mod:`.themes`, :mod:`.analysis`,
:mod:`.suggestions`, :mod:`.agreement`, :mod:`.interop`, :mod:`.privacy`.
"""

from __future__ import annotations

from .agreement import AgreementMixin
from .analysis import AnalysisMixin
from .codebook import CodebookMixin
from .codebook_rules import CodebookRulesMixin
from .core import Act, StoreCore, default_actor, exported, from_snapshot, new_guid, now, serialised
from .embeddings import EmbeddingsMixin
from .figures import FiguresMixin
from .interop import InteropMixin
from .lemmas import LemmasMixin
from .memos import MemosMixin
from .privacy import PrivacyMixin
from .schema import SCHEMA_VERSION
from .sources import SourcesMixin
from .suggestions import SuggestionsMixin
from .themes import ThemesMixin


class Store(ThemesMixin, AgreementMixin, SuggestionsMixin, InteropMixin, PrivacyMixin, AnalysisMixin,
            MemosMixin, CodebookRulesMixin, CodebookMixin, LemmasMixin, EmbeddingsMixin, FiguresMixin, SourcesMixin,
            StoreCore):
    """An open qualcode project file. Use :meth:`Store.open` or :meth:`Store.create`."""


__all__ = ["Store", "Act", "SCHEMA_VERSION", "default_actor", "exported", "from_snapshot", "new_guid", "now", "serialised"]
