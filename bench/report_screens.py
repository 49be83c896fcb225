"""Screenshots of a built report (index and one commune page, 1366 and 390 px, vi and en) with headless Chromium.

uv run --frozen python bench/report_screens.py data/reports/2026-12-01 /work/notes/screens [commune]
"""

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def main() -> None:
    root, out = Path(sys.argv[1]).resolve(), Path(sys.argv[2])
    commune = sys.argv[3] if len(sys.argv) > 3 else None
    out.mkdir(parents=True, exist_ok=True)
    pages = {"index": root / "index.html"}
    if commune:
        pages["commune"] = root / "communes" / f"{commune}.html"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for name, path in pages.items():
            for width in (1366, 390):
                for lang in ("vi", "en"):
                    page = browser.new_page(viewport={"width": width, "height": 900})
                    page.goto(path.as_uri() + f"?lang={lang}")
                    page.wait_for_load_state("load")
                    page.wait_for_timeout(800)
                    page.screenshot(path=str(out / f"{name}_{lang}_{width}.png"), full_page=True)
                    page.screenshot(path=str(out / f"{name}_{lang}_{width}_top.png"))
                    for anchor in ("thay-doi", "chi-tieu", "danh-sach", "xa-phuong", "quy-tac"):
                        if page.locator(f"#{anchor}").count():
                            page.locator(f"#{anchor}").scroll_into_view_if_needed()
                            page.evaluate(f"document.getElementById('{anchor}').scrollIntoView()")
                            page.screenshot(path=str(out / f"{name}_{lang}_{width}_{anchor}.png"))
                    print(
                        name,
                        lang,
                        width,
                        page.evaluate("document.documentElement.scrollHeight"),
                        page.evaluate("document.documentElement.scrollWidth"),
                    )
                    page.close()
        browser.close()


if __name__ == "__main__":
    main()
