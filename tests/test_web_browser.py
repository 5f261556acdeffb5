"""`speechcoach serve` in a real browser: Debian's headless Chromium, driven by Playwright, with
Chromium's fake microphone playing a committed clip. One whole session, as a person would use it:
record, stop, read the report, play a sentence, upload a file, see both in the history, compare
them, delete one. Keyboard-only use and a name for every control are checked on the way.

Needs `chromium` (scripts/ci-apt.sh installs it; `playwright install` cannot download browsers
offline) and the `playwright` package (the test extra).
"""

from __future__ import annotations

import base64
import re
import shutil
import threading
from pathlib import Path

import pytest

from speechcoach.store import History

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
CHROMIUM = "/usr/bin/chromium"
MICROPHONE_CLIP = DATA / "known_en.wav"  # "I am Daniel Weber... I moved to Japan because..."
RECORD_S = 13  # long enough for the first three sentences of the clip
ANALYSIS_TIMEOUT_MS = 300_000  # a cold model load and an analysis on a busy 2-core machine
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    f"--use-file-for-fake-audio-capture={MICROPHONE_CLIP}",
    "--autoplay-policy=no-user-gesture-required",
]
# Every control must have a name a screen reader can read.
UNNAMED_CONTROLS_JS = """() => Array.from(document.querySelectorAll(
    'button, input:not([type=hidden]), select, a[href], audio, [role=img]'))
  .filter(el => !el.closest('dialog:not([open])'))
  .filter(el => {
    const labelled = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
      || (el.labels && el.labels.length) || (el.textContent || '').trim() || el.title;
    return !labelled && el.tagName !== 'AUDIO';
  }).map(el => el.outerHTML.slice(0, 120))"""

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def server(home, analyzer):
    """A real uvicorn server on a free loopback port, the session's analyzer behind it."""
    import uvicorn

    from speechcoach.web.app import create_app
    from speechcoach.web.server import bind

    app = create_app(analyzer, home / "history.db")
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=2)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    started = threading.Event()
    for _ in range(200):
        if server.started:
            started.set()
            break
        threading.Event().wait(0.05)
    assert started.is_set(), "the server did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    for job in app.queue.jobs():  # leave the shared analyzer idle for the next test
        job.done.wait(300)
    server.should_exit = True
    thread.join(10)
    sock.close()


