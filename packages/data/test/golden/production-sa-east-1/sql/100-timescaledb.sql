-- TimescaleDB community (TSL) build: retention, compression and continuous aggregates need it.

CREATE EXTENSION IF NOT EXISTS timescaledb;
