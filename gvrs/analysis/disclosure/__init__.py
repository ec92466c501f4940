"""One disclosure policy for every figure a reader sees without the right to read its records.

The entry point is ``Policy`` (``gvrs.analysis.disclosure.policy``): built once per
deployment from its secret key (``gvrs.accounts.audience.deployment_policy()``), asked by
every face (pages, reports, the API) with the reader's ``Audience``:

- ``policy.exact(audience, Records.INCIDENTS)``: may this reader see these counts exactly?
- ``policy.window(audience, since, until)``: the window as the reader may have it (whole
  calendar months unless it may read the records);
- ``policy.grouped(audience, records, kind, ids, groups, n)`` and ``policy.protect(...)``:
  counts per group, exact or perturbed by the cell-key method;
- ``policy.monthly(...)``: a perturbed monthly series, consistent within whole years;
- ``policy.on_map(figures)``: which perturbed map cells may be drawn.

The public page perturbs its counts the same way (``policy.monthly``, ``policy.grouped``,
``policy.parts`` for breakdowns that add up to a shown total), then hides small figures with
``gvrs.analysis.suppression`` and the audit ``hidden_ranges`` / ``disclosed`` here.
docs/disclosure.md is the policy in words.
"""

from gvrs.analysis.disclosure.audit import ExtraFigure, disclosed, hidden_ranges
from gvrs.analysis.disclosure.perturb import NoiseTable, cell_keys, perturb, record_keys
from gvrs.analysis.disclosure.policy import PUBLIC, Audience, Policy, Records, Window
from gvrs.analysis.disclosure.windows import whole_months

__all__ = [
    "PUBLIC",
    "Audience",
    "ExtraFigure",
    "NoiseTable",
    "Policy",
    "Records",
    "Window",
    "cell_keys",
    "disclosed",
    "hidden_ranges",
    "perturb",
    "record_keys",
    "whole_months",
]
