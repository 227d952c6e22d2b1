#!/usr/bin/env python3
"""What the read audit costs, at 1, 8 and 32 clients.

The grid worker's home screen (the harness's own query, bench/queries.py HOME) reads personal fields in clear
(care subjects' and volunteers' names, the grid team's names and phones) and a sensitive one (the care
subjects' risk level), so every request appends one
hash-chained event to the audit trail before its response leaves. The same query without those fields reads
the same rows through the same statements and writes no event. Both are sent by the same token, alternating
point by point in every round, on the harness's database, and the report gives per concurrency the medians of
both, the difference per request in latency (p50) and in machine time (CPU of the server and of the database
per request), and the audit's share of the home screen's time.

  python3 bench/audit_cost.py --db postgres --scale 1          # the harness's database (seeded if needed)
  python3 bench/audit_cost.py --db sqlite --scale 0.1 --quick
  python3 bench/audit_cost.py --binary <older build> --database-url postgres://…/copy   # the same for another build

It uses the harness's own parts (bench/run: seeding, fixture, server, tokens, oha) and needs what it needs.
"""
import argparse
import json
import os
import statistics
import sys

from harness import harness


def public_variant(query):
    """The home screen without its personal and sensitive fields (names, phones, the risk level, a column of the
    same row): the same rows and statements, nothing to audit."""
    public = (query.replace("team { role name phone duty }", "team { role duty }")
              .replace("nodes { code name category currentRiskLevel daysSinceLastVisit }",
                       "nodes { code category daysSinceLastVisit }")
              .replace("volunteer { code name }", "volunteer { code }"))
    if public == query or " name phone" in public:
        sys.exit("bench/audit_cost.py: the home screen query changed; update public_variant()")
    return public


