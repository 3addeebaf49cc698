-- Extensions of the application database, except TimescaleDB (100-timescaledb.sql).
-- pgaudit and pg_stat_statements must be in shared_preload_libraries (Patroni sets it).

CREATE EXTENSION IF NOT EXISTS pgaudit;
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
CREATE EXTENSION IF NOT EXISTS pgcrypto;
