-- placeholder, replaced by the lead's 005 (tern refuses a migration without SQL)
SELECT 1;
