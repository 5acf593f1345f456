"""Tests: The zs-risk command end to end: runs, errors, crashes, the feedback loop, the installed wheel."""
