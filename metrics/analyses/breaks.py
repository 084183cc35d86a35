"""Breaks: where the population behind a measure changes between quarters (the channels it was asked
in, the survey version that asked it), and the like-for-like basis a change is then computed on."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import polars as pl

from metrics.measures import OTHER_SCALE
from metrics.query import Engine, Filters, Query

# What a measure's population is made of: a channel moving to another survey version changes which
# items its respondents answer and how the trust question is worded.
STRATA = ("channel", "survey_version")
Stratum = tuple[str, ...]


@dataclass(frozen=True)
class Basis:
    """What a change between two quarters compares: the whole population when it is the same in both,
    else the part asked in both (`where` narrows to it), or nothing when no part was."""

    comparable: bool
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()
    note: str = ""


SAME = Basis(True)


@dataclass(frozen=True)
class Break:
    """A quarter whose population for a measure differs from the quarter before."""

    quarter: str
    added: str  # strata asked this quarter and not the one before, in words ("" when none)
    removed: str  # strata asked the quarter before and no longer ("" when none)

    def describe(self) -> str:
        """Say what changed in a sentence."""
        parts = [f"now also asked in {self.added}"] if self.added else []
        parts += [f"no longer asked in {self.removed}"] if self.removed else []
        return f"{self.quarter}: " + "; ".join(parts)


def strata_of(engine: Engine, name: str) -> tuple[str, ...]:
    """Return the dimensions of STRATA the measure's rows carry."""
    return tuple(d for d in STRATA if d in engine.dimensions(engine.metric(name)))


def population_query(
    engine: Engine,
    name: str,
    filters: Filters,
    by: Sequence[str] = (),
    start: str | None = None,
    end: str | None = None,
) -> Query:
    """Return the question `populations` asks: a page asks it with its other questions in one
    `Engine.run_many`, so the answers are at hand when `populations` reads them."""
    by = [*by, "fiscal_quarter", *strata_of(engine, name)]
    return engine.applicable(filters.query(name, by=by, start=start, end=end))[0]


def populations(
    engine: Engine,
    name: str,
    filters: Filters,
    by: Sequence[str] = (),
    start: str | None = None,
    end: str | None = None,
) -> dict[tuple[str, ...], frozenset[Stratum]]:
    """Return, per group of `by` and quarter (the key's last part), the strata with rows for the measure."""
    dims = strata_of(engine, name)
    query = population_query(engine, name, filters, by, start, end)
    found: dict[tuple[str, ...], set[Stratum]] = {}
    for row in engine.run(query).iter_rows(named=True):
        if row["suppressed"] or row["n"]:  # a hidden cell has rows; a cell with none has no data
            key = (*(row[d] for d in by), row["fiscal_quarter"])
            found.setdefault(key, set()).add(tuple(row[d] for d in dims))
    return {key: frozenset(strata) for key, strata in found.items()}


def surveyed(engine: Engine, filters: Filters, start: str | None, end: str | None) -> frozenset[str]:
    """Return the quarters from `start` to `end` in which anyone answered a survey under the filters
    (a hidden count still means someone did)."""
    return surveyed_in(engine.run(surveyed_query(engine, filters, start, end)))


def surveyed_query(engine: Engine, filters: Filters, start: str | None, end: str | None) -> Query:
    """The query `surveyed` reads, for a caller that asks it alongside others (`surveyed_in`)."""
    query, _ = engine.applicable(filters.query("responses", by=["fiscal_quarter"], start=start, end=end))
    return query


def surveyed_in(result: pl.DataFrame) -> frozenset[str]:
    """The quarters of a `surveyed_query` result in which anyone answered."""
    return frozenset(r["fiscal_quarter"] for r in result.iter_rows(named=True) if r["suppressed"] or r["n"])


def survey_item(engine: Engine, name: str) -> bool:
    """True for a measure of survey answers alone: only such an item can go unasked. One that also
    reads other inputs (the response rate, trust after a contact) can be missing those instead."""
    return engine.inputs(engine.metric(name)) == {"responses"}


