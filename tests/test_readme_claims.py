"""The README's claims, checked against the program: each command below is run exactly as the README
shows it (the line must still be in the README), and its output must mention what the README's
comment says it shows. A README edit that changes a command, or a program change that stops showing
what the README promises, fails here."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

# README command -> words its output must contain (what the README's comment promises)
CLAIMS = {
    "qualcode codebook show --rules": ["#E69F00", "codings]", "keywords:", "phrases:"],
    "qualcode counts --by group": ["code", "F1", "F2", "F3", "total", "pw_voordelen"],
    "qualcode counts --by theme,gender": ["theme", "man", "vrouw", "obstacles"],
    "qualcode segments --theme obstacles --limit 5": ["#", "(F"],
    "qualcode export workbook reports/analysis.xlsx": ["12 sheets", "Codings shown: anna"],
    "qualcode quotes --theme obstacles": ["obstacles:", "“", "(F"],
    "qualcode report --coder rules --out reports/rules.html": ["wrote reports/rules.html"],
    "qualcode config analyst anna": ["analyst: anna"],
    "qualcode suggest themes": ["1. ", "via ", "participant segments ranked; the main theme rests on: rule "],
}
NUMBERS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13}


@pytest.fixture(scope="module")
def project(tmp_path_factory, _sample_project_file):
    import shutil

    from click.testing import CliRunner

    from qualcode.cli import cli

    d = tmp_path_factory.mktemp("readme")
    (d / "reports").mkdir()
    path = d / "p.qualcode"
    shutil.copy(_sample_project_file, path)
    runner = CliRunner()
    for args in (["codebook", "apply", str(ROOT / "codebooks" / "ips.yaml")], ["autocode"],
                 ["theme", "split", "paid_work", "obstacles", "Een parcours met hindernissen",
                  "--code", "pw_drempels_stigma"]):
        r = runner.invoke(cli, ["-p", str(path), *args], env={"QUALCODE_CODER": "tester"})
        assert r.exit_code == 0, r.output
    # the README's next step: the student codes herself (here: a few turns per code, by 'qualcode code')
    from qualcode.store import Store

    with Store.open(path) as store:
        picks: dict[str, list[int]] = {}
        per_group: dict[tuple, int] = {}
        for c in store.codings(coder="rules"):
            ids = picks.setdefault(c["code"], [])
            key = (c["code"], c["group_label"])
            if per_group.get(key, 0) < 2 and c["segment_id"] not in ids:   # two turns per code and group
                ids.append(c["segment_id"])
                per_group[key] = per_group.get(key, 0) + 1
    for code, ids in picks.items():
        r = runner.invoke(cli, ["-p", str(path), "code", *map(str, ids), code], env={"QUALCODE_CODER": "anna"})
        assert r.exit_code == 0, r.output
    return path


def _readme_line(command: str) -> str:
    line = next((ln for ln in README.splitlines() if ln.split("#")[0].strip() == command), None)
    assert line is not None, f"the README no longer shows '{command}'"
    return line


@pytest.mark.parametrize("command", list(CLAIMS))
def test_readme_command_shows_what_it_says(project, command, monkeypatch):
    from click.testing import CliRunner

    from qualcode.cli import cli

    _readme_line(command)
    monkeypatch.chdir(project.parent)
    r = CliRunner().invoke(cli, ["-p", str(project), *shlex.split(command)[1:]], env={"QUALCODE_CODER": "anna"})
    assert r.exit_code == 0, r.output
    out = r.stdout + r.stderr
    for word in CLAIMS[command]:
        assert word in out, (command, word, out[:1500])


def test_readme_names_every_workbook_sheet_and_their_number():
    from qualcode.excel.analysis import SHEETS

    m = re.search(r"method\s+in (\w+) sheets: (.*?)\.\s+Sheet names", README, re.S)
    assert m, "the README no longer says how many sheets the workbook has"
    assert NUMBERS[m.group(1)] == len(SHEETS)
    listed = " ".join(m.group(2).split()).lower()
    for name in SHEETS:
        assert name.lower() in listed, name


def test_readme_codebook_show_claim_matches_what_it_shows():
    """The README once promised include/exclude criteria from 'codebook show --rules', which it does not show."""
    line = _readme_line("qualcode codebook show --rules")
    assert "include" not in line and "rules" in line.split("#", 1)[1]
