"""Tests: Write, audit, publish (写入—审计—发布), the analysts' mart and tamper evidence."""
