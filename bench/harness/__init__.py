"""The benchmark harness behind bench/run.py (its docstring says what it measures and how)."""
