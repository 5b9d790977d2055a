"""Run every benchmark at a chosen size and write the figures next to their goals.

    .venv/bin/python -m benchmarks.run --messages 1000000

The store is built once through the real ingest path and cached under benchmarks/.cache/. The
results go to benchmarks/results/<messages>.json and, as a Markdown table, to stdout.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from benchmarks import bench_ingest, bench_process, bench_store
from benchmarks.common import ROOT, log, machine
from benchmarks.data import prepare

SCENARIOS = ("search", "listing", "round_trip", "ingest", "start_memory", "idle_bridge")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--messages", type=int, default=1_000_000, help="store size")
    parser.add_argument("--repeats", type=int, default=50, help="timed calls per query")
    parser.add_argument(
        "--ingest-messages",
        type=int,
        default=None,
        help="messages per ingest run (default: min(messages, 200000))",
    )
    parser.add_argument("--ingest-repeats", type=int, default=3)
    parser.add_argument("--start-repeats", type=int, default=10)
    parser.add_argument("--only", nargs="*", choices=SCENARIOS, default=list(SCENARIOS))
    args = parser.parse_args(argv)

    data, meta = prepare(args.messages)
    db = data / "messages.db"
    res: dict[str, Any] = {"machine": machine(), "args": vars(args), "store": meta}
    words = [q for _, q in bench_store.search_queries() if " " not in q and "*" not in q]
    if "search" in args.only:
        log("search …")
        res["search"] = bench_store.bench_search(db, args.repeats, like_repeats=3)
    if "listing" in args.only:
        log("listing …")
        res["listing"] = bench_store.bench_listing(db, args.repeats * 4)
    if "round_trip" in args.only:
        log("MCP round trip over stdio …")
        res["round_trip"] = bench_process.bench_round_trip(data, args.repeats, words[2])
    if "ingest" in args.only:
        n = args.ingest_messages or min(args.messages, 200_000)
        log(f"ingest of {n:,} messages x{args.ingest_repeats} …")
        res["ingest"] = bench_ingest.bench_ingest(n, args.ingest_repeats)
    if "start_memory" in args.only:
        log("cold start and memory …")
        res["start_memory"] = bench_process.bench_start_and_memory(data, args.start_repeats, words)
    if "idle_bridge" in args.only:
        log("idle bridge with NeonizeTransport …")
        res["idle_bridge"] = bench_process.bench_idle_bridge(idle_seconds=10)
    out = ROOT / "benchmarks" / "results" / f"{args.messages}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    log(f"wrote {out.relative_to(ROOT)}")
    sys.stdout.write(report(res) + "\n")
    return 0


def report(res: dict[str, Any]) -> str:
    """The README table: each figure next to its goal."""
    m, s = res["machine"], res["store"]
    lines = [
        f"{s['messages']:,} messages, {s['chats']:,} chats; {m['date']}, commit {m['commit']}; "
        f"{m['cores']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, Python {m['python']}, "
        f"SQLite {m['sqlite']}",
        "",
        "| scenario | goal | measured | peer / floor in the same run |",
        "|---|---|---|---|",
    ]
    if "search" in res:
        r = res["search"]
        lines.append(
            f"| search_messages (15 queries, limit 20) | p50 ≤ 5 ms, p99 ≤ 50 ms, ≥ 100× LIKE "
            f"| p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms | LIKE scan: median speed-up "
            f"{r['median_speedup_vs_like']}×, lowest {r['min_speedup_vs_like']}× |"
        )
    if "listing" in res:
        r = res["listing"]
        for what in ("list_chats", "list_messages"):
            p1, p2 = r[f"{what} page 1"], r[f"{what} page 2"]
            lines.append(
                f"| {what} page 1 / page 2 | p50 ≤ 5 ms, page 2 as fast | {p1['p50_ms']} / "
                f"{p2['p50_ms']} ms | page 2 / page 1 = {r[f'{what} page2/page1']} |"
            )
    if "round_trip" in res:
        r = res["round_trip"]
        goals = {
            "list_chats": "p50 ≤ 10 ms",
            "list_messages": "p50 ≤ 3 ms",
            "search_messages": "p50 ≤ 5 ms",
        }
        for name, goal in goals.items():
            if name not in r:
                continue
            in_store = r[name].get("in_store_p50_ms")
            store = f"; in the store {in_store} ms" if in_store is not None else ""
            size = f", {r[name]['text_bytes']:,} B of text" if "text_bytes" in r[name] else ""
            lines.append(
                f"| MCP stdio round trip: {name} | {goal} | p50 {r[name]['p50_ms']} ms, "
                f"p99 {r[name]['p99_ms']} ms{size} | bare SDK server, one tool: p50 "
                f"{r['ping']['p50_ms']} ms ({r[name]['vs_bare_ping']}×){store} |"
            )
    if "ingest" in res:
        r = res["ingest"]
        lines.append(
            f"| ingest_history, {r['messages']:,} msgs in batches of {r['batch_size']:,} "
            f"| ≥ 50,000 msg/s, ≥ 0.5× raw | {r['msgs_per_s']:,} msg/s | raw executemany "
            f"{r['raw_msgs_per_s']:,} msg/s, ratio {r['ratio_to_raw']} |"
        )
    lines.append(
        f"| ingest while building the {s['messages']:,}-message store | (reported) "
        f"| {s['ingest_msgs_per_s']:,} msg/s; RSS {s['rss_start_mib']} → {s['rss_max_mib']} MiB "
        "| – |"
    )
    if "start_memory" in res:
        r = res["start_memory"]
        lines.append(
            f"| cold start to `initialize` answer | ≤ 1.2× bare | {r['cold_start_ms']} ms "
            f"| bare MCPServer {r['bare_cold_start_ms']} ms, ratio {r['cold_start_ratio']} |"
        )
        lines.append(
            f"| MCP server peak RSS | ≤ 1.2× bare | {r['server_peak_mib']} MiB "
            f"({r['server_peak_after_search_mib']} MiB after searches) "
            f"| bare {r['bare_peak_mib']} MiB, ratio {r['peak_rss_ratio']} |"
        )
    if "idle_bridge" in res:
        r = res["idle_bridge"]
        lines.append(
            f"| idle bridge, NeonizeTransport loaded | ≤ 150 MB | {r['idle_rss_mib']} MiB "
            f"(peak {r['peak_rss_mib']}) | – |"
        )
    lines.append(
        f"| store size | as small as the text allows | {s['bytes_per_message']} B/msg "
        f"(FTS {s['fts_bytes_per_message']}, table {s['table_bytes_per_message']}, indexes "
        f"{s['index_bytes_per_message']}) | message text itself: {s['text_bytes_per_message']} "
        "B/msg |"
    )
    if "search" in res:
        lines += [
            "",
            "| query | text | hits | p50 ms | p99 ms | LIKE ms | speed-up |",
            "|---|---|---|---|---|---|---|",
        ]
        for q in res["search"]["queries"]:
            lines.append(
                f"| {q['query']} | `{q['text']}` | {q['hits']:,} | {q['p50_ms']} | {q['p99_ms']} "
                f"| {q['like_ms']} | {q['speedup_vs_like']}× |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
