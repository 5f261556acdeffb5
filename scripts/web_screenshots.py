"""Screenshots of the web app's pages at 1280 and 390 px wide (desktop and phone), for review
and for the README (docs/report.png).

    python scripts/web_screenshots.py --out /tmp/shots      # every page, both widths
    python scripts/web_screenshots.py --readme               # also docs/report.png

It starts `speechcoach serve`'s app on a free port with a fresh SPEECHCOACH_HOME, analyses the
bundled samples through the API (intro_weak_en.mp3, intro_ja.m4a), and drives Debian's
/usr/bin/chromium with Playwright. Japanese text needs a CJK font (Debian: fonts-noto-cjk).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WIDTHS = (1280, 390)
README_SHOT = ROOT / "docs" / "report.png"
README_HEIGHT = 1500  # the top of the report: score, fixes, transcript


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "sc-shots")
    parser.add_argument("--readme", action="store_true", help="also write docs/report.png")
    args = parser.parse_args()
    os.environ["SPEECHCOACH_HOME"] = tempfile.mkdtemp(prefix="sc-shots-home-")
    import httpx
    import uvicorn
    from playwright.sync_api import sync_playwright

    from speechcoach.analyze import Analyzer
    from speechcoach.config import home_dir
    from speechcoach.web.app import create_app
    from speechcoach.web.server import bind

    app = create_app(Analyzer(), home_dir() / "history.db")
    sock = bind("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        threading.Event().wait(0.1)
    ids = []
    with httpx.Client(base_url=base, timeout=600) as client:
        for sample, label in (("intro_weak_en.mp3", "first try"), ("intro_ja.m4a", "日本語")):
            data = (ROOT / "samples" / sample).read_bytes()
            response = client.post(
                "/api/attempts", files={"audio": (sample, data)}, data={"label": label}
            )
            response.raise_for_status()
            ids.append(response.json()["attempt_id"])
    pages = {
        "practice": "/",
        "report": f"/attempts/{ids[0]}",
        "report-ja": f"/attempts/{ids[1]}",
        "history": "/history",
        "compare": f"/compare?a={ids[0]}&b={ids[1]}",
    }
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"]
        )
        for width in WIDTHS:
            page = browser.new_page(viewport={"width": width, "height": 900})
            for name, url in pages.items():
                page.goto(base + url)
                page.wait_for_load_state("networkidle")
                shot = args.out / f"{name}-{width}.png"
                page.screenshot(path=str(shot), full_page=True)
                print(shot)
            if args.readme and width == WIDTHS[0]:
                page.goto(base + pages["report"])
                README_SHOT.parent.mkdir(exist_ok=True)
                clip = {"x": 0, "y": 0, "width": width, "height": README_HEIGHT}
                page.screenshot(path=str(README_SHOT), full_page=True, clip=clip)
                print(README_SHOT)
            page.close()
        browser.close()
    server.should_exit = True


if __name__ == "__main__":
    main()
