"""Work run on a thread beside the transcription, with its result (or error) collected after.

CTranslate2's decoding leaves part of the cores idle (beam search over a small model: about
1.3 of 2 cores busy on the 3-minute intro), so audio-only measures done meanwhile cost no wall
time. The thread runs at normal priority: at a low one it starves on a busy machine and the
analysis then waits for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Beside(Generic[T]):
    """`work(*args)`, on a thread from `start()`, or in the caller on `result()` when never
    started (a recording transcribed in windows, or an engine that gives no start signal)."""

    def __init__(self, work: Callable[..., T], *args):
        self._work, self._args = work, args
        self._thread: threading.Thread | None = None
        self._value: T | None = None
        self._error: BaseException | None = None
        self._done = False

    def start(self) -> None:
        if self._thread is None and not self._done:
            self._thread = threading.Thread(
                target=self._run, name="speechcoach-beside", daemon=True
            )
            self._thread.start()

    def result(self) -> T:
        if self._thread is not None:
            self._thread.join()
        elif not self._done:
            self._run()
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]

    def _run(self) -> None:
        try:
            self._value = self._work(*self._args)
        except BaseException as exc:  # noqa: BLE001 - raised again to whoever asks for the result
            self._error = exc
        finally:
            self._done = True
