"""Benchmarks and load tooling for the reference and its peers; not shipped in the wheel.

Driven by nox from the repository root (``nox -s bench load fault growth``), imported as
``reference.bench``. It may import both shipped packages; neither imports it.

- :mod:`.servedbench`, :mod:`.served_report`, :mod:`.chart`: the served benchmark (``nox -s bench``).
- :mod:`.rawhttp`, :mod:`.rawload`, :mod:`.cookies`: the raw HTTP/1.1 load generator it uses.
- :mod:`.load`: the httpx load generator, with the store ledger the audit reads.
- :mod:`.loadbench`, :mod:`.faultbench`, :mod:`.growth`, :mod:`.audit`, :mod:`.deploy`: the
  ``load``, ``fault`` and ``growth`` sessions, and the store audit after load.
- :mod:`.redis_server`: a throwaway ``redis-server`` on a free loopback port, stopped by PID.
- :mod:`.proctree`: CPU pinning and resource readings of process trees.
"""
