"""Tests: Ingestion (数据接入): landing files, raw → staging or quarantine, deliveries, USCC, the SQL contract."""
