"""Copies of the warehouse and landing zone, and what their files looked like."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path


def copy_tree(source: Path, target: Path, hard_links: bool = False) -> None:
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-al" if hard_links else "-a", str(source), str(target)], check=True)


def manifest(folder: Path) -> dict[str, tuple[int, int, int]]:
    """relative path -> (inode, size, mtime ns) of every file under `folder`."""
    files = {}
    for path in folder.rglob("*"):
        if path.is_file():
            stat = path.stat()
            files[str(path.relative_to(folder))] = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    return files


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0
