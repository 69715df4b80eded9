"""Re-theming (Braun & Clarke steps 3-5): themes, their codes, statuses, definitions and memos.

Every operation here is one audited act (``store.act``): one transaction that
writes its audit-log row and the row images :meth:`Store.undo` needs to
reverse it exactly. Nothing here prints; errors are :class:`QualcodeError`
subclasses whose messages say what to do.

Theme statuses follow the six steps::

    candidate (step 3) -> reviewed (step 4) -> defined (step 5) -> reported (step 6)

Moving forward goes one step at a time; ``defined`` (and so ``reported``)
needs a definition and at least one key message. Moving back is allowed
only when asked for explicitly (``back=True``).
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from ..errors import ConflictError, InputError, NotFoundError, QualcodeError
from ..store.core import serialised

STATUSES = ("candidate", "reviewed", "defined", "reported")
STEP = {status: step for step, status in enumerate(STATUSES, start=3)}  # Braun & Clarke step of each status
# Okabe-Ito colours (readable for colour-blind readers), then a few more.
PALETTE = ("#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999",
           "#8DD3C7", "#BEBADA", "#FB8072", "#80B1D3")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MEMO_TARGETS = ("project", "theme", "code", "segment")


# ------------------------------------------------------------------ helpers
def _check_key(kind: str, key: str) -> None:
    if not KEY_RE.match(key or ""):
        raise InputError(f"{kind} id '{key}' is not valid: use lower-case letters, digits and _ "
                         "(starting with a letter), e.g. 'paid_work'.")


def _new_key(store, kind: str, key: str) -> None:
    """Refuse an id that is not valid or that another theme or code (``kind``) already has."""
    _check_key(kind, key)
    name = store.name_for_key(kind, key)
    if name is not None:
        raise ConflictError(f"a {kind} with id '{key}' already exists ({name}); choose another id.")


def _rename_fields(store, kind: str, row: dict, name: str | None, key: str | None) -> tuple[dict, str]:
    """The fields a rename of theme or code ``row`` changes, and the act's summary."""
    if not name and not key:
        raise InputError("give a new name, a new id (--key), or both.")
    fields = {}
    if name is not None and not name.strip():
        raise InputError(f"the new name of {kind} '{row['key']}' is empty; give a name with some text.")
    if name:
        fields["name"] = name.strip()
    if key and key != row["key"]:
        _new_key(store, kind, key)
        fields["key"] = key
    if all(row.get(k) == v for k, v in fields.items()):
        raise ConflictError(f"{kind} '{row['key']}' already has that name and id; nothing to change.")
    summary = (f"renamed {kind} {row['key']} ({row['name']}) to {fields.get('key', row['key'])} "
               f"({fields.get('name', row['name'])})")
    return fields, summary


def _free_colour(store) -> str:
    used = {t["colour"].upper() for t in store.themes()}
    for c in PALETTE:
        if c not in used:
            return c
    return PALETTE[len(used) % len(PALETTE)]


def _colour(value: str) -> str:
    if not re.match(r"^#?[0-9A-Fa-f]{6}$", value or ""):
        raise InputError(f"colour '{value}' is not valid: use #RRGGBB, e.g. #E69F00.")
    return "#" + value.lstrip("#").upper()


# ------------------------------------------------------------------- themes
@serialised
def add_theme(store, key: str, name: str, *, description: str = "", colour: str | None = None) -> dict:
    """A new candidate theme."""
    _new_key(store, "theme", key)
    if not name.strip():
        raise InputError("a theme needs a name, e.g. qualcode theme add stigma \"Stigma en vooroordelen\".")
    with store.act("theme add", summary=f"added theme {key} ({name})", details={"theme": key}):
        store.add_theme(key, name.strip(), _colour(colour) if colour else _free_colour(store), description)
    return store.theme(key)


def _rename(store, kind: str, ref: str, name: str | None, key: str | None) -> dict:
    """Rename a theme or code (``kind``) in one act; returns the row as it is now."""
    row = getattr(store, kind)(ref)
    fields, summary = _rename_fields(store, kind, row, name, key)
    with store.act(f"{kind} rename", summary=summary, details={kind: row["key"], **fields}):
        getattr(store, f"update_{kind}")(row["id"], **fields)
    return getattr(store, kind)(fields.get("key", row["key"]))


