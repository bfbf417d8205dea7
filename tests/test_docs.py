"""The docs that live in the repository: generated pages up to date, links that lead somewhere, no citation
of a page outside the repository. Reads files only: fast and deterministic."""

from __future__ import annotations

import re
from pathlib import Path

from bench.clidoc import cli_markdown

ROOT = Path(__file__).resolve().parents[1]
README_LIMIT = 15_000  # bytes: a user's guide, not a lab notebook (issue 20)
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")  # [text](target) and ![alt](target)
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)  # code blocks hold examples, not links
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
CITATION = re.compile(r"(docs/[\w/.-]+\.md), \"([^\"]+)\"")  # docs/design.md, "Equal waits"


def _docs() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def _code_files() -> list[Path]:
    return sorted(path for folder in ("bench", "analysis", "runs", "variants", "tests")
                  for path in (ROOT / folder).rglob("*.py"))


def _headings(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    return {line.lstrip("#").strip() for line in text.splitlines() if line.startswith("#")}


def test_cli_page_is_up_to_date():
    page = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert page == cli_markdown(), ("docs/cli.md is out of date: regenerate it with "
                                    "`python -m bench.clidoc > docs/cli.md`")


def test_readme_is_short():
    size = len((ROOT / "README.md").read_bytes())
    assert size <= README_LIMIT, f"README.md is {size} bytes, over {README_LIMIT}: move detail to docs/"


def test_relative_links_lead_to_files():
    broken = []
    for doc in _docs():
        text = COMMENT.sub("", FENCE.sub("", doc.read_text(encoding="utf-8")))
        for target in LINK.findall(text):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue  # a URL or an anchor on the same page
            if not (doc.parent / target.split("#", 1)[0]).exists():
                broken.append(f"{doc.relative_to(ROOT)}: {target}")
    assert not broken, "links to files that do not exist:\n" + "\n".join(broken)


def test_code_cites_no_page_outside_the_repository():
    outside = "DESIGN" + ".md"  # spelled apart, so that this file does not cite it either
    citing = [str(path.relative_to(ROOT)) for path in _code_files()
              if outside in path.read_text(encoding="utf-8")]
    assert not citing, f"these files cite {outside}, which is not in the repository: {citing}"


def test_code_cites_sections_that_exist():
    missing = []
    for path in _code_files():
        text = " ".join(path.read_text(encoding="utf-8").split())  # a citation may wrap across lines
        for page, section in CITATION.findall(text):
            target = ROOT / page
            if not target.exists() or section not in _headings(target):
                missing.append(f"{path.relative_to(ROOT)}: {page}, \"{section}\"")
    assert not missing, "citations of sections that do not exist:\n" + "\n".join(missing)
