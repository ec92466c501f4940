"""Validation's row fingerprints: stored as content hashes, so they must never drift."""

from __future__ import annotations

import numpy as np
import pandas as pd

from gvrs.data.validate import _HASH_SHIFT, _fingerprints


def test_fingerprints_equal_pandas_row_hashes_of_the_same_columns():
    rows = pd.DataFrame(
        {
            "source_id": pd.Series(["A-1", "A-1", "B-2"], dtype="str"),
            "occurred_on": pd.Series(["2022-03-04", "2022-03-04", None], dtype="str"),
            "latitude": [35.37, 35.37, np.nan],
            "killed": [1, 0, 0],
            "victim_age": pd.array([19, None, 40], dtype="Int64"),
        }
    )
    incident, row = _fingerprints(rows, ["source_id", "occurred_on", "latitude"], list(rows))
    for columns, got in ((["source_id", "occurred_on", "latitude"], incident), (list(rows), row)):
        expected = pd.util.hash_pandas_object(rows[columns], index=False).to_numpy()
        assert (got == (expected >> np.uint64(_HASH_SHIFT)).astype(np.int64)).all()
    assert incident[0] == incident[1] != incident[2]
    assert row[0] != row[1]
