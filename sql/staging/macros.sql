-- Normalisation and judging macros shared by every staging step (规范化与校验宏).
-- Temporary: they live on the ingest connection only, so the warehouse file carries no hidden logic.
-- Sections: the reference lists the judging macros look up, the keyed hash of personal IDs, one text scrubbed.

-- Full-width ASCII (０-９, Ａ-Ｚ, ，；（）…) and the ideographic space become their half-width forms.
-- Most values are plain: translate only those that hold a full-width character (translate is costly).
CREATE OR REPLACE TEMP MACRO zs_halfwidth(s) AS CASE WHEN regexp_matches(s, '[\x{FF01}-\x{FF5E}\x{3000}]')
    THEN translate(s, '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～　', '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~ ') ELSE s END;
CREATE OR REPLACE TEMP MACRO zs_text(s) AS NULLIF(trim(zs_halfwidth(s)), '');
CREATE OR REPLACE TEMP MACRO zs_code(s) AS upper(zs_text(s));
-- A list action as the list sources write it, Chinese or English (列入 = in, 移出 = out).
CREATE OR REPLACE TEMP MACRO zs_list_action(s) AS CASE zs_text(s) WHEN '列入' THEN 'in' WHEN '移出' THEN 'out'
    ELSE lower(zs_text(s)) END;

-- GB 32100-2015: format, then the check character (weights 3^(i-1) mod 31 over the 31-character set).
-- Value (0-30) of the character at position i in the 31-character set of GB 32100-2015.
CREATE OR REPLACE TEMP MACRO zs_c31(u, i) AS instr('0123456789ABCDEFGHJKLMNPQRTUWXY', substr(u, i, 1)) - 1;
-- The 17 weighted terms are written out: a lambda over the positions is a hundred times slower.
CREATE OR REPLACE TEMP MACRO zs_uscc_problem(u) AS CASE
    WHEN u IS NULL THEN NULL
    WHEN NOT regexp_full_match(u, '[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}') THEN 'uscc_format'
    WHEN substr(u, 18, 1) <> substr('0123456789ABCDEFGHJKLMNPQRTUWXY', ((31 - (
          zs_c31(u, 1) * 1
        + zs_c31(u, 2) * 3
        + zs_c31(u, 3) * 9
        + zs_c31(u, 4) * 27
        + zs_c31(u, 5) * 19
        + zs_c31(u, 6) * 26
        + zs_c31(u, 7) * 16
        + zs_c31(u, 8) * 17
        + zs_c31(u, 9) * 20
        + zs_c31(u, 10) * 29
        + zs_c31(u, 11) * 25
        + zs_c31(u, 12) * 13
        + zs_c31(u, 13) * 8
        + zs_c31(u, 14) * 24
        + zs_c31(u, 15) * 10
        + zs_c31(u, 16) * 30
        + zs_c31(u, 17) * 28
    ) % 31) % 31 + 1)::BIGINT, 1) THEN 'uscc_checksum'
END;

-- Dates as government systems write them: 2024-03-05, 2024/3/5, 20240305, 2024年3月5日, or a timestamp.
CREATE OR REPLACE TEMP MACRO zs_date(s) AS CASE
    WHEN zs_text(s) IS NULL THEN NULL
    WHEN regexp_full_match(zs_text(s), '\d{4}-\d{1,2}-\d{1,2}') THEN try_strptime(zs_text(s), '%Y-%m-%d')::DATE
    WHEN regexp_full_match(zs_text(s), '\d{4}/\d{1,2}/\d{1,2}') THEN try_strptime(zs_text(s), '%Y/%m/%d')::DATE
    WHEN regexp_full_match(zs_text(s), '\d{8}') THEN try_strptime(zs_text(s), '%Y%m%d')::DATE
    WHEN regexp_full_match(zs_text(s), '\d{4}年\d{1,2}月\d{1,2}日') THEN try_strptime(zs_text(s), '%Y年%m月%d日')::DATE
    WHEN regexp_full_match(zs_text(s), '\d{4}-\d{1,2}-\d{1,2}[ T][0-9:.]+')
        THEN try_strptime(regexp_extract(zs_text(s), '^\d{4}-\d{1,2}-\d{1,2}'), '%Y-%m-%d')::DATE
END;

-- Plain numbers; thousands separators (also full-width ，) and full-width digits are tolerated.
CREATE OR REPLACE TEMP MACRO zs_decimal(s) AS try_cast(replace(zs_text(s), ',', '') AS DECIMAL(18, 2));
-- Whole numbers only ('12' or '12.0'): a bare cast would round '2.5' to 3 and read '0x10' or '1e3' as numbers.
CREATE OR REPLACE TEMP MACRO zs_int(s) AS CASE WHEN regexp_full_match(replace(zs_text(s), ',', ''), '[+-]?[0-9]+(\.0*)?')
    THEN try_cast(regexp_replace(replace(zs_text(s), ',', ''), '\.0*$', '') AS BIGINT) END;
-- Ratios and probabilities keep every delivered digit (DECIMAL(18, 2) would round π to 0.00).
CREATE OR REPLACE TEMP MACRO zs_double(s) AS try_cast(zs_text(s) AS DOUBLE);
CREATE OR REPLACE TEMP MACRO zs_bool(s) AS CASE
    WHEN lower(zs_text(s)) IN ('1', 'true', 't', 'yes', 'y', '是') THEN true
    WHEN lower(zs_text(s)) IN ('0', 'false', 'f', 'no', 'n', '否') THEN false
END;

-- A problem found in a row: machine reason, column, human detail and the value as delivered.
CREATE OR REPLACE TEMP MACRO zs_problem(reason, col, detail, val) AS
    {'reason': reason, 'column': col, 'detail': detail, 'value': val::VARCHAR};
