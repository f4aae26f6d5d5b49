#!/usr/bin/env python3
"""`make bench`: the performance table of the release build, on both engines, in one run.

Every figure is measured here, now, beside the reference it is compared with, since these
machines are shared and noisy: a bare axum "hello" server built from this repo
(`polltelligence bench-hello`), and pgbench running the vote path's own INSERT ... ON
CONFLICT DO NOTHING into a unique (poll, voter) table on the same PostgreSQL cluster. Each
wrk row is run RUNS times (default 3) and the median printed. Then the vote path's cost
over a poll's life (about votes 1-10k against 90k-100k of one poll, each engine), the live
results (SSE) and, where a browser is installed, the bundle a reader downloads and the
simulator's recompute time from the browser tests.

Run under `.ci/with-postgres` with POLLTELLIGENCE_PG_DURABLE=1 (fsync and
synchronous_commit on); `make bench` does. Environment: BENCH_SECONDS (per wrk phase, 5),
BENCH_RUNS (3), BENCH_CONNECTIONS (64), BENCH_FLAT_VOTES (100000), BENCH_BROWSER (1)."""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("POLLTELLIGENCE_BIN", os.path.join(ROOT, "target/release/polltelligence"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "64"))
FLAT_VOTES = int(os.environ.get("BENCH_FLAT_VOTES", "100000"))
PG_ADMIN = os.environ.get("POLLTELLIGENCE_TEST_PG")
PG_BIN = os.path.dirname(shutil.which("pgbench") or sorted(
    p for p in (os.path.join("/usr/lib/postgresql", v, "bin/pgbench") for v in os.listdir("/usr/lib/postgresql"))
    if os.path.exists(p))[-1])

