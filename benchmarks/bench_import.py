"""Import throughput of a generated "Export chat" file, against raw `executemany` into the same
tables, in one run.

    python -m benchmarks.bench_import --lines 300000 --repeats 3

A 1:1 Android export (24 h, day-first) of `--lines` lines: about 8 % of messages run over two or
three lines, 3 % are `<Media omitted>`, and the two people alternate in bursts. Each repeat
imports it into a fresh store (FTS5 index in sync, as always) and times:

- `import`: the whole path a user runs: read the file, parse, map senders, plan ids, stage,
  merge with what is stored, index, commit (`store.chat_export.run.import_offline`);
- `raw executemany`: the floor: the already-planned rows inserted with one `executemany` into
  `messages` in one transaction with the FTS trigger in place, nothing else;
- `re-import`: the same file again into the filled store (every message skipped).

Results go to `benchmarks/results/import-<lines>.json` and as a table to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.common import log
from store.chat_export import load
from store.chat_export.parse import parse_export
from store.chat_export.run import import_offline
from store.db import open_reader, open_writer
from store.models import ContactRecord
from store.reader import StoreReader
from store.writer import StoreWriter

PEER = "15551110001@s.whatsapp.net"
_WORDS = (
    "ok yes no maybe later tonight tomorrow dinner call me when you are free the train is late "
    "see you at five love it haha sure thanks great pizza movie weekend work home coffee"
).split()


def generate(path: Path, lines: int, seed: int = 17) -> int:
    """Write an export of about `lines` lines; returns how many messages it holds."""
    rng = random.Random(seed)
    t = datetime(2019, 1, 1, 8, 0)
    out: list[str] = []
    messages = 0
    who = "Alice"
    while len(out) < lines:
        t += timedelta(seconds=rng.choice((5, 20, 40, 90, 600, 3600)))
        if rng.random() < 0.3:
            who = "Sam" if who == "Alice" else "Alice"
        stamp = f"{t:%d/%m/%Y, %H:%M} - {who}: "
        r = rng.random()
        if r < 0.03:
            out.append(stamp + "<Media omitted>")
        else:
            text = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 12)))
            out.append(stamp + text)
            if r > 0.92:
                out.extend(
                    " ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, 8)))
                    for _ in range(rng.randint(1, 2))
                )
        messages += 1
    path.write_text("\n".join(out[:lines]) + "\n", encoding="utf-8")
    return messages


def _fresh_store(root: Path) -> tuple[StoreWriter, StoreReader, Any, Any]:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    conn = open_writer(root / "messages.db")
    writer = StoreWriter(conn)
    writer.upsert_contacts([ContactRecord(jid=PEER, saved_name="Alice")])
    rconn = open_reader(root / "messages.db")
    return writer, StoreReader(rconn), conn, rconn


def _raw_floor(root: Path, rows: list[load.Row]) -> tuple[float, float]:
    writer, _reader, conn, rconn = _fresh_store(root)
    cols = "id, chat_jid, sender, sender_name, content, timestamp, is_from_me, kind, source"
    plain = [(r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], "import") for r in rows]
    conn.execute("INSERT INTO chats (jid) VALUES (?)", (PEER,))
    start, cpu = time.perf_counter(), time.process_time()
    conn.execute("BEGIN IMMEDIATE")
    conn.executemany(f"INSERT INTO messages ({cols}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", plain)
    conn.execute("COMMIT")
    took = (time.perf_counter() - start, time.process_time() - cpu)
    del writer
    rconn.close()
    conn.close()
    return took


def bench(lines: int, repeats: int, work: Path) -> dict[str, Any]:
    export = work / "WhatsApp Chat with Alice.txt"
    messages = generate(export, lines)
    log(f"generated {lines:,} lines, {messages:,} messages ({export.stat().st_size / 1e6:.1f} MB)")
    imports: list[float] = []
    import_cpu: list[float] = []
    reimports: list[float] = []
    raws: list[float] = []
    raw_cpu: list[float] = []
    parse_only: list[float] = []
    rows: list[load.Row] = []
    for i in range(repeats):
        writer, reader, conn, rconn = _fresh_store(work / "store")
        start, cpu = time.perf_counter(), time.process_time()
        report = import_offline(export, writer, reader, work / "media", timezone="UTC")
        imports.append(time.perf_counter() - start)
        import_cpu.append(time.process_time() - cpu)
        assert report.imported == messages, report
        start = time.perf_counter()
        again = import_offline(export, writer, reader, work / "media", timezone="UTC")
        reimports.append(time.perf_counter() - start)
        assert again.imported == 0
        fts = conn.execute("SELECT count(*) FROM messages_fts").fetchone()[0]
        assert fts == messages
        rconn.close()
        conn.close()
        start = time.perf_counter()
        parse_export(export.read_text(encoding="utf-8"))
        parse_only.append(time.perf_counter() - start)
        if not rows:
            writer, reader, conn, rconn = _fresh_store(work / "plan")
            from store.chat_export.source import open_export

            parsed = parse_export(open_export(export).text)
            target = load.resolve_target(
                reader, parsed, chat=None, filename=export.name, my_name=None, account_jid=None
            )
            rows = load.plan_export(parsed, target, lambda _: None).rows
            rconn.close()
            conn.close()
        wall, cpu_s = _raw_floor(work / "raw", rows)
        raws.append(wall)
        raw_cpu.append(cpu_s)
        log(
            f"repeat {i + 1}: import {imports[-1]:.2f} s (cpu {import_cpu[-1]:.2f}), raw "
            f"{raws[-1]:.2f} s (cpu {raw_cpu[-1]:.2f}), "
            f"re-import {reimports[-1]:.2f} s"
        )
    imp, raw, re_ = (statistics.median(x) for x in (imports, raws, reimports))
    return {
        "lines": lines,
        "messages": messages,
        "repeats": repeats,
        "import_s": imp,
        "import_msgs_per_s": messages / imp,
        "parse_s": statistics.median(parse_only),
        "raw_executemany_s": raw,
        "raw_msgs_per_s": messages / raw,
        "import_over_raw": imp / raw,
        "import_cpu_s": statistics.median(import_cpu),
        "raw_cpu_s": statistics.median(raw_cpu),
        "load_average_after": os.getloadavg(),
        "reimport_s": re_,
        "all_import_s": imports,
        "all_raw_s": raws,
    }


def report(res: dict[str, Any]) -> str:
    return "\n".join(
        [
            f"{res['lines']:,} lines, {res['messages']:,} messages, median of {res['repeats']}:",
            "",
            "| path | wall | messages/s (wall) | CPU | messages/s (CPU) |",
            "|---|---|---|---|---|",
            f"| import (read, parse, plan, merge, FTS, commit) | {res['import_s']:.2f} s | "
            f"{res['import_msgs_per_s']:,.0f} | {res['import_cpu_s']:.2f} s | "
            f"{res['messages'] / res['import_cpu_s']:,.0f} |",
            f"| of which parsing | {res['parse_s']:.2f} s | | | |",
            f"| raw `executemany` into `messages` (FTS trigger) | {res['raw_executemany_s']:.2f} s "
            f"| {res['raw_msgs_per_s']:,.0f} | {res['raw_cpu_s']:.2f} s | "
            f"{res['messages'] / res['raw_cpu_s']:,.0f} |",
            f"| re-import of the same file (all skipped) | {res['reimport_s']:.2f} s | "
            f"{res['messages'] / res['reimport_s']:,.0f} | | |",
            "",
            f"import / raw (wall) = {res['import_over_raw']:.2f}; load average after the run: "
            + ", ".join(f"{x:.1f}" for x in res["load_average_after"]),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--lines", type=int, default=300_000)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        res = bench(args.lines, args.repeats, Path(tmp))
    out = Path(__file__).parent / "results" / f"import-{args.lines}.json"
    out.write_text(json.dumps(res, indent=2) + "\n", encoding="utf-8")
    import sys

    sys.stdout.write(report(res) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
