"""PyTorch twin of `cargo xtask bench train`: the same networks, batches and steps.

The Rust benchmark starts it as a server (`--serve`): it prints its version line, then answers
each request line `<case> <reps>` with the median seconds of `reps` runs (after a warm-up), so
the two programs take turns on the machine. `--rss` runs 50 SGD steps of the 784-256-256-10
MLP at batch 256 and prints the process's peak resident memory in MB.

Run by hand: python3 bench/train_twin.py --serve --threads 2   (then type: mnist-b256-sgd 30)
"""

import argparse
import resource
import statistics
import sys
import time

import torch
from torch import nn

SMALL = [20, 256, 10]
MNIST = [784, 256, 256, 10]
CASES = {
    "small-b2-forward": (SMALL, 2, "forward"),
    "small-b2-sgd": (SMALL, 2, "sgd"),
    "small-b256-forward": (SMALL, 256, "forward"),
    "small-b256-sgd": (SMALL, 256, "sgd"),
    "mnist-b256-forward": (MNIST, 256, "forward"),
    "mnist-b256-sgd": (MNIST, 256, "sgd"),
    "mnist-b256-adam": (MNIST, 256, "adam"),
}
MATMULS = {
    # (m, k, n); the transposed operand is a transposed view, as autograd's backward uses it.
    "matmul-fwd": lambda: (torch.rand(256, 784), torch.rand(784, 256)),
    "matmul-dx": lambda: (torch.rand(256, 256), torch.rand(784, 256).t()),
    "matmul-dw": lambda: (torch.rand(256, 784).t(), torch.rand(256, 256)),
}


def mlp(widths):
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        if i > 0:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(a, b))
    return nn.Sequential(*layers)


def runner(key):
    """A function doing one timed unit of `key`, built once."""
    if key in MATMULS:
        a, b = MATMULS[key]()
        return lambda: torch.matmul(a, b)
    widths, batch, step = CASES[key]
    net = mlp(widths)
    x = torch.rand(batch, widths[0])
    if step == "forward":
        def forward():
            with torch.no_grad():
                return net(x)
        return forward
    y = torch.randint(0, widths[-1], (batch,))
    loss_fn = nn.CrossEntropyLoss()
    opt = (torch.optim.Adam if step == "adam" else torch.optim.SGD)(net.parameters(), lr=0.01)

    def train_step():
        opt.zero_grad()
        loss = loss_fn(net(x), y)
        loss.item()  # read the loss back, as the Rust side does
        loss.backward()
        opt.step()

    return train_step


def median_seconds(f, reps):
    for _ in range(max(1, reps // 10)):
        f()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--rss", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.rss:
        step = runner("mnist-b256-sgd")
        for _ in range(50):
            step()
        print(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
        return
    if not args.serve:
        parser.error("use --serve or --rss")
    print(f"PyTorch {torch.__version__}", flush=True)
    runners = {}
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        key, reps = parts[0], int(parts[1])
        if key not in runners:
            runners[key] = runner(key)
        print(f"{median_seconds(runners[key], reps):.9f}", flush=True)


if __name__ == "__main__":
    main()
