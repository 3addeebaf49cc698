-- Creates the application database if it does not exist (run in the maintenance database `postgres`).

SELECT format('CREATE DATABASE %I WITH ENCODING %L TEMPLATE template0', 'healthcare', 'UTF8')
WHERE NOT EXISTS (SELECT 1 FROM pg_catalog.pg_database WHERE datname = 'healthcare')
\gexec
