"""The commands the README and docs/ show run as pasted.

A fenced block right after a `<!-- runnable -->` line is run with bash from the repository
root, as a reader would paste it, except that the landing zone and the warehouse point at a
temporary folder (CHATLAKE_LANDING_PATH / CHATLAKE_WAREHOUSE_PATH), so nothing lands in `data/`.
Only short commands are marked runnable; docs/development.md says so.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import REPO

RUNNABLE = "<!-- runnable -->"
FENCE = re.compile(r"^```(\w*)\s*$")
PAGES = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))
# Seconds on an idle 2-core machine; a machine shared with other Spark jobs can take ten times that.
BLOCK_TIMEOUT_SECONDS = 1_800


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    text: str

    @property
    def name(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def runnable_blocks(page: Path) -> list[Block]:
    """Every fenced block of `page` whose fence directly follows a runnable marker."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks = []
    for index, line in enumerate(lines):
        if line.strip() != RUNNABLE:
            continue
        opening = FENCE.match(lines[index + 1]) if index + 1 < len(lines) else None
        assert opening, f"{page.name}:{index + 1}: {RUNNABLE} must be followed directly by a ``` fence"
        end = next(i for i in range(index + 2, len(lines)) if lines[i].strip() == "```")
        blocks.append(Block(page, index + 2, opening.group(1), "\n".join(lines[index + 2:end]) + "\n"))
    return blocks


BLOCKS = [block for page in PAGES for block in runnable_blocks(page)]


def test_the_readme_and_the_docs_mark_runnable_bash_blocks() -> None:
    assert {block.page.name for block in BLOCKS} >= {"README.md", "operations.md", "development.md"}
    assert all(block.language == "bash" for block in BLOCKS), [b.name for b in BLOCKS if b.language != "bash"]


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[block.name for block in BLOCKS])
def test_a_runnable_block_runs_as_pasted(block: Block, tmp_path: Path) -> None:
    data_existed = (REPO / "data").exists()
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYSPARK_GATEWAY")}
    env["CHATLAKE_LANDING_PATH"] = str(tmp_path / "landing")
    env["CHATLAKE_WAREHOUSE_PATH"] = str(tmp_path / "warehouse")
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", block.text], cwd=REPO, env=env, text=True,
                            capture_output=True, timeout=BLOCK_TIMEOUT_SECONDS, check=False)
    output = f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    assert result.returncode == 0, f"{block.name} failed:\n{block.text}\n{output}"
    assert (REPO / "data").exists() == data_existed, f"{block.name} wrote to data/ instead of the temporary paths"
    if "./spark-submit.sh generate" in block.text:
        assert list((tmp_path / "landing").glob("dt=*/*.json*")), "generate wrote no landing file"
        assert (tmp_path / "warehouse" / "pipeline_runs").is_dir()
