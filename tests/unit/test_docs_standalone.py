"""A clone holds everything its docs and comments point to: no tracked file refers to the team's internal notes.

The internal background (a design note, a facts list, a style guide, field reports) lives outside the repo.
The repo's own docs carry what users need: docs/contracts.md and docs/aws-behaviour.md. "seed 00N" is not
checked: it is a field report's internal number, and a few fixture and test file names
(tests/integration/test_fidelity_seed00N.py) keep it; renaming them would collide with concurrent work, and
a bare number points nowhere a reader would look. Their docstrings say what each report showed.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

#: The internal notes' names, and the path that reaches them from a checkout. Assembled from parts, so that
#: this file does not itself point outside the repo (and is checked like every other file).
_NOTES = ("DESIGN", "FACTS", "STYLE")
_OUTSIDE = "../" + "shared"
FORBIDDEN = re.compile(re.escape(_OUTSIDE) + r"\b|" + "|".join(rf"\b{name}\.md\b" for name in _NOTES))


def _tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    return [REPO / name for name in listed if name]


def _offences(files: list[Path]) -> list[str]:
    found = []
    for path in files:
        if not path.is_file():
            continue  # a deleted-but-tracked file has no text
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary
        for number, line in enumerate(text.splitlines(), start=1):
            if FORBIDDEN.search(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {line.strip()[:120]}")
    return found


def test_no_tracked_file_points_to_the_internal_notes() -> None:
    offences = _offences(_tracked_files())
    assert not offences, "point to docs/contracts.md or docs/aws-behaviour.md instead:\n" + "\n".join(offences)


def test_the_pattern_catches_each_internal_name_and_spares_ordinary_text() -> None:
    design, facts, style = (f"{name}.md" for name in _NOTES)
    for text in (f"see {design}", f"({facts}, Peers)", f"{style}: errors", f"{_OUTSIDE}/seeds/000.txt"):
        assert FORBIDDEN.search(text), text
    for text in ("docs/aws-behaviour.md", "a shared module", f"MY_{design}x", "facts.md in lowercase prose"):
        assert not FORBIDDEN.search(text), text