@serialised
def rename_theme(store, ref: str, name: str | None = None, *, key: str | None = None) -> dict:
    """Give a theme a new (final) name and/or id."""
    return _rename(store, "theme", ref, name, key)


@serialised
def merge_themes(store, source: str, target: str, *, backup: bool = True) -> dict:
    """Merge theme ``source`` into ``target``: its codes and memos move, its key messages are
    added to the target's (the target's definition stays; the source's is used if the target has
    none), and ``source`` disappears."""
    a, b = store.theme(source), store.theme(target)
    if a["id"] == b["id"]:
        raise ConflictError(f"cannot merge theme '{a['key']}' into itself.")
    code_ids = store.theme_code_ids(a["id"])
    if backup:
        store.backup("before-theme-merge")
    with store.act("theme merge", summary=f"merged theme {a['key']} into {b['key']} ({len(code_ids)} codes moved)",
                   details={"from": a["key"], "into": b["key"], "codes": len(code_ids)}):
        store.move_codes_to_theme(code_ids, b["id"])
        store.retarget_memos("theme", a["id"], b["id"])
        messages = list(b["key_messages"]) + [m for m in a["key_messages"] if m not in b["key_messages"]]
        fields = {}
        if messages != b["key_messages"]:
            fields["key_messages"] = messages
        if not b["definition"] and a["definition"]:
            fields["definition"] = a["definition"]
        store.update_theme(b["id"], **fields)
        store.delete_theme(a["id"])
    return {"from": a["key"], "into": b["key"], "codes_moved": len(code_ids)}


@serialised
def split_theme(store, ref: str, codes: Iterable[str], new_key: str, new_name: str, *,
                description: str = "", colour: str | None = None) -> dict:
    """Move some of a theme's codes (with their sub-codes) to a new candidate theme."""
    theme = store.theme(ref)
    code_rows = [store.code(c) for c in codes]
    if not code_rows:
        raise InputError(f"say which codes of theme '{theme['key']}' go to the new theme "
                         "(--code CODE, repeatable).")
    foreign = [c["key"] for c in code_rows if c["theme_id"] != theme["id"]]
    if foreign:
        raise ConflictError(f"code(s) {', '.join(foreign)} are not in theme '{theme['key']}'; "
                            f"see 'qualcode theme show {theme['key']}'.")
    moving = [i for i in store.code_with_descendants(c["id"] for c in code_rows)
              if i in set(store.theme_code_ids(theme["id"]))]
    if len(moving) == len(store.theme_code_ids(theme["id"])):
        raise ConflictError(f"splitting off every code of theme '{theme['key']}' would leave it empty; "
                            f"use 'qualcode theme rename {theme['key']}' instead.")
    _new_key(store, "theme", new_key)
    keys = [c["key"] for c in code_rows]
    with store.act("theme split", summary=f"split {', '.join(keys)} from theme {theme['key']} into new theme "
                                          f"{new_key}", details={"from": theme["key"], "new": new_key, "codes": keys}):
        tid = store.add_theme(new_key, new_name.strip(), _colour(colour) if colour else _free_colour(store),
                              description, position=theme["position"])
        store.move_codes_to_theme(moving, tid)
    return {"from": theme["key"], "new": new_key, "codes": keys}


@serialised
def move_code(store, code_ref: str, theme_ref: str) -> dict:
    """Put a code (with those of its sub-codes that share its theme) under another theme."""
    code, theme = store.code(code_ref), store.theme(theme_ref)
    if code["theme_id"] == theme["id"]:
        raise ConflictError(f"code '{code['key']}' is already in theme '{theme['key']}'.")
    old = code["theme"] or "(no theme)"
    with store.act("theme move-code", summary=f"moved code {code['key']} from {old} to {theme['key']}",
                   details={"code": code["key"], "from": code["theme"], "to": theme["key"]}):
        store.move_codes_to_theme([i for i in store.code_with_descendants([code["id"]])
                                   if store.code(i)["theme_id"] == code["theme_id"]], theme["id"])
    return {"code": code["key"], "from": old, "to": theme["key"]}


