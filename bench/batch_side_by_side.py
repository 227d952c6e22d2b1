#!/usr/bin/env python3
"""logServiceBatch x50 for two (or more) govgraph binaries side by side: each binary on its own copy of one seeded
PostgreSQL database, both servers running at once, points alternating (3 rounds of 4 s at 1, 8 and 32 clients),
medians printed. It reuses the harness's parts (bench/run: fixture, server, tokens, batch bodies, oha).

  createdb -T govgraph_bench govgraph_bench_a; createdb -T govgraph_bench govgraph_bench_b
  python3 bench/batch_side_by_side.py old/govgraph=postgres://postgres@127.0.0.1:5432/govgraph_bench_a \
      target/release/govgraph=postgres://postgres@127.0.0.1:5432/govgraph_bench_b

Copies made with a template share the seed, so both servers log into the same data. A binary that would migrate
its database forward must come after the binaries that would not recognise the result.
"""
import os
import statistics
import sys

from harness import harness


def main():
    pairs = [arg.split("=", 1) for arg in sys.argv[1:]]
    if len(pairs) < 2 or any(len(pair) != 2 for pair in pairs):
        sys.exit(__doc__)
    run = harness()
    os.makedirs(run.WORK, exist_ok=True)
    run.ensure_oha()
    servers = []
    try:
        for binary, url in pairs:
            run.BINARY = os.path.abspath(binary)
            db = run.Postgres(url)
            fixture = run.pick_fixture(db)
            server = run.Server(db)
            server.start()
            servers.append((binary, server))
            body, headers = run.our_requests(server, fixture, run.our_tokens(server, fixture))["log_batch"]
            servers[-1] = (binary, server, body, headers)
        points = {}
        for _ in range(3):
            for clients in (1, 8, 32):
                for binary, server, body, headers in servers:
                    points.setdefault((binary, clients), []).append(server.measure(body, headers, clients, 4))
    finally:
        for entry in servers:
            entry[1].stop()
    for (binary, clients), measured in points.items():
        median = lambda key: statistics.median(point[key] for point in measured)  # noqa: E731
        print(f"{binary:40} c={clients:>2} batches/s {median('rps'):7.1f} p50 {median('p50_ms'):7.1f} ms "
              f"p99 {median('p99_ms'):7.1f} ms failed {sum(point['failed'] for point in measured)} "
              f"rounds {[round(point['rps'], 1) for point in measured]}")


if __name__ == "__main__":
    main()
