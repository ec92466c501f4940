"""One place, one code; a place's own slug names it (issue 23, item 6)."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from gvrs.data.mapping import parse_mapping
from gvrs.incidents.importing import import_file
from gvrs.incidents.importing.places import PlaceError
from gvrs.incidents.lookup import find_jurisdiction
from gvrs.incidents.models import Incident, Jurisdiction
from tests.importing_helpers import row, write_csv

pytestmark = pytest.mark.django_db

CODED = {"format": {"name": "coded", "identity": True}, "place": {"ori": "agency_ori"}}


def _broomfield(tmp_path, second_ori: str):
    rows = [
        {**row("H-1", jurisdiction="CO > Broomfield", area=""), "agency_ori": "CO00702"},
        {**row("H-2", jurisdiction="CO > Broomfield", area=""), "agency_ori": second_ori},
    ]
    return write_csv(tmp_path / "fbi.csv", rows, header=list(rows[0]))


@pytest.mark.parametrize("chunk_rows", [10_000, 1])
def test_one_file_giving_a_place_two_codes_is_refused(tmp_path, chunk_rows):
    # An FBI homicide file gives Broomfield, CO both CO00702 and CO06401 (issue 23).
    path = _broomfield(tmp_path, "CO06401")
    mapping = parse_mapping(CODED, "coded.toml")
    with pytest.raises(PlaceError, match=r"'CO > Broomfield' is given two ORIs, 'CO00702' and "
                       r"'CO06401'"):  # fmt: skip
        import_file(path, mapping, new_places=True, chunk_rows=chunk_rows)
    assert not Incident.objects.exists()


def test_the_same_code_twice_is_one_place(tmp_path):
    report = import_file(
        _broomfield(tmp_path, "CO00702"), parse_mapping(CODED, "coded.toml"), new_places=True
    )
    assert report.ok
    assert Jurisdiction.objects.get(name="Broomfield").ori == "CO00702"


def test_a_places_own_slug_names_it_though_its_name_is_ambiguous():
    states = {}
    for code, name in (("IL", "Illinois"), ("MA", "Massachusetts"), ("MO", "Missouri")):
        states[code] = Jurisdiction.objects.create(
            name=name, slug=name.lower(), level="state", state=code
        )
    for code, slug in (("IL", "springfield"), ("MA", "springfield-ma"), ("MO", "springfield-mo")):
        Jurisdiction.objects.create(name="Springfield", slug=slug, parent=states[code], state=code)
    assert find_jurisdiction("springfield").state == "IL"
    assert find_jurisdiction("springfield-mo").state == "MO"
    with pytest.raises(CommandError, match=r"ambiguous.*slug springfield-ma"):
        find_jurisdiction("Springfield")