@serialised
def define_theme(store, ref: str, *, definition: str | None = None, key_messages: Iterable[str] | None = None,
                 add: bool = False, name: str | None = None) -> dict:
    """Set a theme's definition and key messages (replacing them, or adding with ``add``)."""
    theme = store.theme(ref)
    msgs = [m.strip() for m in (key_messages or []) if m and m.strip()]
    if definition is None and not msgs and not name:
        raise InputError(f"give --definition, --key-message (repeatable) or --name for theme '{theme['key']}'.")
    fields: dict = {}
    if definition is not None:
        fields["definition"] = definition.strip()
    if msgs:
        fields["key_messages"] = (theme["key_messages"] + [m for m in msgs if m not in theme["key_messages"]]
                                  if add else msgs)
    if name:
        fields["name"] = name.strip()
    if theme["status"] in ("defined", "reported") and (
            fields.get("definition", theme["definition"]) == "" or not fields.get("key_messages", True)):
        raise ConflictError(f"theme '{theme['key']}' is {theme['status']}; it keeps a definition and a key "
                            "message (move it back first with 'qualcode theme set-status ... reviewed --back').")
    with store.act("theme define", summary=f"defined theme {theme['key']}",
                   details={"theme": theme["key"], **{k: v for k, v in fields.items()}}):
        store.update_theme(theme["id"], **fields)
    return store.theme(theme["key"])


@serialised
def set_status(store, ref: str, status: str, *, back: bool = False) -> dict:
    """Move a theme to another step. Forward one step at a time; back only with ``back``."""
    return set_statuses(store, [ref], status, back=back)[0]


@serialised
def set_statuses(store, refs: Sequence[str], status: str, *, back: bool = False) -> list[dict]:
    """Move several themes to the same step in one act (one 'qualcode undo' reverses it), with the
    rules of :func:`set_status` for each. All or nothing: if one of them cannot move, none does."""
    if status not in STATUSES:
        raise InputError(f"unknown status '{status}'; use one of {', '.join(STATUSES)}.")
    if not refs:
        raise InputError("name at least one theme before the status, e.g. qualcode theme set-status pathways reviewed.")
    themes = [store.theme(ref) for ref in refs]
    keys = [t["key"] for t in themes]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise InputError(f"theme '{twice[0]}' is named twice; name each theme once.")
    for theme in themes:
        try:
            _check_status_move(theme, status, back)
        except QualcodeError as exc:
            if len(themes) == 1:
                raise
            raise type(exc)(f"{exc} None of the {len(themes)} themes was changed.") from None
    if len(themes) == 1:
        summary = f"theme {keys[0]}: {themes[0]['status']} -> {status}"
        details: dict = {"theme": keys[0], "from": themes[0]["status"], "to": status}
    else:
        olds = sorted({t["status"] for t in themes}, key=STATUSES.index)
        summary = f"themes {', '.join(keys)}: {'/'.join(olds)} -> {status}"
        details = {"themes": keys, "from": {t["key"]: t["status"] for t in themes}, "to": status}
    with store.act("theme set-status", summary=summary, details=details):
        for theme in themes:
            store.update_theme(theme["id"], status=status)
    return [store.theme(k) for k in keys]


def _check_status_move(theme: dict, status: str, back: bool) -> None:
    """Refuse a move of ``theme`` to ``status`` that the steps do not allow."""
    old = theme["status"]
    if status == old:
        raise ConflictError(f"theme '{theme['key']}' is already {status}.")
    i, j = STATUSES.index(old), STATUSES.index(status)
    if j < i and not back:
        raise ConflictError(f"theme '{theme['key']}' is {old}; moving it back to {status} needs --back.")
    if j > i + 1:
        raise ConflictError(f"theme '{theme['key']}' is {old}; it moves to {STATUSES[i + 1]} first "
                            f"(qualcode theme set-status {theme['key']} {STATUSES[i + 1]}).")
    if j > i and status in ("defined", "reported"):
        missing = [w for w, ok in (("a definition", theme["definition"]), ("a key message", theme["key_messages"]))
                   if not ok]
        if missing:
            raise ConflictError(
                f"theme '{theme['key']}' cannot be {status} without {' and '.join(missing)}: run qualcode theme "
                f"define {theme['key']} --definition \"...\" --key-message \"...\".")


