-- Reference lists the judging macros look up (参考代码表), loaded per connection from the package.
CREATE OR REPLACE TEMP TABLE _ref_towns AS
SELECT town_code, name_zh FROM read_csv($towns_csv, all_varchar = true, header = true);
CREATE OR REPLACE TEMP TABLE _ref_sections AS
SELECT section, division_from, division_to FROM read_csv($sections_csv, all_varchar = true, header = true);
CREATE OR REPLACE TEMP TABLE _ref_result_codes AS
SELECT code, name_zh, problem_found::BOOLEAN AS problem_found
FROM read_csv($result_codes_csv, all_varchar = true, header = true);
-- Genuine codes that fail the checksum (early pilot regions), approved by an operator.
CREATE OR REPLACE TEMP TABLE _uscc_allowlist AS
SELECT upper(trim(uscc)) AS uscc FROM read_csv($allowlist_csv, all_varchar = true, header = true);
