"""The project schema, its version, and the migrations from older versions.

Version history
---------------
1  initial layout (sources, participants, segments, codebook, codings, memos,
   audit log, suggestions, coder progress).
2  ``exclusive`` flag on themes and codes: the theme's codes (or the code's
   sub-codes) are mutually exclusive categories (agreement per set, review check).
3  derived caches: the lemma cache (lemma_versions, segment_lemmas, lemma_forms) and
   report figures (figure_cache) (:func:`_migrate_add_lemma_cache`).
4  fragments: ``start``/``end`` on codings, the coded span as character offsets
   into ``sources.text``. NULL (both) means the whole segment, so every coding made before and
   every whole-segment coding keeps working unchanged; a span equal to the segment's own span is
   stored as NULL too, so one span has one spelling. ``segment_id`` stays the segment that holds
   the span (the span lies inside it). Uniqueness is (segment, code, coder, span).
5  the embedding cache (``segment_embeddings``): sentence-encoder vectors of segments, keyed by
   segment and encoder version, so the semantic suggester embeds each text once
   (:func:`_migrate_add_embedding_cache`). Derived data: not audited, starts empty.
6  the token cache (``segment_tokens``, ``token_forms``, ``rule_tokens``): each segment's spaCy tokens
   (lengths and spacing), the lexical flags of each token form and the tokens of the codebook's rule
   words, under the lemma cache's version, so autocode matches without loading spaCy
   (:func:`_migrate_add_token_cache`). Derived data: not audited, starts empty (filled when first needed).

To change the schema: bump ``SCHEMA_VERSION``, change ``SCHEMA`` to the new
layout (used for new projects) and append a function to ``MIGRATIONS`` that
takes a connection at the previous version to the new one. Opening an older
project backs it up first, then runs the missing migrations in one transaction.
"""

from __future__ import annotations

SCHEMA_VERSION = 6

# Tables whose row changes are recorded inside an audited act, so that the act
# can be undone exactly. Sources and segments are deliberately not here: undoing
# a pseudonymisation must never put names back.
AUDITED_TABLES = (
    "themes", "codes", "codings", "memos", "coders", "participants",
    "participant_attributes", "attributes", "suggestions", "coder_progress", "meta",
)

SCHEMA = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE groups (
    label       TEXT PRIMARY KEY,            -- 'F1'
    description TEXT NOT NULL DEFAULT ''
);

CREATE TABLE sources (
    id           INTEGER PRIMARY KEY,
    guid         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL UNIQUE,       -- file name as ingested ('F1.txt', 'table.csv#F2')
    format       TEXT NOT NULL,              -- txt md docx vtt srt csv xlsx refi
    group_label  TEXT NOT NULL REFERENCES groups(label) ON UPDATE CASCADE,
    group_origin TEXT NOT NULL DEFAULT '',   -- how the group was found: option, header, labels, file name, column
    text         TEXT NOT NULL,              -- the stored text; every offset refers to it
    sha256       TEXT NOT NULL,              -- of the stored text (UTF-8)
    file_sha256  TEXT NOT NULL,              -- of the original file's bytes
    encoding     TEXT NOT NULL DEFAULT 'utf-8',
    n_words      INTEGER NOT NULL DEFAULT 0,
    imported_at  TEXT NOT NULL
);

CREATE TABLE attributes (
    name        TEXT PRIMARY KEY,            -- participant attribute column, e.g. 'gender'
    position    INTEGER NOT NULL DEFAULT 0,
    identifying INTEGER NOT NULL DEFAULT 0   -- 1: never exported or reported
);

CREATE TABLE participants (
    id          INTEGER PRIMARY KEY,
    guid        TEXT NOT NULL UNIQUE,
    group_label TEXT NOT NULL REFERENCES groups(label) ON UPDATE CASCADE,
    label       TEXT NOT NULL,               -- 'P2'; the key is group + label: 'F2 P2'
    UNIQUE (group_label, label)
);

CREATE TABLE participant_attributes (
    participant_id INTEGER NOT NULL REFERENCES participants(id) ON DELETE CASCADE,
    name           TEXT NOT NULL REFERENCES attributes(name) ON UPDATE CASCADE,
    value          TEXT NOT NULL,
    PRIMARY KEY (participant_id, name)
);

