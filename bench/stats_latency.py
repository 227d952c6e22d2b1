#!/usr/bin/env python3
"""Latency of the two headline statistics over HTTP.

  service hours by district by month for a year:
      statistics(measure: SERVICE_HOURS, groupBy: [REGION, PERIOD], regionLevel: DISTRICT, period: MONTH, year: Y)
  care subjects by township by risk level:
      statistics(measure: CARE_SUBJECTS_BY_RISK_LEVEL, groupBy: [REGION, CATEGORY], regionLevel: TOWNSHIP)

Seeds the database if asked (`migrate fresh`, then `seed --scale S`), starts the release server on a free port
with a city-wide admin token, warms up, sends each query N times sequentially and prints median, p90 and min in
milliseconds per query, with the scale and the row counts. Python 3 standard library only.

  python3 bench/stats_latency.py --database-url postgres://postgres@127.0.0.1:5432/govgraph_stats1 --scale 1
  python3 bench/stats_latency.py --database-url postgres://postgres@127.0.0.1:5432/govgraph_stats10 --no-seed
  python3 bench/stats_latency.py --scale 0.1          # SQLite file in a temporary directory
"""
import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BINARY = os.path.join(ROOT, "target", "release", "govgraph")

HOURS_BY_DISTRICT = (
    "{{ statistics(measure: SERVICE_HOURS, groupBy: [REGION, PERIOD], regionLevel: DISTRICT, period: MONTH, "
    "year: {year}) {{ cells {{ regionCode period value }} }} }}"
)
SUBJECTS_BY_TOWNSHIP = (
    "{ statistics(measure: CARE_SUBJECTS_BY_RISK_LEVEL, groupBy: [REGION, CATEGORY], regionLevel: TOWNSHIP) "
    "{ cells { regionCode category value } } }"
)
YEARS = "{ statistics(measure: SERVICE_RECORDS, groupBy: [PERIOD], period: YEAR) { cells { period value } } }"
TOTALS = (
    "{ records: statistics(measure: SERVICE_RECORDS) { cells { value } } "
    "subjects: statistics(measure: CARE_SUBJECTS) { cells { value } } "
    "rows: serviceRecords(first: 1) { totalCount } }"
)


def run(binary, *args, env):
    result = subprocess.run([binary, *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"govgraph {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def post(endpoint, token, query):
    """Sends one query; returns (seconds, data)."""
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    request = urllib.request.Request(endpoint, data=json.dumps({"query": query}).encode(), headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=300) as response:
        body = json.loads(response.read())
    elapsed = time.perf_counter() - started
    if body.get("errors"):
        sys.exit(f"unexpected errors: {json.dumps(body['errors'], ensure_ascii=False)}")
    return elapsed, body["data"]


def wait_ready(base, server):
    for _ in range(600):
        if server.poll() is not None:
            sys.exit("the server exited before it was ready")
        try:
            with urllib.request.urlopen(f"{base}/readyz", timeout=2):
                return
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    sys.exit("the server did not become ready within a minute")


def single_value(result):
    cells = result["cells"]
    return cells[0]["value"] if cells else "0"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--scale", type=float, default=1.0, help="demo data scale to seed (default 1)")
    parser.add_argument("--no-seed", action="store_true", help="use the database as it is (already seeded)")
    parser.add_argument("--runs", "-n", type=int, default=50, help="timed requests per query (default 50)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed requests per query first (default 5)")
    parser.add_argument("--year", type=int, help="year of the service-hours query (default: the demo data's)")
    parser.add_argument("--binary", default=DEFAULT_BINARY, help="the govgraph binary (default: release build)")
    parser.add_argument("--json", action="store_true", help="also print the results as one JSON line")
    args = parser.parse_args()

    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: run `cargo build --release -p govgraph` first")
    if args.no_seed and not args.database_url:
        sys.exit("--no-seed needs --database-url")
    workdir = tempfile.mkdtemp(prefix="govgraph-stats-bench-")
    url = args.database_url or f"sqlite://{workdir}/bench.db?mode=rwc"
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, GOVGRAPH_JWT_SECRET=secrets.token_hex(32), GOVGRAPH_LOG="warn",
               GOVGRAPH_BIND=f"127.0.0.1:{port}", GOVGRAPH_RATE_LIMIT_PER_SECOND="0")
    env.pop("GOVGRAPH_JWT_PUBLIC_KEY", None)
    env.pop("GOVGRAPH_JWT_JWKS", None)

    if not args.no_seed:
        print(f"seeding scale {args.scale} …", file=sys.stderr, flush=True)
        run(args.binary, "migrate", "fresh", env=env)
        print(run(args.binary, "seed", "--scale", str(args.scale), env=env).strip(), file=sys.stderr, flush=True)

    server = subprocess.Popen([args.binary, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_ready(base, server)
        endpoint = f"{base}/graphql"
        token = run(args.binary, "token", "--role", "admin", "--region", "330900", "--sub", "stats-bench",
                    env=env).strip()

        _, totals = post(endpoint, token, TOTALS)
        year = args.year
        if year is None:
            _, years = post(endpoint, token, YEARS)
            cells = years["statistics"]["cells"]
            if not cells:
                sys.exit("no service records: seed the database first")
            year = int(max(cells, key=lambda cell: int(cell["value"]))["period"])
        queries = {
            f"service hours by district by month, {year}": HOURS_BY_DISTRICT.format(year=year),
            "care subjects by township by risk level": SUBJECTS_BY_TOWNSHIP,
        }
        cells = {}
        for name, query in queries.items():
            for _ in range(args.warmup):
                _, data = post(endpoint, token, query)
            cells[name] = len(data["statistics"]["cells"])
        timings = {name: [] for name in queries}
        for name, query in queries.items():
            for _ in range(args.runs):
                timings[name].append(post(endpoint, token, query)[0] * 1000)

        backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        scale = "as seeded" if args.no_seed else args.scale
        print(f"{backend}, scale {scale}: {totals['rows']['totalCount']} service records "
              f"(statistics: {single_value(totals['records'])}), {single_value(totals['subjects'])} care subjects")
        print(f"{args.runs} sequential requests per query after {args.warmup} warm-up requests")
        print(f"{'query':48} {'cells':>6} {'median ms':>10} {'p90 ms':>10} {'min ms':>10}")
        results = {}
        for name, values in timings.items():
            values.sort()
            median = statistics.median(values)
            p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
            results[name] = {"cells": cells[name], "median_ms": round(median, 2), "p90_ms": round(p90, 2),
                             "min_ms": round(values[0], 2)}
            print(f"{name:48} {cells[name]:6} {median:10.2f} {p90:10.2f} {values[0]:10.2f}")
        if args.json:
            print(json.dumps({"backend": backend, "scale": scale, "service_records": totals["rows"]["totalCount"],
                              "care_subjects": int(single_value(totals["subjects"])), "runs": args.runs,
                              "queries": results}, ensure_ascii=False))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
