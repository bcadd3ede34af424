#!/usr/bin/env python3
"""bench/compare.py — `make bench-compare`: seq2attn's bench and PyTorch's reference, side by side.

    python3 bench/compare.py [--repeats 3] [--seconds 2] [--only NAME] [--threads 1]

For each repeat and each model benchmark it runs build/f32/bin/bench --only NAME (A), then
bench/pytorch_reference.py --only NAME (B): A B A B A B, one process per run, so that the two sides take turns on
the same machine and each run's peak RSS is its own benchmark's. It prints the median of the repeats: both
step times and their ratio (PyTorch / ours: above 1, ours is faster), both MFUs, both peak RSS, both
greedy-decoding times, and under "each pair" the lowest and highest ratio of one PyTorch run to the run of ours
just before it (the spread the host's drift leaves). Python is used here only to run the two programs and
parse what they print.

"Amdahl" is PyTorch's step time over the time our step spends in matrix products (our bench's "products"
share of its step): the ratio our step would reach if everything but its products took no time. Where both
sides call the same BLAS for the same products, no work outside the products can take the ratio past it.
The decoding table's Amdahl is the same with the share of one replica's decoding in products.

Both MFUs are each side's median FLOP rate over the same peak, the median of the sgemm peaks our bench
measured (OpenBLAS, 1024³, one per run). PyTorch counts its own FLOPs only from torch 2.1 on; before that its
MFU is computed from our FLOP count of the same model (the same shapes), marked with *. Without PyTorch
(Debian: python3-torch) it says so and prints our side alone.
"""
import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

BENCHMARKS = ["seq2seq-date", "attention-date", "transformer-date", "transformer-long"]
ROOT = Path(__file__).resolve().parent.parent
FIELDS = {  # what each side prints, per benchmark
    "ms": r"([\d.]+) ms/step",
    "gflop": r"([\d.]+) GFLOP/step",
    "mfu": r"MFU ([\d.]+)%",
    "rss": r"peak RSS ([\d.]+) MB",
    "decode": r"greedy decoding of .*: ([\d.]+) ms",
    "products": r"products ([\d.]+)%",  # the training step's line comes first
    "decode_products": r"replica's decoding .*: products ([\d.]+)%",
}


def parse(text):
    """{benchmark: {field: value}} from a bench's output: a line starting with a benchmark's name opens its
    section; the figures are read from that line and the lines after it."""
    found, current = {}, None
    for line in text.splitlines():
        name = re.match(r"^([\w-]+)[ :]", line)
        if name and name.group(1) in BENCHMARKS:
            current = found.setdefault(name.group(1), {})
        if current is None:
            continue
        for field, pattern in FIELDS.items():
            m = re.search(pattern, line)
            if m and field not in current:
                current[field] = float(m.group(1))
    return found


def run(cmd):
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"bench-compare: {' '.join(cmd)} failed with status {done.returncode}:\n{done.stderr.strip()}")
    return done.stdout


def median(runs, name, field):
    values = [r[name][field] for r in runs if field in r.get(name, {})]
    return statistics.median(values) if values else None


def pair_ratios(ours, theirs, name, field):
    """PyTorch's figure over ours, run by run: each PyTorch run against the run of ours just before it. The host
    drifts between repeats; two runs side by side see about the same host, so the spread of these shows how
    much one ratio can be trusted."""
    return [t[name][field] / o[name][field] for o, t in zip(ours, theirs)
            if field in o.get(name, {}) and field in t.get(name, {}) and o[name][field] > 0]


def amdahl(their_time, our_time, products_percent):
    """PyTorch's time over ours in matrix products: the ratio ours would reach were everything else free."""
    return their_time / (our_time * products_percent / 100) if their_time and our_time and products_percent else None


def spread(ratios):
    return f"{min(ratios):.2f}–{max(ratios):.2f}" if ratios else "-"


