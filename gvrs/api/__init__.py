"""The read API under ``/api/v1/``: JSON (and CSV for series) for spreadsheets, BI tools and
scripts, described by an OpenAPI 3.1 schema. A face like the pages and the commands: it asks
the same domain functions and computes no figure of its own (see README.md)."""