def asked_item(engine: Engine, name: str) -> str | None:
    """Return the survey item whose asking decides whether the measure `name` was asked: the measure
    itself when it is one (`survey_item`); the item its file names (`asks`) when it counts some of
    that item's answers joined to other inputs (trust after a contact: trust); else None, for a
    measure that no survey asks (a wait, the response rate)."""
    if survey_item(engine, name):
        return name
    item = engine.metric(name).asks
    return item if item is not None and engine.computable(item) and survey_item(engine, item) else None


def item_query(
    engine: Engine, name: str, filters: Filters, start: str | None, end: str | None
) -> Query | None:
    """The question `unasked` reads of the measure's item (`asked_item`), by quarter, for a caller that
    asks it alongside others (`unasked_in`); None for a measure no survey asks."""
    item = asked_item(engine, name)
    if item is None:
        return None
    return engine.applicable(filters.query(item, by=["fiscal_quarter"], start=start, end=end))[0]


def unasked_in(surveys: frozenset[str], answers: pl.DataFrame | None) -> frozenset[str]:
    """The quarters of `surveys` (`surveyed`) in which the item whose answers by quarter are `answers`
    (an `item_query` result; None: no item) has none: surveys were answered there without asking it."""
    if answers is None:
        return frozenset()
    answered = {r["fiscal_quarter"] for r in answers.iter_rows(named=True) if r["suppressed"] or r["n"]}
    return surveys - answered


def unasked(
    engine: Engine, name: str, filters: Filters, start: str | None, end: str | None
) -> frozenset[str]:
    """Return the quarters from `start` to `end` in which surveys were answered under the filters
    without asking the measure's item (`asked_item`): for trust after a contact, those whose surveys
    asked no five-point trust. Empty for a measure no survey asks."""
    query = item_query(engine, name, filters, start, end)
    if query is None:
        return frozenset()
    return unasked_in(surveyed(engine, filters, start, end), engine.run(query))


def on_the_other_scale(
    engine: Engine, name: str, filters: Filters, start: str | None, end: str | None
) -> str | None:
    """Return the measure of the same question on its other scale (OTHER_SCALE) when the view has
    answers to it from `start` to `end` (shown or hidden), else None: `name` was then asked, on the
    other scale, and a page that says "not asked" would say the opposite. A measure of some of an
    item's answers (trust after a contact) is asked on the item's scale (`asked_item`)."""
    other = OTHER_SCALE.get(asked_item(engine, name) or name)
    if other is None or not engine.computable(other):
        return None
    found = engine.run(engine.applicable(filters.query(other, start=start, end=end))[0])
    answered = any(r["suppressed"] or r["value"] is not None for r in found.iter_rows(named=True))
    return other if answered else None


def counts_every_answer(engine: Engine, name: str) -> str:
    """Return why the other scale's measure is not the same figure as `name`, for a page pointing to
    it ("... Trust (thumbs), which counts every answer ..."): that measure counts every answer to the
    question, where `name` (trust after a contact) counts some. Empty when `name` is itself the
    question's measure."""
    item = asked_item(engine, name) or name
    if item == name:
        return ""
    return f"counts every answer to the question, not only those {engine.metric(name).label} counts"


def other_scale_named(engine: Engine, name: str, other: str) -> str:
    """Return the other scale's measure `other` (`on_the_other_scale`) as a page names it when pointing
    to it from `name`: its label, and why it is not the same figure where `name` counts some of its
    answers ("Trust (thumbs), which counts every answer ...")."""
    caveat = counts_every_answer(engine, name)
    label = engine.metric(other).label
    return f"{label}, which {caveat}" if caveat else label


