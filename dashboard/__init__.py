"""Streamlit pages over the metric engine."""