def show(value, fmt, suffix=""):
    return "-" if value is None else f"{value:{fmt}}{suffix}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each side per benchmark (the median is shown)")
    parser.add_argument("--seconds", type=float, default=2.0, help="time each run spends timing its steps")
    parser.add_argument("--only", choices=BENCHMARKS, help="one benchmark (default: all four)")
    parser.add_argument("--threads", type=int, default=1, help="PyTorch's intra-op threads (1 was its best on 2 cores)")
    parser.add_argument("--python", default="/usr/bin/python3", help="the Python that has torch")
    args = parser.parse_args()
    if args.repeats < 1 or args.seconds <= 0:
        sys.exit("bench-compare: --repeats must be at least 1 and --seconds above 0")
    bench = str(ROOT / "build/f32/bin/bench")
    if not Path(bench).exists():
        sys.exit(f"bench-compare: {bench} is missing; run `make bench-compare` (it builds it)")
    try:
        has_torch = subprocess.run([args.python, "-c", "import torch"], capture_output=True).returncode == 0
    except OSError:  # no such Python
        has_torch = False
    if not has_torch:
        print(f"PyTorch is not installed for {args.python} (Debian: apt-get install python3-torch): "
              "only seq2attn's side is shown.\n")
    names = [args.only] if args.only else BENCHMARKS
    ours, theirs, peaks = [], [], []
    for repeat in range(args.repeats):
        for name in names:
            print(f"run {repeat + 1}/{args.repeats}: {name}", file=sys.stderr, flush=True)
            text = run([bench, "--only", name, "--seconds", str(args.seconds)])
            peak = re.search(r"sgemm peak: ([\d.]+) GFLOP/s", text)
            if peak:
                peaks.append(float(peak.group(1)))
            ours.append(parse(text))
            if has_torch:
                theirs.append(parse(run([args.python, "bench/pytorch_reference.py", "--only", name, "--threads",
                                         str(args.threads), "--seconds", str(args.seconds),
                                         "--peak", str(peaks[-1] if peaks else 0)])))
    peak = statistics.median(peaks) if peaks else None
    print(f"Median of {args.repeats} interleaved runs; sgemm peak {show(peak, '.1f')} GFLOP/s (the MFU's denominator); "
          "these timings mean something only on an idle machine.\n")
    print(f"{'benchmark':<18} {'ours ms':>9} {'PyTorch ms':>11} {'PyT/ours':>9} {'GFLOP':>7} {'MFU ours':>9} "
          f"{'MFU PyT':>8} {'RSS ours':>9} {'RSS PyT':>8} {'each pair':>10} {'Amdahl':>7}")
    for name in names:
        ms, their_ms = median(ours, name, "ms"), median(theirs, name, "ms")
        gflop = median(ours, name, "gflop")
        # Both sides from their median step time against the one peak printed above, not each run's MFU
        # against the peak its process measured (one measured in a slow moment of the host looks high).
        # PyTorch's FLOPs are its own count when it has one (torch >= 2.1), else ours, marked *.
        their_gflop, marked = median(theirs, name, "gflop"), ""
        if their_gflop is None:
            their_gflop, marked = gflop, "*"
        mfu = 100 * gflop / (ms * 1e-3) / peak if ms and gflop and peak else None
        their_mfu = 100 * their_gflop / (their_ms * 1e-3) / peak if their_ms and their_gflop and peak else None
        ratio = their_ms / ms if ms and their_ms else None
        bound = amdahl(their_ms, ms, median(ours, name, "products"))
        print(f"{name:<18} {show(ms, '.2f'):>9} {show(their_ms, '.2f'):>11} {show(ratio, '.2f', '×'):>9} "
              f"{show(gflop, '.2f'):>7} {show(mfu, '.1f', '%'):>9} "
              f"{show(their_mfu, '.1f', '%' + marked):>8} {show(median(ours, name, 'rss'), '.0f', ' MB'):>9} "
              f"{show(median(theirs, name, 'rss'), '.0f', ' MB'):>8} "
              f"{spread(pair_ratios(ours, theirs, name, 'ms')):>10} {show(bound, '.2f', '×'):>7}")
    decoders = [n for n in names if median(ours, n, "decode") is not None]
    if decoders:
        print(f"\n{'greedy decoding':<18} {'ours ms':>9} {'PyTorch ms':>11} {'PyT/ours':>9} {'each pair':>10} "
              f"{'Amdahl':>7}   (5,000 sources, batches of 128)")
        for name in decoders:
            d, their_d = median(ours, name, "decode"), median(theirs, name, "decode")
            ratio = their_d / d if d and their_d else None
            bound = amdahl(their_d, d, median(ours, name, "decode_products"))
            print(f"{name:<18} {show(d, '.1f'):>9} {show(their_d, '.1f'):>11} {show(ratio, '.2f', '×'):>9} "
                  f"{spread(pair_ratios(ours, theirs, name, 'decode')):>10} {show(bound, '.2f', '×'):>7}")
    if has_torch:
        print("\nAmdahl: PyTorch's time over our time in matrix products (a step's; one replica's decoding's share), "
              "the ratio ours would reach were everything else free.")
    if any(median(theirs, n, "mfu") is None and median(theirs, n, "ms") for n in names):
        print("\n* PyTorch's MFU from our FLOP count of the same model (this torch cannot count its own).")


if __name__ == "__main__":
    main()
