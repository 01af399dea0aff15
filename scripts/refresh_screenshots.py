"""Refresh the screenshots in docs/: ``python scripts/refresh_screenshots.py``.

Runs the browser tests' page walk (tests/test_browser.py: a Streamlit server on the committed models,
headless Chromium) with its screenshots pointed at docs/ instead of a temporary folder, then checks
that every docs/screenshot-*.png was rewritten. Needs /usr/bin/chromium, playwright and the real data
in GAN_EXPLORER_DATA, like the browser tests.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS_ENV = "GAN_EXPLORER_SCREENSHOTS"  # read by tests/test_browser.py


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python scripts/refresh_screenshots.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder to write into (default: docs/)")
    args = parser.parse_args(argv)
    start = time.time()
    env = {**os.environ, SCREENSHOTS_ENV: str(args.out.resolve())}
    walk = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "slow",
                           "tests/test_browser.py"], cwd=ROOT, env=env)
    if walk.returncode != 0:
        print(f"the page walk failed (pytest exit code {walk.returncode}); screenshots may be partly refreshed",
              file=sys.stderr)
        return walk.returncode
    shots = sorted(args.out.glob("screenshot-*.png"))
    stale = [p.name for p in shots if p.stat().st_mtime < start]
    for p in shots:
        print(f"{'kept (not in the walk)' if p.name in stale else 'refreshed'}  {p}")
    if stale:
        print(f"{len(stale)} screenshot(s) not rewritten: a page walk step was skipped (a model kind missing "
              f"from exported/?) or the file is no longer taken", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
