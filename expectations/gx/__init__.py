"""Great Expectations quality gates over the marts (see gates.py)."""
