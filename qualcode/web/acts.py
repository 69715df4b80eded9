"""The acts a page can ask for, each one call of the library function the CLI uses.

Each is one audited act (in the history, undoable) and returns the line the page shows.

``ACTS`` maps a POST path to ``(function, fields)``; a function takes the open store, the form's
fields (strings) and the coder's name. A page that shows an older state of the project than the
file holds is refused where it matters (the words selected, the theme a code was dragged from),
with a message that says to reload.
"""

from __future__ import annotations

from ..coding import manual
from ..errors import ChangedError, InputError
from ..store.core import serialised
from ..themes import retheme


def _int(form: dict, name: str) -> int:
    value = (form.get(name) or "").strip()
    if not value.lstrip("-").isdigit():
        raise InputError(f"'{name}' must be a number, got '{value}'.")
    return int(value)


def _need(form: dict, name: str, what: str) -> str:
    value = (form.get(name) or "").strip()
    if not value:
        raise InputError(f"give {what}.")
    return value


def code(store, form: dict, me: str) -> str:
    r = manual.code_span(store, _int(form, "segment"), _int(form, "start"), _int(form, "end"),
                         _need(form, "code", "a code (type part of its name or id)"), coder=me,
                         expect=form.get("text"))
    return f"coded the words with {r['code']} as {me}"


def uncode(store, form: dict, me: str) -> str:
    r = manual.remove_coding(store, _int(form, "coding"), coder=me)
    return f"removed {r['code']} ({r['coder']}) from segment {r['segment_id']}"


def confirm(store, form: dict, me: str) -> str:
    r = manual.confirm_coding(store, _int(form, "coding"), coder=me)
    return f"confirmed {r['code']} on segment {r['segment_id']} as {me}"


def suggestion(store, form: dict, me: str) -> str:
    decision = (form.get("decision") or "").strip().lower()
    if decision not in ("yes", "no"):
        raise InputError("say yes or no to the suggestion.")
    r = manual.decide_suggestion(store, _int(form, "suggestion"), decision == "yes", coder=me)
    return f"{'accepted' if r['accepted'] else 'rejected'} {r['code']} on segment {r['segment_id']}"


def memo(store, form: dict, me: str) -> str:
    kind = form.get("kind") or "memo"
    if kind not in ("memo", "supervisor"):
        raise InputError("a memo's kind is memo or supervisor.")
    m = retheme.add_memo(store, _need(form, "target", "what the memo is about"), form.get("text") or "",
                         author=me, kind=kind)
    return f"{'comment' if kind == 'supervisor' else 'memo'} #{m['id']} added on {m['target']}"


@serialised
def _move_seen(store, code_ref: str, theme_ref: str, seen: str | None) -> dict:
    if seen is not None:
        now = store.code(code_ref)["theme"] or ""
        if now != seen:
            raise ChangedError(f"code '{code_ref}' is in theme '{now or '(none)'}' now, not in '{seen or '(none)'}' "
                               "as this page shows (the project changed under the page); nothing was moved. "
                               "Reload the board.")
    return retheme.move_code(store, code_ref, theme_ref)


def move(store, form: dict, me: str) -> str:
    r = _move_seen(store, _need(form, "code", "the code to move"), _need(form, "theme", "the theme to move it to"),
                   form.get("from"))
    return f"moved code {r['code']} from {r['from']} to {r['to']}"


def merge_codes(store, form: dict, me: str) -> str:
    r = retheme.merge_codes(store, _need(form, "code", "the code to merge"),
                            _need(form, "into", "the code to merge into"))
    return f"merged code {r['from']} into {r['into']} ({r['moved']} codings moved)"


def merge_themes(store, form: dict, me: str) -> str:
    r = retheme.merge_themes(store, _need(form, "theme", "the theme to merge"),
                             _need(form, "into", "the theme to merge into"))
    return f"merged theme {r['from']} into {r['into']} ({r['codes_moved']} codes moved)"


def split_theme(store, form: dict, me: str) -> str:
    codes = [c for c in (form.get("codes") or "").split(",") if c.strip()]
    r = retheme.split_theme(store, _need(form, "theme", "the theme to split"), [c.strip() for c in codes],
                            _need(form, "new_key", "an id for the new theme"),
                            _need(form, "new_name", "a name for the new theme"))
    return f"split {', '.join(r['codes'])} from theme {r['from']} into new theme {r['new']}"


def split_code(store, form: dict, me: str) -> str:
    r = retheme.split_code(store, _need(form, "code", "the code to split"),
                           _need(form, "new_key", "an id for the new code"),
                           _need(form, "new_name", "a name for the new code"),
                           contains=(form.get("contains") or "").strip() or None,
                           group=(form.get("group") or "").strip() or None,
                           participant=(form.get("participant") or "").strip() or None)
    return f"split {len(r['segments'])} segment(s) of code {r['from']} into new code {r['new']}"


def rename_theme(store, form: dict, me: str) -> str:
    t = retheme.rename_theme(store, _need(form, "theme", "the theme to rename"),
                             (form.get("name") or "").strip() or None, key=(form.get("key") or "").strip() or None)
    return f"theme is now {t['key']} ({t['name']})"


def rename_code(store, form: dict, me: str) -> str:
    c = retheme.rename_code(store, _need(form, "code", "the code to rename"),
                            (form.get("name") or "").strip() or None, key=(form.get("key") or "").strip() or None)
    return f"code is now {c['key']} ({c['name']})"


def status(store, form: dict, me: str) -> str:
    ref, new = _need(form, "theme", "the theme"), _need(form, "status", "a status")
    order = list(retheme.STATUSES)
    old = store.theme(ref)["status"]
    back = new in order and order.index(new) < order.index(old)
    t = retheme.set_status(store, ref, new, back=back)
    return f"theme {t['key']} is {t['status']} now"


def define(store, form: dict, me: str) -> str:
    messages = [m.strip() for m in (form.get("key_messages") or "").splitlines() if m.strip()]
    ref = _need(form, "theme", "the theme")
    definition = form.get("definition")
    if not messages and store.theme(ref)["key_messages"] and definition is not None:
        raise InputError(f"theme '{ref}' needs at least one key message (one per line); nothing was changed.")
    t = retheme.define_theme(store, ref, definition=definition, key_messages=messages or None)
    return f"defined theme {t['key']}"


def add_theme(store, form: dict, me: str) -> str:
    t = retheme.add_theme(store, _need(form, "key", "an id for the theme"), form.get("name") or "")
    return f"added theme {t['key']} ({t['name']})"


def undo(store, form: dict, me: str) -> str:
    done = retheme.undo(store, audit_id=_int(form, "act"))
    return "undid " + "; ".join(f"#{a['id']} {a['command']} ({a['summary']})" for a in done)


ACTS = {
    "/act/code": code, "/act/uncode": uncode, "/act/confirm": confirm, "/act/suggestion": suggestion,
    "/act/memo": memo, "/act/move": move, "/act/merge-codes": merge_codes, "/act/merge-themes": merge_themes,
    "/act/split-theme": split_theme, "/act/split-code": split_code, "/act/rename-theme": rename_theme,
    "/act/rename-code": rename_code, "/act/status": status, "/act/define": define, "/act/add-theme": add_theme,
    "/act/undo": undo,
}
