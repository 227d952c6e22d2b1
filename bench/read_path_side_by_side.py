#!/usr/bin/env python3
"""The benchmark's read queries on the two read paths side by side: one govgraph binary serving twice on one
seeded database, once with `GOVGRAPH_READ_PATH=compiled` (top-level pages carry their nested rows) and once with
`loaders` (every nested field through its batched loader). Both servers run at once and the points alternate
(3 rounds of 4 s at 1, 8 and 32 clients unless told otherwise; which path goes first alternates by round); medians of req/s, p50, p99, statements per request
and the CPU split (ms per request: server, database) are printed. The volunteer profile has no top-level list:
both paths run the same code for it, so its two rows show how far apart two identical servers measure. It reuses
bench/run's parts.

  python3 bench/read_path_side_by_side.py [--binary target/release/govgraph] \
      [--database-url postgres://postgres@127.0.0.1:5432/govgraph_bench] [--rounds 3] [--seconds 4]

With `--versus OTHER_BINARY` it compares two builds instead: both serve the compiled path, labelled by their
file names, so that a change is measured against the build before it in one run. `--sqlite FILE` serves a seeded
SQLite file (bench/.work/bench-sqlite.db after `bench/run --db sqlite`) instead of PostgreSQL; with
`--versus-sqlite FILE` the second binary serves a file of its own, seeded by it (`DATABASE_URL=sqlite://FILE?mode=rwc
OTHER_BINARY seed --scale 1`, then `ANALYZE`), for a build whose migrations differ from this one's.

The database must hold the benchmark's seed (`bench/run` leaves one behind).
"""
import argparse
import os
import statistics

from harness import harness

QUERIES = ("home", "profile", "analyst")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="target/release/govgraph")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/govgraph_bench")
    parser.add_argument("--sqlite", help="a seeded SQLite file to serve instead of the PostgreSQL database")
    parser.add_argument("--versus-sqlite", help="with --sqlite and --versus: the SQLite file the second binary serves")
    parser.add_argument("--versus", help="a second binary to compare --binary with, both on the compiled path")
    parser.add_argument("--queries", default=",".join(QUERIES),
                        help="comma-separated names of bench/run's queries (default: %(default)s; also "
                             "volunteer_by_code, region_by_code, statistics)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=4)
    args = parser.parse_args()
    run = harness()
    run.BINARY = os.path.abspath(args.binary)
    os.makedirs(run.WORK, exist_ok=True)
    run.ensure_oha()
    if args.sqlite:
        db = run.Sqlite(os.path.abspath(args.sqlite))
        fixture = run.pick_fixture(db)
    else:
        db = run.Postgres(args.database_url)
        fixture = run.pick_fixture(db)
        run.settle_database(db)
    servers = []
    try:
        if args.versus:
            binaries = [os.path.abspath(args.binary), os.path.abspath(args.versus)]
            contenders = [(os.path.basename(binary), binary, "compiled") for binary in binaries]
            if contenders[0][0] == contenders[1][0]:
                contenders = [(f"{label}#{n}", binary, path) for n, (label, binary, path) in enumerate(contenders, 1)]
        else:
            contenders = [(path, run.BINARY, path) for path in ("compiled", "loaders")]
        for number, (label, binary, path) in enumerate(contenders):
            # Server.start and Server.token run the module's BINARY.
            run.BINARY = binary
            served, served_fixture = db, fixture
            if number == 1 and args.versus_sqlite:
                served = run.Sqlite(os.path.abspath(args.versus_sqlite))
                served_fixture = run.pick_fixture(served)
            server = run.Server(served)
            server.env["GOVGRAPH_READ_PATH"] = path
            server.start()
            requests = run.our_requests(server, served_fixture, run.our_tokens(server, served_fixture))
            servers.append((label, server, requests))
        points = {}
        for round_ in range(args.rounds):
            for clients in (1, 8, 32):
                for name in args.queries.split(","):
                    # Which path goes first alternates, so that neither always meets the other's leftovers.
                    for path, server, requests in (servers if round_ % 2 == 0 else servers[::-1]):
                        body, headers = requests[name]
                        point = server.measure(body, headers, clients, args.seconds)
                        points.setdefault((name, clients, path), []).append(point)
    finally:
        for _, server, _ in servers:
            server.stop()
    print(f"read paths side by side: {args.rounds} round(s) of {args.seconds} s per point, medians; "
          f"load average at the end {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    for (name, clients, path), measured in points.items():
        def median(key, part=None):
            values = [point[key] if part is None else point[key][part] for point in measured
                      if point.get(key) is not None]
            return statistics.median(values) if values else float("nan")
        print(f"{name:8} c={clients:>2} {path:14} req/s {median('rps'):7.1f} p50 {median('p50_ms'):7.2f} ms "
              f"p99 {median('p99_ms'):7.2f} ms stmt/req {median('statements_per_request'):4.1f} "
              f"cpu ms/req server {median('cpu_ms', 'server'):5.2f} database {median('cpu_ms', 'database'):5.2f} "
              f"failed {sum(point['failed'] for point in measured)}")


if __name__ == "__main__":
    main()
