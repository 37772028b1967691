#!/usr/bin/env python3
"""Compares `arbor bench --dataset shared-prefix` results of several router modes (tools/bench_kv_routing.sh).

best possible cached ratio = 1 - (G * prefix tokens + all unique suffix tokens) / all prompt tokens, i.e. every group's
prefix computed once and nothing else reused; the suffix tokens are what the bench's own prompt-token count leaves
after N prefixes. Usage: kv_routing_report.py --groups G --prefix-len L MODE=result.json ...
"""
import argparse
import json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--groups", type=int, required=True)
    ap.add_argument("--prefix-len", type=int, required=True)
    ap.add_argument("results", nargs="+", metavar="MODE=FILE")
    args = ap.parse_args()

    rows = []
    for item in args.results:
        mode, path = item.split("=", 1)
        with open(path) as f:
            r = json.load(f)
        prompts = r["num_prompts"]
        total = r["total_input_tokens"]
        suffix_tokens = total - prompts * args.prefix_len
        best = 1 - (args.groups * args.prefix_len + suffix_tokens) / total
        ratio = r["cached_tokens"] / total
        rows.append((mode, r, ratio, best))

    print()
    print(f"{'mode':<14}{'ok/failed':>10}{'cached':>9}{'best':>8}{'of best':>9}"
          f"{'TTFT p50 ms':>13}{'TTFT p99 ms':>13}{'E2E p50 ms':>12}{'duration s':>12}")
    for mode, r, ratio, best in rows:
        print(f"{mode:<14}{str(r['completed']) + '/' + str(r['failed']):>10}{100 * ratio:>8.1f}%{100 * best:>7.1f}%"
              f"{100 * ratio / best:>8.1f}%{r['ttft_ms']['p50']:>13.0f}{r['ttft_ms']['p99']:>13.0f}"
              f"{r['e2e_ms']['p50']:>12.0f}{r['duration_seconds']:>12.1f}")
    by_mode = {mode: r for mode, r, _, _ in rows}
    if "kv" in by_mode and "round-robin" in by_mode:
        kv, rr = by_mode["kv"], by_mode["round-robin"]
        print(f"\nTTFT p50: round-robin / kv = {rr['ttft_ms']['p50'] / kv['ttft_ms']['p50']:.2f}x;"
              f" p99: {rr['ttft_ms']['p99'] / kv['ttft_ms']['p99']:.2f}x")


if __name__ == "__main__":
    main()
