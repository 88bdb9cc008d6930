"""The scale benchmark (`python -m data_access bench`); see benchmark/runner.py."""
