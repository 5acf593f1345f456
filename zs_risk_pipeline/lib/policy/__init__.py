"""Operator policy (政策口径): the config files, their versions and hashes."""
