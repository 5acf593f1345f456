-- Replace a personal-ID column of the file being landed by its keyed hash, before anything is stored.
UPDATE _landed SET {column} = zs_pii_hash({column});