CREATE TABLE segments (
    id             INTEGER PRIMARY KEY,
    guid           TEXT NOT NULL UNIQUE,
    source_id      INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    ordinal        INTEGER NOT NULL,         -- position in the source, from 1
    turn           INTEGER NOT NULL,         -- speaker turn it belongs to, from 1
    speaker        TEXT NOT NULL,            -- the label as normalised: 'P2', 'Moderator'
    role           TEXT NOT NULL CHECK (role IN ('participant', 'moderator')),
    participant_id INTEGER REFERENCES participants(id),
    start          INTEGER NOT NULL,         -- character offsets into sources.text, end exclusive
    "end"          INTEGER NOT NULL,
    timestamp      REAL,                     -- seconds from the start of the recording, if known
    text           TEXT NOT NULL,            -- == sources.text[start:end]
    n_words        INTEGER NOT NULL DEFAULT 0,
    UNIQUE (source_id, ordinal),
    CHECK (start >= 0 AND "end" >= start)
);
CREATE INDEX segments_participant ON segments(participant_id);
CREATE INDEX segments_role ON segments(role);

CREATE TABLE themes (
    id           INTEGER PRIMARY KEY,
    guid         TEXT NOT NULL UNIQUE,
    key          TEXT NOT NULL UNIQUE,       -- the codebook id, e.g. 'pathways'
    name         TEXT NOT NULL,
    colour       TEXT NOT NULL,              -- '#RRGGBB'
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT 'candidate'
                 CHECK (status IN ('candidate', 'reviewed', 'defined', 'reported')),
    definition   TEXT NOT NULL DEFAULT '',
    key_messages TEXT NOT NULL DEFAULT '[]', -- JSON list of strings
    position     INTEGER NOT NULL DEFAULT 0, -- order in reports
    exclusive    INTEGER NOT NULL DEFAULT 0  -- 1: its codes are mutually exclusive (one per segment)
);

CREATE TABLE codes (
    id          INTEGER PRIMARY KEY,
    guid        TEXT NOT NULL UNIQUE,
    key         TEXT NOT NULL UNIQUE,        -- the codebook id, e.g. 'pw_voortraject_voordelen'
    name        TEXT NOT NULL,
    theme_id    INTEGER REFERENCES themes(id),
    parent_id   INTEGER REFERENCES codes(id),
    description TEXT NOT NULL DEFAULT '',
    include     TEXT NOT NULL DEFAULT '',
    exclude     TEXT NOT NULL DEFAULT '',
    example     TEXT NOT NULL DEFAULT '',
    rules       TEXT NOT NULL DEFAULT '{}',  -- JSON: keywords, phrases, patterns
    colour      TEXT,                        -- optional; else the theme's colour
    position    INTEGER NOT NULL DEFAULT 0,
    exclusive   INTEGER NOT NULL DEFAULT 0   -- 1: its sub-codes are mutually exclusive
);
CREATE INDEX codes_theme ON codes(theme_id);

CREATE TABLE coders (
    name TEXT PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE
);

CREATE TABLE codings (
    id         INTEGER PRIMARY KEY,
    guid       TEXT NOT NULL UNIQUE,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    code_id    INTEGER NOT NULL REFERENCES codes(id),
    coder      TEXT NOT NULL REFERENCES coders(name) ON UPDATE CASCADE,
    origin     TEXT NOT NULL
               CHECK (origin IN ('manual', 'rule', 'suggested', 'imported', 'consensus')),
    created_at TEXT NOT NULL,
    start      INTEGER,                      -- the coded span in sources.text, end exclusive,
    "end"      INTEGER,                      -- NULL: the whole segment
    CHECK ((start IS NULL) = ("end" IS NULL)),
    CHECK (start IS NULL OR (start >= 0 AND "end" > start))
);
CREATE UNIQUE INDEX codings_unique ON codings(segment_id, code_id, coder, IFNULL(start, -1), IFNULL("end", -1));
CREATE INDEX codings_code ON codings(code_id);
CREATE INDEX codings_coder ON codings(coder);

-- A coder marks a source as done: segments they did not code there count as
-- 'not applied' in agreement statistics; elsewhere they are left out.
CREATE TABLE coder_progress (
    coder     TEXT NOT NULL REFERENCES coders(name) ON UPDATE CASCADE,
    source_id INTEGER NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    done_at   TEXT NOT NULL,
    PRIMARY KEY (coder, source_id)
);

CREATE TABLE suggestions (
    id         INTEGER PRIMARY KEY,
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    code_id    INTEGER NOT NULL REFERENCES codes(id) ON DELETE CASCADE,
    coder      TEXT NOT NULL,                -- whose coding the suggestion learnt from
    confidence REAL NOT NULL,
    drivers    TEXT NOT NULL DEFAULT '',     -- the words that drove it
    source     TEXT NOT NULL DEFAULT 'model' CHECK (source IN ('model', 'rules', 'discover')),
    status     TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'rejected')),
    created_at TEXT NOT NULL,
    UNIQUE (segment_id, code_id, coder, source)
);

