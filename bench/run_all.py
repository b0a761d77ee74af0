"""Run every benchmark and rewrite its generated section of bench/BENCHMARKS.md.

    python bench/run_all.py [--quick] [--only updates,photos,...]

Each script runs in its own process with its own time limit and prints a markdown
result; the text between ``<!-- bench:NAME:start -->`` and ``<!-- bench:NAME:end -->``
is replaced by it (the hand-written goal and analysis around it are kept), and so is the
machine block. Raw numbers go to bench/results/NAME.json (not committed).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from _common import machine_info, md_table, now_stamp

BENCH = Path(__file__).resolve().parent
DOC = BENCH / "BENCHMARKS.md"
RESULTS = BENCH / "results"
SCRIPTS = {
    "updates": ("bench_updates.py", 540, 960),
    "broadcast": ("bench_broadcast.py", 360, 780),
    "database": ("bench_database.py", 480, 960),
    "memory": ("bench_memory.py", 360, 480),
    "photos": ("bench_photos.py", 300, 540),
    "render": ("bench_render.py", 120, 300),
}
TITLES = {
    "updates": "Update throughput and latency",
    "broadcast": "Broadcast through the outbox",
    "database": "Database at district scale",
    "memory": "Memory",
    "photos": "Photo sanitising",
    "render": "Rendering hostile input",
}


def replace_block(text: str, name: str, body: str) -> str:
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    block = f"{start}\n{body.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text)
    title = TITLES.get(name, name)
    return text.rstrip() + f"\n\n## {title}\n\n{block}\n"


def machine_block(quick: bool) -> str:
    info = machine_info()
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    rows = [
        ["date", now_stamp()],
        ["machine", f"{info['nproc']} CPUs ({info['cpu']}), {info['os']}"],
        ["load average at start", load],
        ["Python / SQLite", f"{info['python']} / {info['sqlite']}"],
        ["packages", info["packages"]],
        ["code", f"git {info['commit']}"],
        ["reproduce", "`python bench/run_all.py" + (" --quick`" if quick else "`")],
    ]
    return md_table(["", ""], rows)


def run(name: str, quick: bool) -> str:
    script, quick_limit, full_limit = SCRIPTS[name]
    limit = quick_limit if quick else full_limit
    RESULTS.mkdir(exist_ok=True)
    command = [sys.executable, str(BENCH / script), "--json", str(RESULTS / f"{name}.json")]
    if quick:
        command.append("--quick")
    print(f"== {script} ({'quick' if quick else 'full'}, limit {limit} s)", flush=True)
    began = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=BENCH.parent, capture_output=True, text=True, timeout=limit, check=False
        )
    except subprocess.TimeoutExpired:
        return f"_{script} did not finish within {limit} s on {now_stamp()}._"
    print(f"   {time.monotonic() - began:.0f} s, exit {done.returncode}", flush=True)
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-15:])
        return f"_{script} failed (exit {done.returncode}) on {now_stamp()}:_\n\n```\n{tail}\n```"
    return done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the scripts' --quick sizes")
    parser.add_argument("--only", help="comma-separated: " + ",".join(SCRIPTS))
    parser.add_argument("--doc", type=Path, default=DOC, help="the markdown file to rewrite")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(SCRIPTS)
    unknown = set(names) - set(SCRIPTS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    doc: Path = args.doc
    update(doc, "machine", machine_block(args.quick))
    for name in names:
        # Re-read each time: others may edit the rest of the file meanwhile (a run takes
        # many minutes), and only our own block is ours to replace.
        update(doc, name, run(name, args.quick))
    print(f"wrote {doc}")


def update(doc: Path, name: str, body: str) -> None:
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    doc.write_text(replace_block(text, name, body), encoding="utf-8")


if __name__ == "__main__":
    main()
