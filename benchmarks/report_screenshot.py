"""Render a run's report.html to PNG with headless Chromium, to look at it as a person would.

Usage: python benchmarks/report_screenshot.py out/example/report.html benchmarks/report_example.png
Needs Debian's ``chromium`` (``apt-get install chromium``); prints a message and exits 0 without it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def main(report: str, png: str, width: int = 1400, height: int = 2600) -> int:
    exe = (
        shutil.which("chromium")
        or shutil.which("chromium-browser")
        or shutil.which("google-chrome")
    )
    if exe is None:
        print("no Chromium on this machine: skipped (apt-get install chromium)")
        return 0
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--hide-scrollbars",
            f"--window-size={width},{height}",
            f"--screenshot={Path(png).resolve()}",
            Path(report).resolve().as_uri(),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
