-- An analyst's session on the mart (分析人员只读会话), locked to the mart's published files: the views read
-- mart/data/ and mart/versions/, and nothing else on disk is reachable from this session - no plan package,
-- no warehouse (ATTACH), no landing file, no extension to load. Start it in the mart folder: the two folders
-- are relative to the working directory, which DuckDB resolves when the setting is made. With the DuckDB CLI,
-- add its safe mode after this file, which closes the dot commands that reach files (.read, .open, .shell, ...):
--   cd "$ZS_RISK_HOME/mart" && duckdb -readonly -init <zs-risk checkout>/sql/marts/analyst_session.sql -cmd .safe_mode mart.duckdb
-- Once external access is off it cannot be switched back on, nor can the allowed folders change, for the rest of
-- the session. (No lock_configuration: the DuckDB CLI changes a setting of its own after the init file and stops
-- when the configuration is locked.) The session guards itself; the file modes guard the files (README).
SET allowed_directories = ['data/', 'versions/'];
SET enable_external_access = false;
