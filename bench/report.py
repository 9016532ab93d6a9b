"""X6 benchmark results: latency statistics, the targets, the JSON files and the generated
part of docs/PERFORMANCE.md (between `<!-- bench:begin -->` and `<!-- bench:end -->`)."""

import json
import math
import shutil
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
DOC = Path(__file__).resolve().parent.parent / "docs" / "PERFORMANCE.md"
BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"

# Issue 6, item 5. p50 targets at concurrency 1 (one user; at 16 users two workers queue).
LATENCY_TARGETS_MS = {
    "list_html": 50,
    "list_api": 50,
    "page_html": 50,
    "page_api": 50,
    "detail": 50,
    "search_zh": 100,
    "search_py": 100,
    "create_api": 50,
    "analysis": 1000,
    "channels": 1000,
    "reconciliation": 1000,
}
FLOOR_TARGET = (
    3.0  # end-to-end p50 ÷ main SQL p50, for the list pages and the 360° page
)
FLOOR_TARGET_KEYS = ("list_html", "list_api", "page_html", "page_api", "detail")
IMPORT_TARGET = 2000  # rows per second


def percentile(values: list[float], p: float) -> float | None:
    """The p-th percentile (0–100) of sorted `values`, linearly interpolated."""
    if not values:
        return None
    rank = (len(values) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return values[low] + (values[high] - values[low]) * (rank - low)


def load_stats(phase: dict) -> dict:
    """Figures of one phase. Measured: the requests started after the warm-up. Their
    rate is per second of the window from the end of the warm-up to the last answer.
    Failures count over the whole phase (one during the warm-up is a failure too)."""
    measured = [s for s in phase["samples"] if s[0] >= phase["measure_from"]]
    ok = sorted(s[1] for s in measured if s[2])
    failed_total = sum(1 for s in phase["samples"] if not s[2])
    window_end = max([phase["until"], *(s[0] + s[1] / 1000 for s in measured)])
    window = window_end - phase["measure_from"]

    def ms(value):
        return None if value is None else round(value, 2)

    return {
        "requests": len(measured),
        "ok": len(ok),
        "failures": failed_total,
        "window_seconds": round(window, 2),
        "requests_per_second": round(len(measured) / window, 2) if window else None,
        "p50_ms": ms(percentile(ok, 50)),
        "p95_ms": ms(percentile(ok, 95)),
        "p99_ms": ms(percentile(ok, 99)),
        "max_ms": ms(ok[-1] if ok else None),
        "errors": phase.get("errors", {}),
    }


def evaluate_targets(result: dict) -> list[dict]:
    """Every target of issue 6 item 5 against the figures: met, missed, or not measured."""
    targets = []
    by_key = {e["key"]: e for e in result["endpoints"]}
    for key, limit in LATENCY_TARGETS_MS.items():
        endpoint = by_key.get(key)
        p50 = (endpoint or {}).get("load", {}).get("1", {}).get("p50_ms")
        targets.append(
            _target(
                f"{endpoint['label'] if endpoint else key}: p50 at concurrency 1",
                f"≤ {limit:,} ms",
                p50,
                None if p50 is None else p50 <= limit,
                unit="ms",
            )
        )
    for endpoint in result["endpoints"]:
        queries = endpoint.get("queries") or {}
        if "size25" in queries and "size100" in queries:
            same = queries["size25"] == queries["size100"]
            targets.append(
                _target(
                    f"{endpoint['label']}: queries per request, page size 25 vs 100",
                    "equal",
                    f"{queries['size25']} vs {queries['size100']}",
                    same,
                )
            )
    for key in FLOOR_TARGET_KEYS:
        endpoint = by_key.get(key)
        ratio = ((endpoint or {}).get("floor") or {}).get("ratio")
        targets.append(
            _target(
                f"{endpoint['label'] if endpoint else key}: end-to-end ÷ SQL floor",
                f"≤ {FLOOR_TARGET:g}",
                ratio,
                None if ratio is None else ratio <= FLOOR_TARGET,
            )
        )
    rate = (result.get("import") or {}).get("rows_per_second")
    targets.append(
        _target(
            "Import of a customer xlsx",
            f"≥ {IMPORT_TARGET:,} rows/s",
            rate,
            None if rate is None else rate >= IMPORT_TARGET,
            unit="rows/s",
        )
    )
    return targets


def _target(name, target, value, met, unit=""):
    return {"name": name, "target": target, "value": value, "unit": unit, "met": met}


def write_json(result: dict, name: str | None = None) -> list[Path]:
    """bench/results/<name>.json, or latest.json plus a dated copy when no name."""
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(result, ensure_ascii=False, indent=2) + "\n"
    if name:
        path = RESULTS / f"{name}.json"
        path.write_text(text, encoding="utf-8")
        return [path]
    latest = RESULTS / "latest.json"
    latest.write_text(text, encoding="utf-8")
    stamp = result["date"][:19].replace(":", "").replace("-", "")
    dated = RESULTS / f"{stamp}.json"
    shutil.copyfile(latest, dated)
    return [latest, dated]


# Markdown


def _num(value, digits=1):
    if value is None:
        return "–"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def markdown(result: dict) -> str:
    """The generated section: context, a latency table per concurrency, queries and the
    floor, import, targets."""
    scale, machine = result["scale"], result["machine"]
    lines = [
        f"Generated by `bench/run.py` on {result['date']} · commit `{result['git']}`.",
        "",
        f"- Command: `{result['command']}`",
        "- Scale: "
        + ", ".join(f"{_num(v)} {k.replace('_', ' ')}" for k, v in scale.items()),
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, "
        f"{machine['ram_gib']} GiB RAM; PostgreSQL {machine['postgresql']}; "
        f"{result['server']}",
        f"- Login: `{result['login']}` ({result['login_scope']}); "
        f"{result['settings']['duration']} s measured per endpoint after "
        f"{result['settings']['warmup']} s warm-up; closed loop, no think time",
        f"- Parameters: {result['parameters_note']}",
        "",
    ]
    for level in result["settings"]["concurrency"]:
        lines += [
            f"#### Concurrency {level}",
            "",
            "| Endpoint | Requests | Req/s | p50 ms | p95 ms | p99 ms | Failures |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for endpoint in result["endpoints"]:
            load = endpoint.get("load", {}).get(str(level))
            if not load:
                continue
            lines.append(
                f"| {endpoint['label']} | {_num(load['requests'])} "
                f"| {_num(load['requests_per_second'])} | {_num(load['p50_ms'])} "
                f"| {_num(load['p95_ms'])} | {_num(load['p99_ms'])} "
                f"| {_num(load['failures'])} |"
            )
        lines.append("")
    lines += [
        "#### SQL queries per request and the floor",
        "",
        "Queries counted in-process (Django test client, same login). Main query: the "
        "captured SELECT that is slowest when re-run alone; its SQL p50 is the median of "
        f"{result['settings']['floor_runs']} warm runs through psycopg.",
        "",
        "| Endpoint | Queries | @25 rows | @100 rows | Main SQL p50 ms | All SQL ms "
        "| End-to-end p50 ms | E2E ÷ SQL |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for endpoint in result["endpoints"]:
        queries = endpoint.get("queries")
        if not queries:
            continue
        floor = endpoint.get("floor") or {}
        lines.append(
            f"| {endpoint['label']} | {_num(queries.get('default'))} "
            f"| {_num(queries.get('size25'))} | {_num(queries.get('size100'))} "
            f"| {_num(floor.get('sql_p50_ms'), 2)} | {_num(floor.get('all_sql_ms'), 2)} "
            f"| {_num(floor.get('e2e_p50_ms'))} | {_num(floor.get('ratio'))} |"
        )
    imp = result.get("import") or {}
    lines += ["", "#### Import", ""]
    if imp.get("rows_per_second") is not None:
        lines.append(
            f"{_num(imp.get('rows'))} customer rows (xlsx) in {_num(imp.get('seconds'))} s: "
            f"**{_num(imp['rows_per_second'], 0)} rows/s**."
        )
    else:
        lines.append(f"Not measured: {imp.get('skipped') or imp.get('error') or '–'}")
    lines += [
        "",
        "#### Targets (issue 6, item 5)",
        "",
        "| Target | Goal | Measured | Result |",
        "| --- | --- | ---: | --- |",
    ]
    for target in result["targets"]:
        value = target["value"]
        shown = _num(value, 2 if isinstance(value, float) and value < 10 else 1)
        if target["unit"] and value is not None and not isinstance(value, str):
            shown += f" {target['unit']}"
        verdict = {True: "met", False: "**missed**", None: "not measured"}[
            target["met"]
        ]
        lines.append(f"| {target['name']} | {target['target']} | {shown} | {verdict} |")
    if result.get("problems"):
        lines += ["", "#### Problems in this run", ""]
        lines += [f"- {problem}" for problem in result["problems"]]
    return "\n".join(lines) + "\n"


def update_doc(result: dict, path: Path = DOC) -> None:
    """Replace only the generated section; the hand-written text around it stays."""
    section = f"{BEGIN}\n{markdown(result)}{END}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = (text.rstrip() + "\n\n" if text else "") + section + "\n"
    path.write_text(text, encoding="utf-8")
