"""Helpers for testing and benchmarking the reference; none of it runs in a served provider.

- :mod:`.redis_server`: a throwaway ``redis-server`` on a free loopback port, stopped by PID.
- :mod:`.audit`: check a store after load: nothing lost, nothing extra, nothing half-written.
- :mod:`.scale`: the ``load``, ``fault`` and ``growth`` benchmarks behind the nox sessions.
"""
