"""`cx serve`: the dashboard on several Streamlit servers behind HAProxy, for more people at once than
one server answers (`make serve REPLICAS=N`). The store is built once, by `cx build`, before any
replica starts; the replicas only read it (CX_BUILD=never). deploy/haproxy.cfg is the proxy's
configuration."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from metrics.errors import CxError
from metrics.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "haproxy.cfg"
# Debian's package (`make proxy`) puts it here, which is not on a normal user's PATH.
HAPROXY = Path("/usr/sbin/haproxy")
HEALTH = "/_stcore/health"
# The store is built before the replicas start, so a replica answers within seconds; a loaded
# machine gets two minutes.
START_SECONDS = 120.0
STOP_SECONDS = 15.0
_PRINTING = threading.Lock()


@dataclass
class Child:
    """A process `cx serve` started: its name in the output and its last lines, for an error."""

    name: str
    process: subprocess.Popen[bytes]
    port: int = 0
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=40))
    gone: bool = False

    def said(self) -> str:
        return "\n".join(self.tail) or "(nothing)"


class _Stop:
    """The signal handler: remember SIGINT or SIGTERM and wake the waiting loop."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.signal: int | None = None

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.signal = signum
        self.event.set()


def cores() -> int:
    """Return the cores this process may run on (what `nproc` prints)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def haproxy_binary() -> str:
    """Return the haproxy command, or raise a CxError saying how to install it."""
    found = shutil.which("haproxy") or (str(HAPROXY) if os.access(HAPROXY, os.X_OK) else None)
    if found is None:
        raise CxError(
            f"haproxy is not installed (not on PATH, nor {HAPROXY}); `cx serve` puts it in front of the "
            "replicas. Install Debian's package with `make proxy` or `apt-get install haproxy` (as root)"
        )
    return found


def haproxy_config(
    port: int, stats_port: int, replica_ports: Sequence[int], template: Path = TEMPLATE
) -> str:
    """Return HAProxy's configuration: the template with the proxy's ports and one server per replica,
    each named replicaN, which is also its SERVERID cookie value."""
    servers = "\n".join(
        f"    server replica{number} 127.0.0.1:{replica_port} cookie replica{number} check"
        for number, replica_port in enumerate(replica_ports, start=1)
    )
    try:
        return string.Template(template.read_text(encoding="utf-8")).substitute(
            port=port, stats_port=stats_port, servers=servers
        )
    except (KeyError, ValueError) as error:
        raise CxError(
            f"{template}: the placeholder {error} is not one of $port, $stats_port, $servers"
        ) from None


def replica_ports(count: int, first: int) -> list[int]:
    """Return the replicas' loopback ports: `first` and those after it, or any free ones when 0."""
    if first == 0:
        # All sockets are held open until every port is chosen, so no two replicas get the same one.
        with contextlib.ExitStack() as stack:
            sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
            for held in sockets:
                held.bind(("127.0.0.1", 0))
            return [int(held.getsockname()[1]) for held in sockets]
    if not 1 <= first <= 65536 - count:
        raise CxError(f"--replica-port: value {first} leaves no room for {count} ports below 65536")
    return list(range(first, first + count))


