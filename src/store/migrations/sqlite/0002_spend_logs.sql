-- filled in by the spend-log work
SELECT 1;