def as_asked(
    engine: Engine, names: Sequence[str], filters: Filters, where: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """Return `names` with each measure the view's surveys asked only on its other scale (OTHER_SCALE)
    in that one's place: trust where every survey under the filters (and `where`) asked it as thumbs
    up or down is Trust (thumbs). A page comparing the four themes then compares the trust answers
    there are, labelled as such and never pooled, rather than show trust as not asked."""

    def answered(name: str) -> bool:
        found = engine.run(answered_question(engine, name, filters, where))
        return any(r["suppressed"] or r["value"] is not None for r in found.iter_rows(named=True))

    return tuple(
        other
        if (other := OTHER_SCALE.get(name)) is not None
        and engine.computable(other)
        and engine.computable(name)
        and not answered(name)
        and answered(other)
        else name
        for name in names
    )


def answered_question(
    engine: Engine, name: str, filters: Filters, where: Mapping[str, str] | None = None
) -> Query:
    """Return the question `as_asked` reads whether the view's surveys asked `name` at all off."""
    return engine.applicable(filters.query(name, where=where))[0]


def basis(engine: Engine, name: str, before: frozenset[Stratum], after: frozenset[Stratum]) -> Basis:
    """Return the like-for-like basis of a change from `before` to `after`."""
    if before == after:
        return SAME
    dims = strata_of(engine, name)
    common = before & after
    changed = (before | after) - common
    narrowing = _rectangle(common, changed, len(dims))
    if narrowing is None:
        return Basis(False, note=f"not comparable: {_changes(channel_labels(engine), before, after)}")
    kept = set(itertools.product(*narrowing)) & common
    others = len({s[0] for s in before | after} - {s[0] for s in kept})
    return Basis(
        True,
        tuple(zip(dims, narrowing, strict=True)),
        f"like for like on {_briefly(channel_labels(engine), kept)}, asked the same way in both quarters"
        + (f"; {others} other channel{'s' if others != 1 else ''} left out" if others else ""),
    )


def _rectangle(
    common: frozenset[Stratum], changed: frozenset[Stratum], width: int
) -> tuple[tuple[str, ...], ...] | None:
    """Return each stratum dimension's values to narrow to: the largest set of common strata that
    filters can pick out (they take each dimension's values independently) without picking up a
    stratum asked in one quarter alone; None when there is none."""
    if not common:
        return None
    candidates = [common] + [
        frozenset(s for s in common if s[-1] == last) for last in {s[-1] for s in common}
    ]
    best: tuple[tuple[str, ...], ...] | None = None
    best_size = 0
    for part in candidates:
        values = tuple(tuple(sorted({s[i] for s in part})) for i in range(width))
        if set(itertools.product(*values)) & changed:
            continue
        if len(part) > best_size:
            best, best_size = values, len(part)
    return best


def breaks(engine: Engine, name: str, filters: Filters) -> list[Break]:
    """Return the quarters in which the measure's population changed from the quarter before."""
    found = populations(engine, name, filters, start=filters.start, end=filters.end)
    quarters, labels = sorted(found), channel_labels(engine)
    return [
        Break(
            after[0],
            _listed(labels, found[after] - found[before]),
            _listed(labels, found[before] - found[after]),
        )
        for before, after in itertools.pairwise(quarters)
        if found[before] != found[after]
    ]


def _changes(labels: dict[str, str], before: frozenset[Stratum], after: frozenset[Stratum]) -> str:
    parts = []
    if gone := before - after:
        parts.append(f"{_listed(labels, gone)} no longer asked")
    if new := after - before:
        parts.append(f"{_listed(labels, new)} newly asked")
    return "; ".join(parts)


def _listed(labels: dict[str, str], strata: set[Stratum] | frozenset[Stratum]) -> str:
    """Return strata as people read them, grouped by survey version: 'Phone, Website (survey v1)'."""
    versions: dict[str, list[str]] = {}
    for channel, *version in sorted(strata):
        versions.setdefault(version[0] if version else "", []).append(labels.get(channel, channel))
    return "; ".join(
        ", ".join(channels) + (f" (survey {version})" if version else "")
        for version, channels in versions.items()
    )


def _briefly(labels: dict[str, str], strata: set[Stratum]) -> str:
    """Return a few strata by name, many by how many: a tile's caption stays short."""
    if len(strata) <= 3:
        return _listed(labels, strata)
    versions = sorted({s[1] for s in strata if len(s) > 1})
    return f"the {len(strata)} channels" + (f" on survey {' and '.join(versions)}" if versions else "")


def channel_labels(engine: Engine) -> dict[str, str]:
    """Return the people-facing name of each channel key (sql/seeds/channels.csv)."""
    return {
        str(k): str(v) for k, v in engine.warehouse.seed("channels").select("channel", "label").iter_rows()
    }
