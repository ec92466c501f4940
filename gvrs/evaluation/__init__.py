"""Did the strategy work? The evaluation designs of ``gvrs.analysis.evaluation`` run on
the registry's series: ``gvrs evaluate`` and the evaluation page.
"""
