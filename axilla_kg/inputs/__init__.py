"""Validating what users hand the tool before anything uses it.

Every file argument, JSON text, number flag and CSV table goes through one of these modules, so
the limits (size, depth, number notation, encoding) are decided in one place and documented in
the README's "Input limits" section.
"""