CREATE TABLE memos (
    id          INTEGER PRIMARY KEY,
    guid        TEXT NOT NULL UNIQUE,
    target_type TEXT NOT NULL
                CHECK (target_type IN ('project', 'theme', 'code', 'segment', 'source', 'participant')),
    target_id   INTEGER,                     -- NULL for the project
    kind        TEXT NOT NULL DEFAULT 'memo' CHECK (kind IN ('memo', 'supervisor')),
    author      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    text        TEXT NOT NULL
);
CREATE INDEX memos_target ON memos(target_type, target_id);

-- One row per user-level act. 'changes' holds the row images needed to undo it.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    actor     TEXT NOT NULL,
    command   TEXT NOT NULL,                 -- 'theme merge', 'sheet import', ...
    summary   TEXT NOT NULL DEFAULT '',
    details   TEXT NOT NULL DEFAULT '{}',    -- JSON: arguments and figures
    undoable  INTEGER NOT NULL DEFAULT 1,
    undone_at TEXT,                          -- set when undone
    undo_of   INTEGER REFERENCES audit_log(id)
);

CREATE TABLE audit_changes (
    audit_id INTEGER NOT NULL REFERENCES audit_log(id) ON DELETE CASCADE,
    seq      INTEGER NOT NULL,
    tbl      TEXT NOT NULL,
    op       TEXT NOT NULL CHECK (op IN ('insert', 'update', 'delete')),
    row_key  TEXT NOT NULL,                  -- the row's primary key as JSON
    old      TEXT,                           -- JSON row image before (update, delete)
    new      TEXT,                           -- JSON row image after (update)
    PRIMARY KEY (audit_id, seq)
);
CREATE INDEX audit_changes_row ON audit_changes(tbl, row_key);

"""

LEMMA_CACHE_SQL = """-- The lemma cache: derived from the texts, filled at ingest (or by the first command that
-- needs it) and read instead of lemmatising again. A version names the lemmatiser, its version, the
-- language, the stop words and the spaCy pipeline. Rows of an older version are dropped when rows of
-- a new one are written. Not audited: undo never touches it.
CREATE TABLE lemma_versions (
    id      INTEGER PRIMARY KEY,
    version TEXT NOT NULL UNIQUE
);

CREATE TABLE segment_lemmas (
    segment_id INTEGER PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,
    version_id INTEGER NOT NULL REFERENCES lemma_versions(id) ON DELETE CASCADE,
    text_hash  TEXT NOT NULL,                -- of the text the row was computed from
    content    TEXT NOT NULL,                -- JSON list: content lemmas (nlp.content_lemmas)
    terms      TEXT NOT NULL                 -- JSON list: lemmas counted by the overview's distinctive terms
);

CREATE TABLE lemma_forms (
    version_id INTEGER NOT NULL REFERENCES lemma_versions(id) ON DELETE CASCADE,
    form       TEXT NOT NULL,                -- a lower-case word form of the texts
    lemma      TEXT NOT NULL,
    PRIMARY KEY (version_id, form)
) WITHOUT ROWID;

-- Report figures as drawn (PNG, or SVG text in the same column), keyed by a hash of everything they show and
-- of the drawing code: a report whose figures did not change since the last one reuses them without drawing.
CREATE TABLE figure_cache (
    key     TEXT PRIMARY KEY,
    png     BLOB NOT NULL,
    used_at TEXT NOT NULL
);
"""
SCHEMA += LEMMA_CACHE_SQL

EMBEDDING_CACHE_SQL = """
-- Sentence-encoder vectors of segments (the semantic suggester): derived from the texts, computed on
-- first use and read instead of embedding again. ``model`` names the encoder and its version, and rows of
-- another model are dropped when rows of a new one are written. ``text_hash`` is of the text the vector
-- was computed from (an edited text is embedded again). Not audited: undo never touches it.
CREATE TABLE IF NOT EXISTS segment_embeddings (
    segment_id INTEGER NOT NULL REFERENCES segments(id) ON DELETE CASCADE,
    model      TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    vector     BLOB NOT NULL,               -- float16 little-endian, unit length
    PRIMARY KEY (segment_id, model)
) WITHOUT ROWID;
"""

SCHEMA += EMBEDDING_CACHE_SQL

TOKEN_CACHE_SQL = """
-- The token cache (qualcode.text.tokens): spaCy's tokens of each segment, stored with the lemma cache's
-- version (the same lemmatiser, language, spaCy and pipeline) and the hash of the text they were computed
-- from, so autocode matches its rules without loading spaCy. Dropped with their version. Not audited.
CREATE TABLE IF NOT EXISTS segment_tokens (
    segment_id INTEGER PRIMARY KEY REFERENCES segments(id) ON DELETE CASCADE,
    version_id INTEGER NOT NULL REFERENCES lemma_versions(id) ON DELETE CASCADE,
    text_hash  TEXT NOT NULL,
    tokens     BLOB NOT NULL                 -- per token: length * 2 + (followed by a space), see tokens.encode
);

