"""HTML from templates: the pages of the server, and one self-contained report file.

`render_report_html(record, audio_bytes)` is the library entry point for a report to keep or
send (`speechcoach show ID --html FILE`, `analyze --html DIR`, the class summary's links): one
HTML file with the CSS, the script and the audio inlined (a data: URI), so it opens from a disk
or an e-mail with no server and makes no request.
"""

from __future__ import annotations

import base64
import mimetypes
from datetime import datetime
from functools import cache
from importlib import resources
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from .. import __version__
from ..config import format_duration
from ..terminal import clean_text
from .views import fmt, report_view

# What an <audio> element is told a file is, by suffix (the browser sniffs the rest).
AUDIO_TYPES = {
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".webm": "audio/webm",
    ".aiff": "audio/aiff",
    ".aif": "audio/aiff",
    ".wma": "audio/x-ms-wma",
}


def audio_type(path: str | Path) -> str:
    suffix = Path(str(path)).suffix.lower()
    return (
        AUDIO_TYPES.get(suffix) or mimetypes.guess_type(str(path))[0] or "application/octet-stream"
    )


def package_dir() -> Path:
    return Path(str(resources.files(__package__)))


@cache
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(package_dir() / "templates")),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["clock"] = lambda seconds: format_duration(float(seconds or 0))
    env.globals["version"] = __version__
    return env


def _finalize(value):
    """Control characters (a terminal escape in an imported label) are dropped, then escaped.
    Markup (`|tojson`, `|safe`: the labels JSON, the SVG timeline) stays Markup: a plain str
    would be escaped a second time and break the pages' scripts and drawings."""
    if isinstance(value, Markup):
        return Markup(clean_text(str(value)))
    return clean_text(value) if isinstance(value, str) else value


def static_text(name: str) -> str:
    return (package_dir() / "static" / name).read_text("utf-8")


def render_page(template: str, **context) -> str:
    context.setdefault("version", __version__)
    context.setdefault("lang_q", "")
    return environment().get_template(template).render(**context)


def format_when(created_at: str | None) -> str:
    if not created_at:
        return ""
    try:
        return datetime.fromisoformat(created_at).astimezone().strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return created_at


def report_context(record: dict, audio_src: str | None, missing_reason: str = "") -> dict:
    """The report template's context; `missing_reason` says why there is no audio to play."""
    view = report_view(record)
    missing = "" if audio_src else fmt(view["L"]["audio_missing"], reason=missing_reason or "?")
    return {
        **view,
        "page": "report",
        "audio_src": audio_src,
        "audio_missing": missing,
        "when": format_when(record.get("created_at")),
    }


def render_report_html(
    record: dict, audio_bytes: bytes | None, audio_mime: str | None = None
) -> str:
    """One self-contained HTML report of a stored analysis (`show --json`'s object: the
    analysis plus `attempt_id`, `label`, `created_at` where known), the audio embedded.

    Without `audio_bytes` the report is complete but has no player (and says why)."""
    src = None
    if audio_bytes:
        mime = audio_mime or audio_type(record.get("file") or "")
        src = f"data:{mime};base64,{base64.b64encode(audio_bytes).decode('ascii')}"
    context = report_context(record, src, record.get("file") or "")
    L = context["L"]
    context.update(
        standalone=True,
        inline_css=static_text("app.css"),
        inline_js=static_text("report.js"),
        saved_note=fmt(L["saved_report"], when=datetime.now().strftime("%Y-%m-%d %H:%M")),
    )
    return render_page("report.html", **context)


def read_audio(path: str | Path) -> tuple[bytes | None, str]:
    """The recording's bytes for embedding, or None and the reason it cannot be read."""
    try:
        return Path(path).read_bytes(), ""
    except OSError as exc:
        return None, f"{path}: {exc.strerror or exc}"


def write_report_html(record: dict, path: str | Path) -> Path:
    """Write the self-contained report of `record` to `path` (its recording embedded when the
    file at record["file"] can still be read). Raises SpeechcoachError if it cannot be written."""
    from ..errors import SpeechcoachError

    audio, _ = read_audio(record.get("file") or "")
    html = render_report_html(record, audio)
    path = Path(path)
    try:
        tmp = path.with_name(f".{path.name}.part")
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise SpeechcoachError(
            f"cannot write the HTML report {path} ({exc.strerror or exc}); choose a writable path"
        ) from exc
    return path
