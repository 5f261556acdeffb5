"""The web app: pages and the JSON API on the library (`Analyzer`, `History`), never the CLI.

    app = create_app(Analyzer(), History path)     # an ASGI app; `serve.serve` runs it with uvicorn

Uploads (a recording from the page or files) are streamed to a temporary file under
SPEECHCOACH_HOME/recordings, decoded to check that they are audio, and only then renamed to
their final name: a closed tab, a broken connection or a bad file leaves no file and no attempt.
No request path reaches the file system: audio is served by attempt id, static files from a
fixed list.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from .. import languages, metrics
from ..audio import AUDIO_EXTENSIONS, load_audio
from ..config import format_duration, home_dir, parse_duration
from ..errors import AudioError, SpeechcoachError, StoreError
from ..store import History
from .jobs import FINISHED, JobQueue
from .render import audio_type, format_when, render_page, render_report_html, report_context
from .render import static_text as _static_text
from .security import LOOPBACK_HOSTS, BodyTooLarge, Guard
from .views import DEFAULT_LANGUAGE, compare_view, fmt, labels, progress_charts, ui_language

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 200 * 1000 * 1000  # 200 MB: hours of phone audio; an intro is a few MB
MAX_LABEL_CHARS = 200
MAX_TARGET_S = 30 * 60.0  # the longest recording analysed (audio.MAX_DURATION_S)
COPY_CHUNK = 1 << 20
RECORDINGS_DIR = "recordings"  # as record.RECORDINGS_DIR (not imported: record loads numpy)
PART_PREFIX = ".incoming-"  # temporary upload files; removed on failure and at start-up
STALE_PART_S = 3600.0
SAFE_STEM = re.compile(r"[^A-Za-z0-9_-]+")
STEM_CHARS = 40
CONTENT_TYPE_SUFFIX = {
    "audio/webm": ".webm",
    "video/webm": ".webm",
    "audio/ogg": ".ogg",
    "audio/mp4": ".m4a",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "audio/x-wav": ".wav",
    "audio/flac": ".flac",
}
STATIC_FILES = {
    "app.css": "text/css; charset=utf-8",
    "report.js": "text/javascript; charset=utf-8",
    "practice.js": "text/javascript; charset=utf-8",
    "history.js": "text/javascript; charset=utf-8",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def create_app(
    analyzer,
    history_path: str | Path | None = None,
    *,
    recordings_dir: str | Path | None = None,
    allowed_hosts: Iterable[str] = LOOPBACK_HOSTS,
    max_upload_bytes: int = MAX_UPLOAD_BYTES,
    debug: bool = False,
) -> Guard:
    """The ASGI app. `analyzer` is used by one worker thread (models load once, on first use);
    `history_path` defaults to SPEECHCOACH_HOME/history.db, `recordings_dir` to
    SPEECHCOACH_HOME/recordings. Requests whose Host is not in `allowed_hosts` are refused."""
    history_path = Path(history_path) if history_path else home_dir() / "history.db"
    recordings = Path(recordings_dir) if recordings_dir else home_dir() / RECORDINGS_DIR
    queue = JobQueue(analyzer, history_path)
    stopping = asyncio.Event()  # set by `serve` on Ctrl-C: requests waiting for an analysis end
    targets = analyzer.options.targets
    statics = {name: _static_text(name).encode("utf-8") for name in STATIC_FILES}

    # -- helpers ---------------------------------------------------------------------------
    async def in_history(fn: Callable[[History], Any]) -> Any:
        def run():
            with History.open(history_path) as history:
                return fn(history)

        try:
            return await run_in_threadpool(run)
        except StoreError as exc:
            raise ApiError(404 if str(exc).startswith("no attempt #") else 503, str(exc)) from exc

    def page_language(request: Request) -> str:
        return ui_language(request.query_params.get("lang"))

    def page(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
        switchable = context.pop("switchable", True)
        lang = context.pop("lang", None) or page_language(request)
        L = labels(lang)
        other = L["other_language_code"]
        query = {k: v for k, v in request.query_params.items() if k != "lang"}
        switch = request.url.path + "?" + urlencode({**query, "lang": other})
        html = render_page(
            template,
            L=L,
            lang=lang,
            lang_q="" if lang == DEFAULT_LANGUAGE else f"?lang={lang}",
            switch_href=switch if switchable else None,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def attempt_record(attempt) -> dict:
        return {
            **attempt.analysis,
            "attempt_id": attempt.id,
            "label": attempt.label,
            "created_at": attempt.created_at,
        }

    # -- uploads ---------------------------------------------------------------------------
    async def receive_upload(request: Request, kind: str):
        """Parse the multipart body, save the file (temp + rename), check it decodes; a Job."""
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            raise ApiError(
                415,
                "send the recording as multipart/form-data with the file in the field `audio` "
                "(curl -F audio=@intro.m4a ...)",
            )
        try:
            async with request.form(max_files=1, max_fields=10) as form:
                upload = form.get("audio")
                if not isinstance(upload, UploadFile):
                    raise ApiError(
                        400, "no file in the field `audio`; attach the recording as `audio`"
                    )
                options = _options(form)
                name = _display_name(upload.filename, kind)
                part = await run_in_threadpool(_spool, upload, recordings)
        except ClientDisconnect:
            log.info("a client disconnected during an upload: nothing was saved")
            raise ApiError(400, "the upload was interrupted; nothing was saved") from None
        except BodyTooLarge as exc:
            raise ApiError(413, str(exc)) from None
        except HTTPException as exc:  # the multipart parser's own refusals
            raise ApiError(
                exc.status_code, f"the upload could not be read ({exc.detail})"
            ) from None
        try:
            audio = await run_in_threadpool(_check_audio, part, name)
            suffix = _suffix(upload)
            if kind == "recording":  # a browser recording is kept as a terminal one: 16-bit WAV
                part = await run_in_threadpool(_as_wav, part, audio.samples, recordings)
                suffix = ".wav"
            final = await run_in_threadpool(
                _publish, part, recordings, _final_stem(kind, upload.filename), suffix
            )
        finally:
            with contextlib.suppress(FileNotFoundError):
                part.unlink()
        return queue.submit(final, name, audio.duration_s, **options)

    # -- API -------------------------------------------------------------------------------
    async def api_create_attempt(request: Request):
        job = await receive_upload(request, request.query_params.get("kind", "upload"))
        loop = asyncio.get_running_loop()
        finished = asyncio.Event()
        job.when_done(lambda: loop.call_soon_threadsafe(finished.set))
        waits = [asyncio.ensure_future(e.wait()) for e in (finished, stopping)]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            pass
        finally:
            for wait in waits:
                wait.cancel()
        if not finished.is_set():  # the server is stopping (Ctrl-C) mid-analysis
            raise ApiError(
                503,
                f"the server stopped before {job.name} was analysed; the recording is kept in "
                f"{job.path}: `speechcoach analyze {job.path}` analyses it",
            ) from None
        if job.error:
            raise ApiError(job.status, job.error)
        return JSONResponse(job.result, status_code=201)

    async def api_create_job(request: Request):
        job = await receive_upload(request, request.query_params.get("kind", "upload"))
        return JSONResponse(queue.snapshot(job), status_code=202)

    async def api_jobs(request: Request):
        return JSONResponse([queue.snapshot(j) for j in queue.jobs()])

    async def api_job(request: Request):
        job = queue.get(request.path_params["job_id"])
        if job is None:
            raise ApiError(404, "no such analysis job (the server was restarted?); see /history")
        return JSONResponse(queue.snapshot(job))

    async def api_attempts(request: Request):
        attempts = await in_history(lambda h: h.list())
        return JSONResponse([a.summary() for a in attempts])

    async def api_attempt(request: Request):
        attempt_id = request.path_params["attempt_id"]
        attempt = await in_history(lambda h: h.get(attempt_id))
        return JSONResponse(attempt_record(attempt))

    async def api_audio(request: Request):
        attempt_id = request.path_params["attempt_id"]
        attempt = await in_history(lambda h: h.get(attempt_id))
        path = Path(attempt.audio_path)
        if not attempt.audio_path or not path.is_file():
            raise ApiError(
                404,
                f"the recording of attempt #{attempt_id} is no longer at "
                f"{attempt.audio_path or '?'}; "
                "the report is still there, without playback",
            )
        return FileResponse(path, media_type=audio_type(path))

    async def api_delete(request: Request):
        attempt_id = request.path_params["attempt_id"]
        await in_history(lambda h: h.forget(attempt_id))
        return JSONResponse({"deleted": attempt_id})

    async def api_compare(request: Request):
        a, b = _two_ids(request)
        return JSONResponse((await compared(a, b)).to_dict())

    async def compared(a: int, b: int, language: str | None = None):
        from ..progress import compare, pick_pair

        def run(h):
            return compare(*pick_pair(h, a, b), targets, language)

        try:
            return await in_history(run)
        except ApiError as exc:
            if exc.status == 503 and "twice" in exc.message:
                raise ApiError(400, exc.message) from None
            raise

    async def api_progress(request: Request):
        from ..progress import progress

        return JSONResponse(
            (await in_history(lambda h: progress(h.chronological(), targets))).to_dict()
        )

    # -- pages -----------------------------------------------------------------------------
    async def practice(request: Request):
        return page(
            request,
            "practice.html",
            page="practice",
            target_s=targets.duration_s,
            target=format_duration(targets.duration_s),
            max_upload_mb=round(max_upload_bytes / 1e6),
            accept=",".join(["audio/*", *sorted(AUDIO_EXTENSIONS)]),
        )

    async def report_page(request: Request):
        attempt_id = request.path_params["attempt_id"]
        attempt = await in_history(lambda h: h.get(attempt_id))
        record = attempt_record(attempt)
        exists = bool(attempt.audio_path) and Path(attempt.audio_path).is_file()
        context = report_context(
            record,
            f"/api/attempts/{attempt_id}/audio" if exists else None,
            "" if exists else attempt.audio_path or "?",
        )
        context.pop("L")
        return page(request, "report.html", standalone=False, switchable=False, **context)

    async def report_download(request: Request):
        attempt_id = request.path_params["attempt_id"]
        attempt = await in_history(lambda h: h.get(attempt_id))
        from .render import read_audio

        audio, _ = await run_in_threadpool(read_audio, attempt.audio_path)
        html = await run_in_threadpool(render_report_html, attempt_record(attempt), audio)
        return HTMLResponse(
            html,
            headers={
                "content-disposition": (
                    f'attachment; filename="speechcoach-attempt-{attempt_id}.html"'
                )
            },
        )

    async def history_page(request: Request):
        from ..progress import progress

        lang = page_language(request)

        def run(h):
            attempts = h.list()
            return attempts, progress(list(reversed(attempts)), targets)

        attempts, trend = await in_history(run)
        best = trend.best
        L = labels(lang)
        return page(
            request,
            "history.html",
            page="history",
            attempts=[_history_row(a) for a in attempts],
            charts=progress_charts(trend, L) if len(attempts) > 1 else [],
            best=fmt(
                L["personal_best"], score=best.score, id=best.id, when=format_when(best.created_at)
            )
            if best
            else "",
        )

    async def compare_page(request: Request):
        a, b = _two_ids(request)
        # The whole page in the comparison's language (the newer attempt's feedback language),
        # as the terminal's compare and the report page speak theirs: its sentences quote the
        # newer attempt's top tip, which is in that language whatever the page's.
        comparison = await compared(a, b)
        lang = ui_language(comparison.language)
        view = compare_view(comparison, lang)
        return page(request, "compare.html", page="history", lang=lang, switchable=False, c=view)

    async def static(request: Request):
        name = request.path_params["name"]
        if name not in statics:
            raise HTTPException(404)
        return Response(
            statics[name], media_type=STATIC_FILES[name], headers={"cache-control": "no-cache"}
        )

    # -- errors ----------------------------------------------------------------------------
    async def on_api_error(request: Request, exc: ApiError):
        return error_response(request, exc.status, exc.message)

    async def on_http_error(request: Request, exc: HTTPException):
        message = {
            404: f"nothing at {request.url.path}; the pages are / and /history, the API is "
            "under /api/",
            405: f"{request.method} is not allowed on {request.url.path}",
        }.get(exc.status_code, str(exc.detail))
        return error_response(request, exc.status_code, message)

    async def on_error(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if debug:
            raise exc
        return error_response(
            request,
            500,
            f"unexpected error ({type(exc).__name__}: {exc}); rerun `speechcoach serve "
            "--debug` for details and report it",
        )

    def error_response(request: Request, status: int, message: str) -> Response:
        if request.url.path.startswith("/api/") or request.method != "GET":
            return JSONResponse({"error": message}, status_code=status)
        return page(request, "error.html", status=status, page="error", message=message)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        await run_in_threadpool(_clean_parts, recordings)
        queue.start()
        yield
        for job in queue.stop():
            log.warning(
                "stopped before %s was analysed; the recording is kept: speechcoach analyze %s",
                job.name,
                job.path,
            )

    routes = [
        Route("/", practice),
        Route("/history", history_page),
        Route("/compare", compare_page),
        Route("/attempts/{attempt_id:int}", report_page),
        Route("/attempts/{attempt_id:int}/report.html", report_download),
        Route("/static/{name}", static),
        Route("/api/attempts", api_attempts, methods=["GET"]),
        Route("/api/attempts", api_create_attempt, methods=["POST"]),
        Route("/api/attempts/{attempt_id:int}", api_attempt, methods=["GET"]),
        Route("/api/attempts/{attempt_id:int}", api_delete, methods=["DELETE"]),
        Route("/api/attempts/{attempt_id:int}/audio", api_audio, methods=["GET"]),
        Route("/api/compare", api_compare),
        Route("/api/progress", api_progress),
        Route("/api/jobs", api_jobs, methods=["GET"]),
        Route("/api/jobs", api_create_job, methods=["POST"]),
        Route("/api/jobs/{job_id}", api_job),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            ApiError: on_api_error,
            HTTPException: on_http_error,
            Exception: on_error,
        },
    )
    app.state.queue = queue
    guarded = Guard(app, allowed_hosts, max_upload_bytes)
    guarded.queue = queue  # tests and `serve` look at the jobs
    guarded.stopping = stopping
    return guarded


# ------------------------------------------------------------------------------- helpers
def _options(form) -> dict:
    label = _text(form.get("label"))
    if label and len(label) > MAX_LABEL_CHARS:
        raise ApiError(
            400, f"the label is {len(label)} characters long; keep it under {MAX_LABEL_CHARS}"
        )
    language = (_text(form.get("language")) or "").strip().lower() or None
    if language:
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        if language not in _LANGUAGE_CODES:
            raise ApiError(
                400,
                f"{language!r} is not a Whisper language code; use a two-letter code such "
                "as en, ja, zh, ko, es, de, fr",
            )
    target_s = None
    target = (_text(form.get("target")) or "").strip()
    if target:
        try:
            target_s = parse_duration(target)
        except ValueError as exc:
            raise ApiError(400, f"target: {exc}") from None
        if not 0 < target_s <= MAX_TARGET_S:
            raise ApiError(
                400, f"target: {target} is not between 1 s and {MAX_TARGET_S / 60:.0f} min"
            )
    return {"label": label or None, "language": language, "target_s": target_s}


def _text(value) -> str | None:
    return value if isinstance(value, str) else None


def _display_name(filename: str | None, kind: str) -> str:
    """What the pages call an upload: the client's file name, reduced to its last part."""
    if kind == "recording":
        return "recording " + datetime.now().strftime("%H:%M:%S")
    name = re.split(r"[\\/]", filename or "")[-1].strip()
    return name[:120] or "upload"


