"""The stewards' report: static HTML pages, charts and exception lists built from the marts (see build.py)."""
