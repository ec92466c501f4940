"""US states (and DC and the territories): USPS codes, names and IANA time zones.

A place belongs to one state and is matched by its path inside that state, never by a bare name
across states. A file names a state by its code ("CA") or its name ("California"), in any case.

Most states keep one zone. Where a state spans two, the counties on the other side are listed
(``ZONE_BY_COUNTY``); a place takes the zone of its county, or its state's main zone.
"""

from __future__ import annotations

# code: (name, main IANA zone)
STATES: dict[str, tuple[str, str]] = {
    "AL": ("Alabama", "America/Chicago"),
    "AK": ("Alaska", "America/Anchorage"),
    "AZ": ("Arizona", "America/Phoenix"),
    "AR": ("Arkansas", "America/Chicago"),
    "CA": ("California", "America/Los_Angeles"),
    "CO": ("Colorado", "America/Denver"),
    "CT": ("Connecticut", "America/New_York"),
    "DE": ("Delaware", "America/New_York"),
    "DC": ("District of Columbia", "America/New_York"),
    "FL": ("Florida", "America/New_York"),
    "GA": ("Georgia", "America/New_York"),
    "HI": ("Hawaii", "Pacific/Honolulu"),
    "ID": ("Idaho", "America/Boise"),
    "IL": ("Illinois", "America/Chicago"),
    "IN": ("Indiana", "America/Indiana/Indianapolis"),
    "IA": ("Iowa", "America/Chicago"),
    "KS": ("Kansas", "America/Chicago"),
    "KY": ("Kentucky", "America/New_York"),
    "LA": ("Louisiana", "America/Chicago"),
    "ME": ("Maine", "America/New_York"),
    "MD": ("Maryland", "America/New_York"),
    "MA": ("Massachusetts", "America/New_York"),
    "MI": ("Michigan", "America/Detroit"),
    "MN": ("Minnesota", "America/Chicago"),
    "MS": ("Mississippi", "America/Chicago"),
    "MO": ("Missouri", "America/Chicago"),
    "MT": ("Montana", "America/Denver"),
    "NE": ("Nebraska", "America/Chicago"),
    "NV": ("Nevada", "America/Los_Angeles"),
    "NH": ("New Hampshire", "America/New_York"),
    "NJ": ("New Jersey", "America/New_York"),
    "NM": ("New Mexico", "America/Denver"),
    "NY": ("New York", "America/New_York"),
    "NC": ("North Carolina", "America/New_York"),
    "ND": ("North Dakota", "America/Chicago"),
    "OH": ("Ohio", "America/New_York"),
    "OK": ("Oklahoma", "America/Chicago"),
    "OR": ("Oregon", "America/Los_Angeles"),
    "PA": ("Pennsylvania", "America/New_York"),
    "RI": ("Rhode Island", "America/New_York"),
    "SC": ("South Carolina", "America/New_York"),
    "SD": ("South Dakota", "America/Chicago"),
    "TN": ("Tennessee", "America/Chicago"),
    "TX": ("Texas", "America/Chicago"),
    "UT": ("Utah", "America/Denver"),
    "VT": ("Vermont", "America/New_York"),
    "VA": ("Virginia", "America/New_York"),
    "WA": ("Washington", "America/Los_Angeles"),
    "WV": ("West Virginia", "America/New_York"),
    "WI": ("Wisconsin", "America/Chicago"),
    "WY": ("Wyoming", "America/Denver"),
    "AS": ("American Samoa", "Pacific/Pago_Pago"),
    "GU": ("Guam", "Pacific/Guam"),
    "MP": ("Northern Mariana Islands", "Pacific/Saipan"),
    "PR": ("Puerto Rico", "America/Puerto_Rico"),
    "VI": ("U.S. Virgin Islands", "America/St_Thomas"),
}

