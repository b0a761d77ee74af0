"""Files the bot writes under its data dir."""

from __future__ import annotations

from pathlib import Path


def write_atomically(target: Path, data: bytes) -> None:
    """Write via a temporary file and a rename: readers never see half a picture."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(target)