VOTE_LUA = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"choices": ["yes"]}'
"""
PGBENCH_SQL = """INSERT INTO ref_votes (poll_id, voter_id) VALUES (1, md5(random()::text || :client_id)) ON CONFLICT DO NOTHING;
"""


def die(message):
    print(f"bench: {message}", file=sys.stderr)
    sys.exit(1)


def get(url, timeout=2):
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return response.read()


def wait_for(url, process):
    for _ in range(300):
        if process.poll() is not None:
            die(f"the server for {url} exited with {process.returncode}")
        try:
            get(url)
            return
        except OSError:
            time.sleep(0.1)
    die(f"{url} did not answer")


def wrk(url, script=None, seconds=SECONDS, env=None, headers=()):
    command = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s"]
    for header in headers:
        command += ["-H", header]
    if script:
        command += ["-s", script]
    out = subprocess.run(command + [url], capture_output=True, text=True, env={**os.environ, **(env or {})},
                         check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    if bad or errors:
        print(f"  warning: {url}: {bad.group(0) if bad else ''} {errors.group(0) if errors else ''}".rstrip())
    return rate


def psql(database, sql):
    url = PG_ADMIN.rsplit("/", 1)[0] + "/" + database
    return subprocess.run([os.path.join(PG_BIN, "psql"), "-qAt", "-v", "ON_ERROR_STOP=1", url, "-c", sql],
                          capture_output=True, text=True, check=True).stdout.strip()


def pgbench(workdir):
    """tps of the vote's own insert with 16 clients: the database's limit for this write."""
    psql("postgres", "DROP DATABASE IF EXISTS pgbench_ref")
    psql("postgres", "CREATE DATABASE pgbench_ref")
    psql("pgbench_ref", "CREATE TABLE ref_votes (poll_id BIGINT NOT NULL, voter_id TEXT NOT NULL, "
         "UNIQUE (poll_id, voter_id))")
    script = os.path.join(workdir, "pgbench.sql")
    with open(script, "w") as f:
        f.write(PGBENCH_SQL)
    url = PG_ADMIN.rsplit("/", 1)[0] + "/pgbench_ref"
    out = subprocess.run([os.path.join(PG_BIN, "pgbench"), "-n", "-c16", "-j2", f"-T{SECONDS}", "-f", script, url],
                         capture_output=True, text=True, check=True).stdout
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def poll_json(slug):
    now = datetime.now(timezone.utc)
    return {"slug": slug, "question": f"Benchmark poll {slug}?",
            "options": [{"id": "yes", "label": "Yes"}, {"id": "no", "label": "No"}],
            "results_visibility": "always", "allow_comment": True,
            "opens_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "closes_at": (now + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}


class Server:
    def __init__(self, name, database_url, port, workdir, slugs):
        self.name, self.port = name, port
        self.base = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, "DATABASE_URL": database_url, "LEPTOS_SITE_ADDR": f"127.0.0.1:{port}",
                    "LEPTOS_SITE_ROOT": os.path.join(ROOT, "target/site"), "POLLTELLIGENCE_RATE_LIMIT": "0",
                    # One machine plays every client: the per-client caps would cap the benchmark.
                    "POLLTELLIGENCE_MAX_CONNECTIONS_PER_CLIENT": "0", "POLLTELLIGENCE_MAX_LISTENERS_PER_CLIENT": "0",
                    "RUST_LOG": "warn"}
        polls = os.path.join(workdir, f"{name}-polls.json")
        with open(polls, "w") as f:
            json.dump([poll_json(slug) for slug in slugs], f)
        editor = "bench@example.com"
        subprocess.run([BIN, "editor", "add", editor], input="a bench editor's password\n", text=True, env=self.env,
                       check=True, capture_output=True)
        subprocess.run([BIN, "polls", "import", polls, "--editor", editor], env=self.env, check=True,
                       capture_output=True)
        self.process = subprocess.Popen([BIN, "serve", "--no-demo"], env=self.env)
        wait_for(self.base + "/healthz", self.process)

    def total(self, slug):
        time.sleep(1.1)  # PostgreSQL's counts may lag by up to a second (other instances' votes)
        return json.loads(get(f"{self.base}/api/v1/polls/{slug}/results"))["total_votes"]

    def stop(self):
        self.process.terminate()
        self.process.wait()


def flat(server, slug, vote_lua, rate):
    """votes/s over about the first 10,000 votes of a fresh poll and over about 10,000 from
    FLAT_VOTES - 10,000 on: each phase a wrk run sized from `rate` (wrk runs for whole
    seconds), with the exact range of votes it covered."""
    url = f"{server.base}/api/v1/polls/{slug}/votes"
    seconds = max(1, round(10000 / rate))
    first = wrk(url, vote_lua, seconds=seconds)
    first_range = (0, server.total(slug))
    while (total := server.total(slug)) < FLAT_VOTES - 10000:
        wrk(url, vote_lua, seconds=max(1, int((FLAT_VOTES - 10000 - total) / rate)))
    before = server.total(slug)
    last = wrk(url, vote_lua, seconds=seconds)
    return first, last, first_range, (before, server.total(slug))


def browser_rows():
    """The reader page's bundle and the simulator's recompute time, as the browser test prints them."""
    if os.environ.get("BENCH_BROWSER", "1") == "0" or not os.path.exists("/usr/bin/chromium"):
        return None
    out = subprocess.run(["npx", "playwright", "test", "tests/simulator.spec.ts", "--grep", "120-month|bytes per page type"],
                         cwd=os.path.join(ROOT, "end2end"), capture_output=True, text=True)
    bundle = re.search(r"a reader page loads ([\d.]+) KB \(([\w+]+)\).*?/simulator loads ([\d.]+) KB", out.stdout)
    recompute = re.search(r"120-month scenario = ([\d.]+) ms", out.stdout)
    if out.returncode != 0 or not bundle or not recompute:
        print(out.stdout[-3000:], out.stderr[-2000:])
        print("bench: the browser test for the bundle rows failed; those rows are left out", file=sys.stderr)
        return None
    return float(bundle.group(1)), bundle.group(2), float(bundle.group(3)), float(recompute.group(1))


def reader_bundle_on_disk(suffix):
    """KB of the readers' bundle (reader.js + reader.wasm) as `make build` compressed it."""
    pkg = os.path.join(ROOT, "target", "site", "pkg")
    return sum(os.path.getsize(os.path.join(pkg, f"reader.{ext}.{suffix}")) for ext in ("js", "wasm")) / 1024


