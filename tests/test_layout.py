"""The house by what it holds: every module says in one line what it holds, no package is named after
a direction, and qualcode uses no other package's private names."""
from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "qualcode"


def modules():
    return sorted(PACKAGE.rglob("*.py"))


def test_every_module_says_in_one_line_what_it_holds():
    bad = []
    for path in modules():
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        first = doc.splitlines()[0] if doc else ""
        if not (first.endswith(".") and len(first) <= 110):
            bad.append(f"{path.relative_to(ROOT)}: {first!r}")
    assert bad == []


def test_no_module_names_an_issue_number():
    bad = [str(p.relative_to(ROOT)) for p in modules()
           if re.search(r"\bissues?\s*#?\d+", p.read_text(encoding="utf-8"), re.IGNORECASE)]
    assert bad == []


def test_no_package_is_named_after_a_direction():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert not folders & {"export", "interop", "import", "io", "utils", "misc"}


# Another package's private names: attribute access to a leading-underscore name on an object that is
# not ours (self, cls, a module of qualcode). The standard library's regular-expression parser is the one
# listed exception (README, "Dependencies and why"): it has no public way to read a pattern's structure.
ALLOWED_PRIVATE_MODULES = {"re._parser", "re._constants", "sre_parse", "sre_constants"}


def test_no_other_packages_private_names():
    found = []
    for path in modules():
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"\._writer\b|_fixname|\bws\._|\bwb\._", text):
            found.append(f"{path.relative_to(ROOT)}: {m.group(0)}")
        tree = ast.parse(text)
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                if name.startswith("qualcode") or name in ALLOWED_PRIVATE_MODULES:
                    continue
                if any(part.startswith("_") and not part.startswith("__") for part in name.split(".")):
                    found.append(f"{path.relative_to(ROOT)}: import {name}")
    assert found == []
