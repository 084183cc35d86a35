"""What a server answers from while the store of its current inputs and metric files is built: the
most recent earlier store built by the same code. A metric file edited or added since is answered
from that store's rows by its current file (its old cubes are left out); an input changed since is
shown as it was when that store was built, and the page says so until the new store is in place."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from metrics.analyses.kpis import OVERVIEW_TILES
from metrics.catalog import Catalog, load_catalog
from metrics.composition import QUANTILES
from metrics.measures import GAP_METRICS
from metrics.query import Engine
from metrics.settings import DEFAULT_MEMORY_LIMIT
from metrics.store import Progress, fingerprint, latest_store
from metrics.suppression import DEFAULT_MIN_N
from metrics.warehouse import Warehouse


@dataclass(frozen=True)
class Interim:
    """An engine over an earlier store, and how that store differs from the one being built."""

    engine: Engine
    built: dt.datetime  # when the earlier store was written, in UTC
    inputs_changed: tuple[str, ...]  # inputs whose files changed since it was built
    metrics_changed: tuple[str, ...]  # metric files added or changed since (answered from rows)
    first: bool = False  # a first start's store of the overview's measures alone (`first_store`)


def interim(
    data_dir: Path,
    store_dir: Path,
    min_n: int = DEFAULT_MIN_N,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    catalog: Catalog | None = None,
) -> Interim | None:
    """Return an engine over the most recent earlier store in `store_dir` built by the same code,
    when the store of the current inputs and metric files is not built yet; None when it is, or when
    there is no such earlier store (a first start, or new code: the page then waits for the build)."""
    warehouse = Warehouse.unloaded(data_dir, memory_limit)
    catalog = catalog or load_catalog()
    now = fingerprint(warehouse, list(catalog.metrics.values()))
    target = now.path(store_dir)
    found = None if target.is_file() else latest_store(target, now)
    if found is None:
        warehouse.close()
        return None
    store, earlier = found
    written = store.path.stat().st_mtime
    warehouse.files_until = written  # its rows are those of the files as they were then
    engine = Engine.serving(warehouse, store, catalog, min_n)
    built = dt.datetime.fromtimestamp(written, dt.UTC)
    inputs_changed = tuple(sorted(n for n, d in now.inputs.items() if earlier.inputs.get(n) != d))
    # A first start's store (`first_store`: just built, or left by a server stopped before the rest
    # was built) holds the overview's measures alone: the others are not prepared yet, not changed.
    held = set(earlier.metrics)
    partial = held == set(first_catalog(catalog).metrics) and held != set(now.metrics)
    metrics_changed = tuple(
        sorted(
            n
            for n, d in now.metrics.items()
            if earlier.metrics.get(n) != d and (n in earlier.metrics or not partial)
        )
    )
    return Interim(
        engine,
        built,
        inputs_changed,
        metrics_changed,
        first=partial and not inputs_changed and not metrics_changed,
    )


def first_store(
    data_dir: Path,
    store_dir: Path,
    min_n: int = DEFAULT_MIN_N,
    memory_limit: str = DEFAULT_MEMORY_LIMIT,
    progress: Progress | None = None,
) -> Interim | None:
    """On a first start (no store of these inputs and metric files, and no earlier one to answer
    from), build the store of the overview's measures alone and return an engine over it for every
    measure: the others are counted from its rows until the whole store is built, which then copies
    this one's tables and cubes. A measure whose cubes keep every value (a median) is left to its
    rows: its cubes take longest. So are the comments, which the overview does not list: the first
    store knows none of the comment themes, which tag them. Its models are copied as they come: the
    whole store sorts them for filtered reads as it copies them. None when a store of these inputs is
    built already."""
    catalog = load_catalog()
    warehouse = Warehouse.unloaded(data_dir, memory_limit)
    built = fingerprint(warehouse, list(catalog.metrics.values())).path(store_dir).is_file()
    warehouse.close()
    if built:
        return None
    Engine.open(
        data_dir,
        min_n,
        store_dir,
        True,
        progress,
        memory_limit,
        catalog=first_catalog(catalog),
        comments=False,
        sorted_models=False,
    ).warehouse.close()
    return interim(data_dir, store_dir, min_n, memory_limit, catalog)


def first_catalog(catalog: Catalog) -> Catalog:
    """Return the measures of a first start's store: the overview's, but a median (its cubes, which
    keep every value, take longest to build)."""
    wanted = dict.fromkeys((*OVERVIEW_TILES, *GAP_METRICS))
    return Catalog(
        {n: m for n, m in catalog.metrics.items() if n in wanted and m.aggregate not in QUANTILES}, ()
    )
