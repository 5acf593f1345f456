"""Write, audit, publish (写入—审计—发布): how a table reaches the analysts' mart."""
