"""A private PulseAudio daemon whose null sink's monitor is a virtual microphone.

What is played into the sink `vsink` (with `play()`) is what a program recording from the
default source hears, through a real PortAudio stream (ALSA host API, `pulse`/`default`
devices). The daemon and every helper process are children of the test: `close()` ends those,
and only those. Facts behind the choices: shared/recipes/microphone-in-ci.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

RATE = 16_000  # the sink runs at Whisper's rate, so the captured audio is bit-identical
SINK = "vsink"
SOURCE = f"{SINK}.monitor"
READY_TIMEOUT_S = 10.0
TOOLS = ("pulseaudio", "pactl", "pacat", "paplay")
APT_PACKAGES = "libportaudio2 pulseaudio pulseaudio-utils libasound2-plugins"
MISSING_HINT = (
    "run the apt step of .ci/run (`sudo scripts/ci-apt.sh`, i.e. "
    f"`apt-get install -y --no-install-recommends {APT_PACKAGES}`)"
)


def missing_tools() -> list[str]:
    """The PulseAudio programs that are not installed."""
    return [tool for tool in TOOLS if shutil.which(tool) is None]


class PrivatePulse:
    """Start with `start()`; `env` is what a client needs; `close()` ends only our processes."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.runtime = self.root / "runtime"
        self.socket = self.runtime / "pulse" / "native"
        self.log_path = self.root / "pulseaudio.log"
        self.daemon: subprocess.Popen | None = None
        self._children: list[subprocess.Popen] = []

    @property
    def env(self) -> dict[str, str]:
        """Environment for a client of this daemon (never the user's own sound server)."""
        env = dict(os.environ)
        env.update(
            XDG_RUNTIME_DIR=str(self.runtime),
            PULSE_SERVER=f"unix:{self.socket}",
            PULSE_CLIENTCONFIG=str(self._client_config()),
        )
        return env

    def start(self) -> PrivatePulse:
        self.runtime.mkdir(parents=True, exist_ok=True, mode=0o700)
        daemon_env = self.env
        daemon_env["HOME"] = str(self.root)  # the daemon writes its cookie and state here
        with open(self.log_path, "wb") as log:
            self.daemon = subprocess.Popen(
                [
                    "pulseaudio",
                    "--daemonize=no",
                    "-n",
                    "--exit-idle-time=-1",
                    "--use-pid-file=no",
                    "--log-target=stderr",
                    "-L",
                    "module-native-protocol-unix auth-anonymous=1",
                    "-L",
                    f"module-null-sink sink_name={SINK} format=s16le rate={RATE} channels=1",
                ],
                env=daemon_env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self._wait_ready()
        # A stream that is always playing keeps the sink's clock running: without it each new
        # recording got its first audio 1.3-1.8 s late. A suspend/resume brings that to ~0.25 s.
        self._children.append(
            self._spawn(
                [
                    "pacat",
                    "--playback",
                    f"--device={SINK}",
                    "--raw",
                    "--format=s16le",
                    f"--rate={RATE}",
                    "--channels=1",
                    "/dev/zero",
                ]
            )
        )
        self.pactl("suspend-sink", SINK, "1")
        self.pactl("suspend-sink", SINK, "0")
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise RuntimeError(
                    f"pulseaudio exited with {self.daemon.returncode}: {self.log_tail()}"
                )
            done = subprocess.run(
                ["pactl", "set-default-source", SOURCE], env=self.env, capture_output=True
            )
            if done.returncode == 0:
                return
            time.sleep(0.05)
        raise RuntimeError(
            f"pulseaudio did not answer within {READY_TIMEOUT_S:.0f} s: {self.log_tail()}"
        )

    def pactl(self, *args: str) -> str:
        done = subprocess.run(
            ["pactl", *args], env=self.env, capture_output=True, text=True, check=True
        )
        return done.stdout

    def play(self, wav: Path) -> subprocess.Popen:
        """Start playing `wav` into the virtual microphone; returns the paplay process."""
        proc = self._spawn(["paplay", f"--device={SINK}", str(wav)])
        self._children.append(proc)
        return proc

    def kill_daemon(self) -> None:
        """The sound server dies: for a program recording from it, the device disappears."""
        if self.daemon is not None and self.daemon.poll() is None:
            self.daemon.kill()
            self.daemon.wait()

    def close(self) -> None:
        for proc in [*self._children, self.daemon]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in [*self._children, self.daemon]:
            if proc is None:
                continue
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._children.clear()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def _spawn(self, argv: list[str]) -> subprocess.Popen:
        return subprocess.Popen(
            argv,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def _client_config(self) -> Path:
        # Never start a second daemon behind the test's back when ours is gone or not yet up.
        path = self.root / "client.conf"
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            path.write_text("autospawn = no\n")
        return path


def dead_pulse_env(root: Path) -> dict[str, str]:
    """Environment of a machine with no input device: no sound server, no ALSA card."""
    root.mkdir(parents=True, exist_ok=True)
    config = root / "client.conf"
    config.write_text("autospawn = no\n")
    env = dict(os.environ)
    env.update(
        XDG_RUNTIME_DIR=str(root),
        PULSE_SERVER=f"unix:{root / 'no-such-socket'}",
        PULSE_CLIENTCONFIG=str(config),
    )
    return env
