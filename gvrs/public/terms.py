"""Words that reach the public pages from data rather than from code: metric labels and
definitions (gvrs/data/metrics.toml), victims' sex, race and ethnicity as the shipped formats
label them, units and source titles. Marked here so that ``makemessages`` puts them in the
catalogue; the page translates them with ``gettext`` when it shows them, and a word not listed
stays as recorded."""

from __future__ import annotations

from django.utils.translation import gettext_noop

METRICS = [
    gettext_noop("Homicides"),
    gettext_noop(
        "People killed in homicides, any weapon (UCR: murder and non-negligent manslaughter)."
    ),
    gettext_noop("Firearm homicides"),
    gettext_noop("People killed in homicides with a firearm."),
    gettext_noop("People shot"),
    gettext_noop(
        "People shot, fatally or not, in homicides and nonfatal shootings with a firearm (not officer-involved)."
    ),
    gettext_noop("Shooting incidents"),
    gettext_noop(
        "Incidents in which at least one person was shot (homicide with a firearm or nonfatal shooting)."
    ),
    gettext_noop("Nonfatal shootings"),
    gettext_noop("People injured by gunfire who survived, in nonfatal shooting incidents."),
    gettext_noop("Officer-involved shootings"),
    gettext_noop("Incidents in which an officer fired a weapon."),
    gettext_noop("Group-involved homicides"),
    gettext_noop(
        "People killed in homicides recorded as group-involved (group_involvement = yes)."
    ),
    gettext_noop("Group-involved shootings"),
    gettext_noop("People shot in group-involved homicides and nonfatal shootings with a firearm."),
    gettext_noop("Firearm aggravated assaults"),
    gettext_noop(
        "Aggravated assaults with a firearm in which nobody was killed, whether or not anyone was hurt: nonfatal shootings and firearm assaults (NIBRS 13A with weapon 11-15)."
    ),
    gettext_noop("Victims of firearm homicides and assaults"),
    gettext_noop(
        "Every victim of a homicide or an aggravated assault with a firearm, killed, hurt or not hurt (NIBRS: victims of 09A or 13A with weapon 11-15)."
    ),
    gettext_noop("Justifiable homicides"),
    gettext_noop(
        "People killed in justifiable homicides (NIBRS 09C: by a police officer or a private citizen in the course of a crime); never counted as homicides."
    ),
    gettext_noop("Negligent manslaughters"),
    gettext_noop("People killed by negligence (NIBRS 09B); never counted as homicides."),
    gettext_noop("Violent crimes"),
    gettext_noop(
        "Violent Part I offenses (UCR): homicide, forcible rape, robbery and aggravated assault."
    ),
    gettext_noop("Robberies"),
    gettext_noop("Robberies (UCR Part I)."),
    gettext_noop("Aggravated assaults"),
    gettext_noop("Aggravated assaults (UCR Part I)."),
    gettext_noop("Firearm aggravated assaults"),
    gettext_noop(
        "Aggravated assaults with a firearm (UCR Part I); the closest published proxy for nonfatal shootings."
    ),
    gettext_noop("Firearm robberies"),
    gettext_noop("Robberies with a firearm (UCR Part I)."),
    gettext_noop("Homicide clearances"),
    gettext_noop("Criminal homicides cleared by arrest or exceptional means in the year (UCR)."),
    gettext_noop("Homicide clearance rate"),
    gettext_noop(
        "Homicides cleared in the year divided by homicides in the year, from one source, with an exact (Clopper-Pearson) binomial interval."
    ),
]
UNITS = [gettext_noop("people"), gettext_noop("incidents")]
VICTIMS = [
    gettext_noop("male"),
    gettext_noop("female"),
    gettext_noop("not recorded"),
    gettext_noop("no person record"),
    gettext_noop("area not recorded"),
    gettext_noop("Hispanic"),
    gettext_noop("Black"),
    gettext_noop("White"),
    gettext_noop("Asian"),
    gettext_noop("Black or African American"),
    gettext_noop("American Indian or Alaska Native"),
    gettext_noop("Native Hawaiian or Other Pacific Islander"),
    gettext_noop("Unknown"),
    gettext_noop("Asian, Native Hawaiian, or Other Pacific Islander"),
    gettext_noop("Chinese"),
    gettext_noop("Japanese"),
    gettext_noop("Other"),
    gettext_noop("Multiple"),
    gettext_noop("Not Specified"),
    gettext_noop("Hispanic or Latino"),
    gettext_noop("Not Hispanic or Latino"),
    gettext_noop("WHITE"),
    gettext_noop("BLACK"),
    gettext_noop("WHITE HISPANIC"),
    gettext_noop("BLACK HISPANIC"),
    gettext_noop("ASIAN / PACIFIC ISLANDER"),
    gettext_noop("AMERICAN INDIAN/ALASKAN NATIVE"),
]
SOURCES = [gettext_noop("Counted from incident records")]
