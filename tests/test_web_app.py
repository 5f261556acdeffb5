"""The web app's JSON API and pages through Starlette's test client, with the session's real
Analyzer, real clips and a real SQLite history, and every hostile request the server must refuse
or survive (foreign Host, cross-site requests, oversized and broken uploads, a client that
disconnects mid-upload, a model that cannot load)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from speechcoach.audio import load_audio
from speechcoach.cli import main
from speechcoach.errors import AudioError
from speechcoach.store import History
from speechcoach.web import create_app, render_report_html

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
BASE = "http://127.0.0.1:8765"
JOB_STATES = {"queued", "transcribing", "measuring", "saving", "done"}
# The analysis object of `analyze --json` (README, "JSON output").
ANALYSIS_FIELDS = {
    "file",
    "language",
    "engine",
    "model",
    "duration_s",
    "speech_s",
    "voiced_s",
    "target_s",
    "word_count",
    "wpm",
    "articulation_wpm",
    "chars_per_min",
    "morae_per_min",
    "pace_windows",
    "pauses",
    "fillers",
    "pitch",
    "loudness",
    "components",
    "order",
    "pitfalls",
    "score",
    "score_basis",
    "score_parts",
    "judgements",
    "bands",
    "tips",
    "sentences",
    "transcript",
    "timings",
}


@pytest.fixture
def make_client(home, analyzer):
    """A test client on a fresh app over this test's SPEECHCOACH_HOME (lifespan included)."""
    made = []

    def make(**options) -> TestClient:
        app = create_app(options.pop("analyzer", analyzer), home / "history.db", **options)
        client = TestClient(app, base_url=BASE, raise_server_exceptions=False)
        client.__enter__()
        made.append((client, app))
        return client

    yield make
    for client, app in made:
        for job in app.queue.jobs():  # never leave the shared analyzer busy for the next test
            job.done.wait(300)
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client):
    return make_client()


@pytest.fixture(scope="session")
def en_analysis(analyzer) -> dict:
    """One real analysis of the known English clip, shared by the rendering tests."""
    return analyzer.analyze_file(DATA / "known_en.wav").to_dict()


def upload(client: TestClient, name: str, path: Path | None = None, url="/api/attempts", **data):
    content = (path or DATA / name).read_bytes()
    return client.post(url, files={"audio": (name, content, "application/octet-stream")}, data=data)


def recordings(home: Path) -> list[str]:
    folder = home / "recordings"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def attempts_in(home: Path) -> int:
    with History.open(home / "history.db") as history:
        return history.count()


# --------------------------------------------------------------------- hostile requests
@pytest.mark.parametrize("host", ["evil.example", "localhost.evil.example", "127.0.0.1.nip.io"])
def test_a_foreign_host_is_refused(client, host):
    """DNS rebinding: a site whose name points at 127.0.0.1 still sends its own Host."""
    for method, url in (("GET", "/"), ("GET", "/api/attempts"), ("DELETE", "/api/attempts/1")):
        response = client.request(method, url, headers={"host": host})
        assert response.status_code == 421
        assert host in response.json()["error"]


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "http://evil.example"},
        {"origin": "http://127.0.0.1:9999"},  # another local app on another port
        {"origin": "null"},  # a sandboxed frame or a file: page
        {"sec-fetch-site": "cross-site"},
    ],
)
def test_a_cross_site_write_is_refused(client, home, headers):
    response = client.post(
        "/api/attempts",
        files={"audio": ("known_en.wav", (DATA / "known_en.wav").read_bytes())},
        headers=headers,
    )
    assert response.status_code == 403
    assert "another site" in response.json()["error"]
    assert client.delete("/api/attempts/1", headers=headers).status_code == 403
    assert recordings(home) == []


