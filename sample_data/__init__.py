"""Sample inputs for a fictional agency and the deterministic generator that writes them."""