-- The lexical flags (is_alpha, is_punct, like_num, ...) of every token form (case kept) of the texts.
CREATE TABLE IF NOT EXISTS token_forms (
    version_id INTEGER NOT NULL REFERENCES lemma_versions(id) ON DELETE CASCADE,
    form       TEXT NOT NULL,
    flags      INTEGER NOT NULL,             -- bit mask, see tokens.FLAGS
    PRIMARY KEY (version_id, form)
) WITHOUT ROWID;

-- The tokens of the codebook's rule words and phrases as spaCy cuts them (JSON list of token texts).
CREATE TABLE IF NOT EXISTS rule_tokens (
    version_id INTEGER NOT NULL REFERENCES lemma_versions(id) ON DELETE CASCADE,
    text       TEXT NOT NULL,
    tokens     TEXT NOT NULL,
    PRIMARY KEY (version_id, text)
) WITHOUT ROWID;
"""

SCHEMA += TOKEN_CACHE_SQL

# Primary key columns per audited table (used to address rows on undo).
PRIMARY_KEYS = {
    "themes": ("id",), "codes": ("id",), "codings": ("id",), "memos": ("id",),
    "coders": ("name",), "participants": ("id",),
    "participant_attributes": ("participant_id", "name"), "attributes": ("name",),
    "suggestions": ("id",), "coder_progress": ("coder", "source_id"), "meta": ("key",),
}


def _migrate_0_to_1(conn) -> None:  # pragma: no cover - placeholder for the empty file case
    conn.executescript(SCHEMA)


def _migrate_1_to_2(conn) -> None:
    """Exclusive code sets: a flag on themes and on (parent) codes, off for existing ones."""
    conn.execute("ALTER TABLE themes ADD COLUMN exclusive INTEGER NOT NULL DEFAULT 0")
    conn.execute("ALTER TABLE codes ADD COLUMN exclusive INTEGER NOT NULL DEFAULT 0")


def _migrate_add_lemma_cache(conn) -> None:
    """Add the lemma cache and figure cache tables. They start empty: the first command
    that reads lemmas (or draws a report's figures) fills them."""
    # one statement at a time: executescript would commit the migration's transaction half-way
    for statement in LEMMA_CACHE_SQL.split(";"):
        if statement.strip():
            conn.execute(statement)


def _codings_table_sql() -> str:
    """The CREATE statements of the codings table and its indexes, as in ``SCHEMA``."""
    start = SCHEMA.index("CREATE TABLE codings (")
    end = SCHEMA.index("-- A coder marks a source as done")
    return SCHEMA[start:end]


def _migrate_3_to_4(conn) -> None:
    """Fragments: span columns on codings (NULL = the whole segment, so every existing
    coding keeps its meaning) and uniqueness over (segment, code, coder, span). SQLite cannot drop a
    table constraint, so the table is rebuilt with the same ids and guids (the audit log still finds
    every row)."""
    conn.execute("ALTER TABLE codings RENAME TO codings_v2")
    for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'codings_v2' "
                                "AND sql IS NOT NULL").fetchall():
        conn.execute(f'DROP INDEX "{name}"')
    for stmt in _codings_table_sql().split(";"):
        if stmt.strip():
            conn.execute(stmt)
    conn.execute("""INSERT INTO codings(id, guid, segment_id, code_id, coder, origin, created_at)
                    SELECT id, guid, segment_id, code_id, coder, origin, created_at FROM codings_v2""")
    conn.execute("DROP TABLE codings_v2")


def _migrate_add_embedding_cache(conn) -> None:
    """Add the embedding cache table. It starts empty: the first semantic suggestion fills it."""
    for statement in EMBEDDING_CACHE_SQL.split(";"):
        if statement.strip():
            conn.execute(statement)


def _migrate_add_token_cache(conn) -> None:
    """Add the token cache tables. They start empty: the first command that reads the lemma cache
    computes the tokens of every segment with its lemmas (once), and autocode reads them from then on."""
    for statement in TOKEN_CACHE_SQL.split(";"):
        if statement.strip():
            conn.execute(statement)


# MIGRATIONS[v] takes a project at version v to version v + 1.
MIGRATIONS = {0: _migrate_0_to_1, 1: _migrate_1_to_2, 2: _migrate_add_lemma_cache, 3: _migrate_3_to_4,
              4: _migrate_add_embedding_cache, 5: _migrate_add_token_cache}
