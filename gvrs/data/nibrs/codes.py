"""The NIBRS codes gvrs reads, as the FBI's NIBRS Technical Specification (2019.1) lists them.

A flat-file or XML submission carries these codes themselves; a Crime Data Explorer download
carries ids that its own lookup tables turn into the same codes (ids change between years,
codes do not). Labels are the specification's own wording; the registry stores the labels
of sex, race, ethnicity and the person fields, so a breakdown reads the same from any source.
"""

from __future__ import annotations

# Data Element 6 (UCR Offense Code): the Group A offenses (Appendix A.1). Group B offenses
# (90A-90Z) are reported only as arrests (level 7), never as incidents.
GROUP_A_OFFENSES = {
    "720": "Animal Cruelty",
    "200": "Arson",
    "13A": "Aggravated Assault",
    "13B": "Simple Assault",
    "13C": "Intimidation",
    "510": "Bribery",
    "220": "Burglary/Breaking & Entering",
    "250": "Counterfeiting/Forgery",
    "290": "Destruction/Damage/Vandalism of Property",
    "35A": "Drug/Narcotic Violations",
    "35B": "Drug Equipment Violations",
    "270": "Embezzlement",
    "210": "Extortion/Blackmail",
    "26A": "False Pretenses/Swindle/Confidence Game",
    "26B": "Credit Card/Automated Teller Machine Fraud",
    "26C": "Impersonation",
    "26D": "Welfare Fraud",
    "26E": "Wire Fraud",
    "26F": "Identity Theft",
    "26G": "Hacking/Computer Invasion",
    "26H": "Money Laundering",
    "39A": "Betting/Wagering",
    "39B": "Operating/Promoting/Assisting Gambling",
    "39C": "Gambling Equipment Violations",
    "39D": "Sports Tampering",
    "09A": "Murder and Non-negligent Manslaughter",
    "09B": "Negligent Manslaughter",
    "09C": "Justifiable Homicide",
    "64A": "Human Trafficking, Commercial Sex Acts",
    "64B": "Human Trafficking, Involuntary Servitude",
    "100": "Kidnapping/Abduction",
    "23A": "Pocket-picking",
    "23B": "Purse-snatching",
    "23C": "Shoplifting",
    "23D": "Theft From Building",
    "23E": "Theft From Coin-Operated Machine or Device",
    "23F": "Theft From Motor Vehicle",
    "23G": "Theft of Motor Vehicle Parts or Accessories",
    "23H": "All Other Larceny",
    "240": "Motor Vehicle Theft",
    "370": "Pornography/Obscene Material",
    "40A": "Prostitution",
    "40B": "Assisting or Promoting Prostitution",
    "40C": "Purchasing Prostitution",
    "120": "Robbery",
    "11A": "Rape",
    "11B": "Sodomy",
    "11C": "Sexual Assault With An Object",
    "11D": "Fondling",
    "36A": "Incest",
    "36B": "Statutory Rape",
    "280": "Stolen Property Offenses",
    "520": "Weapon Law Violations",
    # Federal and tribal offenses added to Group A after 2019 (Technical Specification 2021+).
    "30A": "Illegal Entry into the United States",
    "30B": "False Citizenship",
    "30C": "Smuggling Aliens",
    "30D": "Re-entry after Deportation",
    "49A": "Harboring Escapee/Concealing from Arrest",
    "49B": "Flight to Avoid Prosecution",
    "49C": "Flight to Avoid Deportation",
    "521": "Violation of National Firearm Act of 1934",
    "522": "Weapons of Mass Destruction",
    "526": "Explosives Violation",
    "58A": "Import Violations",
    "58B": "Export Violations",
    "61A": "Federal Liquor Offenses",
    "61B": "Federal Tobacco Offenses",
    "620": "Wildlife Trafficking",
    "101": "Treason",
    "103": "Espionage",
    "360": "Failure to Register as a Sex Offender",
    "499": "Perjury",
}

MURDER = "09A"
NEGLIGENT_MANSLAUGHTER = "09B"
JUSTIFIABLE_HOMICIDE = "09C"
AGGRAVATED_ASSAULT = "13A"
ROBBERY = "120"
# The offenses whose victims gvrs stores (docs/nibrs.md); others are read and left out.
KEPT_OFFENSES = (MURDER, NEGLIGENT_MANSLAUGHTER, JUSTIFIABLE_HOMICIDE, AGGRAVATED_ASSAULT)

