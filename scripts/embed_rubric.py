"""Embed the rubric's example sentences once and ship the vectors with the package.

    python scripts/embed_rubric.py            # every language in speechcoach/languages/
    python scripts/embed_rubric.py --check    # exit 1 if a shipped file is missing or stale

Without the shipped vectors, a new user's first analysis would spend seconds embedding a few
hundred examples. Re-run after editing a `components.json` (tests/test_content.py checks).
"""

from __future__ import annotations

import argparse
import sys

from speechcoach.content import (
    ContentAnalyzer,
    _read_vectors,
    shipped_embeddings_path,
    supported_languages,
    write_vectors,
)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = []
    for language in supported_languages():
        analyzer = ContentAnalyzer(language)
        texts = [t for t, _ in analyzer.rubric.examples()]
        path, key = shipped_embeddings_path(language), analyzer.embedding_key()
        if _read_vectors(path, key, (len(texts), analyzer._model.dim)) is not None:
            print(f"{language}: up to date ({len(texts)} examples)")
            continue
        if args.check:
            stale.append(language)
            continue
        write_vectors(path, key, analyzer.matcher.vectors)  # computed (or cached) by the analyser
        print(f"{language}: wrote {path} ({len(texts)} examples)")
    if stale:
        print(
            f"stale or missing: {', '.join(stale)}; run: python scripts/embed_rubric.py",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