def set_exclusive(store, ref: str, *, on: bool = True) -> dict:
    """Declare a theme's codes (or a parent code's sub-codes) mutually exclusive, or (``on=False``) no longer.

    One audited act (undo with 'qualcode undo'). ``ref`` is a theme id or name, or the id of a code with
    sub-codes. Returns the set (key, kind, codes) and how many segments already carry two of its codes from
    one coder (coding errors that agreement and review list)."""
    from ..agreement.measures import check_set_size, exclusive_sets, set_values

    [xset] = exclusive_sets(store, [ref], flagged=False) if on else [_flagged_set(store, ref)]
    row = store.theme(xset.key) if xset.kind == "theme" else store.code(xset.key)
    if bool(row["exclusive"]) == on:
        raise ConflictError(f"{xset.kind} '{xset.key}' is {'already' if on else 'not'} an exclusive set.")
    if on:
        check_set_size(xset)
    verb = "set-exclusive" if on else "set-exclusive --off"
    with store.act("theme set-exclusive", summary=f"{xset.kind} {xset.key}: {verb} ({', '.join(xset.codes)})",
                   details={"kind": xset.kind, "key": xset.key, "exclusive": on, "codes": xset.codes}):
        if xset.kind == "theme":
            store.update_theme(row["id"], exclusive=on)
        else:
            store.update_code(row["id"], exclusive=on)
    double = 0
    if on:
        per: dict[str, dict[int, set[str]]] = {}
        for sid, key, coder in store.coder_codings(store.coders_with_codings()):
            per.setdefault(coder, {}).setdefault(sid, set()).add(key)
        double = sum(1 for applied in per.values() for sid in applied if len(set_values(applied, sid, xset)) > 1)
    return {"key": xset.key, "kind": xset.kind, "codes": xset.codes, "exclusive": on, "double_coded": double}


def _flagged_set(store, ref: str):
    """The flagged exclusive set called ``ref`` (for switching it off)."""
    from ..agreement.measures import exclusive_sets

    flagged = exclusive_sets(store)
    for x in flagged:
        if ref in (x.key, x.name):
            return x
    raise NotFoundError(f"'{ref}' is not an exclusive set; exclusive sets: "
                        f"{', '.join(x.key for x in flagged) or 'none'}.")


def list_themes(store) -> list[dict]:
    return store.themes()


def show_theme(store, ref: str, *, max_segments: int | None = 10) -> dict:
    """A theme with its codes, definition, key messages, memos, voices and some segments."""
    theme = store.theme(ref)
    segs = store.theme_segments(theme["id"])
    voices: dict[str, int] = {}
    for s in segs:
        if s["role"] == "participant":
            voices[s["key"]] = voices.get(s["key"], 0) + 1
    return {**theme, "codes": store.codes(theme["key"]), "memos": store.memos("theme", theme["id"]),
            "n_segments": len(segs), "groups": sorted({s["group_label"] for s in segs}),
            "voices": dict(sorted(voices.items(), key=lambda kv: -kv[1])),
            "segments": segs[:max_segments] if max_segments else segs}


def format_theme(t: dict) -> str:
    """A readable page for ``qualcode theme show``."""
    lines = [f"{t['key']}: {t['name']}  [{t['status']}, step {STEP[t['status']]}]  {t['colour']}"]
    if t["description"]:
        lines.append(f"description: {t['description']}")
    lines.append(f"definition: {t['definition'] or '(none yet: qualcode theme define ' + t['key'] + ')'}")
    lines.append("key messages:" + ("" if t["key_messages"] else " (none yet)"))
    lines.extend(f"  - {m}" for m in t["key_messages"])
    lines.append(f"codes ({len(t['codes'])}):")
    lines.extend(f"  {c['key']:<28} {c['name']}  ({c['n_segments']} segments)" for c in t["codes"])
    lines.append(f"segments: {t['n_segments']} from group(s) {', '.join(t['groups']) or '-'}")
    if t["voices"]:
        lines.append("voices: " + ", ".join(f"{k} {n}" for k, n in t["voices"].items()))
    for m in t["memos"]:
        lines.append(f"memo #{m['id']} {m['author']} {m['created_at']}: {m['text']}")
    for s in t["segments"]:
        text = s["text"] if len(s["text"]) <= 160 else s["text"][:159] + "…"
        lines.append(f"  #{s['segment_id']} ({s['key']}) [{s['codes']}] {text}")
    return "\n".join(lines)


