-- Publish log entries that say more than "new content": a re-published version computed under changed policy
-- files (which ones), or a month released by an operator although expected sources were missing (why).
SELECT mart_table, strftime(month, '%Y-%m') AS month, version,
    array_to_string(CAST(json_extract(context, '$.policy_changed') AS VARCHAR[]), ', ') AS policy_changed,
    json_extract_string(context, '$.release.reason') AS release_reason
FROM audit.publish_log
WHERE json_extract(context, '$.policy_changed') IS NOT NULL OR json_extract(context, '$.release') IS NOT NULL
ORDER BY seq;
