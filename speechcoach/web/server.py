"""`speechcoach serve`: run the web app with uvicorn on one socket, open the browser."""

from __future__ import annotations

import logging
import socket
import threading
import webbrowser
from pathlib import Path

from ..errors import SpeechcoachError
from .security import LOOPBACK_HOSTS

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
GRACEFUL_SHUTDOWN_S = 3  # Ctrl-C: open requests get this long, then the server stops


def exposure_warning(host: str) -> str | None:
    if host in LOOPBACK_HOSTS:
        return None
    return (
        f"warning: listening on {host}: anyone who can reach this machine on the network can "
        "record, read, play and delete your attempts (there is no login); use --host only on a "
        "network you trust"
    )


def allowed_hosts(host: str) -> set[str]:
    """The names a browser may use for this server: loopback, plus what --host exposes."""
    names = set(LOOPBACK_HOSTS)
    if host in LOOPBACK_HOSTS:
        return names
    names.add(host)
    if host in ("0.0.0.0", "::"):
        hostname = socket.gethostname()
        names |= {hostname, socket.getfqdn(), f"{hostname}.local"}
        try:
            names |= set(socket.gethostbyname_ex(hostname)[2])
        except OSError:
            pass
    return {n.lower() for n in names if n}


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        reason = (
            "is in use (another `speechcoach serve`?)"
            if exc.errno in (98, 48)
            else f"cannot be used ({exc.strerror})"
        )
        raise SpeechcoachError(
            f"port {port} on {host} {reason}; choose another with --port"
        ) from exc
    sock.listen(128)
    return sock


def serve(
    analyzer,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    open_browser: bool = True,
    history_path: Path | None = None,
    max_upload_bytes: int | None = None,
    debug: bool = False,
    echo=print,
) -> None:
    """Serve until Ctrl-C. `echo` prints the status lines (the CLI passes stderr)."""
    import uvicorn

    from .app import MAX_UPLOAD_BYTES, create_app

    app = create_app(
        analyzer,
        history_path,
        allowed_hosts=allowed_hosts(host),
        max_upload_bytes=max_upload_bytes or MAX_UPLOAD_BYTES,
        debug=debug,
    )
    sock = bind(host, port)
    port = sock.getsockname()[1]
    shown = "localhost" if host in ("127.0.0.1", "localhost") else host
    url = f"http://{shown if ':' not in shown else f'[{shown}]'}:{port}/"
    warning = exposure_warning(host)
    if warning:
        echo(warning)
    config = uvicorn.Config(
        app,
        log_level="debug" if debug else "warning",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        access_log=debug,
    )

    class Server(uvicorn.Server):
        async def shutdown(self, sockets=None):
            # Answer the requests still waiting for an analysis before uvicorn waits for
            # open connections: Ctrl-C then stops at once instead of after a timeout.
            app.stopping.set()
            await super().shutdown(sockets)

    server = Server(config)

    def announce():
        while not server.started and not server.should_exit:
            threading.Event().wait(0.05)
        if server.started:
            echo(f"speechcoach is running at {url}  (Ctrl-C stops it)")
            if open_browser:
                try:
                    webbrowser.open(url)
                except Exception as exc:  # noqa: BLE001 - no browser: the URL is printed
                    log.info("could not open a browser: %s", exc)

    threading.Thread(target=announce, name="announce", daemon=True).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        # uvicorn shuts down on Ctrl-C, then raises the signal again for the caller: here,
        # stopping is the normal end of a session, not an error.
        pass
    finally:
        sock.close()
    echo("speechcoach stopped")
