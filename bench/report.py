"""The bench report: a markdown table against issue 13's targets, and a latency chart (PNG)."""

from __future__ import annotations

from pathlib import Path

INTENT_ORDER = ("refund", "cancel", "replacement", "status", "escalate", "policy_question",
                "other")


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"


def targets(f: dict) -> list[tuple[str, str, str, str]]:
    """(figure, measured, target, met) rows for what was measured."""
    rows = []
    every = f["in_process"]["all"]
    p95 = _pct(every, 95)
    rows.append(("in-process resolve p95", f"{p95:.1f} ms", "≤ 15 ms", _met(p95 <= 15)))
    for run in f.get("http", []):
        w, r = run["workers"], run["resolve"]
        p99 = r["percentiles_ms"][99.0]
        if w == 2:
            rows.append(("resolves/s, 2 workers, 16 connections", f"{r['rps']:.0f}/s",
                         "≥ 250/s", _met(r["rps"] >= 250)))
            rows.append(("resolve p99, 2 workers, 16 connections", f"{p99:.0f} ms", "≤ 150 ms",
                         _met(p99 <= 150)))
            rows.append(("resolve/health ratio, 2 workers, same run", f"{run['ratio']:.3f}",
                         "≥ 0.03", _met(run["ratio"] >= 0.03)))
        rows.append((f"RSS per worker, {w} worker{'s' * (w > 1)}",
                     " / ".join(f"{m:.0f} MB" for m in run["rss_mb"]), "≤ 500 MB",
                     _met(max(run["rss_mb"]) <= 500)))
        rows.append((f"start-up with a built index, {w} worker{'s' * (w > 1)}",
                     f"{run['started_s']:.1f} s", "≤ 5 s", _met(run["started_s"] <= 5)))
    scale = {row["orders"]: row for row in f.get("scale", [])}
    if 100 in scale and max(scale) > 100:
        top = scale[max(scale)]
        ratio = top["p50"] / scale[100]["p50"]
        rows.append((f"p50 at {max(scale):,} orders vs 100", f"{ratio:.2f}×", "≤ 1.5×",
                     _met(ratio <= 1.5)))
    fx = f.get("fixture") or {"customers": 0, "orders": 0, "seconds": float("nan")}
    rows.append((f"fixture load, {fx['customers']:,} customers ({fx['orders']:,} orders)",
                 f"{fx['seconds']:.1f} s", "≤ 10 s", _met(fx["seconds"] <= 10)))
    return rows


