"""``qualcode status``: where the project stands in Braun & Clarke's six steps.

Fast by design: a handful of indexed SQL counts and no heavy imports (no pandas,
spaCy or scikit-learn on this path). Review warnings are not recomputed here;
``qualcode review`` stores its count, and status says when that count is stale
(acts recorded since the review).
"""

from __future__ import annotations

from .themes.retheme import STATUSES

# Acts that cannot change what the review finds (names, definitions, statuses, memos).
REVIEW_NEUTRAL = ("theme define", "theme set-status", "theme rename", "code rename", "memo add")


def project_status(store) -> dict:
    """Counts, themes per status, review warnings and the next sensible action."""
    c = store.status_counts()
    review_at = store.meta("review_at")
    warnings = None
    stale = None
    if review_at:
        warnings = int(store.meta("review_warnings", "0") or 0)
        stale = store.acts_since(int(store.meta("review_act", "0") or 0), ignore=REVIEW_NEUTRAL)
    by_status = {s: c["themes_by_status"].get(s, []) for s in STATUSES}
    out = {
        "project": str(store.path),
        "name": store.meta("name"),
        "language": store.language,
        "sources": c["sources"],
        "groups": c["groups"],
        "participants": c["participants"],
        "participant_segments": c["segments"],
        "segments_coded": c["segments_coded"],
        "segments_uncoded": c["segments"] - c["segments_coded"],
        "codes": c["codes"],
        "codings": c["codings"],
        "coders": c["coders"],
        "codes_without_codings": c["codes_without_codings"],
        "codes_without_theme": c["codes_without_theme"],
        "themes": {s: len(keys) for s, keys in by_status.items()},
        "themes_by_status": by_status,
        "review": {"at": review_at or None, "warnings": warnings, "acts_since": stale},
    }
    out["step"], out["next"] = _next_action(out)
    return out


def _next_action(s: dict) -> tuple[int, str]:
    t = s["themes"]
    n_themes = sum(t.values())
    if not s["sources"]:
        return 1, "ingest transcripts: qualcode ingest FILES --participants participants.csv"
    if not s["codes"]:
        return 2, "load a codebook (qualcode codebook apply codebooks/ips.yaml) or add codes"
    if not s["codings"]:
        return 2, "code segments: qualcode autocode, or qualcode code SEGMENT_ID CODE_ID"
    if not n_themes:
        return 3, "group codes into themes: qualcode theme add KEY NAME, then qualcode theme move-code"
    if t["candidate"]:
        if s["review"]["at"] is None or s["review"]["acts_since"]:
            return 4, "re-read and check the themes: qualcode review"
        first = s["themes_by_status"]["candidate"][0]
        return 4, f"after reading the review, mark themes reviewed: qualcode theme set-status {first} reviewed"
    if t["reviewed"]:
        first = s["themes_by_status"]["reviewed"][0]
        return 5, (f"define and name themes: qualcode theme define {first} --definition \"...\" "
                   f"--key-message \"...\", then qualcode theme set-status {first} defined")
    if t["defined"]:
        return 6, "write the report: qualcode export workbook, qualcode report; then mark themes reported"
    return 6, "all themes are reported; share the report and the project's history (qualcode history)"


def format_status(s: dict) -> str:
    lines = [f"project {s['project']} ({s['name']}, language {s['language']})"]
    lines.append(f"step 1  sources: {s['sources']} in {s['groups']} group(s), {s['participants']} participants")
    total = s["participant_segments"]
    share = f" ({s['segments_coded'] / total:.0%})" if total else ""
    lines.append(f"step 2  participant segments: {total}, coded {s['segments_coded']}{share}, "
                 f"uncoded {s['segments_uncoded']}")
    coders = ", ".join(s["coders"]) or "none"
    lines.append(f"        codes: {s['codes']}, codings: {s['codings']} (coders: {coders})")
    if s["codes_without_codings"]:
        lines.append(f"        codes without codings: {_few(s['codes_without_codings'])}")
    if s["codes_without_theme"]:
        lines.append(f"        codes without a theme: {_few(s['codes_without_theme'])}")
    lines.append("step 3-6 themes: " + ", ".join(f"{n} {st}" for st, n in s["themes"].items()))
    for st in STATUSES:
        if s["themes_by_status"][st]:
            lines.append(f"        {st}: {', '.join(s['themes_by_status'][st])}")
    r = s["review"]
    if r["at"] is None:
        lines.append("review: not run yet (qualcode review)")
    else:
        note = f"; {r['acts_since']} change(s) to codes or themes since, run qualcode review again" if r["acts_since"] else ""
        lines.append(f"review: {r['warnings']} open warning(s) (review of {r['at']}{note})")
    lines.append(f"next (step {s['step']}): {s['next']}")
    return "\n".join(lines)


def _few(items: list[str], n: int = 8) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")
