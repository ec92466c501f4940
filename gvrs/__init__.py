"""gvrs: run a Gun Violence Reduction Strategy.

The package has two halves. ``gvrs.analysis`` and ``gvrs.data`` are framework-free and can be
used from a notebook; the Django apps (``gvrs.incidents``, ``gvrs.reports``, ...) store the
registry and put faces on it (the ``gvrs`` command line and the web application).
"""

__version__ = "0.1.0"
