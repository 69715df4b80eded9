"""The fast REFI position index places every selection exactly where a character-by-character
reference does (code points and UTF-16 units, CR, LF and CRLF, characters beyond the BMP)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from qualcode.refi.read import TextIndex


def reference_place(raw: str, start: int, end: int, unit: str):
    """Straightforward mapping: walk the text once, one table entry per position."""
    cp_to_norm, n, i = [0] * (len(raw) + 1), 0, 0
    while i < len(raw):
        cp_to_norm[i] = n
        if raw[i] == "\r" and i + 1 < len(raw) and raw[i + 1] == "\n":
            cp_to_norm[i + 1] = n
            i += 1
        n += 1
        i += 1
    cp_to_norm[len(raw)] = n
    u_to_cp = []
    for idx, ch in enumerate(raw):
        u_to_cp.append(idx)
        if ord(ch) > 0xFFFF:
            u_to_cp.append(-1)
    u_to_cp.append(len(raw))
    length = len(u_to_cp) - 1 if unit == "utf16" else len(raw)
    if start < 0 or end < start or end > length:
        return None
    if unit == "utf16":
        start, end = u_to_cp[start], u_to_cp[end]
        if start < 0 or end < 0:
            return None
    return cp_to_norm[start], cp_to_norm[end]


texts = st.text(alphabet=st.sampled_from(["a", "b", "é", "\r", "\n", " ", "😀", "𝄞"]), max_size=30)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_fast_index_equals_reference_for_every_span(raw):
    idx = TextIndex(raw)
    assert idx.text == raw.replace("\r\n", "\n").replace("\r", "\n")
    for unit in ("codepoints", "utf16"):
        limit = idx.length(unit) + 2
        for start in range(-1, limit):
            for end in range(start, limit):
                assert idx.place(start, end, unit) == reference_place(raw, start, end, unit), (raw, start, end, unit)
