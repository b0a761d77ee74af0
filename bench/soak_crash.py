"""The full crash soak: 200 residents reporting while the bot is SIGKILLed 20 times.

CI runs the same test with a smaller storm (tests/reliability/test_crash.py); this runs
it at the size the reliability issue asks for:

    python bench/soak_crash.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

if __name__ == "__main__":
    env = {**os.environ, "JIAYUAN_CRASH_RESIDENTS": "200", "JIAYUAN_CRASH_KILLS": "20"}
    started = time.monotonic()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/reliability/test_crash.py",
            "-q",
            "-p",
            "no:cacheprovider",
        ],
        env=env,
        check=False,
    )
    print(f"soak finished in {time.monotonic() - started:.0f}s, exit {result.returncode}")
    sys.exit(result.returncode)
