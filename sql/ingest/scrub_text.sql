-- One message about a landing file (a rejection naming its header, say) with personal ID numbers hashed.
SELECT zs_pii_scrub($text);
