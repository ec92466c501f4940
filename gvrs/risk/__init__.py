"""Where and when shootings cluster: the near-repeat (Knox) test, hot spots, the
self-exciting contagion model and the expected shootings per area it stores for alerts. The
science is in ``gvrs.analysis``; this app selects the incidents and runs it.
"""
