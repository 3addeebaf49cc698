#!/usr/bin/python3
"""Paced writer for failover tests: one INSERT + COMMIT per tick, one JSON line per event on stdout.

Run with Debian's /usr/bin/python3 (python3-psycopg2, i.e. libpq). The DSN lists every member
(multi-host) with target_session_attrs=read-write, so libpq itself finds whichever member is the
writable leader, as an application would.

Events (times are Unix epoch milliseconds, CLOCK_REALTIME like the test process):
  {"ev":"connected","t":..,"port":..}           a read-write session was opened on that member
  {"ev":"ack","id":..,"t0":..,"t":..,"port":..} COMMIT returned success: the row is acknowledged;
      port is the server's (inet_server_port() of the INSERT), so it is right through a transaction
      pooler too, where consecutive transactions of one client session may run on different servers
  {"ev":"err","id":..,"t":..,"phase":..,"msg":..}
      phase "connect": no writable member reachable; nothing was sent.
      phase "write": the INSERT failed before COMMIT was sent: not committed.
      phase "commit": COMMIT failed: the outcome is UNKNOWN (it may have committed). Such ids are
      never counted as acknowledged, and are never counted as lost either.

A COMMIT that returns with a NOTICE/WARNING (e.g. a cancelled synchronous-replication wait) would
be a false acknowledgement; the writer therefore never cancels and sets no statement_timeout, and it
reports any notice on an acknowledged commit in the event ("notice").
"""

import json
import signal
import sys
import time

import psycopg2

running = True


def stop(_signum, _frame):
    global running
    running = False


def now_ms():
    return time.time() * 1000.0


def emit(event):
    sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def main():
    dsn, table, rate = sys.argv[1], sys.argv[2], float(sys.argv[3])
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    period = 1.0 / rate
    next_id = 1
    conn = None
    port = None
    next_tick = time.monotonic()
    while running:
        delay = next_tick - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        # Never burst to catch up after a stall: the pace stays at `rate` from now on.
        next_tick = max(next_tick + period, time.monotonic())
        if conn is None:
            try:
                conn = psycopg2.connect(dsn)
                with conn.cursor() as cur:
                    cur.execute("SELECT inet_server_port()")
                    port = cur.fetchone()[0]
                conn.commit()
                emit({"ev": "connected", "t": now_ms(), "port": port})
            except psycopg2.Error as error:
                emit({"ev": "err", "id": None, "t": now_ms(), "phase": "connect", "msg": str(error).strip()[:300]})
                conn = None
                continue
        row_id = next_id
        next_id += 1
        t0 = now_ms()
        phase = "write"
        try:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO " + table + " (id) VALUES (%s) RETURNING inet_server_port()", (row_id,))
                port = cur.fetchone()[0]
            phase = "commit"
            del conn.notices[:]
            conn.commit()
            event = {"ev": "ack", "id": row_id, "t0": t0, "t": now_ms(), "port": port}
            if conn.notices:
                event["notice"] = " ".join(n.strip() for n in conn.notices)[:300]
            emit(event)
        except psycopg2.Error as error:
            emit({"ev": "err", "id": row_id, "t": now_ms(), "phase": phase, "msg": str(error).strip()[:300]})
            try:
                conn.close()
            except psycopg2.Error:
                pass
            conn = None
    if conn is not None:
        conn.close()


if __name__ == "__main__":
    main()
