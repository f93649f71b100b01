"""The benchmark: acknowledgement latency, time to triage, GitHub calls, memory, start-up.

Run it from the repository root with ``python -m benchmarks.run``; see benchmarks/README.md.
"""
