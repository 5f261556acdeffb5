"""speechcoach: offline coaching for the spoken self-introduction of a job interview.

Import the core to use it from Python:

    from speechcoach import Analyzer
    result = Analyzer().analyze_file("intro.m4a").to_dict()
"""

__version__ = "0.1.0"

__all__ = ["Analyzer", "AnalyzeOptions", "Analysis", "Targets", "SpeechcoachError", "__version__"]


def __getattr__(name):
    # Lazy: `import speechcoach` must not load Whisper or librosa (the CLI starts fast).
    if name in ("Analyzer", "AnalyzeOptions", "Analysis"):
        from . import analyze

        return getattr(analyze, name)
    if name == "Targets":
        from .config import Targets

        return Targets
    if name == "SpeechcoachError":
        from .errors import SpeechcoachError

        return SpeechcoachError
    raise AttributeError(name)
