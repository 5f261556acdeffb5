"""Everything printed is safe to print: no terminal control from other people's text.

Labels, file names, imported attempts and transcripts are text the tool did not write. Printed
raw, a control sequence in them can clear the screen, retitle the window or write the clipboard
(OSC 52). `SafeStream` wraps stdout/stderr once, at the CLI's entry, so no command can forget:
- every C0/C1 control character except newline and tab is dropped, and so is ESC with its sequence;
- on a terminal only, the tool's own styling passes: colour/bold (CSI ... m), erase-line (CSI K),
  carriage return and the bell of the recording cues;
- a file name that is not valid UTF-8 (lone surrogates from the OS) prints with U+FFFD in place
  of the bad bytes, whatever the locale, instead of crashing the print.
"""

from __future__ import annotations

import io
import re
import sys

# ESC + CSI/OSC/other sequences, then any remaining C0 (but \t \n) / DEL / C1 character.
_CSI = r"\x1b\[[0-?]*[ -/]*[@-~]"
_OSC = r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
_ESC_OTHER = r"\x1b[@-Z\\-_]?"
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"
_UNSAFE = re.compile(f"{_CSI}|{_OSC}|{_ESC_OTHER}|{_CONTROL}")
# What the tool itself writes on a terminal: SGR styling, erase in line, \r, the bell.
_OWN = re.compile(r"\x1b\[[0-9;]*[mK]|[\r\a]")


def clean_text(text: str, *, tty: bool = False) -> str:
    """`text` with control characters and escape sequences removed (see the module doc)."""
    if tty:
        return _UNSAFE.sub(lambda m: m.group(0) if _OWN.fullmatch(m.group(0)) else "", text)
    return _UNSAFE.sub("", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def printable(text: str) -> str:
    """Lone surrogates (the bytes of a non-UTF-8 file name) as U+FFFD, so that any stream takes
    the text and a JSON line stays JSON (a backslash escape would not be)."""
    return _SURROGATE.sub("\ufffd", text)


def escaped(text: str) -> str:
    """Lone surrogates as \\xNN text: the name stays recognisable where it is stored as data."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class SafeStream(io.TextIOBase):
    """A text stream that cleans what is written to it, then writes to the real one."""

    def __init__(self, stream):
        self._stream = stream
        self._tty = _isatty(stream)

    @property
    def encoding(self) -> str:
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str:
        return "backslashreplace"

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError("SafeStream takes text")  # click probes with b"" for a binary stream
        cleaned = clean_text(printable(text), tty=self._tty)
        encoding = self.encoding
        try:
            cleaned.encode(encoding)
        except (UnicodeEncodeError, LookupError):  # e.g. an ASCII locale: escape, never crash
            cleaned = cleaned.encode(encoding, "backslashreplace").decode(encoding)
        self._stream.write(cleaned)
        return len(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._tty

    def fileno(self) -> int:
        return self._stream.fileno()

    def writable(self) -> bool:
        return True


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def install() -> None:
    """Wrap sys.stdout and sys.stderr (once) so everything printed from here on is cleaned."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, SafeStream):
            setattr(sys, name, SafeStream(stream))
