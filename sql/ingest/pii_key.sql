-- Keyed hashing of personal ID numbers (个人证件号脱敏): HMAC-SHA256 with the key from the environment.
-- The key arrives as its two padded halves; only the hash is ever stored.
CREATE OR REPLACE TEMP TABLE _pii_key AS SELECT $ipad::BLOB AS ipad, $opad::BLOB AS opad;
CREATE OR REPLACE TEMP MACRO zs_pii_hash(s) AS CASE WHEN zs_code(s) IS NULL THEN NULL ELSE
    (SELECT sha256(k.opad || unhex(sha256(k.ipad || encode(zs_code(s))))) FROM _pii_key k) END;