def streamlit_command(port: int) -> list[str]:
    """Return the command serving the dashboard on loopback `port` (dashboard/server.py: Streamlit,
    with the data opened as it starts). No file watcher: a server serves the code it started with (a
    new release restarts it), never reruns people's pages because a source file changed under it."""
    return [
        sys.executable, "-m", "dashboard.server",
        "--server.port", str(port), "--server.address", "127.0.0.1",
        "--server.headless", "true", "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip


def serve(settings: Settings, replicas: int | None, port: int, stats_port: int, first_port: int) -> int:
    """Build the store, start the replicas and HAProxy in front of them, wait until they answer, then run
    until SIGINT or SIGTERM (passed on to them) or until HAProxy or every replica stops; stop them all.
    Return the exit status: 0 when stopped by a signal, 1 when the servers stopped by themselves."""
    count = cores() if replicas is None else replicas
    if count < 1:
        raise CxError(f"--replicas: value {count} must be 1 or more")
    for flag, value in (("--port", port), ("--stats-port", stats_port)):
        if not 1 <= value <= 65535:
            raise CxError(f"{flag}: value {value} is not a port (1-65535)")
    haproxy = haproxy_binary()  # before the build: a missing proxy should not cost a build first
    if not settings.data_dir.is_dir():
        # `cx build` would build an empty store in a new folder and every page would show no data.
        raise CxError(
            f"--data-dir: {settings.data_dir} is not a folder (`make sample` writes the sample data)"
        )
    ports = replica_ports(count, first_port)
    plan = _Plan(settings.data_dir.resolve(), settings.min_n, tuple(ports), port, stats_port, haproxy)
    stop = _Stop()
    children: list[Child] = []
    with _on_signals(stop), tempfile.TemporaryDirectory(prefix="cx-serve-") as scratch:
        try:
            return _run(plan, Path(scratch), stop, children)
        finally:
            _stop_all(children, stop.signal or signal.SIGTERM)


@dataclass(frozen=True)
class _Plan:
    """What to serve and where: the data, the replicas' ports, the proxy's ports and command."""

    data_dir: Path
    min_n: int
    replica_ports: tuple[int, ...]
    port: int
    stats_port: int
    haproxy: str


def _run(plan: _Plan, scratch: Path, stop: _Stop, children: list[Child]) -> int:
    """Start each process in turn, as `serve` says, adding it to `children` as soon as it runs."""
    data_dir, port, stats_port = plan.data_dir, plan.port, plan.stats_port
    # One build, in a process of its own that ends with it: the replicas then share its store and
    # none holds the build's memory. Two `cx serve` on the same data at once still build one store:
    # the build takes the store folder's lock (metrics/store.py build_lock).
    build = _start("build", [sys.executable, "-m", "cx.cli", "build", "--data-dir", str(data_dir)], {})
    children.append(build)
    while build.process.poll() is None:
        if stop.event.wait(0.2):
            return 0
    if build.process.returncode != 0:
        raise CxError(
            f"`cx build --data-dir {data_dir}` failed (exit status {build.process.returncode}); "
            f"no replica was started. It said:\n{build.said()}"
        )
    # Serve only: a replica that found no store for its inputs would wait for one, never build it.
    env = {"CX_DATA_DIR": str(data_dir), "CX_BUILD": "never", "CX_MIN_N": str(plan.min_n)}
    replicas = []
    for number, replica_port in enumerate(plan.replica_ports, start=1):
        replicas.append(_start(f"replica {number}", streamlit_command(replica_port), env, replica_port))
    children += replicas
    deadline = time.monotonic() + START_SECONDS
    for replica in replicas:
        if not _wait_healthy(replica, f"http://127.0.0.1:{replica.port}", deadline, stop):
            return 0
    config = scratch / "haproxy.cfg"
    config.write_text(haproxy_config(port, stats_port, plan.replica_ports), encoding="utf-8")
    # Started once every replica answers, so no health check has marked one down meanwhile.
    proxy = _start("haproxy", [plan.haproxy, "-f", str(config), "-db"], {}, port)
    children.append(proxy)
    if not _wait_healthy(proxy, f"http://127.0.0.1:{port}", time.monotonic() + START_SECONDS, stop):
        return 0
    for number, replica in enumerate(replicas, start=1):
        _say(f"cx serve: replica {number} at http://127.0.0.1:{replica.port} (pid {replica.process.pid})")
    _say(f"cx serve: HAProxy (pid {proxy.process.pid}), statistics at http://127.0.0.1:{stats_port}/")
    _say(
        f"cx serve: serving {data_dir} at http://localhost:{port} through HAProxy, "
        f"{len(replicas)} replica{'s' if len(replicas) != 1 else ''}; Ctrl-C stops them all"
    )
    return _watch(proxy, replicas, stop)


def _watch(proxy: Child, replicas: list[Child], stop: _Stop) -> int:
    """Run until a signal (0), or until HAProxy or the last replica stops (1). A replica that stops
    is reported, not restarted: HAProxy's checks take it out and its sessions start again elsewhere."""
    while not stop.event.wait(0.5):
        if proxy.process.poll() is not None:
            _say(f"cx serve: HAProxy stopped (exit status {proxy.process.returncode}); stopping the replicas")
            return 1
        for number, replica in enumerate(replicas, start=1):
            if not replica.gone and replica.process.poll() is not None:
                replica.gone = True
                _say(
                    f"cx serve: replica {number} (pid {replica.process.pid}) stopped with exit status "
                    f"{replica.process.returncode}; HAProxy sends its people to the others"
                )
        if all(replica.gone for replica in replicas):
            _say("cx serve: every replica has stopped; stopping HAProxy")
            return 1
    return 0


def _start(name: str, command: list[str], env: dict[str, str], port: int = 0) -> Child:
    """Start a process in the project folder (Streamlit reads .streamlit/ from there) and pass its
    output on, each line marked with its name."""
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    child = Child(name, process, port)
    threading.Thread(target=_forward, args=(child,), name=f"cx-serve-{name}", daemon=True).start()
    return child


def _forward(child: Child) -> None:
    assert child.process.stdout is not None
    for raw in child.process.stdout:
        line = raw.decode(errors="replace").rstrip()
        if line.strip():
            child.tail.append(line)
            _say(f"{child.name:>10} | {line}")


def _say(line: str) -> None:
    with _PRINTING:
        print(line, flush=True)


def _wait_healthy(child: Child, url: str, deadline: float, stop: _Stop) -> bool:
    """Wait until `url` answers its health check; False when a signal came first. A process that
    stops or does not answer by `deadline` is a CxError with its last output."""
    while not healthy(url):
        if child.process.poll() is not None:
            raise CxError(
                f"{child.name} stopped before it answered on {url} (exit status "
                f"{child.process.returncode}). It said:\n{child.said()}"
            )
        if time.monotonic() > deadline:
            raise CxError(f"{child.name} did not answer on {url}{HEALTH} in time. It said:\n{child.said()}")
        if stop.event.wait(0.3):
            return False
    return True


def healthy(url: str) -> bool:
    """Return whether the Streamlit server at `url` answers its health check."""
    try:
        with urllib.request.urlopen(f"{url}{HEALTH}", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def _on_signals(stop: _Stop) -> Iterator[None]:
    """Have SIGINT and SIGTERM stop the servers in order rather than kill this process alone."""
    previous = {number: signal.signal(number, stop) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _stop_all(children: list[Child], signum: int) -> None:
    """Pass the signal on, HAProxy first so nobody is sent to a replica going away; wait, then kill
    what has not stopped."""
    running = [child for child in reversed(children) if child.process.poll() is None]
    for child in running:
        child.process.send_signal(signum)
    deadline = time.monotonic() + STOP_SECONDS
    for child in running:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _say(
                f"cx serve: {child.name} (pid {child.process.pid}) did not stop in {STOP_SECONDS:.0f} s; killed"
            )
            child.process.kill()
            child.process.wait()
