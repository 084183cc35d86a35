"""`cx alerts`: on the sample `make run` serves it finds the planted events and stays quiet in a
quarter where nothing was planted; text, JSON, exit status and bad requests; mailed to a local SMTP
server with the findings attached and no hidden cell."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import OTHERS, write_inputs
from test_access import GRANTS
from test_mail import Inbox, relay  # noqa: F401 (the local SMTP server fixture)

from cx.cli import main
from metrics.analyses import gaps
from metrics.analyses.alerts import widening
from metrics.compare import Difference
from metrics.formatting import SUPPRESSED


def told(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[dict[str, Any]]]:
    status = main(["alerts", *args, "--format", "json"])
    return status, json.loads(capsys.readouterr().out)


def has(found: list[dict[str, Any]], quarter: str, kind: str, metric: str, *groups: str) -> bool:
    return any(
        a["quarter"] == quarter
        and a["kind"] == kind
        and a["metric"] == metric
        and all(g in a["group"] for g in groups)
        for a in found
    )


@pytest.mark.slow
def test_alerts_find_the_planted_events_and_nothing_where_nothing_was_planted(
    full_sample_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, found = told(
        capsys, "--since", "FY2025Q3", "--until", "FY2025Q4", "--data-dir", str(full_sample_dir)
    )
    assert status == 1
    # The online passport redesign: ease up 13 points in FY2025 Q3.
    assert has(found, "FY2025 Q3", "improvement", "ease", "service=Passport Services")
    # The disaster surge: waits for Disaster Assistance in FY2025 Q4.
    assert has(found, "FY2025 Q4", "decline", "wait_median", "service=Disaster Assistance")
    # Spanish-language callers who waited: their gap on trust after a contact widened.
    assert has(
        found,
        "FY2025 Q4",
        "equity gap widened",
        "trust_after_contact",
        "language=Spanish",
        "service=Disaster Assistance",
    )
    # FY2026 Q2: nothing was planted. No decline, missed target, outcome off track or widened gap.
    status, quiet = told(
        capsys, "--since", "FY2026Q2", "--until", "FY2026Q2", "--data-dir", str(full_sample_dir)
    )
    assert [a["kind"] for a in quiet if a["kind"] != "improvement"] == []
    assert len(quiet) <= 1  # one improvement at most: what Holm's adjustment allows by chance


def test_text_json_and_exit_status(sample_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["alerts", "--since", "FY2025Q4", "--until", "FY2025Q4", "--data-dir", str(sample_dir)])
    text = capsys.readouterr().out
    assert status == 1
    assert text.startswith("What changed from FY2025 Q4 to FY2025 Q4")
    assert "Median wait rose" in text and "Disaster Assistance" in text
    status, found = told(capsys, "--since", "FY2025Q4", "--until", "FY2025Q4", "--data-dir", str(sample_dir))
    assert status == 1 and found and {"quarter", "kind", "metric", "group", "text"} <= set(found[0])
    assert SUPPRESSED not in json.dumps(found)  # every number is one a page shows


def test_nothing_to_say_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The same answers every quarter: nothing moved.
    from datetime import datetime

    rows = [
        {"submitted_at": datetime(2025, m, 15), "trust": t, "ease": 4}
        for m in (1, 4, 7, 10)
        for t in (5, 5, 5, 1) * 10
    ]
    folder = write_inputs(tmp_path / "data", responses=rows)
    status = main(["alerts", "--since", "latest", "--data-dir", str(folder)])
    assert status == 0
    assert capsys.readouterr().out.startswith("Nothing to report from FY2026 Q1 to FY2026 Q1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "spring"], "--since: 'spring' is not a fiscal quarter"),
        (["--since", "FY2026Q4", "--until", "FY2026Q1"], "--since FY2026 Q4 is after --until FY2026 Q1"),
        (["--since", "FY2026Q4", "--mail-to", "leaders"], "--mail-to 'leaders' is not an e-mail address"),
    ],
)
def test_bad_requests_are_named(
    sample_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main(["alerts", *args, "--data-dir", str(sample_dir)]) == 2
    assert message in capsys.readouterr().err


def test_alerts_are_mailed_with_the_findings_attached(
    relay: tuple[Inbox, int],  # noqa: F811
    sample_dir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    inbox, _ = relay
    status = main(
        [
            "alerts",
            "--since",
            "FY2025Q4",
            "--until",
            "FY2025Q4",
            "--data-dir",
            str(sample_dir),
            "--mail-to",
            "leaders@agency.gov",
        ]
    )
    assert status == 1
    printed = capsys.readouterr().out
    ((sender, recipients, message),) = inbox.received
    assert sender == "cx-briefings@agency.gov"
    assert recipients == ["leaders@agency.gov"]
    assert message["Subject"].startswith("CX alerts: ") and message["Subject"].endswith(
        "from FY2025 Q4 to FY2025 Q4"
    )
    body = message.get_body(("plain",))
    assert body is not None and body.get_content().replace("\r\n", "\n") == printed
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "cx-alerts-FY2025Q4-FY2025Q4.json"
    found = json.loads(attachment.get_content())
    assert found and all(a["quarter"] == "FY2025 Q4" for a in found)
    assert SUPPRESSED not in printed


def test_with_an_access_file_alerts_are_for_one_person_and_their_services(
    sample_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "access.toml"
    path.write_text(GRANTS, encoding="utf-8")
    monkeypatch.setenv("CX_ACCESS_FILE", str(path))
    base = ["--since", "FY2025Q4", "--until", "FY2025Q4", "--data-dir", str(sample_dir)]
    assert main(["alerts", *base]) == 2
    assert "give --as ADDRESS, the person the alerts are for" in capsys.readouterr().err
    assert main(["alerts", *base, "--as", "sam@elsewhere.example.org"]) == 2
    assert "grants this address no service" in capsys.readouterr().err
    everyone = told(capsys, *base, "--as", "dee@cx-office.example.gov")[1]
    assert any("Disaster Assistance" in a["text"] for a in everyone)
    _, mine = told(capsys, *base, "--as", "pat@passports.example.gov")
    assert not any(other in a["text"] for a in mine for other in OTHERS)


def _gap(agreeing: int, n: int, rest_agreeing: int, rest_n: int) -> gaps.Gap:
    """A group's share against everyone in the view (the group and a rest)."""
    overall = (agreeing + rest_agreeing) / (n + rest_n)
    group, reference = {"value": agreeing / n, "n": n}, {"value": overall, "n": n + rest_n}
    return gaps.Gap(
        "trust", "language", "Spanish", None, group, reference, Difference(agreeing / n - overall, None), None
    )