# -------------------------------------------------------------------- codes
@serialised
def rename_code(store, ref: str, name: str | None = None, *, key: str | None = None) -> dict:
    """Give a code a new name and/or id."""
    return _rename(store, "code", ref, name, key)


def _merged_rules(a: dict, b: dict) -> dict:
    out = {k: (list(v) if isinstance(v, list) else v) for k, v in b.items()}
    for k, v in a.items():
        if isinstance(v, list):
            cur = out.setdefault(k, [])
            if isinstance(cur, list):
                cur.extend(x for x in v if x not in cur)
        else:
            out.setdefault(k, v)
    return out


@serialised
def merge_codes(store, source: str, target: str, *, backup: bool = True) -> dict:
    """Merge code ``source`` into ``target``: codings move (a segment the same coder already coded
    with ``target`` keeps one coding), rule words are added to the target's, memos and sub-codes
    move, and ``source`` disappears."""
    a, b = store.code(source), store.code(target)
    if a["id"] == b["id"]:
        raise ConflictError(f"cannot merge code '{a['key']}' into itself.")
    if backup:
        store.backup("before-code-merge")
    with store.act("code merge", summary=f"merged code {a['key']} into {b['key']}",
                   details={"from": a["key"], "into": b["key"]}) as act:
        moved, collapsed = store.move_codings(a["id"], b["id"])
        store.retarget_memos("code", a["id"], b["id"])
        if b["parent_id"] == a["id"]:
            store.update_code(b["id"], parent_id=a["parent_id"])
        store.reparent_codes(a["id"], b["id"])
        rules = _merged_rules(a["rules"], b["rules"])
        if rules != b["rules"]:
            store.update_code(b["id"], rules=rules)
        store.delete_code(a["id"])
        act.summary += f" ({moved} codings moved, {collapsed} duplicates collapsed)"
        act.details.update(moved=moved, collapsed=collapsed)
    return {"from": a["key"], "into": b["key"], "moved": moved, "collapsed": collapsed}


def select_segments(store, code: dict, *, segment_ids: Iterable[int] | None = None, group: str | None = None,
                    participant: str | None = None, contains: str | None = None) -> list[int]:
    """Segments of ``code`` chosen by ids and/or a filter (all conditions must hold)."""
    have = set(store.code_segment_ids(code["id"]))
    if segment_ids is None and not (group or participant or contains):
        raise InputError(f"say which segments of code '{code['key']}' go to the new code: --segments 12,15 "
                         "or a filter (--group, --participant, --contains).")
    chosen = set(have)
    if segment_ids is not None:
        ids = {int(i) for i in segment_ids}
        missing = sorted(ids - have)
        if missing:
            raise ConflictError(f"segment(s) {', '.join(map(str, missing))} are not coded with '{code['key']}'; "
                                f"see 'qualcode segments --codes'.")
        chosen &= ids
    if group or participant or contains:
        grp, part = group, participant
        if participant and " " in participant.strip():
            grp, part = participant.split(None, 1)
        rows = store.segments(ids=sorted(chosen), group=grp, participant=part)
        needle = (contains or "").lower()
        chosen = {r["id"] for r in rows if needle in r["text"].lower()}
    return sorted(chosen)


@serialised
def split_code(store, ref: str, new_key: str, new_name: str, *, segment_ids: Iterable[int] | None = None,
               group: str | None = None, participant: str | None = None, contains: str | None = None,
               theme: str | None = None) -> dict:
    """Move some of a code's codings (by segment ids or a filter) to a new code."""
    code = store.code(ref)
    _new_key(store, "code", new_key)
    segs = select_segments(store, code, segment_ids=segment_ids, group=group, participant=participant,
                           contains=contains)
    if not segs:
        raise ConflictError(f"no segment of code '{code['key']}' matches; nothing to split.")
    theme_id = store.theme(theme)["id"] if theme else code["theme_id"]
    with store.act("code split", summary=f"split {len(segs)} segment(s) of code {code['key']} into new code "
                                         f"{new_key}", details={"from": code["key"], "new": new_key,
                                                                "segments": segs}):
        cid = store.add_code(new_key, new_name.strip(), theme_id, parent_id=code["parent_id"])
        moved, _ = store.move_codings(code["id"], cid, segs)
    return {"from": code["key"], "new": new_key, "segments": segs, "moved": moved}


