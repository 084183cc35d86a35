"""Generate the fictional agency's four inputs, deterministically (sample_data -> staging)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow.parquet as pq

from metrics import contract

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

# Calendar of the period, one entry per day: FY2023 Q1 (2022-10-01) .. FY2026 Q4 (2026-09-30).
DAYS = np.arange(np.datetime64("2022-10-01"), np.datetime64("2026-10-01"))
START_US = int(DAYS[0].astype("datetime64[us]").astype(np.int64))
END_US = int(np.datetime64("2026-10-01T00:00:00", "us").astype(np.int64))  # exclusive
DAY_US = 86_400_000_000
MONTH: Ints = DAYS.astype("datetime64[M]").astype(np.int64) % 12 + 1
FISCAL_YEAR: Ints = DAYS.astype("datetime64[Y]").astype(np.int64) + 1970 + (MONTH >= 10)
QUARTER: Ints = (FISCAL_YEAR - 2023) * 4 + (MONTH + 2) % 12 // 3  # 0 = FY2023 Q1 .. 15 = FY2026 Q4
WEEKEND: Bools = (DAYS.astype(np.int64) + 3) % 7 >= 5
SURGE_QUARTER = 11  # FY2025 Q4, Jul-Sep 2025: the hurricane season that swamps Disaster Assistance
REDESIGN_QUARTER = 10  # FY2025 Q3: the online passport renewal redesign goes live

SERVICES = (
    "Passport Services",
    "Naturalization",
    "Vessel Registration",
    "Disaster Assistance",
    "Business Licensing",
    "Employee HR Services",
)
PASSPORT, NATURALIZATION, VESSEL, DISASTER, LICENSING, HR = range(6)
SEGMENTS = (
    "Travelers",
    "Applicants for citizenship",
    "Boaters",
    "Disaster survivors",
    "Businesses",
    "Employees",
)
SEGMENT_P = np.array(
    [
        [1, 0, 0, 0, 0, 0],
        [0, 1, 0, 0, 0, 0],
        [0, 0, 0.82, 0, 0.18, 0],
        [0, 0, 0, 0.92, 0.08, 0],
        [0, 0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0, 1],
    ],
    dtype=float,
)
# Quarter index at which each service's assisted and offline surveys move to the v2 format.
V2_FROM = np.array([5, 6, 6, 5, 6, 5])  # FY2024 Q2 or Q3
SERVICE_EFFECT = np.array([0.05, -0.1, 0.15, -0.15, 0.0, 0.1])
# What each service's collection details name (A-11 via Touchpoints), for a fictional agency.
ORGANIZATION = "Department of Public Services"
PROVIDERS = (
    "Bureau of Travel Documents",
    "Office of Citizenship",
    "Maritime Registry Office",
    "Emergency Assistance Administration",
    "Office of Business Services",
    "Office of Human Resources",
)
OMB_NUMBERS = ("9000-0101", "9000-0102", "9000-0103", "9000-0104", "9000-0105", "9000-0106")
TRUST_TEXT_V1 = "This interaction increased my trust in the agency."
TRUST_TEXT_V2 = "I trust the agency to fulfill its duties."

CHANNELS = (
    "website",
    "mobile_app",
    "self_service_kiosk",
    "automated_phone",
    "phone",
    "live_chat",
    "in_person",
    "email",
    "paper",
    "postal_mail",
    "fax",
)
WEBSITE, APP, KIOSK, IVR, PHONE, CHAT, IN_PERSON, EMAIL, PAPER, POSTAL, FAX = range(11)
SELF_SERVICE: Bools = np.arange(11) <= IVR  # as in sql/seeds/channels.csv
CHANNEL_EFFECT = np.array([0.0, 0.05, 0.0, -0.2, -0.05, 0.05, 0.1, -0.1, -0.1, 0.0, 0.0])
# Survey channels of responses not linked to a contact (columns as CHANNELS), and their drift per quarter.
SURVEY_W = np.array(
    [
        [30, 12, 5, 4, 4, 2, 6, 8, 8, 0, 0],
        [30, 10, 0, 4, 3, 2, 8, 10, 10, 0, 0],
        [30, 5, 4, 3, 4, 0, 5, 10, 15, 0, 0],
        [25, 15, 0, 8, 5, 3, 6, 6, 4, 0, 0],
        [40, 8, 0, 3, 3, 3, 2, 12, 8, 0, 0],
        [45, 0, 0, 0, 3, 3, 2, 15, 0, 0, 0],
    ],
    dtype=float,
)
SURVEY_DRIFT = np.array([0.01, 0.07, 0.02, 0.0, -0.02, 0.03, -0.02, -0.03, -0.07, 0.0, 0.0])
CONTACT_W = np.zeros((6, 11))
CONTACT_W[:, [PHONE, CHAT, IN_PERSON]] = [
    [60, 15, 25],
    [55, 15, 30],
    [75, 10, 15],
    [65, 15, 20],
    [70, 25, 5],
    [60, 30, 10],
]
CONTACT_DRIFT = np.where(np.arange(11) == CHAT, 0.05, np.where(np.arange(11) == IN_PERSON, -0.01, 0.0))
TRANSACTION_W = np.array(
    [
        [55, 25, 10, 10, 10, 2, 45, 3, 20, 20, 0],
        [70, 25, 0, 5, 15, 3, 30, 2, 35, 15, 0],
        [60, 10, 15, 15, 20, 2, 20, 5, 30, 20, 3],
        [55, 30, 0, 15, 40, 10, 35, 5, 5, 5, 0],
        [75, 15, 0, 10, 20, 10, 5, 20, 25, 15, 5],
        [85, 10, 0, 5, 30, 25, 15, 30, 0, 0, 0],
    ],
    dtype=float,
)
SELF_SERVICE_OFFSET = np.array([0.03, -0.06, -0.08, 0.0, 0.05, 0.08])
# Queue waits and handle times per contact channel (seconds): median and log-sd.
WAIT_MEDIAN = {PHONE: 240.0, CHAT: 90.0, IN_PERSON: 720.0}
WAIT_SIGMA = {PHONE: 0.9, CHAT: 1.0, IN_PERSON: 0.7}
HANDLE_MEDIAN = {PHONE: 420.0, CHAT: 600.0, IN_PERSON: 900.0}

# Monthly seasonality (Jan..Dec) per service.
SEASON = np.array(
    [
        [1.0, 1.1, 1.4, 1.5, 1.5, 1.3, 1.0, 0.9, 0.8, 0.8, 0.8, 0.8],
        [1.0] * 12,
        [0.8, 0.8, 1.1, 1.4, 1.5, 1.3, 1.0, 0.9, 0.8, 0.8, 0.8, 0.8],
        [0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.1, 1.3, 1.3, 1.1, 0.9, 0.9],
        [1.3, 1.2, 1.1, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0],
        [1.2, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.5, 1.4],
    ]
)
HOURS_ANY = np.array([1, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 9, 9, 9, 9, 8, 8, 8, 8, 7, 5, 3, 2], dtype=float)
HOURS_OFFICE = np.where((np.arange(24) >= 8) & (np.arange(24) < 19), 1.0, 0.0)

STAGE_P = {
    "responses": [0.12, 0.34, 0.18, 0.2, 0.12, 0.04],
    "contacts": [0.15, 0.25, 0.32, 0.1, 0.13, 0.05],
    "transactions": [0.0, 0.58, 0.0, 0.37, 0.03, 0.02],
}
LEARN, APPLY, WAIT, DECISION, FOLLOW_UP, STAGE_NR = range(6)
STAGE_EFFECT = np.array([0.05, 0.0, -0.15, 0.1, -0.1, 0.0])
SERVICE_SHARE = {
    "responses": [0.34, 0.17, 0.07, 0.12, 0.15, 0.15],
    "contacts": [0.34, 0.22, 0.06, 0.14, 0.1, 0.14],
    "transactions": [0.4, 0.14, 0.08, 0.1, 0.18, 0.1],
}

LANGUAGES = ("English", "Spanish", "Chinese", "Vietnamese", "Tagalog", "Other", contract.NOT_REPORTED)
EQUITY_LABELS: dict[str, tuple[str, ...]] = {
    "age_band": contract.AGE_BANDS,
    "race_ethnicity": contract.RACE_ETHNICITY,
    "income_band": contract.INCOME_BANDS,
    "urbanicity": contract.URBANICITY,
    "language": LANGUAGES,
    "disability": contract.DISABILITY,
    "veteran_status": contract.VETERAN_STATUS,
}
# Per service (rows as SERVICES), columns as EQUITY_LABELS; the last column is `Not reported`.
EQUITY_P: dict[str, Floats] = {
    "age_band": np.array(
        [
            [10, 18, 18, 17, 16, 16, 5],
            [8, 25, 25, 18, 12, 7, 5],
            [3, 10, 15, 20, 24, 23, 5],
            [6, 14, 17, 18, 18, 21, 6],
            [2, 14, 24, 26, 20, 9, 5],
            [5, 20, 24, 24, 20, 3, 4],
        ],
        dtype=float,
    ),
    "race_ethnicity": np.tile([1, 6, 12, 15, 1, 0.4, 55, 3, 6.6], (6, 1)),
    "income_band": np.array(
        [
            [15, 22, 30, 23, 10],
            [22, 28, 28, 12, 10],
            [6, 16, 33, 37, 8],
            [25, 27, 26, 12, 10],
            [5, 15, 35, 35, 10],
            [2, 15, 50, 28, 5],
        ],
        dtype=float,
    ),
    "urbanicity": np.array(
        [[38, 42, 14, 6], [50, 36, 8, 6], [18, 40, 36, 6], [25, 35, 34, 6], [40, 40, 14, 6], [40, 42, 13, 5]],
        dtype=float,
    ),
    "language": np.array(
        [
            [84, 8, 1.5, 1, 0.8, 1.2, 4],
            [60, 18, 5, 4, 4, 5, 4],
            [90, 4, 0.5, 0.5, 0.3, 0.7, 4],
            [70, 20, 1, 2, 1, 1.5, 4.5],
            [84, 8, 2, 1, 0.5, 1, 3.5],
            [92, 3, 0.3, 0.3, 0.3, 0.6, 3.5],
        ],
        dtype=float,
    ),
    "disability": np.array([[12, 81, 7]] * 3 + [[16, 77, 7], [12, 81, 7], [10, 85, 5]], dtype=float),
    "veteran_status": np.array(
        [[7, 88, 5], [5, 90, 5], [12, 83, 5], [9, 86, 5], [8, 87, 5], [28, 68, 4]], dtype=float
    ),
}
RURAL = contract.URBANICITY.index("Rural")
AGE_65 = contract.AGE_BANDS.index("65+")
SPANISH = LANGUAGES.index("Spanish")

# Answer model: item latent = base + row effects + item shifts + a per-respondent deviation.
ITEMS = contract.A11_ITEMS
ITEM_BASE = dict(zip(ITEMS, (0.66, 0.95, 0.8, 0.75, 0.55, 0.9, 1.05, 1.1), strict=True))
LOADING = dict(zip(ITEMS[1:], (0.9, 0.8, 0.75, 0.65, 0.6, 0.55, 0.6), strict=True))
TRUST_W = dict(zip(ITEMS[2:], (0.45, 0.4, 0.15, 0.1, 0.05, 0.1), strict=True))
CUTS = (-1.6, -0.9, 0.0, 1.1)  # latent -> 1..5; above 0 is a 4 or 5
ITEM_MISSING = dict(zip(ITEMS[2:], (0.05, 0.07, 0.1, 0.12, 0.2, 0.15), strict=True))
WAIT_SLOPE = 0.3  # trust latent lost per log-unit of queue wait

# Fake personal details some customers put in their comments (every one invented): they are
# redacted when the data is read (metrics/redaction.py), and the tests check none reaches the store.
PLANTED_DETAILS = (
    "(202) 555-0143",
    "Maria Gonzalez",
    "jordan.lee@example.com",
    "IOE0912345678",
    "431-27-5903",
    "Robert Smith",
    "José Pérez",
    "202-555-0199",
    "1600 Pennsylvania Avenue",
    "https://example.com/my-case",
)
COMMENTS: tuple[tuple[str, ...], ...] = (
    (
        "Quick and easy, thank you.",
        "Clear instructions and fast service.",
        "Everything worked the first time.",
    ),
    (
        "The agent was very helpful and polite.",
        "Staff were patient and answered all my questions.",
        "Mr. Robert Smith at the counter was very helpful.",
    ),
    ("The new online renewal was simple.", "Renewing online took me ten minutes."),
    (
        "I waited on hold far too long.",
        "It took a long time before anyone answered.",
        "I waited on hold far too long. Call me back at (202) 555-0143, my name is Maria Gonzalez.",
    ),
    (
        "The online form was confusing and hard to finish.",
        "I could not work out how to upload my documents.",
        "The online form kept rejecting my upload. Email me at jordan.lee@example.com.",
    ),
    (
        "No había nadie que hablara español.",
        "Necesitaba ayuda en español y esperé mucho tiempo.",
        "Esperé mucho tiempo para hablar en español. Me llamo José Pérez, llámeme al 202-555-0199.",
    ),
    (
        "No updates on my case for months.",
        "Nobody could tell me the status of my application.",
        "No updates on case number IOE0912345678 for months. My SSN is 431-27-5903.",
    ),
    (
        "I had to contact you several times to get an answer.",
        "The instructions were unclear.",
        "I had to write several times from 1600 Pennsylvania Avenue NW; see https://example.com/my-case.",
    ),
)
COMMENT_BANK = pl.Series([text for group in COMMENTS for text in group], dtype=pl.Utf8)
COMMENT_OFFSET = np.cumsum([0] + [len(group) for group in COMMENTS[:-1]])
COMMENT_SIZE = np.array([len(group) for group in COMMENTS])


def generate(
    out_dir: Path,
    *,
    seed: int = 2026,
    responses: int = 200_000,
    contacts: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Write responses, contacts, transactions and collections parquet files; return their row counts.

    Responses and transactions are drawn and written PART_ROWS at a time, so memory stays bounded
    however many are asked for; the contacts, which responses are linked to, are drawn at once."""
    say = progress or (lambda _: None)
    n_contacts = responses if contacts is None else contacts
    out_dir.mkdir(parents=True, exist_ok=True)
    say(f"drawing {n_contacts:,} contacts")
    contact_rows = _contacts(np.random.default_rng([seed, 1]), n_contacts)
    counts = {"contacts": _write(out_dir / "contacts.parquet", [_contacts_frame(contact_rows)])}
    say(f"wrote contacts.parquet ({counts['contacts']:,} rows)")

    n_transactions = round(1.5 * responses)
    parts = _parts(n_transactions, "transactions", say)
    counts["transactions"] = _write(
        out_dir / "transactions.parquet",
        (_transactions(_rng(seed, 3, k), n, first) for k, (first, n) in enumerate(parts)),
        _part_done(len(parts), say),
    )
    say(f"wrote transactions.parquet ({counts['transactions']:,} rows)")

    parts = _parts(responses, "responses", say)
    rng = _rng(seed, 2, 0)
    submitted, links = _links(rng, responses, contact_rows)
    shares = np.array_split(links, len(parts))

    def collect(written: Path) -> None:
        """Write the collections, which sum the responses, before the responses are in place."""
        frame = _collections(np.random.default_rng([seed, 4]), pl.scan_parquet(written))
        counts["collections"] = _write(out_dir / "collections.parquet", [frame])
        say(f"wrote collections.parquet ({counts['collections']:,} rows)")

    # Written last: the presence of responses.parquet tells `make sample` the set is complete.
    counts["responses"] = _write(
        out_dir / "responses.parquet",
        (
            _responses(rng if k == 0 else _rng(seed, 2, k), n, first, contact_rows, submitted, shares[k])
            for k, (first, n) in enumerate(parts)
        ),
        _part_done(len(parts), say),
        collect,
    )
    say(f"wrote responses.parquet ({counts['responses']:,} rows)")
    return {name: counts[name] for name in contract.INPUTS}


