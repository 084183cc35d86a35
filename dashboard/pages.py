"""The pages of the app: each one's address, title and icon, in menu order. The app builds its
navigation from this list and `cx brief` finds the page a link points at in it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageSpec:
    """One page: `url_path` is its address and its script's name under app_pages/."""

    url_path: str
    title: str
    icon: str
    default: bool = False

    @property
    def script(self) -> str:
        """The page's script, relative to the app."""
        return f"app_pages/{self.url_path}.py"


PAGES = (
    # The overview is the default page, served at the root of the site.
    PageSpec("overview", "Overview", ":material/dashboard:", default=True),
    PageSpec("trends", "Trends", ":material/show_chart:"),
    PageSpec("equity", "Equity and segments", ":material/diversity_3:"),
    PageSpec("journeys", "Journeys", ":material/route:"),
    PageSpec("drivers", "What drives trust", ":material/hub:"),
    PageSpec("voice", "What customers say", ":material/forum:"),
    PageSpec("value", "Value", ":material/savings:"),
    PageSpec("outcomes", "Outcomes", ":material/flag:"),
    PageSpec("reporting", "A-11 reporting", ":material/assignment_turned_in:"),
    PageSpec("catalog", "Metrics and data", ":material/menu_book:"),
)


def page_at(path: str) -> PageSpec | None:
    """Return the page served at a link's path ("/", "/trends", "trends/"), or None."""
    name = path.strip("/").rsplit("/", 1)[-1]
    if not name:
        return next(p for p in PAGES if p.default)
    return next((p for p in PAGES if p.url_path == name), None)
