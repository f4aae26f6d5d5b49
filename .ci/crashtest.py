#!/usr/bin/env python3
"""Crash test: no acknowledged vote is ever lost or counted twice.

Readers vote at full speed (each request a new voter) while the server is killed with
SIGKILL every few seconds and restarted; at the end a SIGTERM under load must exit cleanly.
Then every vote that got a 2xx must be stored exactly once, SQLite must pass
`PRAGMA integrity_check`, and the results a fresh server shows must equal the stored rows.

With `--engine postgres` (run under `.ci/with-postgres`, which exports the cluster) the same
runs against PostgreSQL, and then PostgreSQL itself is restarted under load: while it is
down the app must answer 503 (never 500, never hang), and serve votes again within 5 s of
it coming back.

    .ci/with-postgres .ci/crashtest.py --engine both --kills 20   # what `make test` runs
    .ci/with-postgres .ci/crashtest.py --engine both --kills 200  # the full size
"""

import argparse
import http.client
import json
import os
import re
import shlex
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone

SLUG = "crash"
EDITOR = "crash@example.com"
PASSWORD = "crash test password 1234"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, binary, database_url, workdir):
        self.binary = binary
        self.port = free_port()
        self.env = dict(os.environ, DATABASE_URL=database_url, LEPTOS_SITE_ADDR=f"127.0.0.1:{self.port}",
                        LEPTOS_SITE_ROOT=os.path.join(workdir, "site"), POLLTELLIGENCE_RATE_LIMIT="0",
                        POLLTELLIGENCE_MAX_CONNECTIONS_PER_CLIENT="0",
                        POLLTELLIGENCE_DEMO="0", POLLTELLIGENCE_SUMMARY_WORKERS="0", RUST_LOG="error")
        self.log = open(os.path.join(workdir, "server.log"), "ab")
        self.process = None

    def cli(self, *args, stdin=None):
        subprocess.run([self.binary, *args], env=self.env, input=stdin, check=True, capture_output=True)

    def start(self):
        self.process = subprocess.Popen([self.binary, "serve"], env=self.env, stdout=self.log, stderr=self.log)
        started = time.monotonic()
        while time.monotonic() - started < 30:
            if self.process.poll() is not None:
                sys.exit(f"the server exited with {self.process.returncode} at start (see {self.log.name})")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return time.monotonic() - started
            except OSError:
                pass
            time.sleep(0.02)
        sys.exit("the server did not become healthy within 30 s")

    def stop(self, sig):
        self.process.send_signal(sig)
        return self.process.wait(timeout=30)