# Counties on the other side of a state's zone line (county names without "County").
_SPLIT: dict[str, dict[str, tuple[str, ...]]] = {
    "AK": {"America/Adak": ("Aleutians West",)},
    "FL": {
        "America/Chicago": (
            "Bay",
            "Calhoun",
            "Escambia",
            "Holmes",
            "Jackson",
            "Okaloosa",
            "Santa Rosa",
            "Walton",
            "Washington",
        )
    },
    "ID": {
        "America/Los_Angeles": (
            "Benewah",
            "Bonner",
            "Boundary",
            "Clearwater",
            "Kootenai",
            "Latah",
            "Lewis",
            "Nez Perce",
            "Shoshone",
        )
    },
    "IN": {
        "America/Chicago": (
            "Gibson",
            "Jasper",
            "Lake",
            "LaPorte",
            "Newton",
            "Porter",
            "Posey",
            "Spencer",
            "Vanderburgh",
            "Warrick",
        )
    },
    "KS": {"America/Denver": ("Greeley", "Hamilton", "Sherman", "Wallace")},
    "KY": {
        "America/Chicago": (
            "Ballard",
            "Caldwell",
            "Calloway",
            "Christian",
            "Crittenden",
            "Daviess",
            "Fulton",
            "Graves",
            "Henderson",
            "Hickman",
            "Hopkins",
            "Livingston",
            "Lyon",
            "Marshall",
            "McCracken",
            "McLean",
            "Muhlenberg",
            "Todd",
            "Trigg",
            "Union",
            "Warren",
            "Webster",
        )
    },
    "MI": {"America/Menominee": ("Dickinson", "Gogebic", "Iron", "Menominee")},
    "ND": {
        "America/Denver": (
            "Adams",
            "Billings",
            "Bowman",
            "Dunn",
            "Golden Valley",
            "Grant",
            "Hettinger",
            "Slope",
            "Stark",
        )
    },
    "NE": {
        "America/Denver": (
            "Banner",
            "Box Butte",
            "Chase",
            "Cheyenne",
            "Dawes",
            "Deuel",
            "Dundy",
            "Garden",
            "Kimball",
            "Morrill",
            "Perkins",
            "Scotts Bluff",
            "Sheridan",
            "Sioux",
        )
    },
    "OR": {"America/Boise": ("Malheur",)},
    "SD": {
        "America/Denver": (
            "Bennett",
            "Butte",
            "Corson",
            "Custer",
            "Dewey",
            "Fall River",
            "Haakon",
            "Harding",
            "Jackson",
            "Lawrence",
            "Meade",
            "Pennington",
            "Perkins",
            "Oglala Lakota",
            "Stanley",
            "Ziebach",
        )
    },
    "TN": {
        "America/New_York": (
            "Anderson",
            "Blount",
            "Bradley",
            "Campbell",
            "Carter",
            "Claiborne",
            "Cocke",
            "Grainger",
            "Greene",
            "Hamblen",
            "Hamilton",
            "Hancock",
            "Hawkins",
            "Jefferson",
            "Johnson",
            "Knox",
            "Loudon",
            "McMinn",
            "Meigs",
            "Monroe",
            "Morgan",
            "Polk",
            "Rhea",
            "Roane",
            "Scott",
            "Sevier",
            "Sullivan",
            "Unicoi",
            "Union",
            "Washington",
        )
    },
    "TX": {"America/Denver": ("El Paso", "Hudspeth")},
}

ZONE_BY_COUNTY: dict[tuple[str, str], str] = {
    (state, county.casefold()): zone
    for state, zones in _SPLIT.items()
    for zone, counties in zones.items()
    for county in counties
}

# Other spellings sources use (FiveThirtyEight writes "D.C.").
_ALIASES = {"d.c.": "DC", "washington, d.c.": "DC", "washington d.c.": "DC"}

_BY_TEXT: dict[str, str] = {
    **{code.casefold(): code for code in STATES},
    **{name.casefold(): code for code, (name, _) in STATES.items()},
    **_ALIASES,
}


class StateError(ValueError):
    """A state code or name that is not a US state, DC or territory."""


def state_code(text: str) -> str | None:
    """'CA', 'ca' or 'California' -> 'CA'; None when the text names no state."""
    return _BY_TEXT.get(text.strip().casefold())


def require_state(text: str, where: str) -> str:
    """The state's code, or StateError naming ``where`` and the valid codes."""
    code = state_code(text)
    if code is None:
        raise StateError(
            f"{where}: {text!r} is not a US state; give its USPS code or name "
            f"(e.g. CA or California; codes: {', '.join(sorted(STATES))})"
        )
    return code


def state_name(code: str) -> str:
    return STATES[code][0]


def state_zone(code: str, county: str | None = None) -> str:
    """The IANA zone of a place in ``code`` (and ``county``, where the state has two)."""
    if county:
        key = county.strip().removesuffix(" County").removesuffix(" Parish").strip().casefold()
        zone = ZONE_BY_COUNTY.get((code, key))
        if zone:
            return zone
    return STATES[code][1]
