"""The report of a results directory: leaderboard, plots, parameter importance, comparison of several runs.

Everything here reads the saved tables only (``harness.results``), so it runs without Ray.
"""
