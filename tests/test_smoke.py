"""The sample study ingests into 20 participants and exact offsets (issue 2 acceptance)."""


def test_sample_has_twenty_participants_with_segments(sample_store):
    people = sample_store.participants()
    assert len(people) == 20
    assert {p["group"] for p in people} == {"F1", "F2", "F3"}
    assert sum(1 for p in people if p["group"] == "F1") == 6
    assert sum(1 for p in people if p["group"] == "F2") == 5
    assert sum(1 for p in people if p["group"] == "F3") == 9
    spoke = {s["participant_id"] for s in sample_store.segments(role="participant")}
    assert {p["id"] for p in people} <= spoke


def test_every_segment_is_exactly_its_source_text(sample_store):
    texts = {s["id"]: sample_store.source(s["id"])["text"] for s in sample_store.sources()}
    n = 0
    for seg in sample_store.segments():
        assert seg["text"] == texts[seg["source_id"]][seg["start"]:seg["end"]]
        n += 1
    assert n > 750


def test_each_sample_transcript_is_long_enough(sample_store):
    for src in sample_store.sources():
        assert src["n_words"] >= 9000, src["name"]
        turns = {s["turn"] for s in sample_store.segments(source=src["name"])}
        assert len(turns) >= 250, src["name"]
