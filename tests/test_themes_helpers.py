"""Small generated projects for the theme, review, status and undo tests."""

from __future__ import annotations

import hashlib

TURNS = {
    "F1": [("P1", "Betaald werk geeft structuur en ik ben trots op mijn job."),
           ("P2", "De werkdruk en de stress zijn soms te veel, dan hervalt ge."),
           ("P1", "De jobcoach kwam elke week langs op het werk."),
           ("P3", "Bij de intake vragen wij nooit naar werk, eerlijk gezegd.")],
    "F2": [("P1", "Structuur en een ritme, dat geeft werk aan mensen."),
           ("P2", "Een jobcoach in het team, dat zou de samenwerking helpen."),
           ("P2", "Stress op het werk kan een psychose uitlokken."),
           ("P3", "Vrijwilligerswerk was voor mij een veilige eerste stap.")],
}


def build_project(store, turns: dict | None = None) -> dict[int, str]:
    """Sources, participants and participant segments; returns segment id -> text."""
    turns = turns or TURNS
    out = {}
    with store.transaction():
        for group, rows in turns.items():
            text = ""
            segs = []
            for i, (speaker, line) in enumerate(rows, start=1):
                prefix = f"{speaker}: "
                start = len(text) + len(prefix)
                text += prefix + line + "\n"
                segs.append((i, speaker, start, start + len(line), line))
            sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
            sid = store.add_source(name=f"{group}.txt", format="txt", group_label=group, group_origin="option",
                                   text=text, sha256=sha, file_sha256=sha, encoding="utf-8",
                                   n_words=len(text.split()))
            pids = {}
            for _, speaker, _, _, _ in segs:
                if speaker not in pids:
                    pids[speaker] = store.add_participant(group, speaker, {"gender": "vrouw"})
            store.add_segments(sid, [{"ordinal": i, "turn": i, "speaker": sp, "role": "participant",
                                      "participant_id": pids[sp], "start": a, "end": b, "text": t,
                                      "n_words": len(t.split())} for i, sp, a, b, t in segs])
    for sid, text in store.conn.execute("SELECT id, text FROM segments ORDER BY id"):
        out[sid] = text
    return out


def coded_project(store, codebook_factory, *, with_bob: bool = False) -> tuple[dict[int, str], dict[str, int]]:
    """``build_project`` plus the tiny codebook and, in one act, ann's codings (pros, cons and coach on
    two segments each); ``with_bob`` adds bob's (pros and cons on the first segment, intake on the fourth).
    Returns (segment id -> text, code key -> id)."""
    segs = build_project(store)
    codes = codebook_factory(store)
    ids = list(segs)
    with store.act("test codings"):
        store.add_codings([(ids[0], codes["pros"]), (ids[4], codes["pros"]), (ids[1], codes["cons"]),
                           (ids[6], codes["cons"]), (ids[2], codes["coach"]), (ids[5], codes["coach"])],
                          "ann", "manual")
        if with_bob:
            store.add_codings([(ids[0], codes["pros"]), (ids[0], codes["cons"]), (ids[3], codes["intake"])],
                              "bob", "manual")
    return segs, codes


def dump(store) -> dict:
    """Every row of the tables re-theming touches, ids included."""
    out = {}
    for tbl in ("themes", "codes", "codings", "memos", "suggestions", "coders"):
        out[tbl] = [tuple(r) for r in store.conn.execute(f"SELECT * FROM {tbl} ORDER BY 1")]
    return out
