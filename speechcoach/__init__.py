"""speechcoach: offline coaching for the spoken self-introduction of a job interview.

Import the core to use it from Python:

    from speechcoach import Analyzer
    result = Analyzer().analyze_file("intro.m4a")  # an AnalysisResult
    print(result.score, result.to_json()["tips"][0]["message"])
"""

__version__ = "0.1.0"

__all__ = [
    "Analyzer",
    "AnalyzeOptions",
    "AnalysisResult",
    "Targets",
    "SpeechcoachError",
    "from_json",
    "__version__",
]


def __getattr__(name):
    # Lazy: `import speechcoach` must not load Whisper or librosa (the CLI starts fast).
    if name in ("Analyzer", "AnalyzeOptions"):
        from . import analyze

        return getattr(analyze, name)
    if name in ("AnalysisResult", "from_json"):
        from . import result

        return getattr(result, name)
    if name == "Targets":
        from .config import Targets

        return Targets
    if name == "SpeechcoachError":
        from .errors import SpeechcoachError

        return SpeechcoachError
    raise AttributeError(name)
