"""speechcoach in the browser: `speechcoach serve` (record, upload, reports with playback,
history and progress) and one self-contained HTML report per attempt.

    from speechcoach.web import create_app, render_report_html
    app = create_app(Analyzer(), history_path)          # ASGI app (Starlette)
    html = render_report_html(record, audio_bytes)      # one file, audio embedded

`record` is a stored analysis dict (`speechcoach show ID --json`: the `analyze --json` object
plus `attempt_id`, `label`); the report needs only Jinja2, not the server.
"""

from __future__ import annotations

__all__ = ["create_app", "render_report_html", "write_report_html"]


def __getattr__(name):
    # Lazy: the HTML report must not need Starlette, and `import speechcoach.web` stays cheap.
    if name == "create_app":
        from .app import create_app

        return create_app
    if name in ("render_report_html", "write_report_html"):
        from . import render

        return getattr(render, name)
    raise AttributeError(name)
