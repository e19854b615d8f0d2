"""The report of a results directory: report.html, leaderboard, per-class results, plots, parameter importance,
comparison of several runs.

Everything here reads the saved tables only (``harness.results``), so it runs without Ray.
"""
