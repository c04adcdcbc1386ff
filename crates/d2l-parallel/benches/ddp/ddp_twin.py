"""PyTorch twin of `cargo xtask bench ddp`: the same rank work under `torchrun` (gloo, CPU).

    python3 -m torch.distributed.run --standalone --nproc_per_node K ddp_twin.py \
        train --batch 256 --steps 10 --threads T
    python3 -m torch.distributed.run --standalone --nproc_per_node 2 ddp_twin.py \
        allreduce --floats 1048576 --steps 20 --threads 1

`train`: the book's LeNet (§7.6) under `DistributedDataParallel`, a global batch of `--batch`
split over the ranks, SGD steps; rank 0 prints `step_ms=<median>` after two warm-up steps.
`allreduce`: `dist.all_reduce` (sum) of `--floats` f32 values; rank 0 prints `ms=<median>`.
"""

import argparse
import os
import statistics
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

# The book's LeNet, as the other benchmarks' twin (`bench/train_twin.py`) builds it.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "bench"))
from train_twin import lenet  # noqa: E402


def timed(f, steps):
    for _ in range(2):
        f()
    times = []
    for _ in range(steps):
        dist.barrier()
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["train", "allreduce"])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--floats", type=int, default=1 << 20)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(rank)
    if args.mode == "train":
        model = DDP(lenet())
        x = torch.randn(args.batch // world, 1, 28, 28)
        y = torch.randint(0, 10, (args.batch // world,))
        opt = torch.optim.SGD(model.parameters(), lr=0.01)

        def step():
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.item()
            loss.backward()
            opt.step()

        ms = timed(step, args.steps)
        line = f"step_ms={ms:.3f}"
    else:
        buffer = torch.randn(args.floats)
        ms = timed(lambda: dist.all_reduce(buffer), args.steps)
        line = f"ms={ms:.4f}"
    if rank == 0:
        print(line, flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
