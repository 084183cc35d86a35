"""A Streamlit session spoken over its websocket protocol, as the browser speaks it: ask for a run
with the address's query string, the page and the widgets' values, and read the messages the run
sends back until it finishes. No browser: the load test and `cx bench`'s first page measure the
server, not Chromium."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect


@dataclass
class Widget:
    """A widget the last run drew: its id, and its options as the browser shows them."""

    id: str
    options: list[str]


@dataclass
class StreamlitSession:
    """One person's session: the address's query string, the page, and the widgets the app drew."""

    url: str
    connection: ClientConnection | None = None
    query_string: str = ""
    page_hash: str = ""
    pages: dict[str, str] = field(default_factory=dict)  # url path -> page script hash
    widgets: dict[str, Widget] = field(default_factory=dict)  # label -> widget
    state: dict[str, WidgetState] = field(default_factory=dict)  # id -> value set by this person
    exceptions: list[str] = field(default_factory=list)

    async def open(self, query_string: str = "") -> float:
        """Connect and run the app's first page; return the seconds the run took."""
        address = self.url.replace("http://", "ws://") + "/_stcore/stream"
        self.connection = await connect(address, subprotocols=["streamlit"], max_size=None)  # type: ignore[list-item]
        self.query_string = query_string
        return await self.rerun()

    async def close(self) -> None:
        if self.connection is not None:
            await self.connection.close()

    async def choose(self, label: str, value: str | list[str]) -> float:
        """Set a selectbox (one value) or multiselect (a list) by its label, as a click would; rerun."""
        widget = self.widgets[label]
        state = WidgetState(id=widget.id)
        if isinstance(value, list):
            state.string_array_value.data.extend(value)
        else:
            state.string_value = value
        self.state[widget.id] = state
        return await self.rerun()

    async def go_to(self, path: str) -> float:
        """Open another page from the navigation (the query string goes along, as in the app)."""
        self.page_hash = self.pages[path]
        self.widgets = {}
        return await self.rerun()

    async def rerun(self) -> float:
        """Ask for a run and read its messages until it finishes; return its seconds."""
        assert self.connection is not None
        message = BackMsg()
        message.rerun_script.query_string = self.query_string
        message.rerun_script.page_script_hash = self.page_hash
        message.rerun_script.widget_states.widgets.extend(self.state.values())
        started = time.monotonic()
        await self.connection.send(message.SerializeToString())
        drawn: dict[str, Widget] = {}
        while True:
            received = ForwardMsg()
            received.ParseFromString(await self.connection.recv())
            kind = received.WhichOneof("type")
            if kind == "delta" and received.delta.WhichOneof("type") == "new_element":
                self._read_element(received, drawn)
            elif kind == "page_info_changed":
                self.query_string = received.page_info_changed.query_string
            elif kind == "navigation":
                self.pages = {"/" + p.url_pathname: p.page_script_hash for p in received.navigation.app_pages}
                self.page_hash = received.navigation.page_script_hash
            elif kind == "script_finished":
                if received.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                    self.exceptions.append(f"run ended with status {received.script_finished}")
                break
        self.widgets = drawn
        return time.monotonic() - started

    def _read_element(self, received: ForwardMsg, drawn: dict[str, Widget]) -> None:
        element = received.delta.new_element
        which = element.WhichOneof("type")
        if which == "exception":
            self.exceptions.append(f"{element.exception.type}: {element.exception.message}")
        elif which in ("selectbox", "multiselect"):
            widget = getattr(element, which)
            # The sidebar is drawn first: its "Service" multiselect keeps the label when a page has
            # a "Service" selectbox of its own (Journeys), so a list is never sent to a selectbox.
            drawn.setdefault(widget.label, Widget(widget.id, list(widget.options)))
