"""Framework-free data layer: the canonical schema, readers, column mappings and validation.

Nothing here imports Django: a file can be read, mapped and validated from a notebook, and the
registry (``gvrs.incidents``) stores what comes out.
"""
