"""``gvrs nearrepeat``, ``gvrs hotspots`` and ``gvrs contagion`` over a simulated county in
the registry: the JSON contract, maps written, and clear errors."""

from __future__ import annotations

import io
import json
import struct

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.data.simulate.output import write_city
from gvrs.incidents.importing import import_file
from gvrs.incidents.models import Incident

pytestmark = pytest.mark.django_db
CELL_KEYS = {
    "space_from_m",
    "space_to_m",
    "time_from_days",
    "time_to_days",
    "observed",
    "expected",
    "knox_ratio",
    "p_value",
}


@pytest.fixture
def county(tmp_path):
    city = simulate("bakersfield-like", years=(2019, 2022), seed=2)
    paths = write_city(city, tmp_path / "sim")
    import_file(paths["incidents.csv"], load_format("gvrs"))
    # One incident without coordinates: it must be counted as dropped, never silently.
    Incident.objects.filter(pk=Incident.objects.order_by("pk").first().pk).update(
        latitude=None, longitude=None
    )


def run(*args: str) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_nearrepeat_json_has_the_documented_cells(county):
    result = json.loads(
        run(
            "nearrepeat",
            "--metric",
            "shooting_incidents",
            "--jurisdiction",
            "Bakersfield-like",
            "--space-bands",
            "100,200,400",
            "--time-bands",
            "7,14,28",
            "--permutations",
            "99",
            "--seed",
            "1",
            "--format",
            "json",
        )
    )
    assert len(result["cells"]) == 9
    assert set(result["cells"][0]) == CELL_KEYS
    assert result["crs"].startswith("EPSG:326")  # UTM north, chosen from the data
    assert result["cells"][0]["knox_ratio"] > 1  # the simulator's near repeats
    assert result["band_edges"].startswith("left: every band [lower, upper)")
    outer = result["outer_cells"]
    assert len(outer) == 7 and outer[-1]["space_to_m"] is None and outer[-1]["time_to_days"] is None
    # Every pair of events is in one cell: the bands' cells plus the "More than" ones.
    n = result["events"]
    assert sum(c["observed"] for c in result["cells"] + outer) == n * (n - 1) // 2


def test_dropped_points_are_reported(county):
    result = json.loads(
        run(
            "nearrepeat",
            "--jurisdiction",
            "Kern-like County",
            "--permutations",
            "9",
            "--format",
            "json",
        )
    )
    assert result["dropped_without_coordinates"] in (0, 1)  # 1 when that incident is a shooting
    text = run("nearrepeat", "--jurisdiction", "Kern-like County", "--permutations", "9")
    assert "without coordinates left out" in text


def test_hotspots_scores_weeks_and_writes_both_maps(county, tmp_path):
    png, html = tmp_path / "hot.png", tmp_path / "hot.html"
    result = json.loads(
        run(
            "hotspots",
            "--jurisdiction",
            "Kern-like County",
            "--weeks",
            "8",
            "--map",
            str(png),
            "--format",
            "json",
        )
    )
    assert result["weeks_scored"] + result["weeks_without_incidents"] == 8
    assert result["mean_pai"] > 1
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png.read_bytes()[16:24])
    assert width == 1200 and height >= 500  # readable at 1,200 px
    run("hotspots", "--jurisdiction", "Kern-like County", "--weeks", "4", "--map", str(html))
    page = html.read_text()
    # Plotly's JavaScript is embedded from the installed package: no script from a CDN.
    assert len(page) > 1_000_000
    assert '<script src="http' not in page and "<script src='http" not in page
    # What, from when, and in which unit; the surface placed on the globe, not in UTM metres.
    assert "Hot spots: Shooting incidents" in page
    assert "from incidents to " in page and "where the week from " in page
    assert "incidents per km\\u00b2, last 365 days" in page or "incidents per km²" in page
    assert '"sourcetype":"image"' in page.replace(" ", "")
    # The incidents of those days are drawn above the surface, as the PNG has them: a second
    # image (a scatter trace would need a worker that Chromium refuses a page opened as a file).
    assert "red dots: the incidents of those days" in page
    assert page.replace(" ", "").count('"sourcetype":"image"') == 2


