"""What a command did to its inputs, and the exit code that says it (as black's `Report`).

One `Outcome` per command run: files analysed, failed, analysed but not stored, and whether
the run was stopped or interrupted. Only it turns that into an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_FAILED = 1  # some input could not be analysed, or its result not stored
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report it
EXIT_TERMINATED = 143  # 128 + SIGTERM, as shells report it


class Terminated(KeyboardInterrupt):
    """SIGTERM (kill, a CI timeout, systemd) handled like Ctrl-C: say what was finished."""


@dataclass
class Outcome:
    total: int = 0  # inputs the command was given
    analysed: int = 0
    failed: int = 0  # could not be analysed (each reported on its own line)
    unsaved: int = 0  # analysed, but its attempt or HTML report could not be written
    stopped: bool = False  # the run stopped early (the model or a worker is gone)
    interrupted: KeyboardInterrupt | None = None

    def fail(self, count: int = 1) -> None:
        self.failed += count

    def interrupt(self, exc: KeyboardInterrupt) -> str:
        """Record an interruption; one accurate line about what it left."""
        self.interrupted = exc
        how = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        if self.analysed == 0:
            done = "nothing was analysed"
        elif self.analysed == 1 and self.total == 1:
            done = "the file was analysed and is reported above"
        else:
            done = f"{self.analysed} of {self.total} files analysed and reported above"
        left = (
            f"; {self.total - self.analysed} not analysed"
            if self.analysed and self.total > self.analysed
            else ""
        )
        return f"\n{how}: {done}{left}"

    def summary(self) -> str:
        """The closing line of a batch of several files."""
        failed = f", {self.failed} failed" if self.failed else ""
        return f"analysed {self.total - self.failed} of {self.total} files{failed}"

    @property
    def exit_code(self) -> int:
        if self.interrupted is not None:
            return EXIT_TERMINATED if isinstance(self.interrupted, Terminated) else EXIT_INTERRUPTED
        if self.failed or self.unsaved or self.stopped:
            return EXIT_FAILED
        return EXIT_OK
