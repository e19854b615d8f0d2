"""`python -m harness.cli ...` runs the `fdan-bench` app."""
from harness.cli.app import main

main()
