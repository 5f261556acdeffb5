"""Domain exceptions. The core raises these; the CLI turns each into one line on stderr."""


class SpeechcoachError(Exception):
    """Base class: a problem the user can act on. The message says what happened and what to do."""


class AudioError(SpeechcoachError):
    """A file could not be used as a recording (missing, empty, corrupt, silent, too short...)."""


class ModelError(SpeechcoachError):
    """A Whisper model could not be found, downloaded, converted or loaded."""


class StoreError(SpeechcoachError):
    """The history database could not be read or written."""


class RecordingError(SpeechcoachError):
    """The microphone could not be used (no PortAudio, no device, device lost...)."""
