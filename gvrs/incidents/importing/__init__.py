"""Importing files into the registry (see ``run.import_file``)."""

from gvrs.incidents.importing.run import ImportReport, import_file

__all__ = ["ImportReport", "import_file"]