def test_a_gap_widens_beyond_noise_only_counting_the_groups_own_noise() -> None:
    # 0 of 10 now, 3 of 10 before, the rest 700 of 1,000 both times. Gaps: 0 - 700/1,010 = -0.693069
    # and 0.3 - 703/1,010 = -0.396040: wider by -0.297030. Each gap's error, one more answer each way in
    # the group and the rest, (1,000/1,010) sqrt(p(1-p)/12 + r(1-r)/1,002) with r = 701/1,002: now
    # p = 1/12, 0.080286; before p = 4/12, 0.135496; together 0.157497: z = -1.8859, p = 0.0593, within
    # noise. The group's own p(1-p)/10 would be 0 at 0 of 10: errors 0.014348 and 0.144195, z = -2.050,
    # p = 0.040, beyond noise, where Fisher's exact test of 0 of 10 against 3 of 10 gives 0.21.
    found = widening(_gap(0, 10, 700, 1000), _gap(3, 10, 700, 1000), "share", 10)
    assert found is not None and found.delta == pytest.approx(-0.297030, abs=1e-6)
    assert found.z == pytest.approx(-1.88594, rel=1e-4) and found.p == pytest.approx(0.05930, rel=1e-3)
    assert not found.significant
    # 0 of 15 against 5 of 15: wider by -0.689655 + 0.361248 = -0.328407; errors 0.058006 (p = 1/17)
    # and 0.115080 (p = 6/17), together 0.128872: z = -2.5483, p = 0.01082, beyond noise.
    found = widening(_gap(0, 15, 700, 1000), _gap(5, 15, 700, 1000), "share", 10)
    assert found is not None and found.z == pytest.approx(-2.54833, rel=1e-4) and found.significant
    # A mean has no gap error to test by: not tested.
    assert widening(_gap(0, 15, 700, 1000), _gap(5, 15, 700, 1000), "mean", 10) is None


def test_without_survey_answers_the_waits_are_still_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # No responses file: `cx alerts` said "no survey responses in the data" and reported nothing, though
    # the waits halved. 40 waits of 9 to 11 minutes in FY2026 Q3, 40 of 4 to 6 in FY2026 Q4: the median
    # fell by 5 minutes, far beyond its noise.
    from datetime import datetime

    contacts = [
        {"started_at": when, "queue_wait_seconds": wait + 10.0 * (i % 13 - 6), "answered": True}
        for when, wait in ((datetime(2026, 5, 15, 10), 600.0), (datetime(2026, 8, 15, 10), 300.0))
        for i in range(40)
    ]
    folder = write_inputs(tmp_path / "data", contacts=contacts)
    (folder / "responses.parquet").unlink()
    status, found = told(capsys, "--since", "FY2026Q4", "--data-dir", str(folder), "--min-n", "1")
    assert status == 1
    assert has(found, "FY2026 Q4", "improvement", "wait_median")
    assert not [a for a in found if a["metric"] in ("trust", "ease")]
    main(["alerts", "--since", "FY2026Q4", "--data-dir", str(folder), "--min-n", "1"])
    assert "responses cannot be used, so the measures that read it are left out" in capsys.readouterr().err