def markdown(f: dict) -> str:
    load = " / ".join(f"{x:.2f}" for x in f["load_before"])
    load_after = " / ".join(f"{x:.2f}" for x in f["load_after"])
    out = [f"# make bench ({f['when']})", "",
           f"{f['cpus']} CPUs; load average (1/5/15 min) {load} before, {load_after} after; "
           f"run took {f['took_s']:.0f} s. Offline brain, SQLite, CONFIRM_ACTIONS=always, "
           "200 customers × 5 orders unless said otherwise.", "",
           "| figure | measured | target | met |", "|---|---|---|---|"]
    out += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in targets(f)]
    out += ["", "## In-process resolve (SupportAgent.resolve, database and audit included)", "",
            "| intent | n | p50 ms | p95 ms | p99 ms |", "|---|---|---|---|---|"]
    by = f["in_process"]["by_intent"]
    for intent in [i for i in INTENT_ORDER if i in by] + ["all"]:
        v = f["in_process"]["all"] if intent == "all" else by[intent]
        out.append(f"| {intent} | {len(v)} | {_pct(v, 50):.1f} | {_pct(v, 95):.1f} | "
                   f"{_pct(v, 99):.1f} |")
    cpu = f["in_process"].get("cpu")
    if cpu:
        out += ["", f"CPU time per resolve (this process, not waiting for a core): p50 "
                    f"{_pct(cpu, 50):.1f} ms, p95 {_pct(cpu, 95):.1f} ms, mean "
                    f"{sum(cpu) / len(cpu):.1f} ms — at most {2000 / (sum(cpu) / len(cpu)):.0f} "
                    "resolves/s on 2 cores before HTTP costs."]
    if f.get("stages"):
        st = f["stages"]
        out += ["", "## Where one resolve's time goes (in-process, wall clock, ms per resolve)",
                "", f"Total {st['total_ms']:.1f} ms per resolve. Stages overlap where one runs "
                "inside another (embeddings inside understanding and policy search; the write "
                "lock inside every write).", "", "| stage | ms |", "|---|---|"]
        out += [f"| {label} | {ms:.2f} |" for label, ms in st["stages"]]
    if f.get("http"):
        gen = f["http"][0]["generator"]
        out += ["", f"## HTTP, 16 connections ({gen}), served as in production "
                    "(scripts/run_local.api_command)", "",
                "| workers | endpoint | req/s | p50 ms | p90 ms | p99 ms | errors | "
                "resolve/health |", "|---|---|---|---|---|---|---|---|"]
        for run in f["http"]:
            for name in ("health", "resolve"):
                r = run[name]
                p = r["percentiles_ms"]
                ratio = f"{run['ratio']:.3f}" if name == "resolve" else ""
                out.append(f"| {run['workers']} | {'/health' if name == 'health' else '/support/resolve'}"
                           f" | {r['rps']:.0f} | {p[50.0]:.1f} | {p[90.0]:.1f} | {p[99.0]:.1f} | "
                           f"{r['errors'] + r['non2xx']} | {ratio} |")
        out += ["", "| workers | start-up to healthy | RSS per worker |", "|---|---|---|"]
        for run in f["http"]:
            out.append(f"| {run['workers']} | {run['started_s']:.1f} s | "
                       + " / ".join(f"{m:.0f} MB" for m in run["rss_mb"]) + " |")
    if f.get("scale"):
        out += ["", "## Resolve latency by database size (5 orders per customer)", "",
                "| orders | fixture load | p50 ms | p95 ms |", "|---|---|---|---|"]
        for row in f["scale"]:
            out.append(f"| {row['orders']:,} | {row['load_s']:.1f} s | {row['p50']:.1f} | "
                       f"{row['p95']:.1f} |")
    fx = f.get("fixture") or {"customers": 0, "orders": 0, "seconds": float("nan")}
    out += ["", f"Fixture: `init_db.py --seed-file` with {fx['customers']:,} customers and "
                f"{fx['orders']:,} orders, new database, process start included: "
                f"{fx['seconds']:.1f} s. Services built (index built, model loaded) in-process "
                f"in {f['build_services_s']:.1f} s.", ""]
    return "\n".join(out)


def chart(f: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = 1 + bool(f.get("http")) + bool(f.get("scale"))
    fig, axes = plt.subplots(1, panels, figsize=(6 * panels, 4.5))
    axes = list(axes) if panels > 1 else [axes]
    ax = axes[0]
    by = f["in_process"]["by_intent"]
    names = [i for i in INTENT_ORDER if i in by]
    ax.boxplot([by[i] for i in names], whis=(1, 99), showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), [n.replace("_", "\n") for n in names], fontsize=8)
    ax.axhline(15, color="red", linestyle="--", linewidth=1, label="p95 target 15 ms")
    ax.set_ylabel("ms")
    ax.set_title("In-process resolve by intent (box: p25–p75, whiskers p1–p99)", fontsize=9)
    ax.legend(fontsize=8)
    k = 1
    if f.get("http"):
        ax = axes[k]
        k += 1
        for run in f["http"]:
            for name, style in (("resolve", "-"), ("health", ":")):
                p = run[name]["percentiles_ms"]
                qs = sorted(p)
                ax.plot([p[q] for q in qs], qs, style, marker=".",
                        label=f"{name}, {run['workers']} worker(s): {run[name]['rps']:.0f}/s")
        ax.axvline(150, color="red", linestyle="--", linewidth=1, label="p99 target 150 ms")
        ax.set_xscale("log")
        ax.set_xlabel("latency, ms (log)")
        ax.set_ylabel("percentile")
        ax.set_title("HTTP latency distribution, 16 connections", fontsize=9)
        ax.legend(fontsize=7)
    if f.get("scale"):
        ax = axes[k]
        rows = f["scale"]
        xs = [r["orders"] for r in rows]
        ax.plot(xs, [r["p50"] for r in rows], marker="o", label="p50")
        ax.plot(xs, [r["p95"] for r in rows], marker="o", label="p95")
        ax.set_xscale("log")
        ax.set_xlabel("orders in the database (log)")
        ax.set_ylabel("ms")
        ax.set_ylim(bottom=0)
        ax.set_title("Resolve latency by database size", fontsize=9)
        ax.legend(fontsize=8)
    fig.suptitle(f"make bench, {f['when']}, load {f['load_before'][0]:.1f}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
