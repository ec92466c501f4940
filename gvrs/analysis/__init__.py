"""The science of gvrs, framework-free: pure functions over numpy and pandas.

No Django, no database, no I/O: a crime analyst can use every function here from a notebook,
and a state can fan the same calls out over many places.
"""
