-- Personal ID numbers inside the text of malformed rows of the file being landed become keyed hashes too,
-- before anything is stored (only malformed rows carry their line).
UPDATE _landed SET _raw_line = zs_pii_scrub(_raw_line) WHERE _raw_line IS NOT NULL;
