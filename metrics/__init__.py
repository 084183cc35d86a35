"""Metric engine: load inputs, build the SQL models, read the metric catalog and answer queries."""
