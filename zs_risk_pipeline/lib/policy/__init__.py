"""Operator policy (政策口径): one typed model per config file, the whole folder validated at once, its versions.

- lib/policy/<file>.py: the pydantic model of each config/*.yaml and the domain objects built from it;
- lib/policy/folder.py: `load_policy_folder(folder) -> Policy` (cached by folder and file hashes), `current()`;
- lib/policy/versions.py: the policy version an output records.
"""