class Load:
    """Worker threads voting as fast as they can; each 2xx's voter id is recorded."""

    def __init__(self, server, workers):
        self.server = server
        self.acked = []
        self.statuses = {}
        self.timeline = []  # (started, finished, status or "error:<kind>")
        self.lock = threading.Lock()
        self.running = True
        self.threads = [threading.Thread(target=self.work, daemon=True) for _ in range(workers)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_):
        self.running = False
        for t in self.threads:
            t.join()

    def record(self, started, outcome, voter=None):
        with self.lock:
            self.statuses[outcome] = self.statuses.get(outcome, 0) + 1
            self.timeline.append((started, time.monotonic(), outcome))
            if voter:
                self.acked.append(voter)

    def work(self):
        body = json.dumps({"choices": ["yes"]})
        conn = None
        while self.running:
            started = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=10)
                conn.request("POST", f"/api/v1/polls/{SLUG}/votes", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                voter = None
                if response.status == 201:
                    cookie = response.getheader("Set-Cookie") or ""
                    match = re.match(r"pt_voter=([^.;]+)\.", cookie)
                    if not match:
                        sys.exit(f"a 201 without a voter cookie: {cookie!r}")
                    voter = match.group(1)
                self.record(started, response.status, voter)
                if response.getheader("Connection", "").lower() == "close":
                    conn.close()
                    conn = None
            except socket.timeout:
                self.record(started, "error:timeout")
                conn = None
            except (OSError, http.client.HTTPException):
                self.record(started, "error:connection")
                conn = None
                time.sleep(0.005)


def poll_file(workdir):
    now = datetime.now(timezone.utc)
    poll = {"slug": SLUG, "question": "Does every acknowledged vote survive a crash?",
            "options": [{"id": "yes", "label": "Yes"}, {"id": "no", "label": "No"}],
            "results_visibility": "always",
            "opens_at": (now - timedelta(hours=1)).isoformat(), "closes_at": (now + timedelta(days=1)).isoformat()}
    path = os.path.join(workdir, "polls.json")
    with open(path, "w") as f:
        json.dump([poll], f)
    return path


def prepare(server, workdir):
    server.cli("editor", "add", EDITOR, stdin=f"{PASSWORD}\n".encode())
    server.cli("polls", "import", poll_file(workdir), "--editor", EDITOR)


def results_total(server):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", f"/api/v1/polls/{SLUG}/results")
    return json.loads(conn.getresponse().read())["total_votes"]


def kill_loop(server, load, kills, interval):
    restarts = []
    for _ in range(kills):
        time.sleep(interval)
        server.stop(signal.SIGKILL)
        restarts.append(server.start())
    # Graceful shutdown under load: stop accepting, finish what is in flight, exit 0.
    time.sleep(interval)
    started = time.monotonic()
    code = server.stop(signal.SIGTERM)
    stopped_in = time.monotonic() - started
    if code != 0:
        sys.exit(f"SIGTERM under load: exit code {code}")
    return restarts, stopped_in


def verify(name, load, stored, integrity, server, kills, restarts, stopped_in):
    counts = {}
    for voter in stored:
        counts[voter] = counts.get(voter, 0) + 1
    missing = [v for v in load.acked if v not in counts]
    twice = [v for v, n in counts.items() if n > 1]
    acked_twice = len(load.acked) - len(set(load.acked))
    unacked = len(counts) - len(set(load.acked) & set(counts))
    server.start()
    shown = results_total(server)
    server.stop(signal.SIGTERM)
    errors = {k: v for k, v in load.statuses.items() if k not in (201,)}
    print(f"{name}: {kills} SIGKILLs + 1 SIGTERM under load; {len(load.acked)} votes acknowledged, "
          f"{len(stored)} stored ({unacked} stored without an answer: in flight at a kill), "
          f"{len(missing)} acknowledged but missing, {len(twice)} stored twice; results show {shown}; "
          f"integrity {integrity}; restart to healthy mean {1000 * sum(restarts) / max(len(restarts), 1):.0f} ms; "
          f"SIGTERM exit in {stopped_in:.2f} s; other outcomes {errors}")
    failures = []
    if missing:
        failures.append(f"{len(missing)} acknowledged votes are missing, e.g. {missing[:3]}")
    if twice or acked_twice:
        failures.append("a vote was stored or acknowledged twice")
    if integrity != "ok":
        failures.append(f"integrity check: {integrity}")
    if shown != len(stored):
        failures.append(f"results show {shown} votes, {len(stored)} are stored")
    if any(isinstance(k, int) and k >= 500 and k != 503 for k in load.statuses):
        failures.append(f"server errors: {errors}")
    if not load.acked:
        failures.append("no vote was acknowledged at all")
    return failures


def run_sqlite(binary, kills, interval, workers):
    with tempfile.TemporaryDirectory() as workdir:
        db = os.path.join(workdir, "crash.db")
        server = Server(binary, f"sqlite://{db}", workdir)
        prepare(server, workdir)
        server.start()
        with Load(server, workers) as load:
            restarts, stopped_in = kill_loop(server, load, kills, interval)
        with sqlite3.connect(db) as conn:
            integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
            stored = [r[0] for r in conn.execute(
                "SELECT voter_id FROM votes WHERE poll_id = (SELECT id FROM polls WHERE slug = ?)", (SLUG,))]
        return verify("SQLite", load, stored, integrity, server, kills, restarts, stopped_in)


def psql(url, sql):
    out = subprocess.run(["psql", "-At", "-v", "ON_ERROR_STOP=1", url, "-c", sql], check=True, capture_output=True)
    return out.stdout.decode().split()


def run_postgres(binary, kills, interval, workers):
    admin = os.environ.get("POLLTELLIGENCE_TEST_PG")
    control = os.environ.get("POLLTELLIGENCE_TEST_PG_CTL")
    if not admin or not control:
        sys.exit("--engine postgres runs under .ci/with-postgres (POLLTELLIGENCE_TEST_PG and _PG_CTL unset)")
    name = f"crash_{os.getpid()}"
    psql(admin, f"CREATE DATABASE {name}")
    url = admin.rsplit("/", 1)[0] + "/" + name
    failures = []
    with tempfile.TemporaryDirectory() as workdir:
        server = Server(binary, url, workdir)
        prepare(server, workdir)
        server.start()
        with Load(server, workers) as load:
            restarts, stopped_in = kill_loop(server, load, kills, interval)
        stored = psql(url, f"SELECT voter_id FROM votes WHERE poll_id = (SELECT id FROM polls WHERE slug = '{SLUG}')")
        integrity = "ok (PostgreSQL: constraints hold)" if len(stored) == len(set(stored)) else "duplicates"
        failures += verify("PostgreSQL", load, stored, "ok" if integrity.startswith("ok") else integrity,
                           server, kills, restarts, stopped_in)

        # PostgreSQL itself restarts under load.
        server.start()
        with Load(server, workers) as load:
            time.sleep(interval)
            subprocess.run(shlex.split(control) + ["stop", "-m", "fast", "-w"], check=True, capture_output=True)
            down_at = time.monotonic()
            # Longer than a request waits for a connection (3 s), so answers arrive meanwhile.
            time.sleep(7)
            starting_at = time.monotonic()
            subprocess.run(shlex.split(control) + ["start", "-w"], check=True, capture_output=True)
            up_at = time.monotonic()
            time.sleep(8)
        # Requests sent and answered while the database was stopped.
        down = [(done - started, o) for started, done, o in load.timeline if started > down_at and done < starting_at]
        while_down = [o for _, o in down]
        slowest = max((took for took, _ in down), default=0)
        after = [done for started, done, o in load.timeline if done > up_at and o == 201]
        recovered_in = (after[0] - up_at) if after else None
        down_outcomes = {o: while_down.count(o) for o in set(while_down)}
        stored = psql(url, f"SELECT voter_id FROM votes WHERE poll_id = (SELECT id FROM polls WHERE slug = '{SLUG}')")
        missing = set(load.acked) - set(stored)
        server.stop(signal.SIGTERM)
        print(f"PostgreSQL restart under load: while down {down_outcomes} (slowest answer {slowest:.1f} s); first vote stored "
              f"{'never' if recovered_in is None else f'{recovered_in:.2f} s'} after it was back; "
              f"{len(load.acked)} acknowledged, {len(missing)} missing")
        if any(o != 503 for o in while_down):
            failures.append(f"while PostgreSQL was down the app answered {down_outcomes} (want only 503)")
        if 503 not in down_outcomes:
            failures.append("no 503 was seen while PostgreSQL was down")
        if recovered_in is None or recovered_in > 5:
            failures.append(f"votes did not resume within 5 s of PostgreSQL coming back ({recovered_in})")
        if missing:
            failures.append(f"{len(missing)} acknowledged votes are missing after the PostgreSQL restart")
    return failures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="target/release/polltelligence")
    parser.add_argument("--engine", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--interval", type=float, default=1.0, help="seconds of load between kills")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    failures = []
    if args.engine in ("sqlite", "both"):
        failures += run_sqlite(args.binary, args.kills, args.interval, args.workers)
    if args.engine in ("postgres", "both"):
        failures += run_postgres(args.binary, args.kills, args.interval, args.workers)
    for failure in failures:
        print(f"FAIL: {failure}", file=sys.stderr)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
