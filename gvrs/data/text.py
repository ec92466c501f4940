"""Text columns backed by pyarrow strings, the one kind of text the import pipeline passes on.

pyarrow parses and formats text in C++; handing its arrays to pandas as this dtype shares
their buffers instead of making a Python string per cell.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
_AS_TEXT = {pa.string(): TEXT}.get


def text_frame(table: pa.Table) -> pd.DataFrame:
    """A pyarrow table of strings as a pandas frame of text columns."""
    return table.to_pandas(types_mapper=_AS_TEXT)


def text_column(array: pa.Array, index: pd.Index) -> pd.Series:
    """A pyarrow string array as a pandas text column labelled by ``index`` (nulls missing)."""
    column = array.to_pandas(types_mapper=_AS_TEXT)
    column.index = index  # labels, not alignment
    return column
