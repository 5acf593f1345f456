"""Reporting tables (集市报表) of the mart."""