def main():
    if not PG_ADMIN:
        die("run under .ci/with-postgres (POLLTELLIGENCE_TEST_PG is not set)")
    if not os.access(BIN, os.X_OK):
        die(f"{BIN} is missing; run 'make build' first")
    if not shutil.which("wrk"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, capture_output=True)
    durable = psql("postgres", "SHOW fsync") + "/" + psql("postgres", "SHOW synchronous_commit")
    if durable != "on/on":
        die(f"PostgreSQL must run durably for this table (fsync/synchronous_commit are {durable})")
    workdir = tempfile.mkdtemp(prefix="polltelligence-bench-")
    servers = []
    hello = subprocess.Popen([BIN, "bench-hello", "--addr", "127.0.0.1:3198"])
    try:
        wait_for("http://127.0.0.1:3198/", hello)
        psql("postgres", "DROP DATABASE IF EXISTS polltelligence_bench")
        psql("postgres", "CREATE DATABASE polltelligence_bench")
        slugs = ["bench"] + [f"flat-{run}" for run in range(RUNS)]
        lite = Server("sqlite", f"sqlite://{workdir}/bench.db", 3199, workdir, slugs)
        servers.append(lite)
        pg = Server("postgres", PG_ADMIN.rsplit("/", 1)[0] + "/polltelligence_bench", 3200, workdir, slugs)
        servers.append(pg)
        vote_lua = os.path.join(workdir, "vote.lua")
        with open(vote_lua, "w") as f:
            f.write(VOTE_LUA)
        # The page a reader gets, results included (the bench poll shows them always).
        get(lite.base + "/polls/bench/results.png")
        gzip = ("Accept-Encoding: gzip",)
        rows = {k: [] for k in ["hello", "static", "json", "ssr", "png", "sqlite", "pgbench", "postgres"]}
        for run in range(RUNS):
            print(f"run {run + 1} of {RUNS} ...", flush=True)
            rows["hello"].append(wrk("http://127.0.0.1:3198/"))
            rows["static"].append(wrk(lite.base + "/pkg/polltelligence.css", headers=gzip))
            rows["json"].append(wrk(lite.base + "/api/v1/polls/bench/results", headers=gzip))
            rows["ssr"].append(wrk(lite.base + "/polls/bench", headers=gzip))
            rows["png"].append(wrk(lite.base + "/polls/bench/results.png"))
            rows["sqlite"].append(wrk(lite.base + "/api/v1/polls/bench/votes", vote_lua))
            rows["pgbench"].append(pgbench(workdir))
            rows["postgres"].append(wrk(pg.base + "/api/v1/polls/bench/votes", vote_lua))
        flats = {"sqlite": [], "postgres": []}
        for run in range(RUNS):
            print(f"votes over a poll's life, run {run + 1} of {RUNS} ...", flush=True)
            for name, server in (("sqlite", lite), ("postgres", pg)):
                flats[name].append(flat(server, f"flat-{run}", vote_lua, statistics.median(rows[name])))
        m = {k: statistics.median(v) for k, v in rows.items()}
        browser = browser_rows()

        cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
        print()
        print(f"machine: {cpu}, {os.cpu_count()} cores; load from wrk (1 thread, {CONNECTIONS} connections) "
              f"on the same cores; {SECONDS} s per phase; median of {RUNS} runs")
        print(f"PostgreSQL: fsync={durable.split('/')[0]}, synchronous_commit={durable.split('/')[1]}; "
              "SQLite: WAL, synchronous=FULL")
        table = []

        def row(what, value, unit, ratio_text, goal, met):
            table.append((what, f"{value:,.0f} {unit}" if unit else value, ratio_text, goal, "met" if met else "NOT met"))

        row("bare axum \"hello\" (reference)", m["hello"], "req/s", "1", "", True)
        row("pgbench: the vote's INSERT, 16 clients (reference)", m["pgbench"], "tps", "1", "", True)
        r = m["sqlite"] / m["hello"]
        row("durable votes/s, SQLite", m["sqlite"], "votes/s", f"{r:.3f}x hello", ">= 0.1x and >= 10,000/s",
            r >= 0.1 and m["sqlite"] >= 10000)
        r = m["postgres"] / m["pgbench"]
        row("durable votes/s, PostgreSQL", m["postgres"], "votes/s", f"{r:.3f}x pgbench", ">= 0.7x", r >= 0.7)
        r = m["static"] / m["hello"]
        row("static file /pkg/polltelligence.css", m["static"], "req/s", f"{r:.3f}x hello", ">= 0.4x", r >= 0.4)
        r = m["json"] / m["static"]
        row("results JSON", m["json"], "req/s", f"{r:.3f}x static", ">= 0.7x", r >= 0.7)
        r = m["ssr"] / m["static"]
        row("SSR poll page", m["ssr"], "req/s", f"{r:.3f}x static", ">= 0.3x", r >= 0.3)
        r = m["png"] / m["static"]
        row("results image (PNG, cached)", m["png"], "req/s", f"{r:.3f}x static", ">= 0.9x", r >= 0.9)
        for name in ("sqlite", "postgres"):
            first = statistics.median(f[0] for f in flats[name])
            last = statistics.median(f[1] for f in flats[name])
            r = last / first
            row(f"votes ~{FLAT_VOTES - 10000:,}-{FLAT_VOTES:,} vs ~1-10,000 of one poll, {name}",
                f"{last:,.0f} vs {first:,.0f} votes/s", "", f"{r:.3f}x", ">= 0.9x", r >= 0.9)
        if browser:
            reader, coding, simulator, recompute = browser
            br, gz = reader_bundle_on_disk("br"), reader_bundle_on_disk("gz")
            row("JS + WASM a reader's poll page downloads",
                f"{reader:.1f} KB as the browser got it ({coding}); brotli {br:.1f} KB, gzip {gz:.1f} KB", "",
                f"(/simulator: {simulator:.1f} KB)", "<= 150 KB compressed", min(reader, br) <= 150)
            row("a 120-month simulation in WASM", f"{recompute:.4f} ms", "", "", "< 1 ms", recompute < 1)
        else:
            print("(no browser test: the bundle and simulation rows are left out)")
        widths = [max(len(str(r[i])) for r in table + [("what", "figure", "ratio", "goal", "")]) for i in range(5)]
        print()
        for cells in [("what", "figure", "ratio", "goal", "")] + table:
            print(" | ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip())
        print()
        for name, runs in flats.items():
            for first, last, (a, b), (c, d) in runs:
                print(f"{name}: {first:,.0f} votes/s for votes {a + 1:,}-{b:,}; {last:,.0f} votes/s for votes "
                      f"{c + 1:,}-{d:,}")
        print("\nlive results (SSE), on SQLite:", flush=True)
        subprocess.run([sys.executable, os.path.join(ROOT, ".ci/bench_live.py"), "127.0.0.1", str(lite.port), "bench",
                        str(lite.process.pid), os.environ.get("BENCH_LISTENERS", "2000"),
                        os.environ.get("BENCH_VOTE_RATE", "500"), str(max(SECONDS, 10))], check=True)
    finally:
        for server in servers:
            server.stop()
        hello.terminate()
        hello.wait()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