-- The first problem of a row decides its reason code; the checks are listed in column order.
CREATE OR REPLACE TEMP MACRO zs_first_problem(problems) AS list_filter(problems, lambda p: p IS NOT NULL)[1];

CREATE OR REPLACE TEMP MACRO zs_chk_malformed(raw_line) AS CASE WHEN raw_line IS NOT NULL
    THEN zs_problem('malformed_row', '*', 'the row does not split into the header''s columns', raw_line) END;

CREATE OR REPLACE TEMP MACRO zs_chk_required(col, raw) AS CASE WHEN zs_text(raw) IS NULL
    THEN zs_problem('missing_required', col, 'required value is missing', raw) END;

CREATE OR REPLACE TEMP MACRO zs_chk_uscc(col, raw, required) AS CASE
    WHEN zs_text(raw) IS NULL THEN
        CASE WHEN required THEN zs_problem('missing_required', col, 'required value is missing', raw) END
    WHEN zs_uscc_problem(zs_code(raw)) = 'uscc_format' THEN zs_problem('uscc_format', col,
        'not an 18-character unified social credit code (GB 32100-2015 character set)', raw)
    WHEN zs_uscc_problem(zs_code(raw)) = 'uscc_checksum'
        AND zs_code(raw) NOT IN (SELECT uscc FROM _uscc_allowlist) THEN zs_problem('uscc_checksum', col,
        'check character does not match (GB 32100-2015); if the code is genuine, add it to config/uscc_allowlist.csv',
        raw)
END;

CREATE OR REPLACE TEMP MACRO zs_chk_date(col, raw, required, latest) AS CASE
    WHEN zs_text(raw) IS NULL THEN
        CASE WHEN required THEN zs_problem('missing_required', col, 'required value is missing', raw) END
    WHEN zs_date(raw) IS NULL OR zs_date(raw) < DATE '1900-01-01' THEN zs_problem('bad_date', col,
        'not a date (accepted: 2024-03-05, 2024/3/5, 20240305, 2024年3月5日)', raw)
    WHEN latest IS NOT NULL AND zs_date(raw) > latest THEN zs_problem('future_date', col,
        'date lies after the end of the delivery month', raw)
END;

CREATE OR REPLACE TEMP MACRO zs_chk_decimal(col, raw, required) AS CASE
    WHEN zs_text(raw) IS NULL THEN
        CASE WHEN required THEN zs_problem('missing_required', col, 'required value is missing', raw) END
    WHEN zs_decimal(raw) IS NULL THEN zs_problem('bad_number', col, 'not a plain number', raw)
    WHEN zs_decimal(raw) < 0 THEN zs_problem('bad_number', col, 'negative amount', raw)
END;

CREATE OR REPLACE TEMP MACRO zs_chk_int(col, raw, required) AS CASE
    WHEN zs_text(raw) IS NULL THEN
        CASE WHEN required THEN zs_problem('missing_required', col, 'required value is missing', raw) END
    WHEN zs_int(raw) IS NULL THEN zs_problem('bad_number', col, 'not a whole number', raw)
    WHEN zs_int(raw) < 0 THEN zs_problem('bad_number', col, 'negative count', raw)
END;

CREATE OR REPLACE TEMP MACRO zs_chk_bool(col, raw, required) AS CASE
    WHEN zs_text(raw) IS NULL THEN
        CASE WHEN required THEN zs_problem('missing_required', col, 'required value is missing', raw) END
    WHEN zs_bool(raw) IS NULL THEN zs_problem('bad_bool', col, 'not a yes/no value (1/0, true/false, 是/否)', raw)
END;

-- value is the normalised value to test; raw is what the file said (for the message).
CREATE OR REPLACE TEMP MACRO zs_chk_enum(col, raw, val, required, allowed) AS CASE
    WHEN zs_text(raw) IS NULL THEN
        CASE WHEN required THEN zs_problem('missing_required', col, 'required value is missing', raw) END
    WHEN NOT list_contains(allowed, val) THEN
        zs_problem('bad_enum', col, 'not one of: ' || array_to_string(allowed, ', '), raw)
END;

CREATE OR REPLACE TEMP MACRO zs_chk_town(col, raw) AS CASE
    WHEN zs_text(raw) IS NULL THEN zs_problem('missing_required', col, 'required value is missing', raw)
    WHEN zs_text(raw) NOT IN (SELECT town_code FROM _ref_towns) THEN zs_problem('unknown_town_code', col,
        'not one of the 23 town/street codes of Zhongshan (442000xxx)', raw)
END;

-- GB/T 4754-2017 class: section letter + 4 digits, and the division must belong to the section.
CREATE OR REPLACE TEMP MACRO zs_chk_industry(col, raw) AS CASE
    WHEN zs_text(raw) IS NULL THEN zs_problem('missing_required', col, 'required value is missing', raw)
    WHEN NOT regexp_full_match(zs_code(raw), '[A-T][0-9]{4}')
        OR NOT EXISTS (SELECT 1 FROM _ref_sections s WHERE s.section = substr(zs_code(raw), 1, 1)
            AND substr(zs_code(raw), 2, 2) BETWEEN s.division_from AND s.division_to)
        THEN zs_problem('bad_industry_code', col, 'not a GB/T 4754-2017 class code (section letter + 4 digits)', raw)
END;

-- name: reference_lists
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

-- name: pii_hash
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

-- name: scrub_text
-- One message about a landing file (a rejection naming its header, say) with personal ID numbers hashed.
SELECT zs_pii_scrub($text);
