"""The framework-free layers stay framework-free (DESIGN.md, layer 1 and 2)."""

from __future__ import annotations

import subprocess
import sys


def test_analysis_and_data_import_without_django():
    code = (
        "import sys, gvrs.analysis, gvrs.data.schema, gvrs.data.readers, gvrs.data.mapping, "
        "gvrs.data.validate; "
        "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
