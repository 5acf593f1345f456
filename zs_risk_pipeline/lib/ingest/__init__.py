"""Ingestion (数据接入): the landing contract, reading landing files, landing → raw → staging or quarantine, expected
deliveries, USCC validation, and which runs new files call for."""
