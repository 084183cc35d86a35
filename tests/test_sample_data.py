"""Sample data: the generator keeps the contract, is deterministic and plants the documented patterns."""

from __future__ import annotations

import csv
import itertools
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from metrics import contract
from sample_data.generator import generate

ROOT = Path(__file__).resolve().parents[1]
SIZE = 50_000  # big enough that every planted pattern stands well clear of sampling noise
POLARS_TYPES: dict[str, pl.DataType] = {
    "TINYINT": pl.Int8(),
    "INTEGER": pl.Int32(),
    "BIGINT": pl.Int64(),
    "DOUBLE": pl.Float64(),
    "TIMESTAMP": pl.Datetime("us"),
    "BOOLEAN": pl.Boolean(),
    "VARCHAR": pl.String(),
}
TIME_COLUMN = {"responses": "submitted_at", "contacts": "started_at", "transactions": "completed_at"}
FIRST, END = datetime(2022, 10, 1), datetime(2026, 10, 1)  # FY2023 Q1 .. FY2026 Q4, END exclusive
ONLINE = ("website", "mobile_app")
CONTACT_CHANNELS = ("phone", "live_chat", "in_person")
ITEMS_AFTER_TRUST = contract.A11_ITEMS[1:]
CHECKLISTS = [f"{side}_{d}" for side in ("positive", "negative") for d in contract.V2_DRIVERS]
COLUMNS = [(i.name, c.name) for i in contract.INPUTS.values() for c in i.columns]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    generate(out, responses=SIZE)
    return out


@pytest.fixture(scope="module")
def data(sample: Path) -> dict[str, pl.DataFrame]:
    return read(sample)


@pytest.fixture(scope="module")
def full_size(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pl.DataFrame]:
    """The default size, for patterns that live in one small cell (a language in one quarter)."""
    out = tmp_path_factory.mktemp("full")
    generate(out)
    return read(out)


