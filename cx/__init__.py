"""The `cx` command: the engine, the briefing deck and the sample data from a terminal."""
