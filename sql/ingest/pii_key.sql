-- Keyed hashing of personal ID numbers (个人证件号脱敏): HMAC-SHA256 with the key from the environment.
-- The key arrives as its two padded halves; only the hash is ever stored.
CREATE OR REPLACE TEMP TABLE _pii_key AS SELECT $ipad::BLOB AS ipad, $opad::BLOB AS opad;
-- HMAC-SHA256 of the normalised value: one definition for ID columns and for IDs inside free text.
CREATE OR REPLACE TEMP MACRO zs_pii_hmac(ipad, opad, s) AS sha256(opad || unhex(sha256(ipad || encode(zs_code(s)))));
CREATE OR REPLACE TEMP MACRO zs_pii_hash(s) AS CASE WHEN zs_code(s) IS NULL THEN NULL ELSE
    (SELECT zs_pii_hmac(k.ipad, k.opad, s) FROM _pii_key k) END;
-- Free text (a malformed line, a rejection message) with every token that looks like a resident ID number
-- (GB 11643: 17 digits and a check digit or X, the old 15-digit form, or a mistyped one: any run of 15 or
-- more digits, half- or full-width, the last possibly X) replaced by the keyed hash its ID column would get,
-- so an investigator can still match it. A hash already in the text (64 hex characters) stays as it is.
CREATE OR REPLACE TEMP MACRO zs_pii_scrub(s) AS CASE WHEN s IS NULL OR NOT regexp_matches(s, '[0-9０-９]{15}') THEN s
    ELSE (
        SELECT array_to_string(list_transform(t.parts, lambda part, i: part || coalesce(CASE
            WHEN regexp_full_match(t.runs[i], '[0-9０-９]{14,}[0-9０-９XxＸｘ]') THEN zs_pii_hmac(k.ipad, k.opad, t.runs[i])
            ELSE t.runs[i] END, '')), '')
        FROM (
            SELECT regexp_split_to_array(s, '[0-9a-f]{64}|[0-9０-９]+[XxＸｘ]?') AS parts,
                regexp_extract_all(s, '[0-9a-f]{64}|[0-9０-９]+[XxＸｘ]?') AS runs
        ) t, _pii_key k
    ) END;
