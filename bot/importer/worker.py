"""Read an import file in a child process, with a time limit and a memory cap.

Why a process and not a thread: a thread cannot be stopped when a crafted file keeps it
busy, its memory stays in the bot's heap, and its pure-Python parsing holds the GIL the bot's
event loop needs. A child is killed at the time limit, gives all its memory back when it
exits, runs under RLIMIT_AS, and a crash in C code (libyaml, zlib) ends only the child. It
is a fresh interpreter (`python -m bot.importer.worker`, the same as multiprocessing's
"spawn"): nothing of the bot's threads, sockets or database is inherited. Its start-up
(about a third of a second) is small against an office's import. The size and row checks in
the readers come first; the limits here are the backstop for what they do not foresee.

The child pickles its answer to stdout: ("plan", CommunityPlan) or ("failed", [RowError]).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pickle
import sys
from pathlib import Path

import bot
from bot.domain.community_plan import CommunityPlan
from bot.importer.errors import ImportFailed, RowError, fail

log = logging.getLogger(__name__)

# A full community (5,000 rows a table) reads in a few seconds on a busy machine.
IMPORT_TIME_LIMIT_S = 30.0
# Address space for the child: the interpreter, openpyxl and a full ledger fit in a fraction.
WORKER_MEMORY_BYTES = 1024 * 1024 * 1024
# Readers at once in this process: each may take a core and up to its memory cap, so one
# more file is turned away ("send it again in a minute") rather than queued.
MAX_WORKERS = 2
_PACKAGE_ROOT = str(Path(bot.__file__).resolve().parents[1])
_running = 0


async def load_plan_isolated(
    path: Path,
    *,
    community_code: str | None = None,
    time_limit_s: float = IMPORT_TIME_LIMIT_S,
) -> CommunityPlan:
    """`load_plan` in a child process; raises `ImportFailed` also when it runs out of time."""
    global _running
    path = Path(path)
    if _running >= MAX_WORKERS:
        raise fail(
            path.name,
            "正在读取其他导入文件，请过一分钟再发送",
            "other import files are being read; send this one again in a minute",
        )
    _running += 1
    try:
        return await _run_worker(path, community_code, time_limit_s)
    finally:
        _running -= 1


async def _run_worker(
    path: Path, community_code: str | None, time_limit_s: float
) -> CommunityPlan:
    args = [sys.executable, "-m", "bot.importer.worker", str(path)]
    if community_code is not None:
        args += ["--community", community_code]
    # The child must import this very package, even where another copy is installed.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_PACKAGE_ROOT, env.get("PYTHONPATH")]))
    process = await asyncio.create_subprocess_exec(
        *args,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(), time_limit_s)
    except TimeoutError:
        log.warning("import worker timed out file=%s limit_s=%s", path.name, time_limit_s)
        raise fail(
            path.name,
            f"文件在 {time_limit_s:g} 秒内没有读完，没有导入任何内容；台账最多几千行，"
            "请检查是不是发错了文件",
            f"the file could not be read within {time_limit_s:g} s, so nothing was "
            "imported; a ledger is a few thousand rows at most: is this the right file?",
        ) from None
    finally:
        # Killed on time-out and on cancellation (the bot stopping) alike.
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0 or not out:
        log.warning(
            "import worker failed file=%s returncode=%s stderr=%s",
            path.name,
            process.returncode,
            err.decode("utf-8", "replace")[-2000:],
        )
        raise fail(
            path.name,
            "读取文件时出错（文件太大或已损坏），没有导入任何内容",
            "the file could not be read (too large or damaged), so nothing was imported",
        )
    # Our own child wrote this, from the file only through load_plan's typed result.
    kind, payload = pickle.loads(out)
    if kind == "failed":
        raise ImportFailed(payload)
    if not isinstance(payload, CommunityPlan):
        raise TypeError(f"the import worker answered {kind!r}")
    return payload


def _cap_memory() -> None:
    try:
        import resource
    except ImportError:  # not on POSIX: the readers' own limits still hold
        return
    resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))


def main(argv: list[str] | None = None) -> int:
    """The child: read the file, pickle the plan or the problems to stdout."""
    parser = argparse.ArgumentParser(prog="python -m bot.importer.worker")
    parser.add_argument("path", type=Path)
    parser.add_argument("--community")
    args = parser.parse_args(argv)
    _cap_memory()
    from bot.importer.loader import load_plan

    answer: tuple[str, CommunityPlan | list[RowError]]
    try:
        answer = ("plan", load_plan(args.path, community_code=args.community))
    except ImportFailed as failed:
        answer = ("failed", failed.errors)
    except MemoryError:
        answer = (
            "failed",
            fail(
                args.path.name,
                "文件内容太多，读不下，没有导入任何内容",
                "the file holds too much to read, so nothing was imported",
            ).errors,
        )
    sys.stdout.buffer.write(pickle.dumps(answer))
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