# Data Element 13 (Type Weapon/Force Involved); an "A" suffix (the Automatic Weapon
# Indicator) marks an automatic firearm.
WEAPONS = {
    "11": "Firearm",
    "12": "Handgun",
    "13": "Rifle",
    "14": "Shotgun",
    "15": "Other Firearm",
    "16": "Lethal Cutting Instrument",
    "17": "Club/Blackjack/Brass Knuckles",
    "20": "Knife/Cutting Instrument",
    "30": "Blunt Object",
    "35": "Motor Vehicle/Vessel",
    "40": "Personal Weapons",
    "50": "Poison",
    "55": "Pushed or Thrown Out Window",
    "60": "Explosives",
    "65": "Fire/Incendiary Device",
    "70": "Drugs/Narcotics/Sleeping Pills",
    "75": "Drowning",
    "80": "Strangulation - Include Hanging",
    "85": "Asphyxiation",
    "90": "Other",
    "95": "Unknown",
    "99": "None",
    "01": "Unarmed",
}
FIREARMS = ("11", "12", "13", "14", "15")
KNIVES = ("16", "20")
NO_WEAPON = ("95", "99", "01")  # unknown, none, unarmed: say nothing of a weapon


def weapon_base(code: str) -> str:
    """A weapon code without its automatic indicator: "12A" -> "12"."""
    code = code.strip()
    return code[:-1] if code.endswith("A") and len(code) == 3 else code


def is_firearm(code: str) -> bool:
    return weapon_base(code) in FIREARMS


def gvrs_weapon(codes: list[str]) -> str:
    """gvrs's weapon for the weapon codes of one offense: firearm if any is one, else knife,
    else other, else unknown."""
    bases = {weapon_base(c) for c in codes if c.strip()}
    if bases & set(FIREARMS):
        return "firearm"
    if bases & set(KNIVES):
        return "knife"
    if bases - set(NO_WEAPON):
        return "other"
    return "unknown"


# Data Element 33 (Type Injury).
INJURIES = {
    "N": "None",
    "B": "Apparent Broken Bones",
    "I": "Possible Internal Injury",
    "L": "Severe Laceration",
    "M": "Apparent Minor Injury",
    "O": "Other Major Injury",
    "T": "Loss of Teeth",
    "U": "Unconscious",
}
NO_INJURY = "N"

# Data Element 25 (Type of Victim): only individuals and officers are people.
VICTIM_TYPES = {
    "I": "Individual",
    "L": "Law Enforcement Officer",
    "B": "Business",
    "F": "Financial Institution",
    "G": "Government",
    "R": "Religious Organization",
    "S": "Society/Public",
    "O": "Other",
    "U": "Unknown",
}
PEOPLE = ("I", "L")

# Data Elements 27/38 (Sex), 28/39 (Race), 29/39A (Ethnicity), 30 (Resident Status).
SEX = {"M": "male", "F": "female", "U": "unknown", "X": "unknown"}
RACES = {
    "W": "White",
    "B": "Black or African American",
    "I": "American Indian or Alaska Native",
    "A": "Asian",
    "P": "Native Hawaiian or Other Pacific Islander",
    "U": "Unknown",
    # Codes of earlier years and of the Crime Data Explorer's own tables.
    "AP": "Asian, Native Hawaiian, or Other Pacific Islander",
    "C": "Chinese",
    "J": "Japanese",
    "O": "Other",
    "M": "Multiple",
    "NS": "Not Specified",
}
ETHNICITIES = {
    "H": "Hispanic or Latino",
    "N": "Not Hispanic or Latino",
    "U": "Unknown",
    "M": "Multiple",
    "X": "Not Specified",
}
RESIDENT_STATUS = {"R": "Resident", "N": "Nonresident", "U": "Unknown"}

# Data Element 26 (Age of Victim): two digits, a range of two ages ("2530"), or a code.
AGE_CODES = {"NN": 0, "NB": 0, "BB": 0, "00": None, "99": 99}
AGE_CODE_GROUPS = {"NN": "under 24 hours", "NB": "1-6 days", "BB": "7-364 days", "99": "over 98"}

# Data Element 31 (Aggravated Assault/Homicide Circumstances) and 32.
CIRCUMSTANCES = {
    "01": "Argument",
    "02": "Assault on Law Enforcement Officer",
    "03": "Drug Dealing",
    "04": "Gangland (Organized Crime Involvement)",
    "05": "Juvenile Gang",
    "06": "Domestic Violence",
    "07": "Mercy Killing",
    "08": "Other Felony Involved",
    "09": "Other Circumstances",
    "10": "Unknown Circumstances",
    "20": "Criminal Killed by Private Citizen",
    "21": "Criminal Killed by Police Officer",
    "30": "Child Playing With Weapon",
    "31": "Gun-Cleaning Accident",
    "32": "Hunting Accident",
    "33": "Other Negligent Weapon Handling",
    "34": "Other Negligent Killing",
}
# gvrs's circumstance and group involvement from DE31 (docs/nibrs.md): gang codes are group
# conflicts; domestic violence (called "Lovers' Quarrel" before 2019) is domestic.
CIRCUMSTANCE_TO_GVRS = {
    "01": "personal_dispute",
    "04": "group_conflict",
    "05": "group_conflict",
    "06": "domestic",
    "02": "other",
    "03": "other",
    "07": "other",
    "08": "other",
    "09": "other",
    "10": "unknown",
}
GANG_CIRCUMSTANCES = ("04", "05")

