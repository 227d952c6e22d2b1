#!/usr/bin/env python3
"""What the audit trail costs a read.

Starts the release server on a demo database and sends the same page of volunteers, interleaved, as
  - an officer who sees names and phones in clear (the read is audited: one hash-chained event per request),
  - an officer who asks only for public fields (no audit event),
  - an analyst who gets the same fields masked (no audit event),
then prints the median and p90 latency of each and the audited/unaudited ratio.

  python3 bench/audit_cost.py                      # SQLite, scale 0.1, in a temporary directory
  python3 bench/audit_cost.py --database-url postgres://postgres@127.0.0.1:5432/govgraph_bench --scale 1
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "govgraph")
SECRET = "bench-secret-bench-secret-bench-secret"
PERSONAL = "{ volunteers(first: 20) { edges { node { code name phone } } } }"
PUBLIC = "{ volunteers(first: 20) { edges { node { code status registeredOn } } } }"


def run(*args, env):
    return subprocess.run([BINARY, *args], env=env, check=True, capture_output=True, text=True).stdout


def post(url, token, query, purpose=None):
    headers = {"content-type": "application/json", "authorization": f"Bearer {token}"}
    if purpose:
        headers["x-access-purpose"] = purpose
    request = urllib.request.Request(url, data=json.dumps({"query": query}).encode(), headers=headers)
    started = time.perf_counter()
    with urllib.request.urlopen(request) as response:
        body = json.loads(response.read())
    elapsed = time.perf_counter() - started
    if "errors" in body:
        sys.exit(f"unexpected errors: {body['errors']}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--requests", type=int, default=300, help="per kind of read")
    parser.add_argument("--port", type=int, default=18181)
    parser.add_argument("--skip-build", action="store_true", help="use the release binary as it is")
    args = parser.parse_args()

    if not args.skip_build:
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "govgraph"], cwd=ROOT, check=True)
    workdir = tempfile.mkdtemp(prefix="govgraph-bench-")
    url = args.database_url or f"sqlite://{workdir}/bench.db?mode=rwc"
    env = dict(os.environ, DATABASE_URL=url, GOVGRAPH_JWT_SECRET=SECRET, GOVGRAPH_LOG="warn",
               GOVGRAPH_BIND=f"127.0.0.1:{args.port}")
    try:
        run("seed", "--scale", str(args.scale), env=env)
    except subprocess.CalledProcessError as err:
        if "already holds data" not in err.stderr:
            raise
    server = subprocess.Popen([BINARY, "serve"], env=env, stderr=subprocess.DEVNULL)
    try:
        endpoint = f"http://127.0.0.1:{args.port}/graphql"
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/readyz")
                break
            except OSError:
                time.sleep(0.1)
        officer = run("token", "--role", "officer", "--sub", "bench-officer", env=env).strip()
        analyst = run("token", "--role", "analyst", "--sub", "bench-analyst", env=env).strip()
        kinds = {
            "officer, personal fields (audited)": (officer, PERSONAL, "benchmark"),
            "officer, public fields only": (officer, PUBLIC, None),
            "analyst, personal fields masked": (analyst, PERSONAL, None),
        }
        for token, query, purpose in kinds.values():
            for _ in range(20):
                post(endpoint, token, query, purpose)
        timings = {kind: [] for kind in kinds}
        for _ in range(args.requests):
            for kind, (token, query, purpose) in kinds.items():
                timings[kind].append(post(endpoint, token, query, purpose))
        backend = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        print(f"{backend}, scale {args.scale}, {args.requests} sequential requests per kind, interleaved")
        print(f"{'kind':40} {'median ms':>10} {'p90 ms':>10}")
        medians = {}
        for kind, values in timings.items():
            values.sort()
            medians[kind] = statistics.median(values)
            p90 = values[int(len(values) * 0.9)]
            print(f"{kind:40} {medians[kind] * 1000:10.2f} {p90 * 1000:10.2f}")
        audited = medians["officer, personal fields (audited)"]
        for kind in list(kinds)[1:]:
            print(f"audited / {kind}: {audited / medians[kind]:.2f}x, +{(audited - medians[kind]) * 1000:.2f} ms")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
