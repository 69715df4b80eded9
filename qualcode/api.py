"""A Python API for notebooks: ``from qualcode import Project``.

>>> p = Project.open("reports/ips-demo.qualcode")          # read-only
>>> p.codings().groupby(["theme", "group"]).segment_id.nunique().unstack(fill_value=0)

Tables come back as pandas DataFrames with the columns listed in each method's docstring.
A project is opened read-only (SQLite ``query_only``) unless ``writable=True``; the only
write methods are :meth:`Project.add_coding` and :meth:`Project.remove_coding`, each one
audited act (undoable with ``qualcode undo``). Identifying participant attributes never
appear in these tables.
"""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ConflictError


class Project:
    """An open qualcode project. Use :meth:`Project.open`; close with :meth:`close` or ``with``."""

    def __init__(self, store, *, writable: bool = False):
        self._store = store
        self.writable = writable

    # ---------------------------------------------------------------- open
    @classmethod
    def open(cls, path: str | os.PathLike, *, writable: bool = False) -> "Project":
        """Open the project file at ``path``; read-only unless ``writable=True``."""
        from .store import Store

        # read-only: SQLite's read-only URI, so a project in a read-only folder (a share, a CD) opens too
        store = Store.open(Path(path), migrate=writable, read_only=not writable)
        if not writable:
            store.make_read_only()
        return cls(store, writable=writable)

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> "Project":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "writable" if self.writable else "read-only"
        return f"<qualcode.Project {self._store.path} ({mode})>"

    @property
    def store(self):
        """The underlying :class:`qualcode.store.Store` (for advanced use)."""
        return self._store

    # --------------------------------------------------------------- tables
    def segments(self, *, group: str | None = None, role: str | None = None):
        """Segments in transcript order.

        Columns: id, source, group, ordinal, turn, speaker, role ('participant' or 'moderator'),
        participant ('P2' or empty), key ('F2 P2'), start, end (character offsets, end exclusive),
        timestamp (seconds or NaN), text, n_words.
        """
        import pandas as pd

        cols = ["id", "source", "group", "ordinal", "turn", "speaker", "role", "participant", "key", "start",
                "end", "timestamp", "text", "n_words"]
        rows = [dict(r, group=r["group_label"]) for r in self._store.segments(group=group, role=role)]
        return pd.DataFrame(rows, columns=cols)

    def codings(self, *, coder: str | None = None, theme: str | None = None, code: str | None = None):
        """One row per coding (span × code × coder), in transcript order.

        Columns: id, segment_id, code (key), code_name, theme (key, empty for unthemed codes),
        theme_name, coder, origin (manual, rule, suggested, imported, consensus), created_at, source,
        group, speaker, role, participant, key ('F2 P2'), text, start, end (the coded fragment: its
        words and its offsets into the source's text; for a whole-segment coding the segment's),
        fragment (True when part of the segment is coded), segment_text (the whole segment).
        """
        import pandas as pd

        cols = ["id", "segment_id", "code", "code_name", "theme", "theme_name", "coder", "origin", "created_at",
                "source", "group", "speaker", "role", "participant", "key", "text", "start", "end", "fragment",
                "segment_text"]
        rows = [dict(r, group=r["group_label"], fragment=bool(r["fragment"]))
                for r in self._store.codings(coder=coder, theme=theme, code=code)]
        return pd.DataFrame(rows, columns=cols)

    def codes(self):
        """The codebook's codes in codebook order.

        Columns: id, key, name, theme (key), theme_name, parent (parent code key), description, include,
        exclude, example, colour (display colour '#RRGGBB'), n_codings, n_segments.
        """
        import pandas as pd

        cols = ["id", "key", "name", "theme", "theme_name", "parent", "description", "include", "exclude",
                "example", "colour", "n_codings", "n_segments"]
        rows = [dict(r, colour=r["display_colour"]) for r in self._store.codes()]
        return pd.DataFrame(rows, columns=cols)

    def themes(self):
        """Themes in report order.

        Columns: id, key, name, colour, description, status (candidate, reviewed, defined, reported),
        definition, key_messages (list of str), position, n_codes, n_segments (distinct coded segments).
        """
        import pandas as pd

        cols = ["id", "key", "name", "colour", "description", "status", "definition", "key_messages", "position",
                "n_codes", "n_segments"]
        return pd.DataFrame(self._store.themes(), columns=cols)

    def participants(self):
        """Participants in group then number order, without identifying attributes.

        Columns: id, key ('F2 P2'), group, label ('P2'), then one column per non-identifying attribute.
        """
        import pandas as pd

        attrs = self._store.attribute_names(include_identifying=False)
        rows = self._store.participants(include_identifying=False)
        return pd.DataFrame(rows, columns=["id", "key", "group", "label", *attrs])

    def quotes(self, theme: str | None = None, *, code: str | None = None, coder: str | None = None):
        """Quotes for a theme (key, id or name) or code: one row per distinct segment, in transcript order.

        Columns: theme, code (the codes on that segment, comma-separated), key ('F2 P2'), group,
        segment_id, text, quote (the text followed by its key: '"…" (F2 P2)').
        """
        import pandas as pd

        theme_key = self._store.theme(theme)["key"] if theme is not None else None
        df = self.codings(theme=theme_key, code=code, coder=coder)
        cols = ["theme", "code", "key", "group", "segment_id", "text", "quote"]
        if df.empty:
            return pd.DataFrame(columns=cols)
        grouped = (df.groupby(["segment_id"], sort=False)
                   .agg(theme=("theme", "first"), code=("code", lambda s: ", ".join(dict.fromkeys(s))),
                        key=("key", "first"), group=("group", "first"), text=("text", "first"))
                   .reset_index())
        grouped["quote"] = '"' + grouped["text"].str.strip() + '" (' + grouped["key"] + ")"
        return grouped[cols]

    # ---------------------------------------------------------------- writes
    def _check_writable(self) -> None:
        if not self.writable:
            raise ConflictError("this project was opened read-only; use Project.open(path, writable=True) "
                                "to add or remove codings.")

    def _coder(self, coder: str | None) -> str:
        """The coder of a coding to add or remove (refused on a read-only project)."""
        from .store import default_actor

        self._check_writable()
        return coder or default_actor()

    def add_coding(self, segment_id: int, code: str, coder: str | None = None) -> bool:
        """Code segment ``segment_id`` with ``code`` (key or id) as ``coder``, in one audited act
        (the act ``qualcode code`` makes). Returns False when that coder already had that coding."""
        from .coding.manual import code_segments

        return code_segments(self._store, [segment_id], code, coder=self._coder(coder)).changed == 1

    def remove_coding(self, segment_id: int, code: str, coder: str | None = None) -> bool:
        """Remove ``coder``'s coding of ``segment_id`` with ``code`` in one audited act (the act
        ``qualcode uncode`` makes). Raises NotFoundError when there is no such coding."""
        from .coding.manual import uncode_segments

        return uncode_segments(self._store, [segment_id], code, coder=self._coder(coder)).changed == 1