# Data Element 12 (Type Criminal Activity/Gang Information): the gang codes.
GANG_ACTIVITY = {"G": "Other Gang", "J": "Juvenile Gang"}
NO_GANG = "N"  # None/Unknown

# Data Element 35 (Relationship of Victim to Offender).
RELATIONSHIPS = {
    "SE": "Victim Was Spouse",
    "CS": "Victim Was Common-Law Spouse",
    "PA": "Victim Was Parent",
    "SB": "Victim Was Sibling",
    "CH": "Victim Was Child",
    "GP": "Victim Was Grandparent",
    "GC": "Victim Was Grandchild",
    "IL": "Victim Was In-law",
    "SP": "Victim Was Stepparent",
    "SC": "Victim Was Stepchild",
    "SS": "Victim Was Stepsibling",
    "OF": "Victim Was Other Family Member",
    "AQ": "Victim Was Acquaintance",
    "FR": "Victim Was Friend",
    "NE": "Victim Was Neighbor",
    "BE": "Victim Was Babysittee",
    "BG": "Victim Was Boyfriend/Girlfriend",
    "CF": "Victim Was Child of Boyfriend or Girlfriend",
    "HR": "Homosexual Relationship",
    "XS": "Victim Was Ex-Spouse",
    "XR": "Victim Was Ex-Relationship (Ex-Boyfriend/Girlfriend)",
    "EE": "Victim Was Employee",
    "ER": "Victim Was Employer",
    "OK": "Victim Was Otherwise Known",
    "RU": "Relationship Unknown",
    "ST": "Victim Was Stranger",
    "VO": "Victim Was Offender",
}

# Data Element 9 (Location Type).
LOCATIONS = {
    "01": "Air/Bus/Train Terminal",
    "02": "Bank/Savings and Loan",
    "03": "Bar/Nightclub",
    "04": "Church/Synagogue/Temple/Mosque",
    "05": "Commercial/Office Building",
    "06": "Construction Site",
    "07": "Convenience Store",
    "08": "Department/Discount Store",
    "09": "Drug Store/Doctor's Office/Hospital",
    "10": "Field/Woods",
    "11": "Government/Public Building",
    "12": "Grocery/Supermarket",
    "13": "Highway/Road/Alley/Street/Sidewalk",
    "14": "Hotel/Motel/Etc.",
    "15": "Jail/Prison/Penitentiary/Corrections Facility",
    "16": "Lake/Waterway/Beach",
    "17": "Liquor Store",
    "18": "Parking/Drop Lot/Garage",
    "19": "Rental Storage Facility",
    "20": "Residence/Home",
    "21": "Restaurant",
    "22": "School/College",
    "23": "Service/Gas Station",
    "24": "Specialty Store",
    "25": "Other/Unknown",
    "37": "Abandoned/Condemned Structure",
    "38": "Amusement Park",
    "39": "Arena/Stadium/Fairgrounds/Coliseum",
    "40": "ATM Separate from Bank",
    "41": "Auto Dealership New/Used",
    "42": "Camp/Campground",
    "44": "Daycare Facility",
    "45": "Dock/Wharf/Freight/Modal Terminal",
    "46": "Farm Facility",
    "47": "Gambling Facility/Casino/Race Track",
    "48": "Industrial Site",
    "49": "Military Installation",
    "50": "Park/Playground",
    "51": "Rest Area",
    "52": "School-College/University",
    "53": "School-Elementary/Secondary",
    "54": "Shelter-Mission/Homeless",
    "55": "Shopping Mall",
    "56": "Tribal Lands",
    "57": "Community Center",
    "58": "Cyberspace",
    "00": "Not Specified",
}

# Data Element 4 (Cleared Exceptionally).
CLEARED_EXCEPTIONALLY = {
    "A": "Death of Offender",
    "B": "Prosecution Declined",
    "C": "In Custody of Other Jurisdiction",
    "D": "Victim Refused to Cooperate",
    "E": "Juvenile/No Custody",
    "N": "Not Applicable",
}

# The first two characters of an ORI are the NCIC state code: the USPS code, except
# Nebraska's (NB).
NCIC_STATES = {"NB": "NE"}


def ori_state(ori: str) -> str:
    """The USPS code of an ORI's state (not checked against the list of states)."""
    code = ori.strip()[:2].upper()
    return NCIC_STATES.get(code, code)
