"""fdan-bench harness: the CLI, Ray Train/Tune runs, configs, results and reports.

Subpackages, imports flowing one way (``tests/test_import_layout.py`` keeps it so):
``cli`` → ``run`` → ``config`` / ``cluster`` / ``results``; ``report`` reads ``results`` and ``config`` only.
"""