@pytest.fixture
def browser():
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        pytest.fail(f"{CHROMIUM} not found: install it with `sudo sh scripts/ci-apt.sh`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def unnamed_controls(page) -> list[str]:
    return page.evaluate(UNNAMED_CONTROLS_JS)


def test_record_review_upload_compare_and_delete_in_a_real_browser(server, browser, home):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["microphone"], origin=server)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    # -- record from the (fake) microphone ------------------------------------------------
    page.goto(server + "/")
    assert unnamed_controls(page) == []
    page.get_by_label("Label (optional)").fill("first take")
    page.get_by_label("Target length").fill("0:10")  # to hear the cue at the target
    page.get_by_role("button", name="Record").click()
    page.get_by_text("Recording. Press Stop").wait_for()
    # The level meter moves while the clip speaks (its first sentence starts at once).
    page.wait_for_function("() => document.getElementById('level').value > -45", timeout=10_000)
    page.wait_for_function(
        f"() => /^0:{RECORD_S:02d}/.test(document.getElementById('timer').textContent)",
        timeout=(RECORD_S + 20) * 1000,
    )
    page.get_by_text("0:10: target reached, time to conclude with your plan").wait_for()
    page.get_by_role("button", name="Stop").click()
    # The recording is uploaded, analysed, and the report opens by itself.
    page.wait_for_url(re.compile(r"/attempts/\d+$"), timeout=ANALYSIS_TIMEOUT_MS)
    recorded_id = int(page.url.rsplit("/", 1)[1])

    # -- read the report ------------------------------------------------------------------
    page.get_by_role("heading", name="Fix first").wait_for()
    transcript = page.locator("ol.transcript").inner_text()
    assert "Japan" in transcript, transcript
    assert (
        page.locator("ol.transcript .tag.c-japan").count() >= 1
    )  # marked in text, not colour only
    assert "first take" in page.locator(".report-head").inner_text()
    assert page.locator("svg.timeline").count() == 1
    assert unnamed_controls(page) == []
    # Keyboard only: focus a sentence, press Enter, and the one <audio> seeks to its start.
    sentences = page.locator("button.sentence")
    assert sentences.count() >= 2
    second = sentences.nth(1)
    start = float(second.get_attribute("data-start"))
    assert start > 0.5
    second.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(
        f"() => document.getElementById('player').currentTime >= {start - 0.05}", timeout=10_000
    )
    now = page.evaluate("() => document.getElementById('player').currentTime")
    assert start - 0.05 <= now < start + 5, (start, now)
    # A click on the first sentence goes back.
    sentences.nth(0).click()
    page.wait_for_function(
        f"() => document.getElementById('player').currentTime < {start - 0.05}", timeout=10_000
    )

    # On a phone (390 px) the report fits the screen: nothing to scroll sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    # -- upload a file ------------------------------------------------------------------------
    page.get_by_role("link", name="Practice").click()
    page.get_by_label("Target length").fill("3:00")
    page.locator("#files").set_input_files(str(DATA / "known_en.m4a"))
    # A file dropped on the drop zone: this one is too short, and the page says why.
    page.evaluate(
        """(b64) => {
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            const data = new DataTransfer();
            data.items.add(new File([bytes], "too_short.wav", {type: "audio/wav"}));
            document.getElementById("drop").dispatchEvent(
                new DragEvent("drop", {dataTransfer: data, bubbles: true, cancelable: true}));
        }""",
        base64.b64encode((DATA / "too_short.wav").read_bytes()).decode("ascii"),
    )
    refused = page.locator("#jobs li", has_text="too_short.wav").locator(".state.error")
    refused.wait_for(timeout=ANALYSIS_TIMEOUT_MS)
    assert "too_short.wav: the recording is only 1.0 s long" in refused.inner_text()
    row = page.locator("#jobs li", has_text="known_en.m4a")
    row.locator("progress").wait_for()
    done = row.get_by_role("link", name=re.compile("Open the report"))
    done.wait_for(timeout=ANALYSIS_TIMEOUT_MS)
    uploaded_id = int(re.search(r"#(\d+)", done.inner_text()).group(1))
    assert uploaded_id != recorded_id

    # -- both in the history (and in the CLI's store) -----------------------------------------
    page.get_by_role("link", name="History").click()
    assert page.locator(f"#attempt-{recorded_id}").count() == 1
    assert page.locator(f"#attempt-{uploaded_id}").count() == 1
    assert page.locator("svg.chart").count() >= 3
    assert unnamed_controls(page) == []
    with History.open(home / "history.db") as history:
        assert {a.id for a in history.list()} == {recorded_id, uploaded_id}
        assert history.get(recorded_id).label == "first take"
        assert Path(history.get(recorded_id).audio_path).parent == home / "recordings"

    # -- compare them --------------------------------------------------------------------------
    page.get_by_label("Before").select_option(str(recorded_id))
    page.get_by_label("After").select_option(str(uploaded_id))
    page.get_by_role("button", name="Compare").click()
    page.get_by_role("heading", name=f"Attempt #{recorded_id} → #{uploaded_id}").wait_for()
    assert "Parts gained" in page.content()

    # -- delete one, after confirming ------------------------------------------------------------
    page.go_back()
    page.get_by_role("button", name=f"Delete attempt {uploaded_id}").click()
    dialog = page.locator("dialog#confirm")
    assert f"#{uploaded_id}" in dialog.inner_text()
    dialog.get_by_role("button", name="Cancel").click()
    assert page.locator(f"#attempt-{uploaded_id}").count() == 1  # cancelled: still there
    page.get_by_role("button", name=f"Delete attempt {uploaded_id}").click()
    dialog.get_by_role("button", name="Delete").click()
    page.get_by_text(f"Attempt #{uploaded_id} deleted.").wait_for()
    assert page.locator(f"#attempt-{uploaded_id}").count() == 0
    with History.open(home / "history.db") as history:
        assert [a.id for a in history.list()] == [recorded_id]
    assert errors == []
    context.close()
