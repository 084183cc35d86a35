"""The page analyses: one module per dashboard page, each turning engine results into what its page shows."""