# Rows drawn at a time: a draw holds a few dozen arrays per row, so memory follows the part, not the
# set (100 million responses with 10 million contacts: 8.2 GB at the peak, 18 minutes on 2 cores).
PART_ROWS = 5_000_000


def _parts(n: int, kind: str, say: Callable[[str], None]) -> list[tuple[int, int]]:
    """Split `n` rows into parts of at most PART_ROWS, as even as np.array_split makes them, and say
    so: (first row number, rows) per part."""
    count = max(1, -(-n // PART_ROWS))
    say(f"drawing {n:,} {kind}" + (f" in {count} parts" if count > 1 else ""))
    size, longer = divmod(n, count)
    sizes = [size + 1] * longer + [size] * (count - longer)
    firsts = np.cumsum([1, *sizes[:-1]])
    return [(int(first), rows) for first, rows in zip(firsts, sizes, strict=True)]


def _part_done(count: int, say: Callable[[str], None]) -> Callable[[int], None] | None:
    """Report each part written, when there are several."""
    return (lambda number: say(f"  part {number}/{count}")) if count > 1 else None


def _rng(seed: int, table: int, part: int) -> np.random.Generator:
    # The first part keeps the stream a set drawn in one go always had, so small sets are unchanged.
    return np.random.default_rng([seed, table] if part == 0 else [seed, table, part])


def _write(
    path: Path,
    parts: Iterable[pl.DataFrame],
    wrote_part: Callable[[int], object] | None = None,
    before_publishing: Callable[[Path], object] | None = None,
) -> int:
    """Write the frames `parts` one after another as the parquet file `path`; return its row count.

    The file is written under a temporary name and renamed into place, so a crash never leaves a
    half-written input; `before_publishing` is given the temporary file just before the rename."""
    tmp = path.with_name(f".{path.name}.tmp")
    rows = 0
    writer: pq.ParquetWriter | None = None
    try:
        for number, frame in enumerate(parts, start=1):
            table = frame.to_arrow()
            writer = writer or pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table)
            rows += frame.height
            if wrote_part:
                wrote_part(number)
        if writer is None:
            raise ValueError(f"nothing to write to {path}")
        writer.close()
        if before_publishing:
            before_publishing(tmp)
        os.replace(tmp, path)
    finally:
        if writer is not None:
            writer.close()
        tmp.unlink(missing_ok=True)
    return rows


def _pick(rng: np.random.Generator, p: Floats) -> Ints:
    """Draw one category per row of the weight matrix `p`."""
    cdf = np.cumsum(p, axis=1)
    u = rng.random(len(p)) * cdf[:, -1]
    idx: Ints = np.minimum((u[:, None] >= cdf).sum(axis=1), p.shape[1] - 1).astype(np.int64)
    return idx


def _when(rng: np.random.Generator, n: int, kind: str, surge: float) -> tuple[Ints, Ints]:
    """Draw a service and a day per row from the volume shares, seasons and the disaster surge."""
    trend = {"responses": 0.01, "contacts": -0.015, "transactions": 0.02}[kind]
    weekend = {"responses": 0.6, "contacts": 0.25, "transactions": 0.5}[kind]
    w = SEASON[:, MONTH - 1] * np.where(WEEKEND, weekend, 1.0) * (1 + trend * QUARTER)
    w = w / w.sum(axis=1, keepdims=True) * np.array(SERVICE_SHARE[kind])[:, None]
    w[DISASTER, QUARTER == SURGE_QUARTER] *= surge
    flat = rng.choice(w.size, size=n, p=(w / w.sum()).ravel())
    return flat // len(DAYS), flat % len(DAYS)


def _timestamps(rng: np.random.Generator, day: Ints, hours: Floats) -> Ints:
    """Microseconds since the epoch: the day plus a second of the day drawn from an hourly profile."""
    hour = rng.choice(24, size=len(day), p=hours / hours.sum())
    second = hour * 3600 + rng.integers(0, 3600, size=len(day))
    return START_US + day * DAY_US + second * 1_000_000


def _channel(rng: np.random.Generator, weights: Floats, drift: Floats, service: Ints, day: Ints) -> Ints:
    """Draw a channel per row from the service's weights, drifted by quarter."""
    return _pick(rng, weights[service] * np.exp(drift[None, :] * QUARTER[day][:, None]))


def _equity(
    rng: np.random.Generator, service: Ints, known: dict[str, Bools] | None = None
) -> dict[str, Ints]:
    """Draw the equity dimensions per row; where `known` is false the value is `Not reported`."""
    out = {dim: _pick(rng, EQUITY_P[dim][service]) for dim in EQUITY_LABELS}
    lang, race, u = out["language"], out["race_ethnicity"], rng.random(len(service))
    race[(lang == SPANISH) & (u < 0.8)] = contract.RACE_ETHNICITY.index("Hispanic or Latino")
    race[(lang >= 2) & (lang <= 4) & (u < 0.85)] = contract.RACE_ETHNICITY.index("Asian")
    for dim, mask in (known or {}).items():
        out[dim][~mask] = len(EQUITY_LABELS[dim]) - 1
    return out


def _strings(labels: tuple[str, ...], idx: Ints) -> pl.Series:
    return pl.Series(labels, dtype=pl.Utf8).gather(idx)


def _nullable(values: npt.NDArray[np.generic], valid: Bools, dtype: type[pl.DataType]) -> pl.Series:
    series = pl.Series(values, dtype=dtype)
    return series.zip_with(pl.Series(valid), pl.repeat(None, len(series), dtype=dtype, eager=True))


def _ids(prefix: str, numbers: Ints) -> pl.Series:
    """Format 1-based row numbers as ids such as `R00000001`."""
    return (prefix + pl.Series(numbers, dtype=pl.Int64).cast(pl.Utf8).str.zfill(8)).rename("id")


def _equity_columns(equity: dict[str, Ints]) -> dict[str, pl.Series]:
    return {dim: _strings(EQUITY_LABELS[dim], idx) for dim, idx in equity.items()}


@dataclass(frozen=True)
class _Contacts:
    """Contacts as column arrays, sorted by start time; ids are `C` + the 1-based row number."""

    started: Ints
    service: Ints
    channel: Ints
    segment: Ints
    stage: Ints
    wait: Floats
    handle: Floats
    answered: Bools
    resolved: Bools
    recorded: Bools
    surge: Bools
    equity: dict[str, Ints]


def _contacts(rng: np.random.Generator, n: int) -> _Contacts:
    """Queue contacts (phone, chat, visits): waits, surges, abandonment and resolution."""
    service, day = _when(rng, n, "contacts", surge=3.0)
    channel = _channel(rng, CONTACT_W, CONTACT_DRIFT, service, day)
    known = {"language": 0.93, "urbanicity": 0.9, "age_band": 0.35, "veteran_status": 0.25}
    known |= {"disability": 0.1, "race_ethnicity": 0.05, "income_band": 0.03}
    equity = _equity(rng, service, {dim: rng.random(n) < p for dim, p in known.items()})
    month, quarter = MONTH[day], QUARTER[day]
    surge = (service == DISASTER) & (quarter == SURGE_QUARTER)
    factor = np.where(surge, 3.0, 1.0) * np.where(
        (service == PASSPORT) & (month >= 3) & (month <= 6), 1.5, 1.0
    )
    factor *= np.where((service == HR) & (month >= 11), 1.3, 1.0)
    factor *= np.where(equity["language"] == SPANISH, np.where(surge, 2.6, 1.15), 1.0)
    median = np.select([channel == c for c in WAIT_MEDIAN], list(WAIT_MEDIAN.values()))
    sigma = np.select([channel == c for c in WAIT_SIGMA], list(WAIT_SIGMA.values()))
    wait = median * factor * np.exp(sigma * rng.standard_normal(n))
    p_abandon = (0.02 + 0.2 * (1 - np.exp(-wait / 1200))) * np.where(channel == IN_PERSON, 0.5, 1.0)
    answered = rng.random(n) >= p_abandon
    wait = np.round(np.where(answered, wait, wait * rng.uniform(0.2, 1.0, n)))  # abandoned: time to hang-up
    handle_median = np.select([channel == c for c in HANDLE_MEDIAN], list(HANDLE_MEDIAN.values()))
    handle = np.round(handle_median * np.exp(0.5 * rng.standard_normal(n)))
    stage = _pick(rng, np.tile(STAGE_P["contacts"], (n, 1)))
    resolved = rng.random(n) < np.where(stage == WAIT, 0.6, 0.73)
    recorded = answered & (rng.random(n) >= 0.03)
    segment = _pick(rng, SEGMENT_P[service])
    started = _timestamps(rng, day, HOURS_OFFICE)
    o = np.argsort(started, kind="stable")
    return _Contacts(
        started[o], service[o], channel[o], segment[o], stage[o], wait[o], handle[o], answered[o],
        resolved[o], recorded[o], surge[o], {dim: idx[o] for dim, idx in equity.items()},
    )  # fmt: skip


def _contacts_frame(c: _Contacts) -> pl.DataFrame:
    columns = {
        "contact_id": _ids("C", np.arange(1, len(c.started) + 1)),
        "started_at": pl.Series(c.started).cast(pl.Datetime("us")),
        "service": _strings(SERVICES, c.service),
        "channel": _strings(CHANNELS, c.channel),
        "segment": _strings(SEGMENTS, c.segment),
        "journey_stage": _strings(contract.JOURNEY_STAGES, c.stage),
        "queue_wait_seconds": pl.Series(c.wait, dtype=pl.Float64),
        "handle_seconds": _nullable(c.handle, c.answered, pl.Float64),
        "answered": pl.Series(c.answered, dtype=pl.Boolean),
        "resolved_first_contact": _nullable(c.resolved, c.recorded, pl.Boolean),
        **_equity_columns(c.equity),
    }
    return pl.DataFrame(columns).select(col.name for col in contract.CONTACTS.columns)


def _links(rng: np.random.Generator, n: int, contacts: _Contacts) -> tuple[Ints, Ints]:
    """Pick the contacts that get a survey response: about a third of those answered, up to `n`.
    Return when each contact's response would be submitted, and the picked contacts in order."""
    c = contacts
    end = c.started + (c.wait + c.handle).astype(np.int64) * 1_000_000
    delay = np.clip(np.exp(np.log(6 * 3600) + 1.1 * rng.standard_normal(len(end))), 3600, 10 * 86400)
    submitted: Ints = end + delay.astype(np.int64) * 1_000_000
    eligible = np.flatnonzero(c.answered & (submitted < END_US))
    n_linked = min(n, round(int(c.answered.sum()) / 3), len(eligible))
    link: Ints = np.sort(rng.choice(eligible, size=n_linked, replace=False))
    return submitted, link


def _responses(
    rng: np.random.Generator, n: int, first: int, contacts: _Contacts, submitted: Ints, link: Ints
) -> pl.DataFrame:
    """`n` survey responses numbered from `first`: one per contact in `link`, the rest from the
    agency's other surveys."""
    c = contacts
    n_other = n - len(link)

    service, day = _when(rng, n_other, "responses", surge=2.5)
    other_equity = _equity(rng, service)
    linked_equity = _equity(rng, c.service[link])
    for dim in ("language", "urbanicity"):  # known to the contact system, so carried onto the response
        linked_equity[dim] = c.equity[dim][link]
    equity = {dim: np.concatenate([linked_equity[dim], other_equity[dim]]) for dim in EQUITY_LABELS}
    stage = _pick(rng, np.tile(STAGE_P["responses"], (n_other, 1)))
    rows = {
        "submitted": np.concatenate([submitted[link], _timestamps(rng, day, HOURS_ANY)]),
        "service": np.concatenate([c.service[link], service]).astype(np.int64),
        "channel": np.concatenate([c.channel[link], _channel(rng, SURVEY_W, SURVEY_DRIFT, service, day)]),
        "stage": np.concatenate([c.stage[link], stage]).astype(np.int64),
        "contact": np.concatenate([link, np.full(n_other, -1)]),
    }
    segment = np.concatenate([c.segment[link], _pick(rng, SEGMENT_P[service])]).astype(np.int64)
    order = np.argsort(rows["submitted"], kind="stable")
    rows = {key: values[order].astype(np.int64) for key, values in rows.items()}
    equity = {dim: idx[order] for dim, idx in equity.items()}
    linked = rows["contact"] >= 0
    at = rows["contact"][linked]
    wait_minutes = np.full(n, np.nan)
    wait_minutes[linked] = c.wait[at] / 60
    resolved = np.zeros(n, dtype=np.int64)  # 1 resolved, -1 not resolved, 0 unknown or not linked
    resolved[linked] = np.where(c.recorded[at], np.where(c.resolved[at], 1, -1), 0)
    spanish_surge = np.zeros(n, dtype=bool)
    spanish_surge[linked] = c.surge[at]
    spanish_surge &= equity["language"] == SPANISH
    quarter = QUARTER[(rows["submitted"] - START_US) // DAY_US]
    answers = _answers(rng, rows, equity, quarter, wait_minutes, resolved, spanish_surge)
    columns = {
        "response_id": _ids("R", np.arange(first, first + n)),
        "submitted_at": pl.Series(rows["submitted"]).cast(pl.Datetime("us")),
        "service": _strings(SERVICES, rows["service"]),
        "channel": _strings(CHANNELS, rows["channel"]),
        "segment": _strings(SEGMENTS, segment[order]),
        "journey_stage": _strings(contract.JOURNEY_STAGES, rows["stage"]),
        **answers,
        "contact_id": _nullable(_ids("C", rows["contact"] + 1).to_numpy(), linked, pl.Utf8),
        **_equity_columns(equity),
        "weight": pl.Series(np.ones(n, dtype=np.int32), dtype=pl.Int32),
        "row_kind": pl.Series(["respondent"] * n, dtype=pl.Utf8),
        "question_text": pl.Series([None] * n, dtype=pl.Utf8),
    }
    return pl.DataFrame(columns).select(c.name for c in contract.RESPONSES.columns)


def _answers(
    rng: np.random.Generator,
    rows: dict[str, Ints],
    equity: dict[str, Ints],
    quarter: Ints,
    wait_minutes: Floats,
    resolved: Ints,
    spanish_surge: Bools,
) -> dict[str, pl.Series]:
    """Answer the survey: correlated item latents, the planted patterns, then v1 or v2 columns."""
    n = len(quarter)
    service, channel, stage = rows["service"], rows["channel"], rows["stage"]
    online = (channel == WEBSITE) | (channel == APP)
    nat_wait = (service == NATURALIZATION) & (stage == WAIT)
    row = SERVICE_EFFECT[service] + CHANNEL_EFFECT[channel] + STAGE_EFFECT[stage] + 0.012 * (quarter - 7.5)
    row -= 0.35 * nat_wait
    log_wait = np.nan_to_num(np.log((wait_minutes + 0.5) / 3))
    shift = {item: np.zeros(n) for item in ITEMS}
    ease_gap = online & (equity["urbanicity"] == RURAL) & (equity["age_band"] == AGE_65)
    shift["ease"] += -0.85 * ease_gap + 0.5 * (online & (service == PASSPORT) & (quarter >= REDESIGN_QUARTER))
    shift["trust"] += -0.4 * ease_gap - WAIT_SLOPE * log_wait - 0.18 * spanish_surge
    shift["trust"] += np.select([resolved > 0, resolved < 0], [0.15, -0.35], 0.0)
    shift["effectiveness"] += np.select([resolved > 0, resolved < 0], [0.3, -0.6], 0.0)
    shift["satisfaction"] += -0.7 * WAIT_SLOPE * log_wait - 0.2 * spanish_surge
    shift["efficiency"] += -1.2 * WAIT_SLOPE * log_wait - 0.3 * nat_wait
    shift["transparency"] += -0.2 * nat_wait
    shift["humanity"] += -0.25 * spanish_surge

    z = rng.standard_normal(n)
    dev = {k: lam * z + np.sqrt(1 - lam**2) * rng.standard_normal(n) for k, lam in LOADING.items()}
    lam = np.array([LOADING[k] for k in TRUST_W])
    w = np.array(list(TRUST_W.values()))
    cov = np.outer(lam, lam) + np.diag(1 - lam**2)
    explained = float(w @ cov @ w)
    dev["trust"] = (
        sum(TRUST_W[k] * dev[k] for k in TRUST_W) + np.sqrt(0.35) * rng.standard_normal(n)
    ) / np.sqrt(explained + 0.35)
    latent = {k: ITEM_BASE[k] + row + shift[k] + dev[k] for k in ITEMS}
    score = {k: (1 + sum((latent[k] > cut).astype(np.int64) for cut in CUTS)).astype(np.int8) for k in ITEMS}

    v2 = ~online & (quarter >= V2_FROM[service])
    thumbs = v2 & (service == HR)
    trust = np.where(thumbs, (latent["trust"] > 0).astype(np.int8), score["trust"])
    positive = latent["trust"] > 0
    out: dict[str, pl.Series] = {
        "survey_version": _strings(contract.SURVEY_VERSIONS, v2.astype(np.int64)),
        "trust_scale": _strings(contract.TRUST_SCALES, thumbs.astype(np.int64)),
        "trust": pl.Series(trust, dtype=pl.Int8),
        "satisfaction": _nullable(score["satisfaction"], ~v2, pl.Int8),
    }
    self_service = SELF_SERVICE[channel]
    for item in ITEMS[2:]:
        asked = ~v2 & (rng.random(n) >= ITEM_MISSING[item])
        if item == "employee":
            asked &= ~self_service | (rng.random(n) < 0.08)
        out[item] = _nullable(score[item], asked, pl.Int8)
    noise = {k: 0.6 * rng.standard_normal(n) for k in contract.V2_DRIVERS}
    for side, offered in (("positive", v2 & positive), ("negative", v2 & ~positive)):
        for driver in contract.V2_DRIVERS:
            if driver == "other":
                picked = rng.random(n) < (0.05 if side == "positive" else 0.12)
            elif side == "positive":
                picked = latent[driver] + noise[driver] > 1.0
            else:
                picked = latent[driver] + noise[driver] < -0.2
            if driver == "employee":
                picked &= ~self_service
            out[f"{side}_{driver}"] = _nullable(picked.astype(np.int8), offered, pl.Int8)
    out["comment"] = _comments(rng, rows, equity, quarter, wait_minutes, latent, online)
    return out


def _comments(
    rng: np.random.Generator,
    rows: dict[str, Ints],
    equity: dict[str, Ints],
    quarter: Ints,
    wait_minutes: Floats,
    latent: dict[str, Floats],
    online: Bools,
) -> pl.Series:
    """Leave a comment on about one response in seven, its theme following the answers."""
    n = len(quarter)
    good = latent["trust"] > 0
    group = np.select(
        [
            good & online & (rows["service"] == PASSPORT) & (quarter >= REDESIGN_QUARTER),
            good & ~SELF_SERVICE[rows["channel"]],
            good,
            (equity["language"] == SPANISH) & (wait_minutes >= 10),
            wait_minutes >= 10,
            online & (latent["ease"] < 0),
            rows["stage"] == WAIT,
        ],
        [2, 1, 0, 5, 3, 4, 6],
        7,
    )
    pick = COMMENT_OFFSET[group] + (rng.random(n) * COMMENT_SIZE[group]).astype(np.int64)
    return _nullable(COMMENT_BANK.gather(pick).to_numpy(), rng.random(n) < 0.14, pl.Utf8)


def _transactions(rng: np.random.Generator, n: int, first: int = 1) -> pl.DataFrame:
    """`n` completed transactions numbered from `first`; the self-service share climbs from about
    45% to about 70%."""
    service, day = _when(rng, n, "transactions", surge=2.5)
    quarter = QUARTER[day]
    share = np.clip(0.42 + 0.31 * quarter / 15 + SELF_SERVICE_OFFSET[service], 0.05, 0.95)
    w = TRANSACTION_W[service] * np.where(SELF_SERVICE, 1.0, 0.0)
    w[:, APP] *= np.exp(0.05 * quarter)
    assisted = TRANSACTION_W[service] * np.where(SELF_SERVICE, 0.0, 1.0)
    w = w / w.sum(axis=1, keepdims=True) * share[:, None]
    w += assisted / assisted.sum(axis=1, keepdims=True) * (1 - share)[:, None]
    channel = _pick(rng, w)
    profile, address = rng.random(n) < 0.4, rng.random(n) < 0.85
    known = {dim: address if dim in ("language", "urbanicity") else profile for dim in EQUITY_LABELS}
    stamps = np.where(
        SELF_SERVICE[channel], _timestamps(rng, day, HOURS_ANY), _timestamps(rng, day, HOURS_OFFICE)
    )
    order = np.argsort(stamps, kind="stable")
    columns = {
        "transaction_id": _ids("T", np.arange(first, first + n)),
        "completed_at": pl.Series(stamps[order]).cast(pl.Datetime("us")),
        "service": _strings(SERVICES, service[order]),
        "channel": _strings(CHANNELS, channel[order]),
        "segment": _strings(SEGMENTS, _pick(rng, SEGMENT_P[service])[order]),
        "journey_stage": _strings(
            contract.JOURNEY_STAGES, _pick(rng, np.tile(STAGE_P["transactions"], (n, 1)))[order]
        ),
        **_equity_columns({dim: idx[order] for dim, idx in _equity(rng, service, known).items()}),
    }
    return pl.DataFrame(columns).select(c.name for c in contract.TRANSACTIONS.columns)


def _collections(rng: np.random.Generator, responses: pl.LazyFrame) -> pl.DataFrame:
    """One row per service, fiscal quarter and survey channel, consistent with the responses."""
    month = pl.col("submitted_at").dt.month()
    groups = (
        responses.group_by(
            "service",
            (pl.col("submitted_at").dt.year() + (month >= 10).cast(pl.Int32))
            .cast(pl.Int32)
            .alias("fiscal_year"),
            ((month + 2) % 12 // 3 + 1).cast(pl.Int32).alias("fiscal_quarter"),
            "channel",
        )
        .agg(
            pl.col("weight").sum().cast(pl.Int64).alias("respondents"),
            pl.col("trust_scale").first(),
            pl.col("survey_version").first(),
        )
        .sort("service", "fiscal_year", "fiscal_quarter", "channel")
        .collect()
    )
    k = groups.height
    offered = np.ceil(groups["respondents"].to_numpy() / rng.uniform(0.05, 0.25, k)).astype(np.int64)
    served = np.ceil(offered / rng.uniform(0.3, 0.7, k)).astype(np.int64)
    return groups.select(
        "service",
        "fiscal_year",
        "fiscal_quarter",
        "channel",
        pl.Series("customers_served", served, dtype=pl.Int64),
        pl.Series("customers_offered", offered, dtype=pl.Int64),
        pl.when(pl.col("survey_version") == "v1")
        .then(pl.lit(TRUST_TEXT_V1))
        .otherwise(pl.lit(TRUST_TEXT_V2))
        .alias("trust_question_text"),
        pl.when(pl.col("trust_scale") == "thumbs")
        .then(pl.lit("thumbs_up_down"))
        .otherwise(pl.lit("likert_scale"))
        .alias("survey_type"),
        (pl.col("service") != SERVICES[HR]).alias("publishable"),
        pl.lit(ORGANIZATION).alias("organization"),
        pl.col("service")
        .replace_strict(dict(zip(SERVICES, PROVIDERS, strict=True)))
        .alias("service_provider"),
        pl.when(pl.col("channel").is_in(["website", "mobile_app"]))
        .then(pl.col("service") + pl.lit(": online request submitted"))
        .when(pl.col("channel").is_in(["phone", "live_chat", "in_person"]))
        .then(pl.col("service") + pl.lit(": call, chat or visit completed"))
        .otherwise(pl.col("service") + pl.lit(": request completed"))
        .alias("transaction_point"),
        pl.lit("Apply").alias("service_stage"),
        (pl.col("service") + pl.lit(" customer feedback")).alias("survey_title"),
        pl.col("service")
        .replace_strict(dict(zip(SERVICES, OMB_NUMBERS, strict=True)))
        .alias("omb_control_number"),
        pl.lit("https://www.federalregister.gov/d/2023-00000").alias("federal_register_url"),
        (
            pl.lit("Customers told us where waits and forms cost them time; ")
            + pl.col("service")
            + pl.lit(" is acting on the top theme this quarter.")
        ).alias("reflection_text"),
    )