def _final_stem(kind: str, filename: str | None) -> str:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    if kind == "recording":
        return f"intro-{stamp}"
    stem = SAFE_STEM.sub("-", Path(re.split(r"[\\/]", filename or "")[-1]).stem).strip("-")
    return f"upload-{stamp}" + (f"-{stem[:STEM_CHARS]}" if stem else "")


def _suffix(upload: UploadFile) -> str:
    suffix = Path(re.split(r"[\\/]", upload.filename or "")[-1]).suffix.lower()
    if suffix in AUDIO_EXTENSIONS:
        return suffix
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    return CONTENT_TYPE_SUFFIX.get(content_type, ".audio")


def _spool(upload: UploadFile, folder: Path) -> Path:
    """Copy the parsed upload into a temporary file in the recordings folder (same file system
    as its final name, so that the rename is atomic)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=PART_PREFIX, suffix=".part", dir=folder)
    except OSError as exc:
        raise ApiError(
            507,
            f"cannot write to {folder} ({exc.strerror or exc}); free some space or set "
            "SPEECHCOACH_HOME",
        ) from exc
    part = Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            upload.file.seek(0)
            while chunk := upload.file.read(COPY_CHUNK):
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise ApiError(
            507, f"cannot save the upload in {folder} ({exc.strerror or exc}); free some space"
        ) from exc
    return part


def _check_audio(part: Path, name: str):
    """Decode the whole file (not its name or type) as the analysis will."""
    try:
        return load_audio(part)
    except AudioError as exc:
        raise ApiError(422, str(exc).replace(str(part), name)) from None


def _as_wav(part: Path, samples, folder: Path) -> Path:
    """The decoded recording as a 16-bit 16 kHz WAV part file (a MediaRecorder WebM has no
    index, so a player could not seek in it); the original part file is removed."""
    import soundfile

    from ..config import SAMPLE_RATE

    handle, name = tempfile.mkstemp(prefix=PART_PREFIX, suffix=".part", dir=folder)
    os.close(handle)
    wav = Path(name)
    try:
        soundfile.write(wav, samples, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    except (OSError, RuntimeError) as exc:
        wav.unlink(missing_ok=True)
        raise ApiError(
            507, f"cannot save the recording in {folder} ({exc}); free some space"
        ) from exc
    finally:
        part.unlink(missing_ok=True)
    return wav


def _publish(part: Path, folder: Path, stem: str, suffix: str) -> Path:
    """Give the checked file its final name, never replacing another (a hard link fails if the
    name exists: two uploads in the same second both keep their file)."""
    n = 1
    while True:
        final = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
        try:
            os.link(part, final)
            return final
        except FileExistsError:
            n += 1
        except OSError:  # no hard links on this file system: rename when the name is free
            if not final.exists():
                os.replace(part, final)
                return final
            n += 1


def _clean_parts(folder: Path) -> None:
    """Remove temporary upload files left by a server that was killed mid-upload."""
    if not folder.is_dir():
        return
    now = time.time()
    for part in folder.glob(f"{PART_PREFIX}*.part"):
        with contextlib.suppress(OSError):
            if now - part.stat().st_mtime > STALE_PART_S:
                part.unlink()


def _two_ids(request: Request) -> tuple[int, int]:
    values = [request.query_params.get(k, "") for k in ("a", "b")]
    if not all(v.strip().isdigit() for v in values):
        raise ApiError(400, "give two attempt ids: ?a=ID&b=ID (the history page lists them)")
    return int(values[0]), int(values[1])


def _history_row(a) -> dict:
    judged = metrics.DURATION.value(a.analysis)  # the speech, as the report judges it
    if a.pace_metric == languages.CHARS_PER_MIN and a.chars_per_min:
        pace = f"{a.chars_per_min:.0f} chars/min"
    else:
        pace = f"{a.wpm:.0f} wpm" if a.wpm else "-"
    return {
        "id": a.id,
        "when": format_when(a.created_at),
        "label": a.label or "",
        "file": a.name,
        "duration": "-" if judged is None else format_duration(judged),
        "pace": pace,
        "parts": f"{a.components_covered}/{a.components_total}" if a.components_total else "-",
        "score": "-" if a.score is None else a.score,
    }


__all__ = ["create_app", "ApiError", "MAX_UPLOAD_BYTES", "FINISHED", "SpeechcoachError"]
