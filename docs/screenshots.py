"""Re-take the README screenshots: ``python docs/screenshots.py`` (needs Debian's chromium).

Starts the front door as a real server (``python -m axilla_kg.web``), opens each main page in
headless Chromium through Playwright (pointed at /usr/bin/chromium; nothing is downloaded) and
writes small PNGs next to this file.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

HERE = Path(__file__).resolve().parent
#: the seed patient: the facts the seed article gives, untreated, the first imaging of the axilla
SEED = (
    "/case?sex=female&age=52&breast_cancer=new&tumor_size_cm=1.5&clinical_nodes=positive"
    "&diagnostic_breast_imaging_done=true&neoadjuvant=none&imaging_step=initial"
)
SHOTS = [
    ("home.png", "/", (1000, 760)),
    ("search.png", "/search?q=PET", (1000, 900)),
    ("topics.png", "/topics", (1000, 760)),
    ("variant.png", "/topics/286/variants/4", (1000, 1400)),
    ("case.png", SEED + "&procedure=FDG-PET%2FCT+skull+base+to+mid-thigh", (1280, 800)),
    (
        "dose.png",
        "/dose?procedure=US+axilla&procedure=Mammography+diagnostic&procedure=FDG-PET%2FCT+skull+base+to+mid-thigh",
        (1000, 760),
    ),
    ("phone-case.png", SEED, (375, 812)),
]


def main() -> None:
    root = HERE.parent
    server = subprocess.Popen(
        [sys.executable, "-m", "axilla_kg.web", "--port", "0"], stdout=subprocess.PIPE, text=True, cwd=root
    )
    try:
        assert server.stdout is not None
        match = re.search(r"(http://127\.0\.0\.1:\d+)/topics", server.stdout.readline())
        if not match:
            raise SystemExit("the front door did not start")
        base = match.group(1)
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=[
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                ],
            )
            for name, path, (width, height) in SHOTS:
                page = browser.new_page(viewport={"width": width, "height": height}, is_mobile=width < 500)
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(HERE / name))
                page.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