# -------------------------------------------------------------------- memos
def parse_target(store, target: str) -> tuple[str, int | None, str]:
    """'project', 'theme:KEY', 'code:KEY' or 'segment:ID' -> (type, id, label)."""
    t = (target or "").strip()
    if t == "project":
        return "project", None, "project"
    kind, _, ref = t.partition(":")
    if kind not in MEMO_TARGETS or not ref:
        raise InputError(f"memo target '{target}' is not valid: use project, theme:KEY, code:KEY or segment:ID.")
    if kind == "theme":
        row = store.theme(ref)
        return "theme", row["id"], f"theme:{row['key']}"
    if kind == "code":
        row = store.code(ref)
        return "code", row["id"], f"code:{row['key']}"
    if not ref.isdigit():
        raise InputError(f"segment id '{ref}' is not a number; see 'qualcode segments' for ids.")
    store.segment(int(ref))
    return "segment", int(ref), f"segment:{ref}"


@serialised
def add_memo(store, target: str, text: str, *, author: str | None = None, kind: str = "memo") -> dict:
    """A dated, signed memo on the project, a theme, a code or a segment (the analysis logbook)."""
    from ..store import default_actor

    if not text or not text.strip():
        raise InputError("a memo needs text.")
    ttype, tid, label = parse_target(store, target)
    author = author or default_actor()
    with store.act("memo add", actor=author, summary=f"memo on {label}", details={"target": label}):
        mid = store.add_memo(ttype, tid, text.strip(), author, kind=kind)
    return describe_memo(store, store.memo(mid))


def describe_memo(store, memo: dict) -> dict:
    label = memo["target_type"]
    if memo["target_type"] in ("theme", "code"):
        key = store.key_for_id(memo["target_type"], memo["target_id"])
        label += ":" + (key or f"#{memo['target_id']} (deleted)")
    elif memo["target_id"] is not None:
        label += f":{memo['target_id']}"
    return {**memo, "target": label}


def list_memos(store, target: str | None = None) -> list[dict]:
    if target:
        ttype, tid, _ = parse_target(store, target)
        rows = store.memos(ttype, tid)
    else:
        rows = store.memos()
    return [describe_memo(store, m) for m in rows]


def show_memo(store, memo_id: int) -> dict:
    memo = store.memo(int(memo_id))
    if memo is None:
        raise NotFoundError(f"unknown memo '{memo_id}'; see 'qualcode memo list'.")
    return describe_memo(store, memo)


# --------------------------------------------------------------- history
@serialised
def undo(store, n: int = 1, *, audit_id: int | None = None) -> list[dict]:
    """Back the project up, then reverse the last ``n`` acts (or act ``audit_id``)."""
    if audit_id is None and n < 1:
        raise InputError("undo takes a number of acts of at least 1.")
    if not store.undoable_acts():
        raise ConflictError("nothing to undo.")
    store.backup("before-undo")
    return store.undo(n, audit_id=audit_id)


def history_rows(store, limit: int | None = 20) -> list[dict]:
    out = []
    for a in store.history(limit):
        if a["undo_of"]:
            state = f"undo of #{a['undo_of']}"
        elif a["undone_at"]:
            state = "undone"
        elif not a["undoable"]:
            state = "not undoable"
        else:
            state = ""
        out.append({**a, "state": state})
    return out


__all__ = ["STATUSES", "add_theme", "rename_theme", "merge_themes", "split_theme", "move_code", "define_theme",
           "set_status", "set_statuses", "list_themes", "show_theme", "rename_code", "merge_codes", "split_code", "add_memo",
           "list_memos", "show_memo", "undo", "history_rows", "QualcodeError"]