def machine_ms(point):
    cpu = point.get("cpu_ms") or {}
    return cpu.get("server", 0.0) + cpu.get("database", 0.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--database-url", help="PostgreSQL URL (default: the harness's)")
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--duration", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one round of 2-second points")
    parser.add_argument("--skip-build", action="store_true", help="use target/release/govgraph as it is")
    parser.add_argument("--binary", help="measure this server binary instead (another build, to compare; implies "
                                         "--skip-build; its migrations must match the database's)")
    args = parser.parse_args()
    run = harness()
    duration = 2 if args.quick else args.duration
    rounds = 1 if args.quick else max(1, args.rounds)
    concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    os.makedirs(run.WORK, exist_ok=True)
    db = run.Postgres(args.database_url or run.DEFAULT_PG_URL) if args.db == "postgres" else run.Sqlite(
        os.path.join(run.WORK, "bench-sqlite.db"))
    if args.binary:
        run.BINARY = os.path.abspath(args.binary)
        if not os.path.isfile(run.BINARY):
            run.die(f"no binary at {args.binary}")
    run.ensure_binary(args.skip_build or bool(args.binary))
    run.ensure_seeded(db, args.scale, False)
    run.ensure_oha()
    fixture = run.pick_fixture(db)
    # As bench/run does: a database autovacuum is still working through (after a seed, or a copy made with
    # CREATE DATABASE … TEMPLATE) gave this script's first runs a third of the throughput of a run minutes later.
    settled = run.settle_database(db) if args.db == "postgres" else None
    run.log(run.describe_settling(settled))
    load_start = os.getloadavg()[0]
    server = run.Server(db)
    server.start()
    try:
        body, headers = run.our_requests(server, fixture, run.our_tokens(server, fixture))["home"]
        variants = {"audited": body, "public": dict(body, query=public_variant(body["query"]))}
        for name, variant in variants.items():
            events_before = int(db.query("SELECT count(*) FROM audit_event")[0][0])
            answer = run.check_answer("ours", f"home ({name})", run.post_json(server.url, variant, headers))
            if not answer["careSubjects"]["nodes"]:
                run.die("the fixture's grid has no active care subjects")
            appended = int(db.query("SELECT count(*) FROM audit_event")[0][0]) - events_before
            if (appended > 0) != (name == "audited"):
                run.die(f"the {name} home screen appended {appended} audit events")
        points = {name: {c: [] for c in concurrency} for name in variants}
        for round_number in range(rounds):
            run.log(f"round {round_number + 1} of {rounds}")
            for c in concurrency:
                for name, variant in variants.items():
                    points[name][c].append(server.measure(variant, headers, c, duration))
    finally:
        server.stop()

    failed = sum(p["failed"] for per in points.values() for ps in per.values() for p in ps)
    if failed:
        run.die(f"{failed} requests failed; see bench/.work/server.log")
    load_end = os.getloadavg()[0]
    print(f"\nRead audit cost: home screen with and without personal fields, {db.kind}, scale {args.scale}, "
          f"{rounds} round(s) of {duration:g} s, medians")
    print(f"database: {run.describe_settling(settled)}")
    print(f"machine: 1-minute load average {load_start:.2f} when measuring began, {load_end:.2f} when it ended")
    header = (f"{'clients':>7} | {'audited req/s':>13} {'p50':>7} {'p99':>7} | {'public req/s':>12} {'p50':>7} "
              f"{'p99':>7} | {'+p50 ms':>8} {'+machine ms':>11} | {'share of time':>13}")
    print(header)
    print("-" * len(header))
    rows = []
    for c in concurrency:
        med = {name: {key: statistics.median(p[key] for p in points[name][c]) for key in ("rps", "p50_ms", "p99_ms")}
               for name in variants}
        machine = {name: statistics.median(machine_ms(p) for p in points[name][c]) for name in variants}
        split = {name: {part: statistics.median((p.get("cpu_ms") or {}).get(part, 0.0) for p in points[name][c])
                        for part in ("server", "database")} for name in variants}
        extra_p50 = med["audited"]["p50_ms"] - med["public"]["p50_ms"]
        extra_machine = machine["audited"] - machine["public"]
        # The audit's share of an audited home screen: in latency at one client, in machine time per request
        # (what bounds throughput) under load.
        share = (extra_p50 / med["audited"]["p50_ms"] if c == 1 else extra_machine / machine["audited"]) \
            if (med["audited"]["p50_ms"] and machine["audited"]) else 0.0
        rows.append({"clients": c, "audited": med["audited"], "public": med["public"],
                     "machine_ms": machine, "cpu_split_ms": split, "extra_p50_ms": extra_p50, "extra_machine_ms": extra_machine,
                     "share": share})
        print(f"{c:>7} | {med['audited']['rps']:>13.1f} {med['audited']['p50_ms']:>7.2f} "
              f"{med['audited']['p99_ms']:>7.2f} | {med['public']['rps']:>12.1f} {med['public']['p50_ms']:>7.2f} "
              f"{med['public']['p99_ms']:>7.2f} | {extra_p50:>8.2f} {extra_machine:>11.2f} | {share:>12.0%}")
    print("\nCPU per request, ms (server / database): "
          + "; ".join(f"{row['clients']} client(s): audited {row['cpu_split_ms']['audited']['server']:.2f} / "
                      f"{row['cpu_split_ms']['audited']['database']:.2f}, public "
                      f"{row['cpu_split_ms']['public']['server']:.2f} / {row['cpu_split_ms']['public']['database']:.2f}"
                      for row in rows))
    worst = max(row["share"] for row in rows)
    verdict = "PASS" if worst <= 0.2 else "MISS"
    print(f"\ntarget: the audit at most a fifth of the home screen's time at every concurrency: worst "
          f"{worst:.0%} {verdict}")
    with open(os.path.join(run.WORK, f"audit-cost-{db.kind}.json"), "w", encoding="utf-8") as file:
        json.dump({"scale": args.scale, "rounds": rounds, "duration": duration, "settled": settled,
                   "load_average": {"start": load_start, "end": load_end}, "rows": rows}, file, indent=2)


if __name__ == "__main__":
    main()
