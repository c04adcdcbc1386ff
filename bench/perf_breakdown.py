"""Where a train step's time goes: `perf report` self-time grouped into categories.

Usage (what docs/benchmarks.md ran):
    perf record -F 999 -g -o train.perf target/release/deps/train-<hash> --only flex mnist-b256-sgd
    perf report -i train.perf --no-children --sort dso,symbol --stdio | python3 bench/perf_breakdown.py
"""

import re
import sys

CATEGORIES = [
    ("GEMM kernels (gemm crate: microkernels, packing)", r"gemm_|matrixmultiply|sgemm|openblas"),
    ("our code (d2l-blocks Sequential walk, checks, activations)", r"d2l_"),
    ("autodiff bookkeeping (burn-autodiff graph, gradients)", r"burn_autodiff"),
    ("optimizer (burn-optim / burn-core)", r"burn_optim|burn_core::optim|burn::optim"),
    ("Burn element-wise / reduction kernels (flex, ndarray, SIMD)", r"burn_flex|burn_ndarray|macerator|ndarray::|burn_backend|burn_tensor"),
    ("copies and fills (memmove, memset)", r"__mem(move|set|cpy)"),
    ("allocation and page faults", r"malloc|_int_free|\bfree\b|cfree|page_fault|clear_page|do_anonymous_page|memcg|__pte|lock_vma|unmap|alloc_pages|folio|mm_fault|mmap|munmap|brk"),
    ("thread pool: wake-ups, yields, scheduling (rayon)", r"rayon|crossbeam|sched|schedule|task_switch|futex|yield|spin_|irqrestore|wake|write_msr|smp_call|softirq|syscall"),
]

totals = {name: 0.0 for name, _ in CATEGORIES}
other = 0.0
others = []
for line in sys.stdin:
    m = re.match(r"\s+([0-9.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)", line)
    if not m:
        continue
    share, dso, symbol = float(m.group(1)), m.group(2), m.group(3).strip()
    text = f"{dso} {symbol}"
    for name, pattern in CATEGORIES:
        if re.search(pattern, text):
            totals[name] += share
            break
    else:
        other += share
        others.append((share, symbol[:80]))

print("| where | share of samples |")
print("|---|---|")
for name, _ in CATEGORIES:
    print(f"| {name} | {totals[name]:.1f}% |")
print(f"| other | {other:.1f}% |")
others.sort(reverse=True)
print("\nlargest 'other' symbols:", ", ".join(f"{s} {p:.1f}%" for p, s in others[:6]), file=sys.stderr)
