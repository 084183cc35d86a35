"""The one seam between Streamlit and the metric engine: a cached engine and cached query results."""

from __future__ import annotations

import polars as pl
import streamlit as st

from metrics.catalog import Metric
from metrics.query import Engine, Query
from metrics.settings import Settings


@st.cache_resource(show_spinner="Loading the data...")
def engine() -> Engine:
    """Return the engine over the configured data directory, built once per server."""
    settings = Settings.load()
    return Engine.open(settings.data_dir, settings.min_n)


@st.cache_data(show_spinner=False, max_entries=2000)
def run(query: Query) -> pl.DataFrame:
    """Return a query's result; the engine is shared, each call takes its own cursor."""
    return engine().run(query)


def metric(name: str) -> Metric:
    """Return a metric of the catalog."""
    return engine().metric(name)
