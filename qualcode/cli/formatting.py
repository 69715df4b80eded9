"""The sentences and text blocks commands print, made from the data library functions return."""

from __future__ import annotations

import json
import textwrap


def coded(r) -> str:
    """One line for :func:`qualcode.coding.manual.code_segments`'s result."""
    what = "fragment" if r.fragment else "segment"
    return f"coded {r.changed} {what}(s) with {r.code} as {r.coder}" + (
        f" ({r.unchanged} already had it)" if r.unchanged else "")


def uncoded(r) -> str:
    """One line for :func:`qualcode.coding.manual.uncode_segments`'s result."""
    return f"removed {r.code} from {r.changed} segment(s) for {r.coder}"


def new_project(r) -> list[str]:
    """Lines for :func:`qualcode.ingest.project.init_project`'s result."""
    return ([f"created {r.path} (language {r.language})"] + (r.codebook.lines() if r.codebook is not None else [])
            + ["next: qualcode ingest FILES --participants participants.csv"])


def segment_lines(segments, width: int = 100):
    """Readable lines for :func:`qualcode.ingest.project.list_segments`: '#12 (F2 P2) 00:12:03' and its codes,
    then the text, then the coded fragments."""
    from ..ingest.project import format_timestamp

    n = 0
    for seg in segments:
        n += 1
        head = f"#{seg['id']} ({seg['key']})"
        if seg["timestamp"] is not None:
            head += f" {format_timestamp(seg['timestamp'])}"
        if seg.get("codes"):
            head += "  [" + ", ".join(seg["codes"]) + "]"
        yield head
        for para in seg["text"].split("\n"):
            yield textwrap.fill(para, width=width, initial_indent="    ", subsequent_indent="    ") or "    "
        for f in seg.get("fragments", ()):  # codings on part of the segment, under it
            yield textwrap.fill(f"{f['code']}: “{f['text']}”", width=width, initial_indent="      fragment ",
                                subsequent_indent="        ")
    if n == 0:
        yield "no segments match."


def codebook_lines(tree: dict, *, rules: bool = False) -> list[str]:
    """Lines for :func:`qualcode.codebook.yamlfile.codebook_tree`: themes with colour and description, codes
    indented with their number of codings (and, with ``rules``, their keywords, phrases and patterns)."""
    if not tree["themes"]:
        return ["the project has no codebook yet; load one with 'qualcode codebook apply codebooks/ips.yaml'."]
    out = [f"codebook '{tree['name'] or '-'}' ({tree['n_codes']} codes)"]
    for t in tree["themes"]:
        out.append(f"{t['key'] or '-'}  {t['name']}  {t['colour']}".rstrip()
                   + ("  [exclusive: one of its codes per segment]" if t.get("exclusive") else ""))
        if t["description"]:
            out.append(f"    {t['description']}")
        for c in t["codes"]:
            pad = "  " * c["depth"]
            out.append(f"{pad}{c['key']}  {c['name']}  [{c['n_codings']} codings]"
                       + ("  [exclusive: one of its sub-codes per segment]" if c["exclusive"] else ""))
            if rules and c["rules"]:
                from ..codebook.yamlfile import WORD_RULE_KEYS

                r = c["rules"]
                for k in WORD_RULE_KEYS:
                    if r.get(k):
                        out.append(f"{pad}    {k}: {', '.join(r[k])}")
                for p in r.get("patterns", []):
                    out.append(f"{pad}    pattern: {json.dumps(p, ensure_ascii=False)}")
                if r.get("overruled_by"):
                    out.append(f"{pad}    overruled by: {', '.join(r['overruled_by'])}")
    return out


def identifying(r: dict) -> str:
    """One line for :func:`qualcode.privacy.pseudonyms.mark_identifying`'s result."""
    if r["identifying"]:
        return (f"attribute '{r['attribute']}' is now identifying: it stays in the project but is left out of "
                "every export and report")
    return f"attribute '{r['attribute']}' is no longer identifying: exports and reports include it again"


def sheet_written(r) -> str:
    """The summary and next step for :func:`qualcode.excel.coding_sheet.export_sheet`'s result."""
    from pathlib import Path

    frag = f", {r.fragment_rows} coded fragment rows" if r.fragment_rows else ""
    return (f"wrote {r.path}: {r.segments} segments ({r.coded} with codes by {r.coder}{frag}), {r.codes} codes in "
            f"the drop-down lists. Code in the 'code' columns (words in 'fragment' code just those words; "
            f"duplicate a row for another fragment), then: qualcode sheet import {Path(r.path).name}")


def quote_lines(doc: dict) -> list[str]:
    """Lines for :func:`qualcode.reports.quotes.quote_listing`: whose codings, then per theme its quotes
    with their segment ids (for 'quote pin') and keys."""
    out = [doc["whose"]]
    for t in doc["themes"]:
        out += ["", f"{t['theme']}: {t['name']}"]
        out += [f"  #{q['segment_id']}{' [pinned]' if q['pinned'] else ''} “{q['text']}” ({q['key']})"
                for q in t["quotes"]]
    return out


def pinned(p: dict, pin: bool = True) -> str:
    """One line for :func:`qualcode.reports.quotes.pin_quote`'s result."""
    if pin:
        return f"pinned #{p['segment_id']} ({p['key']}) under {p['theme']}"
    return f"unpinned #{p['segment_id']} from {p['theme']}"


def analyst(current: str, name: str | None = None, before: str | None = None) -> str:
    """The project's analyst (``current``), or the line after ``name`` was made the analyst."""
    if not name:
        return current or "(no analyst set: reports show every coder's codings except rule matches)"
    return f"analyst: {name}" + (f" (was {before})" if before and before != name else "")
