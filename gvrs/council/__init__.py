"""The report to the city council: one document built from the statistics engine, rendered to
HTML (Django template) and to PDF (Typst), with charts and maps as vector graphics.

``build.build_report`` computes the document (``document.CouncilReport``: sections of paragraphs,
tables and figures, every sentence from ``gvrs.analysis.narrative``); ``render.html`` and
``render.pdf`` lay the same document out, block by block, so the two never say different
things. See docs/report.md.
"""