def test_contagion_reports_the_branching_ratio_with_intervals(county, tmp_path):
    result = json.loads(
        run(
            "contagion",
            "--jurisdiction",
            "Kern-like County",
            "--map",
            str(tmp_path / "risk.png"),
            "--format",
            "json",
        )
    )
    assert 0 < result["branching_ratio"] < 0.5
    assert result["branching_ratio_measures"].startswith("near-repeat triggering only")
    assert set(result["intervals_90"]) == {"branching_ratio", "decay_days", "spatial_scale_m"}
    for name, (low, high) in result["intervals_90"].items():
        assert low <= result[name] <= high
    assert result["converged"] and result["iterations"] > 1
    assert result["kernel_mass_captured"] > 0.9
    assert struct.unpack(">I", (tmp_path / "risk.png").read_bytes()[16:20])[0] == 1200


def test_nearrepeat_in_the_near_repeat_calculators_layout(county):
    args = ["nearrepeat", "--jurisdiction", "Bakersfield-like", "--space-bands", "100,200,300"]
    args += ["--time-bands", "7,14,21", "--permutations", "19"]
    text = run(*args, "--format", "nrc")
    assert "Observed over mean expected frequencies table" in text
    assert "Statistical significance table" in text
    for label in ("Same location", "1 to 100 meters", "More than 300 meters", "8 to 14 days"):
        assert label in text
    assert "8 to 14 days: [7, 14) days" in text
    right = run(*args, "--format", "nrc", "--band-edges", "right")
    assert "8 to 14 days: (7, 14] days" in right


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["nearrepeat", "--jurisdiction", "Kern-like County", "--space-bands", "400,100"],
            "space bands must be positive and increasing",
        ),
        (
            ["nearrepeat", "--jurisdiction", "Kern-like County", "--time-bands", "a,b"],
            "give numbers like 100,200,400",
        ),
        (
            ["hotspots", "--jurisdiction", "Kern-like County", "--map", "out.gif"],
            "a map is written as .png or .html",
        ),
    ],
)
def test_bad_settings_are_usage_errors(county, args, message):
    with pytest.raises(CommandError, match=message) as caught:
        run(*args)
    assert caught.value.returncode == 2


def test_too_few_events_is_a_clear_error(county):
    with pytest.raises(CommandError, match="needs at least 20 events"):
        run(
            "contagion",
            "--jurisdiction",
            "Kern-like County",
            "--metric",
            "homicides",
            "--to",
            "2019-01-31",
        )


def test_nearrepeat_and_contagion_give_the_same_answer_on_one_thread_and_two(county):
    knox = ["nearrepeat", "--jurisdiction", "Bakersfield-like", "--permutations", "99"]
    knox += ["--format", "json"]
    assert run(*knox, "--threads", "1") == run(*knox, "--threads", "2")
    fit = ["contagion", "--jurisdiction", "Bakersfield-like", "--format", "json"]
    assert run(*fit, "--threads", "1") == run(*fit, "--threads", "all")


@pytest.mark.parametrize("command", ["nearrepeat", "contagion", "hotspots", "area_risk"])
@pytest.mark.parametrize(
    ("threads", "variable", "message"),
    [
        ("0", None, "--threads 0: give at least 1 thread"),
        ("two", None, "--threads two: not a whole number"),
        ("4096", None, "--threads 4096: more than the"),
        (None, "-1", "GVRS_THREADS='-1': give at least 1 thread"),
        (None, "1.5", "GVRS_THREADS='1.5': not a whole number"),
    ],
)
def test_bad_thread_counts_are_usage_errors_naming_the_option_or_variable(
    settings, command, threads, variable, message
):
    if variable is not None:
        settings.GVRS_THREADS = variable
    args = [command, "--jurisdiction", "Kern-like County"]
    with pytest.raises(CommandError, match=message) as caught:
        run(*args, *(["--threads", threads] if threads else []))
    assert caught.value.returncode == 2


def test_the_threads_option_wins_over_the_variable(county, settings):
    settings.GVRS_THREADS = "none please"
    args = ["nearrepeat", "--jurisdiction", "Bakersfield-like", "--permutations", "9"]
    with pytest.raises(CommandError, match="GVRS_THREADS='none please'"):
        run(*args)
    assert "Knox ratios" in run(*args, "--threads", "1")
