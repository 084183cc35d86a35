"""Themes the data suggests: topics found in the redacted comments (TF-IDF and non-negative matrix
factorisation, scikit-learn), each with its top terms, its share of comments and its most typical
comments, so an analyst can write a theme file (sql/themes/) for one. Recomputed with the store."""

from __future__ import annotations

import re
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import polars as pl

from metrics.sqlfiles import read_sql
from metrics.suppression import DEFAULT_MIN_N

# The store's tables of topics: one row per topic, and one per candidate example comment.
TABLE = "voice_topics"
EXAMPLES_TABLE = "voice_topic_examples"
TOPICS = 8  # at most; fewer when the comments have fewer distinct words to tell apart
TERMS = 8  # top terms kept per topic
EXAMPLES = 20  # candidate example comments kept per topic (a page shows those it may)
SAMPLED = 200_000  # comments read at most, a fixed sample of them beyond that
# Spanish function words, as the sample and many agencies' surveys have comments in both languages.
# (The labels redaction writes, [name] or [phone], are taken out of the text before, by _plain.)
_SPANISH = frozenset(
    [
        "a",
        "al",
        "algo",
        "como",
        "con",
        "de",
        "del",
        "el",
        "ella",
        "en",
        "era",
        "es",
        "esta",
        "este",
        "fue",
        "ha",
        "la",
        "las",
        "le",
        "lo",
        "los",
        "me",
        "mi",
        "mucho",
        "muy",
        "nada",
        "nadie",
        "no",
        "nos",
        "o",
        "para",
        "pero",
        "por",
        "que",
        "se",
        "si",
        "sin",
        "su",
        "sus",
        "te",
        "tiempo",
        "todo",
        "un",
        "una",
        "y",
        "ya",
        "yo",
    ]
)
# Words scikit-learn's English list drops that are what people write to a service about.
_SERVICE_WORDS = frozenset(
    {"call", "bill", "system", "back", "detail", "find", "found", "amount", "full", "empty"}
)


def prepare() -> None:
    """Import scikit-learn on a thread of its own, ahead of the topics: it takes a second and a half,
    which a build spends in DuckDB meanwhile (a statement lets go of Python's lock as it runs)."""
    threading.Thread(target=_imported, name="cx-topics", daemon=True).start()


def _imported() -> None:
    import sklearn.decomposition
    import sklearn.feature_extraction.text  # noqa: F401


def stop_words() -> list[str]:
    """Return the words topics leave out: scikit-learn's English list, less _SERVICE_WORDS, and
    _SPANISH. scikit-learn is read only when topics are found (a build): it takes most of a second
    to import, which every server start and `cx` command would otherwise pay."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return sorted((ENGLISH_STOP_WORDS - _SERVICE_WORDS) | _SPANISH)


@dataclass(frozen=True)
class Topic:
    """One topic: its `terms` (most typical first), the share of comments it is the main topic of, and
    `examples`: indexes of the comments most typical of it (strongest first)."""

    number: int
    terms: tuple[str, ...]
    share: float
    examples: tuple[int, ...]


def discover(comments: Sequence[str], topics: int = TOPICS) -> list[Topic]:
    """Return the topics of `comments`, the same for the same comments in the same order (NMF starts
    from an SVD, not at random). Comments that share no word used by the privacy minimum of them (10
    by default) give none."""
    from sklearn.decomposition import NMF
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer

    if len(comments) < 2:
        return []
    vectorizer = TfidfVectorizer(
        stop_words=stop_words(),
        # A word fewer people wrote than the privacy minimum is not a topic, and may identify them.
        min_df=DEFAULT_MIN_N,
        max_df=0.5,
        sublinear_tf=True,
        token_pattern=r"(?u)\b[^\W\d_]{3,}\b",  # words of three letters or more, no numbers
        lowercase=True,
    )
    try:
        matrix = vectorizer.fit_transform([_plain(c) for c in comments])
    except ValueError:  # no word is left after the stop words and min_df
        return []
    vocabulary = vectorizer.get_feature_names_out()
    count = min(topics, matrix.shape[1], matrix.shape[0])
    if count < 1:
        return []
    model = NMF(n_components=count, init="nndsvd", max_iter=400, random_state=0)
    with warnings.catch_warnings():
        # Stopping at max_iter still gives the same topics for the same comments, close to converged.
        warnings.simplefilter("ignore", ConvergenceWarning)
        weights = model.fit_transform(matrix)
    main = weights.argmax(axis=1)
    strong = weights.max(axis=1) > 0
    found = []
    for k in range(count):
        order = np.argsort(-model.components_[k], kind="stable")[:TERMS]
        terms = tuple(str(vocabulary[i]) for i in order if model.components_[k][i] > 0)
        mine = np.flatnonzero((main == k) & strong)
        typical = mine[np.argsort(-weights[mine, k], kind="stable")]
        examples = _distinct(comments, typical)[:EXAMPLES]
        if terms and mine.size:
            found.append((terms, mine.size / len(comments), tuple(int(i) for i in examples)))
    found.sort(key=lambda t: -t[1])
    return [Topic(i + 1, terms, share, examples) for i, (terms, share, examples) in enumerate(found)]


def _plain(comment: str) -> str:
    """Return a comment without the labels redaction wrote, which are not words anyone used."""
    return re.sub(r"\[[a-zA-Z ]+\]", " ", comment)


def _distinct(comments: Sequence[str], indexes: np.ndarray) -> list[int]:
    """Return the indexes of the first comment of each distinct text, in order."""
    seen: set[str] = set()
    kept = []
    for i in indexes:
        text = comments[int(i)]
        if text not in seen:
            seen.add(text)
            kept.append(int(i))
    return kept


def comments_sql(comments: str) -> tuple[str, dict[str, object]]:
    """Return the query of the comments topics are found in (sql/voice/topic_comments.sql) over
    `comments` (every comment, classed: the store's table or its query), with its parameters: a fixed
    sample of SAMPLED at most."""
    query = read_sql(Path("voice") / "topic_comments.sql")
    return f"with comments as (\nselect * from {comments}\n)\nselect * from (\n{query}\n)", {
        "sampled": SAMPLED
    }


def tables(rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return the topics of the comments `rows` (topic_comments.sql) as the store keeps them. Of the
    comments with the same text, an example is the one of the largest class: the likeliest shown."""
    found = discover(rows["comment"].to_list())
    best = (
        rows.with_row_index("row")
        .sort("class_n", "row", descending=[True, False])
        .unique("comment", keep="first", maintain_order=True)
    )
    largest = dict(zip(best["comment"].to_list(), best["row"].to_list(), strict=True))
    texts = rows["comment"].to_list()
    moved = [replace(t, examples=tuple(largest[texts[i]] for i in t.examples)) for t in found]
    return as_frames(moved, rows)


def as_frames(topics: Sequence[Topic], rows: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Return the topics as two tables, as the store keeps them: one row per topic (topic, share,
    terms) and one per example comment (topic, rank and the columns of its row in `rows`)."""
    listed = pl.DataFrame(
        {
            "topic": [t.number for t in topics],
            "share": [t.share for t in topics],
            "terms": [list(t.terms) for t in topics],
        },
        schema={"topic": pl.Int32, "share": pl.Float64, "terms": pl.List(pl.String)},
    )
    examples = [
        {"topic": t.number, "rank": rank} | rows.row(i, named=True)
        for t in topics
        for rank, i in enumerate(t.examples, start=1)
    ]
    schema = {"topic": pl.Int32, "rank": pl.Int32} | dict(rows.schema)
    return listed, pl.DataFrame(examples, schema=schema, orient="row")
