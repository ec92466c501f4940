"""Linking the same shooting across sources (issue 23, item 2): ``gvrs link`` on two sources
built from one simulated set of events, each missing some, with times shifted and points
moved: precision and recall of the linked pairs against the truth."""

from __future__ import annotations

import datetime as dt
import io
import json

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gvrs.analysis.linkage import link_incidents, precision_recall
from gvrs.data.mapping import load_format
from gvrs.data.simulate import simulate
from gvrs.incidents.importing import import_file

M_PER_DEGREE = 111_320.0


def test_linkage_is_one_to_one_and_prefers_the_closer_pair():
    a = pd.DataFrame({"day": [0, 0], "minute": [600.0, 630.0], "place": [1, 1],
                      "lat": [40.0, 40.0], "lon": [-75.0, -75.0], "killed": [0, 0],
                      "injured": [1, 1]})  # fmt: skip
    b = a.iloc[[1]].assign(minute=[628.0])
    found = link_incidents(a, b)
    assert found.pairs.tolist() == [[1, 0]]
    assert found.only_a.tolist() == [0] and found.only_b.tolist() == []
    # Another place, or two people apart, is never the same event.
    assert len(link_incidents(a, b.assign(place=[2])).pairs) == 0
    assert len(link_incidents(a, b.assign(injured=[3])).pairs) == 0


def _source(rows: pd.DataFrame, tag: str, rng, keep_share: float) -> tuple[pd.DataFrame, set]:
    """The simulated rows as one source sees them: some events missing, each event's time
    shifted (normal, sd 15 minutes) and point moved (normal, sd 60 m each way)."""
    events = rows["source_id"].unique()
    kept = set(events[rng.random(len(events)) < keep_share])
    out = rows[rows["source_id"].isin(kept)].copy()
    shift = {e: round(rng.normal(0, 15)) for e in kept}
    move = {e: rng.normal(0, 60, size=2) for e in kept}
    when = pd.to_datetime(out["occurred_at"]) + pd.to_timedelta(
        out["source_id"].map(shift), unit="min"
    )
    out["occurred_at"] = when.dt.strftime("%Y-%m-%dT%H:%M")
    lat = out["latitude"].astype(float)
    out["latitude"] = (lat + out["source_id"].map(lambda e: move[e][0]) / M_PER_DEGREE).round(6)
    out["longitude"] = (
        out["longitude"].astype(float)
        + out["source_id"].map(lambda e: move[e][1]) / (M_PER_DEGREE * np.cos(np.radians(lat)))
    ).round(6)
    out["source_id"] = tag + "-" + out["source_id"]
    return out, kept


@pytest.mark.django_db
def test_link_finds_the_same_events_in_two_simulated_sources(tmp_path):
    city = simulate("bakersfield-like", years=(2021, 2022), seed=23)
    rows = city.incident_rows.astype({"victim_age": "string"})
    rng = np.random.default_rng(23)
    a, kept_a = _source(rows, "A", rng, 0.85)
    b, kept_b = _source(rows, "B", rng, 0.80)
    for name, frame in (("sim-a", a), ("sim-b", b)):
        path = tmp_path / f"{name}.csv"
        frame.to_csv(path, index=False)
        report = import_file(
            path,
            load_format("gvrs"),
            source=name,
            state="CA",
            new_places=True,
            covers_from=dt.date(2021, 1, 1),
            covers_through=dt.date(2022, 12, 31),
        )
        assert report.ok, report.errors[:3]
    out = io.StringIO()
    pairs = tmp_path / "pairs.csv"
    call_command("link", "--source", "sim-a", "--source", "sim-b", "--pairs", str(pairs),
                 "--format", "json", stdout=out)  # fmt: skip
    records = json.loads(out.getvalue())
    linked = pd.read_csv(pairs, dtype=str)
    found = {(x, y) for x, y in linked.itertuples(index=False)}
    truth = {(f"A-{e}", f"B-{e}") for e in kept_a & kept_b}
    precision, recall = precision_recall(found, truth)
    print(f"linkage: {len(truth)} true pairs, {len(found)} linked, "
          f"precision {precision:.4f}, recall {recall:.4f}")  # fmt: skip
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    total = next(r for r in records if r["year"] == "all")
    assert total["matched"] == len(found)
    assert total["matched"] + total["only_a"] == len(kept_a)
    assert total["matched"] + total["only_b"] == len(kept_b)
    assert {r["year"] for r in records} == {"2021", "2022", "all"}
    with pytest.raises(CommandError, match="give --source twice"):
        call_command("link", "--source", "sim-a")