def read(folder: Path) -> dict[str, pl.DataFrame]:
    """Read the four inputs, adding fiscal year `fy` and quarter `fq` to the time-stamped ones."""
    frames = {name: pl.read_parquet(folder / f"{name}.parquet") for name in contract.INPUTS}
    for name, column in TIME_COLUMN.items():
        month = pl.col(column).dt.month()
        fy = (pl.col(column).dt.year() + (month >= 10).cast(pl.Int32)).alias("fy")
        frames[name] = frames[name].with_columns(fy, ((month + 2) % 12 // 3 + 1).alias("fq"))
    return frames


def top2(column: str) -> pl.Expr:
    """Share answering 4 or 5 among valid answers (nulls are out of the denominator)."""
    return (pl.col(column) >= 4).mean()


def trust_positive() -> pl.Expr:
    """Share positive on the trust question: 4-5 on five points, thumbs up on thumbs."""
    five = pl.col("trust_scale") == "five_point"
    return pl.when(five).then(pl.col("trust") >= 4).otherwise(pl.col("trust") == 1).mean()


def number(x: object) -> float:
    """A statistic polars returned, as a float; fails on null."""
    assert isinstance(x, int | float), x
    return float(x)


def moment(x: object) -> datetime:
    assert isinstance(x, datetime), x
    return x


def span(x: object) -> timedelta:
    assert isinstance(x, timedelta), x
    return x


def value(frame: pl.DataFrame, expr: pl.Expr) -> float:
    return float(frame.select(expr).item())


def linked(data: dict[str, pl.DataFrame]) -> pl.DataFrame:
    contacts = data["contacts"].drop("fy", "fq")
    return data["responses"].join(contacts, on="contact_id", how="inner", suffix="_contact")


def test_generate_reports_progress_and_row_counts(tmp_path: Path) -> None:
    messages: list[str] = []
    counts = generate(tmp_path, responses=3_000, progress=messages.append)
    assert counts == {
        name: pl.scan_parquet(tmp_path / f"{name}.parquet").select(pl.len()).collect().item()
        for name in contract.INPUTS
    }
    assert counts["responses"] == counts["contacts"] == 3_000
    assert counts["transactions"] == 4_500
    # One line per kind of row drawn, then one per file written.
    assert len(messages) == 7 and all(f"{name}.parquet" in " ".join(messages) for name in contract.INPUTS)
    assert messages[0] == "drawing 3,000 contacts"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.parquet" for n in contract.INPUTS)
    assert generate(tmp_path, responses=1_000, contacts=2_500)["contacts"] == 2_500


def test_a_large_set_is_drawn_and_written_in_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sample_data.generator.PART_ROWS", 1_000)
    messages: list[str] = []
    counts = generate(tmp_path, responses=3_500, contacts=2_000, progress=messages.append)
    assert counts["responses"] == 3_500 and counts["transactions"] == 5_250 and counts["contacts"] == 2_000
    assert "drawing 3,500 responses in 4 parts" in messages and "  part 4/4" in messages
    responses = pl.read_parquet(tmp_path / "responses.parquet")
    contacts = pl.read_parquet(tmp_path / "contacts.parquet")
    transactions = pl.read_parquet(tmp_path / "transactions.parquet")
    # Numbered on across the parts, each contact answered by at most one response, of a real contact.
    assert responses["response_id"].to_list() == [f"R{n:08d}" for n in range(1, 3_501)]
    assert transactions["transaction_id"].n_unique() == 5_250
    linked = responses["contact_id"].drop_nulls()
    assert 0 < linked.len() == linked.n_unique() and set(linked) <= set(contacts["contact_id"])
    # The collections have a row per service, fiscal quarter and channel of every part's responses.
    month = pl.col("submitted_at").dt.month()
    groups = responses.select(
        "service",
        (pl.col("submitted_at").dt.year() + (month >= 10)).alias("fy"),
        (month + 2) % 12 // 3,
        "channel",
    ).n_unique()
    assert counts["collections"] == groups


def test_same_seed_gives_the_same_bytes(tmp_path: Path) -> None:
    runs = [tmp_path / "a", tmp_path / "b", tmp_path / "c"]
    for run, seed in zip(runs, (7, 7, 8), strict=True):
        generate(run, seed=seed, responses=5_000)
    for name in contract.INPUTS:
        assert (runs[0] / f"{name}.parquet").read_bytes() == (runs[1] / f"{name}.parquet").read_bytes()
    assert (runs[0] / "responses.parquet").read_bytes() != (runs[2] / "responses.parquet").read_bytes()


@pytest.mark.parametrize("name", list(contract.INPUTS))
def test_schema_is_the_contract(sample: Path, name: str) -> None:
    expected = [(c.name, POLARS_TYPES[c.type]) for c in contract.INPUTS[name].columns]
    assert list(pl.read_parquet_schema(sample / f"{name}.parquet").items()) == expected


@pytest.mark.parametrize(("name", "column"), COLUMNS, ids=[f"{n}.{c}" for n, c in COLUMNS])
def test_column_keeps_the_contract(data: dict[str, pl.DataFrame], name: str, column: str) -> None:
    rule = contract.INPUTS[name].column(column)
    series = data[name][column]
    assert series.len() > 0
    if not rule.nullable:
        assert series.null_count() == 0
    if rule.allowed is not None:
        assert set(series.drop_nulls().unique()) <= set(rule.allowed)
    if rule.minimum is not None:
        assert number(series.min()) >= rule.minimum
    if rule.maximum is not None:
        assert number(series.max()) <= rule.maximum


@pytest.mark.parametrize("name", list(contract.INPUTS))
def test_keys_are_unique(data: dict[str, pl.DataFrame], name: str) -> None:
    key = contract.INPUTS[name].key.split(", ")
    assert data[name].select(key).is_duplicated().sum() == 0


@pytest.mark.parametrize("name", list(TIME_COLUMN))
def test_every_fiscal_quarter_and_nothing_outside(data: dict[str, pl.DataFrame], name: str) -> None:
    frame = data[name]
    stamps = frame[TIME_COLUMN[name]]
    first, last = moment(stamps.min()), moment(stamps.max())
    assert first >= FIRST and last < END
    assert first < FIRST + timedelta(days=7) and last >= END - timedelta(days=7)
    quarters = set(frame.select("fy", "fq").unique().iter_rows())
    assert quarters == {(fy, q) for fy in range(2023, 2027) for q in range(1, 5)}
    collections = set(data["collections"].select("fiscal_year", "fiscal_quarter").unique().iter_rows())
    assert collections == quarters


def test_linked_responses_follow_their_contact(data: dict[str, pl.DataFrame]) -> None:
    responses, contacts = data["responses"], data["contacts"]
    ids = responses["contact_id"].drop_nulls()
    assert ids.is_in(contacts["contact_id"].implode()).all()
    assert 0.28 <= ids.len() / contacts["answered"].sum() <= 0.38
    both = linked(data)
    assert both.height == ids.len()
    for column in ("service", "channel", "segment", "journey_stage", "language", "urbanicity"):
        assert (both[column] == both[f"{column}_contact"]).all(), column
    assert both["answered"].all()
    assert set(both["channel"].unique()) == set(CONTACT_CHANNELS)
    delay = both["submitted_at"] - both["started_at"]
    assert span(delay.min()) > timedelta(hours=1) and span(delay.max()) < timedelta(days=11)


def test_v1_and_v2_rows_have_their_own_shape(data: dict[str, pl.DataFrame]) -> None:
    responses = data["responses"]
    v1, v2 = (responses.filter(pl.col("survey_version") == v) for v in contract.SURVEY_VERSIONS)
    assert v1.height > 0.4 * SIZE and v2.height > 0.2 * SIZE
    assert (v1["trust_scale"] == "five_point").all() and v1["satisfaction"].null_count() == 0
    assert v1.select(pl.all_horizontal(pl.col(CHECKLISTS).is_null())).to_series().all()
    assert v2.select(pl.all_horizontal(pl.col(ITEMS_AFTER_TRUST).is_null())).to_series().all()
    assert set(v2.filter(pl.col("trust_scale") == "thumbs")["trust"].unique()) == {0, 1}
    assert set(v2.filter(pl.col("trust_scale") == "thumbs")["service"].unique()) == {"Employee HR Services"}
    good = (
        pl.when(pl.col("trust_scale") == "thumbs").then(pl.col("trust") == 1).otherwise(pl.col("trust") >= 4)
    )
    for side, shown in (("positive", good), ("negative", ~good)):
        offered = pl.all_horizontal(pl.col(f"{side}_{d}").is_not_null() for d in contract.V2_DRIVERS)
        hidden = pl.all_horizontal(pl.col(f"{side}_{d}").is_null() for d in contract.V2_DRIVERS)
        assert v2.select(pl.when(shown).then(offered).otherwise(hidden).all()).item(), side


def test_each_service_switches_to_v2_in_fy2024_q2_or_q3(data: dict[str, pl.DataFrame]) -> None:
    assisted = data["responses"].filter(~pl.col("channel").is_in(ONLINE))
    switches = {datetime(2024, 1, 1), datetime(2024, 4, 1)}  # FY2024 Q2 and Q3 start
    for service in assisted["service"].unique():
        rows = assisted.filter(pl.col("service") == service)
        first = rows.filter(pl.col("survey_version") == "v2")["submitted_at"].min()
        assert isinstance(first, datetime), service
        switch = max(day for day in switches if day <= first)
        is_v2 = rows.select(
            (pl.col("survey_version") == "v2") == (pl.col("submitted_at") >= switch)
        ).to_series()
        assert is_v2.all(), service
    online = data["responses"].filter(pl.col("channel").is_in(ONLINE))
    assert (online["survey_version"] == "v1").all()  # the online surveys keep the full v1 battery


def test_v1_optional_items_have_item_nonresponse(data: dict[str, pl.DataFrame]) -> None:
    v1 = data["responses"].filter(pl.col("survey_version") == "v1")
    assisted = v1.filter(~pl.col("channel").is_in((*ONLINE, "self_service_kiosk", "automated_phone")))
    for item in ("effectiveness", "ease", "efficiency", "transparency", "employee", "humanity"):
        assert 0.03 <= assisted[item].null_count() / assisted.height <= 0.27, item
    self_service = v1.filter(pl.col("channel").is_in(ONLINE))
    assert self_service["employee"].null_count() / self_service.height > 0.85


def test_collections_describe_the_responses(data: dict[str, pl.DataFrame]) -> None:
    keys = ["service", "fy", "fq", "channel"]
    counts = (
        data["responses"]
        .group_by(keys)
        .agg(pl.len().alias("respondents"), pl.col("survey_version").first(), pl.col("trust_scale").first())
    )
    joined = data["collections"].join(
        counts, left_on=["service", "fiscal_year", "fiscal_quarter", "channel"], right_on=keys, how="full"
    )
    assert joined.height == data["collections"].height == counts.height
    assert joined["respondents"].null_count() == 0 and joined["customers_offered"].null_count() == 0
    response_rate = joined["respondents"] / joined["customers_offered"]
    offer_rate = joined["customers_offered"] / joined["customers_served"]
    assert number(response_rate.min()) >= 0.05 and number(response_rate.max()) <= 0.26
    assert number(offer_rate.min()) >= 0.29 and number(offer_rate.max()) <= 0.71
    v1 = joined["survey_version"] == "v1"
    assert (
        (joined["trust_question_text"] == "This interaction increased my trust in the agency.") == v1
    ).all()
    assert ((joined["survey_type"] == "thumbs_up_down") == (joined["trust_scale"] == "thumbs")).all()
    assert (joined["publishable"] == (joined["service"] != "Employee HR Services")).all()


def test_weight_is_one_per_respondent(data: dict[str, pl.DataFrame]) -> None:
    assert (data["responses"]["weight"] == 1).all()


def test_equity_dimensions_are_realistic(data: dict[str, pl.DataFrame]) -> None:
    responses, contacts = data["responses"], data["contacts"]
    for dim in ("age_band", "race_ethnicity", "income_band", "urbanicity", "language", "disability"):
        assert 0.03 <= number((responses[dim] == contract.NOT_REPORTED).mean()) <= 0.1, dim
    assert 0.07 <= number((responses["language"] == "Spanish").mean()) <= 0.14
    veterans = responses.group_by(pl.col("segment") == "Employees").agg(
        (pl.col("veteran_status") == "Veteran").mean()
    )
    assert (
        veterans.filter(pl.col("segment"))["veteran_status"].item()
        > 2.5 * veterans.filter(~pl.col("segment"))["veteran_status"].item()
    )
    assert number((contacts["race_ethnicity"] == contract.NOT_REPORTED).mean()) > 0.9
    assert number((contacts["language"] == contract.NOT_REPORTED).mean()) < 0.15


def test_contacts_waits_abandonment_and_resolution(data: dict[str, pl.DataFrame]) -> None:
    contacts = data["contacts"]
    assert 0.04 <= 1 - number(contacts["answered"].mean()) <= 0.15
    assert (contacts["handle_seconds"].is_null() == ~contacts["answered"]).all()
    assert (
        contacts.filter(~pl.col("answered"))["resolved_first_contact"].null_count()
        == contacts.filter(~pl.col("answered")).height
    )
    answered = contacts.filter(pl.col("answered") & (pl.col("fy") != 2025))
    assert 0.6 <= number(answered["resolved_first_contact"].mean()) <= 0.8
    medians = dict(answered.group_by("channel").agg(pl.col("queue_wait_seconds").median() / 60).iter_rows())
    assert (
        3 <= medians["phone"] <= 5.5 and 1 <= medians["live_chat"] <= 2.2 and 9 <= medians["in_person"] <= 16
    )


def test_self_service_share_rises(data: dict[str, pl.DataFrame]) -> None:
    with (ROOT / "sql" / "seeds" / "channels.csv").open() as f:
        self_service = [row["channel"] for row in csv.DictReader(f) if row["self_service"] == "true"]
    shares = (
        data["transactions"]
        .group_by("fy")
        .agg(pl.col("channel").is_in(self_service).mean().alias("share"))
        .sort("fy")["share"]
        .to_list()
    )
    assert 0.4 <= shares[0] <= 0.5 and 0.65 <= shares[-1] <= 0.76
    assert shares == sorted(shares)


def test_survey_channel_mix_moves_online(data: dict[str, pl.DataFrame]) -> None:
    online = data["responses"].group_by("fy").agg(pl.col("channel").is_in(ONLINE).mean()).sort("fy")
    assert online["channel"][-1] >= online["channel"][0] + 0.05


def test_trust_sits_below_satisfaction(data: dict[str, pl.DataFrame]) -> None:
    v1 = data["responses"].filter(pl.col("survey_version") == "v1")
    satisfaction, trust = value(v1, top2("satisfaction")), value(v1, top2("trust"))
    assert 0.75 <= satisfaction <= 0.86
    assert 0.05 <= satisfaction - trust <= 0.15


def test_effectiveness_and_ease_drive_trust(data: dict[str, pl.DataFrame]) -> None:
    v1 = data["responses"].filter(pl.col("survey_version") == "v1")
    drivers = ("effectiveness", "ease", "efficiency", "transparency", "employee", "humanity")
    corr = {d: value(v1.drop_nulls(d), pl.corr("trust", d)) for d in drivers}
    assert sorted(corr, key=corr.__getitem__, reverse=True)[:2] in (
        ["effectiveness", "ease"],
        ["ease", "effectiveness"],
    )
    assert min(corr.values()) > 0.3


def test_pattern_ease_gap_for_rural_older_people_online(data: dict[str, pl.DataFrame]) -> None:
    group = (
        (pl.col("urbanicity") == "Rural") & (pl.col("age_band") == "65+") & pl.col("channel").is_in(ONLINE)
    )
    by = data["responses"].group_by(group.alias("group")).agg(top2("ease"), trust_positive().alias("trust"))
    inside, rest = (
        by.filter(pl.col("group")).row(0, named=True),
        by.filter(~pl.col("group")).row(0, named=True),
    )
    assert 0.2 <= rest["ease"] - inside["ease"] <= 0.36
    assert 0.05 <= rest["trust"] - inside["trust"] <= 0.16
    yearly = (
        data["responses"].group_by("fy", group.alias("group")).agg(top2("ease")).pivot("group", index="fy")
    )
    assert number((yearly["false"] - yearly["true"]).min()) >= 0.15


def test_pattern_disaster_surge_hits_spanish_callers(full_size: dict[str, pl.DataFrame]) -> None:
    data = full_size
    surge = (pl.col("fy") == 2025) & (pl.col("fq") == 4)
    disaster = data["contacts"].filter(pl.col("service") == "Disaster Assistance")
    per_quarter = dict(
        disaster.group_by(surge.alias("surge")).agg(pl.len() / pl.struct("fy", "fq").n_unique()).iter_rows()
    )
    assert per_quarter[True] >= 2.5 * per_quarter[False]
    waits = dict(
        disaster.filter(pl.col("answered") & pl.col("language").is_in(["English", "Spanish"]))
        .group_by(surge.alias("surge"), "language")
        .agg(pl.col("queue_wait_seconds").median())
        .select(pl.concat_str(pl.col("surge"), pl.col("language")), "queue_wait_seconds")
        .iter_rows()
    )
    assert waits["trueEnglish"] >= 2.5 * waits["falseEnglish"]
    assert 2.0 <= waits["trueSpanish"] / waits["trueEnglish"] <= 3.5
    assert waits["falseSpanish"] / waits["falseEnglish"] <= 1.4
    answers = linked(data).filter(pl.col("service") == "Disaster Assistance")
    trust = dict(
        answers.filter(pl.col("language").is_in(["English", "Spanish"]))
        .group_by(surge.alias("surge"), "language")
        .agg(trust_positive())
        .select(pl.concat_str(pl.col("surge"), pl.col("language")), "trust")
        .iter_rows()
    )
    assert trust["falseSpanish"] - trust["trueSpanish"] >= 0.12
    assert trust["trueEnglish"] - trust["trueSpanish"] >= 0.07


def test_pattern_passport_online_redesign(data: dict[str, pl.DataFrame]) -> None:
    online = data["responses"].filter(pl.col("channel").is_in(ONLINE))
    after = (pl.col("fy") > 2025) | ((pl.col("fy") == 2025) & (pl.col("fq") >= 3))
    step = (pl.col("fy") == 2025) & pl.col("fq").is_in([2, 3])
    passport = online.filter(pl.col("service") == "Passport Services")
    by_period = dict(passport.group_by(after.alias("after")).agg(top2("ease")).iter_rows())
    assert 0.08 <= by_period[True] - by_period[False] <= 0.18
    q2, q3 = passport.filter(step).group_by("fq").agg(top2("ease")).sort("fq")["ease"]
    assert q3 - q2 >= 0.07
    others = dict(
        online.filter(pl.col("service") != "Passport Services").group_by(after).agg(top2("ease")).iter_rows()
    )
    assert abs(others[True] - others[False]) < 0.05


def test_pattern_trust_falls_as_waits_grow(data: dict[str, pl.DataFrame]) -> None:
    minutes = pl.col("queue_wait_seconds") / 60
    band = (
        pl.when(minutes < 2)
        .then(0)
        .when(minutes < 5)
        .then(1)
        .when(minutes < 10)
        .then(2)
        .when(minutes < 20)
        .then(3)
    ).otherwise(4)
    shares = linked(data).group_by(band.alias("band")).agg(trust_positive()).sort("band")["trust"].to_list()
    assert len(shares) == 5
    assert all(a > b for a, b in itertools.pairwise(shares))
    assert shares[0] - shares[-1] >= 0.2


def test_pattern_naturalization_wait_stage_is_lowest(data: dict[str, pl.DataFrame]) -> None:
    naturalization = data["responses"].filter(pl.col("service") == "Naturalization")
    by_stage = dict(naturalization.group_by("journey_stage").agg(trust_positive()).iter_rows())
    wait = by_stage.pop("Wait")
    assert wait <= min(by_stage.values()) - 0.08


def test_a_failed_write_leaves_no_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_table = pq.ParquetWriter.write_table
    calls = {"left": 0}

    def crash(writer: pq.ParquetWriter, table: object) -> None:
        if calls["left"] == 0:
            raise OSError("disk full")
        calls["left"] -= 1
        write_table(writer, table)

    monkeypatch.setattr(pq.ParquetWriter, "write_table", crash)
    with pytest.raises(OSError, match="disk full"):
        generate(tmp_path / "first", responses=1_000)
    assert not list((tmp_path / "first").iterdir())  # neither an input nor the temporary file
    # Failing in the responses' second part: the files written before stay, without responses.parquet,
    # which is what marks a complete set.
    monkeypatch.setattr("sample_data.generator.PART_ROWS", 600)
    calls["left"] = 1 + 3 + 1
    with pytest.raises(OSError, match="disk full"):
        generate(tmp_path / "parts", responses=1_000)
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == [
        "contacts.parquet",
        "transactions.parquet",
    ]