def test_a_cross_site_read_of_the_api_is_refused_but_the_pages_own_requests_pass(client):
    assert client.get("/api/attempts", headers={"sec-fetch-site": "cross-site"}).status_code == 403
    same = {"origin": BASE, "sec-fetch-site": "same-origin"}
    assert client.get("/api/attempts", headers=same).json() == []
    # Same origin gets through the guard (and then fails for what it is: no multipart body).
    assert client.post("/api/attempts", content=b"x", headers=same).status_code == 415


def test_security_headers_are_on_every_response(client):
    response = client.get("/")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["cross-origin-resource-policy"] == "same-origin"


def test_an_upload_over_the_limit_is_refused_declared_or_streamed(make_client, home):
    client = make_client(max_upload_bytes=100_000)
    big = (DATA / "known_en.wav").read_bytes()  # ~760 kB
    response = client.post("/api/attempts", files={"audio": ("big.wav", big)})
    assert response.status_code == 413
    assert "100 MB" not in response.json()["error"] and "0 MB limit" in response.json()["error"]

    def chunks():  # no Content-Length: the limit must hold while the body streams in
        for start in range(0, len(big), 65536):
            yield big[start : start + 65536]

    response = client.post(
        "/api/attempts",
        content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert response.status_code == 413
    assert recordings(home) == []
    assert client.get("/").status_code == 200


def test_a_request_that_is_not_an_upload_gets_a_one_line_error(client):
    response = client.post("/api/attempts", json={"audio": "intro.m4a"})
    assert response.status_code == 415 and "multipart/form-data" in response.json()["error"]
    response = client.post("/api/attempts", files={"recording": ("a.wav", b"RIFF")})
    assert response.status_code == 400 and "`audio`" in response.json()["error"]
    response = upload(client, "known_en.wav", language="klingon")
    assert response.status_code == 400 and "language code" in response.json()["error"]
    response = upload(client, "known_en.wav", target="soon")
    assert response.status_code == 400 and "duration" in response.json()["error"]


@pytest.mark.parametrize(
    "name",
    [
        "not_audio.txt",
        "corrupt.mp3",
        "empty.wav",
        "silent.wav",
        "too_short.wav",
        "no_audio_track.mp4",
    ],
)
def test_a_bad_file_gets_the_cli_message_and_leaves_nothing(client, home, name):
    with pytest.raises(AudioError) as raised:
        load_audio(DATA / name)
    cli_message = str(raised.value).replace(str(DATA / name), name)
    response = upload(client, name)
    assert response.status_code == 422
    assert response.json() == {"error": cli_message}
    assert "\n" not in cli_message and "Traceback" not in response.text
    assert recordings(home) == []
    assert attempts_in(home) == 0
    assert client.get("/").status_code == 200  # still serving


def test_a_client_that_disconnects_mid_upload_leaves_no_file_and_no_attempt(home, analyzer):
    app = create_app(analyzer, home / "history.db")
    boundary = "speechcoachtest"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="audio"; filename="intro.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode() + (DATA / "known_en.wav").read_bytes()
    incoming = [
        {"type": "http.request", "body": body[: len(body) // 2], "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent = []

    async def receive():
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/api/attempts",
        "raw_path": b"/api/attempts",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1:8765"),
            (b"content-type", f"multipart/form-data; boundary={boundary}".encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8765),
    }
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 400
    assert recordings(home) == []
    assert attempts_in(home) == 0


def test_no_request_path_reaches_the_file_system(client):
    for url in (
        "/static/..%2F..%2Fstore.py",
        "/static/%2e%2e/app.py",
        "/static/app.py",
        "/api/attempts/1/audio?path=/etc/passwd",
        "/api/attempts/..%2F..%2Fhistory.db/audio",
        "/attempts/abc",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "root:" not in response.text and "import" not in response.text
    response = client.get("/api/attempts/7/audio")
    assert response.json() == {"error": response.json()["error"]}
    assert "no attempt #7" in response.json()["error"]
    assert client.get("/static/app.css").headers["content-type"].startswith("text/css")


def test_a_model_that_fails_to_load_gives_a_clear_error_and_the_server_keeps_running(
    make_client, home, tmp_path
):
    from speechcoach.analyze import AnalyzeOptions, Analyzer
    from speechcoach.transcribe import TranscribeOptions

    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{}")
    (broken / "model.bin").write_bytes(b"not a model")
    analyzer = Analyzer(AnalyzeOptions(TranscribeOptions(model=str(broken), language="en")))
    client = make_client(analyzer=analyzer)
    for _ in range(2):  # and again: the worker survived the first failure
        response = upload(client, "known_en.wav")
        assert response.status_code == 503
        assert str(broken) in response.json()["error"]
        assert "Traceback" not in response.text
    assert client.get("/").status_code == 200
    assert client.get("/history").status_code == 200
    assert attempts_in(home) == 0


# ------------------------------------------------------------------------ escaping
@pytest.mark.slow
def test_transcribed_and_imported_text_is_escaped_in_every_page(client, home, en_analysis):
    evil = "<script>alert('x')</script>"
    data = json.loads(json.dumps(en_analysis))
    data["sentences"][0]["text"] = f"I am {evil} Daniel."
    data["components"]["japan"]["evidence"][0]["text"] = f"I am {evil} Daniel."
    data["transcript"]["text"] = evil
    data["tips"] = [
        {
            "id": "pitfall:badmouth",
            "priority": 90,
            "message": f"At 0:01 {evil}",
            "sentence": evil,
            "start": 0.0,
            "say_instead": '"><img src=x onerror=alert(1)>',
        }
    ]
    with History.open(home / "history.db") as history:
        first = history.save(data, DATA / "known_en.wav", label='<img src=x onerror="alert(1)">').id
        second = history.save(
            en_analysis, DATA / "known_en.flac", label=evil + "\x1b]52;c;cHduZWQ=\x07\x1b[2J"
        ).id
    pages = [
        client.get(f"/attempts/{first}").text,
        client.get("/history").text,
        client.get(f"/compare?a={first}&b={second}").text,
        render_report_html({**data, "label": evil}, b"RIFF"),
    ]
    for html in pages:
        assert "\x1b" not in html and "\x07" not in html  # issue 12 item 6: no control characters
        assert "<script>alert(" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;" in html or "&lt;img" in html
    assert client.get(f"/api/attempts/{first}").json()["label"] == '<img src=x onerror="alert(1)">'


@pytest.mark.slow
def test_show_html_writes_one_self_contained_report(home, en_analysis, tmp_path):
    with History.open(home / "history.db") as history:
        attempt_id = history.save(en_analysis, DATA / "known_en.wav", label="v1").id
    out = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["show", str(attempt_id), "--html", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "data:audio/wav;base64," in html
    # No request leaves the file: no external script, style, media or link.
    assert not re.search(r'(src|href)="(?!data:|#)', html)
    for sentence in en_analysis["sentences"]:
        assert f'data-start="{sentence["start"]}"' in html
    result = CliRunner().invoke(main, ["show", "99", "--html", str(tmp_path / "x.html")])
    assert result.exit_code == 1 and "no attempt #99" in result.output
    assert not (tmp_path / "x.html").exists()


@pytest.mark.slow
def test_analyze_html_dir_writes_one_report_per_file(analyzer, monkeypatch, tmp_path, home):
    monkeypatch.setattr("speechcoach.cli.build_analyzer", lambda *args: analyzer)
    out = tmp_path / "reports"
    result = CliRunner().invoke(
        main,
        [
            "analyze",
            str(DATA / "known_en.wav"),
            str(DATA / "not_audio.txt"),
            "--html-dir",
            str(out),
        ],
    )
    assert result.exit_code == 1  # not_audio.txt failed, as without --html-dir
    assert sorted(p.name for p in out.iterdir()) == ["known_en.html"]
    html = (out / "known_en.html").read_text(encoding="utf-8")
    assert "data:audio/wav;base64," in html and "Why Japan" in html
    assert f"HTML report: {out / 'known_en.html'}" in result.stderr


def test_the_report_of_a_japanese_attempt_is_in_japanese():
    """Labels too: rendered from a stored Japanese analysis (no model needed)."""
    record = json.loads((DATA / "web_analysis_ja.json").read_text(encoding="utf-8"))
    html = render_report_html(record, None)
    assert '<html lang="ja">' in html
    for label in ("まず直すこと", "文字起こし", "話し方", "内容", "目安"):
        assert label in html
    for english in ("Fix first", "Transcript", "Delivery", "Judgement", "Target band"):
        assert english not in html


# ----------------------------------------------------------------- the whole API, for real
@pytest.mark.slow
def test_two_tabs_upload_at_once_and_the_api_serves_the_attempts(client, home):
    results = {}

    def tab(name, filename):
        results[name] = upload(client, filename, path=DATA / name, label=f"tab {name}")

    tabs = [
        threading.Thread(target=tab, args=("known_en.wav", "known_en.wav")),
        threading.Thread(target=tab, args=("known_en.flac", "../../etc/evil name.flac")),
    ]
    for thread in tabs:
        thread.start()
    for thread in tabs:
        thread.join(300)
    assert [results[n].status_code for n in ("known_en.wav", "known_en.flac")] == [201, 201]
    wav, flac = results["known_en.wav"].json(), results["known_en.flac"].json()
    for result in (wav, flac):
        assert ANALYSIS_FIELDS <= set(result), ANALYSIS_FIELDS - set(result)
        assert Path(result["file"]).parent == home / "recordings"
        assert Path(result["file"]).is_file()
    assert wav["attempt_id"] != flac["attempt_id"]
    # The client's file name never becomes a path: only a cleaned-up stem inside recordings/.
    names = recordings(home)
    assert len(names) == 2 and not [n for n in names if n.startswith(".")]
    assert any(re.fullmatch(r"upload-\d{8}-\d{6}(-\d+)?-evil-name\.flac", n) for n in names)
    assert (home / "recordings" / Path(wav["file"]).name).read_bytes() == (
        DATA / "known_en.wav"
    ).read_bytes()

    listed = client.get("/api/attempts").json()
    assert {a["id"] for a in listed} == {wav["attempt_id"], flac["attempt_id"]}
    # One store: the CLI sees what the browser saved.
    cli = CliRunner().invoke(main, ["history", "--json"])
    assert {json.loads(line)["id"] for line in cli.output.splitlines()} == {
        wav["attempt_id"],
        flac["attempt_id"],
    }
    one = client.get(f"/api/attempts/{wav['attempt_id']}").json()
    assert one["label"] == "tab known_en.wav"
    assert {k: one[k] for k in ANALYSIS_FIELDS} == {k: wav[k] for k in ANALYSIS_FIELDS}

    audio = client.get(f"/api/attempts/{wav['attempt_id']}/audio", headers={"range": "bytes=0-99"})
    assert audio.status_code == 206 and len(audio.content) == 100
    assert audio.headers["content-type"].startswith("audio/wav")
    assert audio.content == (DATA / "known_en.wav").read_bytes()[:100]

    comparison = client.get(f"/api/compare?a={wav['attempt_id']}&b={flac['attempt_id']}").json()
    assert comparison["before"]["id"] == wav["attempt_id"]
    assert {m["key"] for m in comparison["metrics"]} >= {"score", "duration", "pace"}
    same = client.get(f"/api/compare?a={wav['attempt_id']}&b={wav['attempt_id']}")
    assert same.status_code == 400 and "twice" in same.json()["error"]
    assert client.get("/api/compare?a=1").status_code == 400

    page = client.get(f"/attempts/{wav['attempt_id']}").text
    assert f'src="/api/attempts/{wav["attempt_id"]}/audio"' in page
    for sentence in wav["sentences"]:
        assert f'data-start="{sentence["start"]}"' in page
    assert "Why Japan" in page and "<svg" in page
    history = client.get("/history").text
    assert f"attempt-{wav['attempt_id']}" in history and f"attempt-{flac['attempt_id']}" in history
    download = client.get(f"/attempts/{wav['attempt_id']}/report.html")
    assert "attachment" in download.headers["content-disposition"]
    assert "data:audio/wav;base64," in download.text

    deleted = client.delete(f"/api/attempts/{flac['attempt_id']}")
    assert deleted.json() == {"deleted": flac["attempt_id"]}
    gone = client.get(f"/api/attempts/{flac['attempt_id']}")
    assert gone.status_code == 404 and "no attempt" in gone.json()["error"]
    assert client.delete(f"/api/attempts/{flac['attempt_id']}").status_code == 404
    assert [a["id"] for a in client.get("/api/attempts").json()] == [wav["attempt_id"]]


@pytest.mark.slow
def test_a_job_reports_its_state_and_time_left_until_done(client):
    response = upload(client, "known_en.m4a", url="/api/jobs", target="90s", language="en")
    assert response.status_code == 202
    job = response.json()
    seen = [job["state"]]
    deadline = time.monotonic() + 300
    while job["state"] not in ("done", "error") and time.monotonic() < deadline:
        assert job["eta_s"] is not None and job["eta_s"] >= 0
        time.sleep(0.2)
        job = client.get(f"/api/jobs/{job['id']}").json()
        seen.append(job["state"])
    assert job["state"] == "done", job
    assert set(seen) <= JOB_STATES and "transcribing" in seen
    assert job["report"] == f"/attempts/{job['attempt_id']}"
    analysis = client.get(f"/api/attempts/{job['attempt_id']}").json()
    assert analysis["target_s"] == 90.0 and analysis["language"] == "en"
    assert client.get("/api/jobs/nope").status_code == 404


# --------------------------------------------------------------------- the serve command
def _serve(*args: str, browser: bool = False, env: dict | None = None):
    import os
    import subprocess
    import sys

    flags = [] if browser else ["--no-browser"]
    return subprocess.Popen(
        [sys.executable, "-m", "speechcoach", "serve", *flags, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _line_with(stream, text: str, timeout_s: float = 60) -> str:
    lines: list[str] = []

    def read():
        for line in stream:
            lines.append(line)
            if text in line:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(timeout_s)
    assert lines and text in lines[-1], "".join(lines)
    return "".join(lines)


def test_serve_runs_until_ctrl_c_and_stops_cleanly(home):
    import signal

    process = _serve("--port", "0")
    try:
        started = _line_with(process.stderr, "speechcoach is running at")
        url = re.search(r"(http://\S+)", started).group(1)
        assert url.startswith("http://localhost:")
        import httpx

        assert httpx.get(url, timeout=30).status_code == 200
        # Another server on the same port: one line, exit 1.
        port = url.rstrip("/").rsplit(":", 1)[1]
        second = _serve("--port", port)
        out, err = second.communicate(timeout=60)
        assert second.returncode == 1
        assert err.strip().splitlines()[-1].startswith(f"error: port {port} on 127.0.0.1 is in use")
        assert "Traceback" not in err
        # Ctrl-C during an analysis: the waiting request is answered, the recording is kept.
        answers = []
        clip = (DATA / "long_en_180s.opus").read_bytes()
        poster = threading.Thread(
            target=lambda: answers.append(
                httpx.post(url + "api/attempts", files={"audio": ("long.opus", clip)}, timeout=120)
            )
        )
        poster.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            jobs = httpx.get(url + "api/jobs", timeout=30).json()
            if jobs and jobs[0]["state"] == "transcribing":
                break
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
        poster.join(60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "speechcoach stopped" in err and "Traceback" not in err and "ERROR" not in err
    assert answers[0].status_code == 503
    kept = re.search(r"kept in (\S+):", answers[0].json()["error"]).group(1)
    assert Path(kept).is_file() and "speechcoach analyze" in err


def test_serve_on_another_host_says_what_it_exposes():
    import signal

    process = _serve("--port", "0", "--host", "0.0.0.0")
    try:
        text = _line_with(process.stderr, "speechcoach is running at")
        assert "warning: listening on 0.0.0.0: anyone who can reach this machine" in text
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()


@pytest.mark.slow
def test_a_report_whose_recording_is_gone_still_opens_without_playback(
    client, home, en_analysis, tmp_path
):
    copy = tmp_path / "moved.wav"
    copy.write_bytes((DATA / "known_en.wav").read_bytes())
    with History.open(home / "history.db") as history:
        attempt_id = history.save(en_analysis, copy).id
    copy.unlink()
    page = client.get(f"/attempts/{attempt_id}")
    assert page.status_code == 200
    assert "The recording is not available" in page.text and str(copy) in page.text
    assert "<audio" not in page.text and 'class="sentence" data-start' in page.text
    audio = client.get(f"/api/attempts/{attempt_id}/audio")
    assert audio.status_code == 404 and "no longer at" in audio.json()["error"]
    download = client.get(f"/attempts/{attempt_id}/report.html")
    assert download.status_code == 200 and "base64," not in download.text


def test_the_pages_switch_to_japanese(client):
    practice = client.get("/?lang=ja").text
    assert '<html lang="ja">' in practice
    for label in ("自己紹介を練習する", "録音", "停止", "マイク", "入力レベル"):
        assert label in practice
    assert 'href="/history?lang=ja"' in practice
    assert "まだ記録がありません" in client.get("/history?lang=ja").text
    assert client.get("/?lang=xx").text.startswith('<!doctype html>\n<html lang="en">')


def test_a_damaged_history_is_a_clear_page_and_is_left_untouched(client, home):
    db = home / "history.db"
    db.write_bytes(b"this is not a database" * 100)
    page = client.get("/history")
    assert page.status_code == 503
    assert "damaged" in page.text and "Traceback" not in page.text
    api = client.get("/api/attempts")
    assert api.status_code == 503 and "damaged" in api.json()["error"]
    assert client.get("/").status_code == 200
    assert db.read_bytes() == b"this is not a database" * 100


def test_serve_opens_the_browser_at_its_address(tmp_path):
    """Without --no-browser the page opens (here $BROWSER is a script that writes the URL)."""
    import shlex
    import signal
    import sys

    opened = tmp_path / "opened.txt"
    script = f"import sys; open({str(opened)!r}, 'w').write(sys.argv[1])"
    browser = f"{shlex.quote(sys.executable)} -c {shlex.quote(script)} %s"
    process = _serve("--port", "0", browser=True, env={"BROWSER": browser})
    try:
        started = _line_with(process.stderr, "speechcoach is running at")
        url = re.search(r"(http://\S+)", started).group(1)
        deadline = time.monotonic() + 30
        while not opened.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert opened.read_text() == url
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()


def _labels_json(html: str) -> dict:
    """The labels the page's script reads with JSON.parse, as the browser would see them."""
    import html as html_module
    import re

    found = re.search(r'<script type="application/json" id="labels">(.*?)</script>', html, re.S)
    assert found, "the page carries its labels"
    assert html_module.unescape(found.group(1)) == found.group(1), "no HTML escaping in a script"
    return json.loads(found.group(1))


def test_the_pages_scripts_and_drawings_are_not_escaped_twice(client):
    """Markup (the labels JSON, the SVG timeline) once went through the control-character filter
    as a plain str and was escaped again: `{&#34;…` broke JSON.parse and every page's script."""
    for url in ("/", "/history"):
        assert _labels_json(client.get(url).text)["lang"] == "en"
    record = json.loads((DATA / "web_analysis_ja.json").read_text("utf-8"))
    html = render_report_html(record, b"RIFF")
    assert _labels_json(html)["lang"] == "ja"
    assert "<svg" in html and "&lt;svg" not in html
    # The pages name an empty icon, so the browser does not ask /favicon.ico (a 404 every load).
    assert (
        '<link rel="icon" href="data:,">' in html and client.get("/favicon.ico").status_code == 404
    )
    assert '<link rel="icon" href="data:,">' in client.get("/").text


def test_the_web_report_plays_and_tags_a_pitfalls_whole_sentence():
    from speechcoach.web.views import _tips, sentence_views

    d = {
        "sentences": [
            {"start": 1.0, "end": 9.0, "text": "So my goal, you know, I love anime."},
            {"start": 9.5, "end": 12.0, "text": "I work in Osaka."},
        ],
        "components": {},
        "pitfalls": [
            {
                "id": "culture_reason",
                "text": "So my goal, you know, I love anime.",
                "start": 6.2,  # the trigger, well inside the sentence
                "end": 9.0,
                "sentence_start": 1.0,
            }
        ],
    }
    views = sentence_views(d, "en")
    assert views[0].pitfalls and not views[1].pitfalls
    # Its tip plays from the trigger to the end of the sentence (was: a fixed 6 s).
    d["tips"] = [{"id": "pitfall:culture_reason", "message": "m", "start": 6.2}]
    assert _tips(d, views)[0].end == 9.0


def test_the_progress_charts_labels_never_run_together(home, tmp_path):
    # qa.md 24: at 15 attempts the x labels read "#9#10#11#12"; the "best" label sat on "100".
    import re as regex

    from test_store import make_analysis, make_audio

    from speechcoach.progress import progress
    from speechcoach.web.views import CHART_X_LABEL_W, labels, progress_charts

    with History.open() as history:
        for n in range(15):
            analysis = make_analysis(tmp_path / f"take{n}.wav", score=100 if n == 0 else 50 + n)
            history.save(analysis, make_audio(tmp_path, f"take{n}.wav"))
        attempts = history.list(20)
    charts = progress_charts(progress(list(reversed(attempts))), labels("en"))
    score = str(charts[0]["svg"])
    xs = [float(x) for x in regex.findall(r'<text class="axis" x="([\d.]+)" y="18\d', score)]
    assert len(xs) >= 2 and min(b - a for a, b in zip(xs, xs[1:], strict=False)) >= CHART_X_LABEL_W
    best = regex.search(
        r'<text class="best-label" x="([\d.]+)" y="([\d.]+)" text-anchor="(\w+)"', score
    )
    assert best and float(best.group(2)) > 30 and best.group(3) == "start"


def test_the_compare_sentences_keep_the_pitfall_titles_whole():
    # Seen in a browser: "…, Wanting to “Wanting to escape your job” your job are gone." The
    # sentences come from progress.py with the pitfalls' titles; the page replaced the id
    # "escape" inside them.
    from types import SimpleNamespace

    from speechcoach.web.views import compare_view

    said = "Biggest improvement: the pitfall Wanting to escape your job is gone."
    data = {
        "metrics": [],
        "components": {"gained": [], "lost": []},
        "pitfalls": {"fixed": ["escape"], "new": [], "still": []},
        "biggest_improvement": said,
        "biggest_gap": "Biggest remaining gap: none; every measure is within its target.",
    }
    view = compare_view(SimpleNamespace(to_dict=lambda: data, changes=[]), "en")
    assert view["biggest_improvement"] == said


def test_the_compare_page_speaks_the_comparisons_language(client, home, tmp_path):
    # Seen on the English page: "Biggest remaining gap: 日本に来た理由を話しましょう。" (the newer
    # attempt's top tip is Japanese). The page speaks the newer attempt's feedback language, as
    # the terminal's compare does.
    from test_store import make_analysis, make_audio

    en = make_analysis(tmp_path / "en.wav", covered=("japan",), pitfalls=("badmouth",))
    ja = make_analysis(tmp_path / "ja.wav", covered=("project",), pitfalls=(), language="ja")
    ja["feedback_language"] = "ja"
    ja["tips"] = [
        {"id": "missing:japan", "priority": 90, "message": "日本に来た理由を話しましょう。"}
    ]
    with History.open(home / "history.db") as history:
        for analysis in (en, ja):
            history.save(analysis, make_audio(tmp_path, Path(analysis["file"]).name))
    for url in ("/compare?a=1&b=2", "/compare?a=1&b=2&lang=en"):
        html = client.get(url).text
        assert '<html lang="ja">' in html
        main_part = html.split("<main", 1)[1].split(">", 1)[1].split("</main>", 1)[0]
        assert "いちばんの課題：日本に来た理由を話しましょう。" in main_part
        assert "目安 120〜160 語/分" in main_part and "目安 0〜2 回" in main_part
        assert not re.search(r"[A-Za-z]{3,}", re.sub(r"<[^>]*>", "", main_part)), main_part


def test_the_japanese_progress_charts_name_the_parts_band_in_japanese(client, home, tmp_path):
    # The parts chart's caption and description read "要素 (of 4) · 4 of 4" on the Japanese
    # history page; the other charts' units were English too ("つなぎ言葉 (per min)").
    from test_store import make_analysis, make_audio

    with History.open(home / "history.db") as history:
        for n in range(2):
            ja = make_analysis(tmp_path / f"ja{n}.wav", score=40 + n, language="ja")
            ja["feedback_language"] = "ja"
            history.save(ja, make_audio(tmp_path, f"ja{n}.wav"))
    html = client.get("/history?lang=ja").text
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", html)
    assert "要素（/4） · 4要素中4" in captions, captions
    assert (
        "つなぎ言葉（回/分） · 0〜5 回/分" in captions and "長さ（分:秒） · 2:33〜3:27" in captions
    )
    assert "色の帯は目安 4要素中4 です。" in html
    assert not any(re.search(r"[A-Za-z]{3,}|of 4", c) for c in captions), captions
    english = client.get("/history?lang=en").text
    assert "<figcaption>Parts (of 4) · 4 of 4</figcaption>" in english, english


def test_the_pages_show_the_length_the_report_judges(client, home):
    # report_en_blame: a 0:55 recording of 0:52 of speech; the pages showed 0:55 as its length.
    record = json.loads((DATA / "report_en_blame.json").read_text("utf-8"))
    with History.open(home / "history.db") as history:
        history.save(record, DATA / "intros" / "en_ahmed_qa_blame.opus")
        history.save({**record, "score": 50}, DATA / "known_en.wav")
    report = client.get("/attempts/1").text
    assert '<p class="meta">0:52 / 3:00' in report
    assert "0:52 speaking (recording 0:55)" in report
    assert re.search(r'<td class="num hide-narrow">0:52</td>', client.get("/history").text)
    compared = client.get("/compare?a=1&b=2").text
    assert compared.count("<td>0:52 of 3:00</td>") == 2


@pytest.mark.parametrize("name", ["report_en_blame.json", "report_ja_short.json"])
def test_the_web_report_verdict_is_the_terminal_reports(name):
    # A short intro with every part the terminal calls "Too short"; the page read the score band
    # alone and told the speaker to "start from the outline: say why Japan, ..." (qa, 2026-12-01).
    from speechcoach.report import render_report
    from speechcoach.web.views import report_view

    record = json.loads((DATA / name).read_text(encoding="utf-8"))
    terminal = render_report(record, width=10_000).splitlines()[1].strip()
    page = report_view(record)["verdict"]
    assert page == terminal
    assert record["speech_s"] < 0.4 * record["target_s"]
    assert "outline" not in page and ("Too short" in page or "短" in page)
