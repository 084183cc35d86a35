"""The dashboard's server: Streamlit serving dashboard/app.py, with its data opened as the server
starts rather than on the first visit. On new data that opening is the store's build, so it is under
way while the server starts and while the first visitor's browser loads the page (at 200,000
responses the build used to start two seconds after the server answered, and only once a visitor
came). `make run`, `cx serve`'s replicas and the tests start it alike:

    python -m dashboard.server --server.port 8501 --server.headless true

Every option is Streamlit's `streamlit run` option."""

from __future__ import annotations

import errno
import logging
import os
import socket
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from streamlit.web import cli

APP = Path(__file__).with_name("app.py")
CACHING = "streamlit.runtime.caching"


def main(options: list[str] | None = None) -> None:
    """Begin opening the data, then serve the app with Streamlit's `options` (the command line's)."""
    given = sys.argv[1:] if options is None else options
    taken = port_taken(given)
    if taken is not None:
        # Said before the data is opened: Streamlit finds the port taken only after its own start,
        # by when a build on new data has begun for nothing.
        print(
            f"Port {taken} is in use, perhaps by a dashboard already running: open http://localhost:{taken}, "
            f"stop that server, or serve this one on another port (make run PORT={taken + 1}).",
            file=sys.stderr,
        )
        raise SystemExit(1)
    # Each cached function of the pages warns, as it is defined before Streamlit's runtime exists,
    # that it would fall back to a cache of its own; it does not: a cache is made at the first call,
    # inside the runtime.
    quiet = [
        logging.getLogger(name) for name in list(logging.root.manager.loggerDict) if name.startswith(CACHING)
    ]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.ERROR)
    try:
        from dashboard import data
    finally:
        for logger, level in zip(quiet, levels, strict=True):
            logger.setLevel(level)
    data.open_early()
    try:
        cli.main(["run", str(APP), *given], prog_name="streamlit")
    except SystemExit as stopped:
        if any(t.name == data.OPENING_THREAD and t.is_alive() for t in threading.enumerate()):
            # Stopped while the store is built: the build is on a thread inside DuckDB, and ending the
            # interpreter around it aborts the process ("terminate called after throwing ..."). None
            # of it is kept: a store is renamed into place only when whole, and the next build
            # removes a dead one's scratch.
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(0 if stopped.code is None else stopped.code if isinstance(stopped.code, int) else 1)
        raise


def _option(options: Sequence[str], name: str) -> str | None:
    """Return the value of Streamlit option `name` as given (`--name value` or `--name=value`)."""
    for i, option in enumerate(options):
        if option == name and i + 1 < len(options):
            return options[i + 1]
        if option.startswith(name + "="):
            return option.split("=", 1)[1]
    return None


def port_taken(options: Sequence[str]) -> int | None:
    """Return the port given with `--server.port` when something already listens on it there. With no
    port given Streamlit looks for a free one itself; a value that is not a port is Streamlit's to name."""
    given = _option(options, "--server.port")
    if given is None or not given.isdigit() or not 0 < int(given) < 65536:
        return None
    port = int(given)
    probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As Streamlit's server binds: a port its last server has just left (TIME_WAIT) is free to take.
    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        probe.bind((_option(options, "--server.address") or "", port))
    except OSError as error:
        return port if error.errno == errno.EADDRINUSE else None
    finally:
        probe.close()
    return None


if __name__ == "__main__":
    main()
