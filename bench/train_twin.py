"""PyTorch twin of `cargo xtask bench train` (and `cnn`, `ops`): same networks, batches, steps.

The Rust benchmark starts it as a server (`--serve`): it prints its version line, then answers
each request line `<case> <reps>` with the median seconds of `reps` runs (after a warm-up), so
the two programs take turns on the machine. `--rss` runs 50 SGD steps of the 784-256-256-10
MLP at batch 256 and prints the process's peak resident memory in MB.

`--device cuda` runs every case on the GPU (the twin of the CUDA rows; PyTorch's default
precision there: f32 matmul in full f32, convolutions through cuDNN with TF32 allowed), timing
each run to a `torch.cuda.synchronize()`.

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
    "matmul-fwd": lambda: (rand(256, 784), rand(784, 256)),
    "matmul-dx": lambda: (rand(256, 256), rand(784, 256).t()),
    "matmul-dw": lambda: (rand(256, 784).t(), rand(256, 256)),
}


def mlp(widths):
    layers = []
    for i, (a, b) in enumerate(zip(widths, widths[1:])):
        if i > 0:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(a, b))
    return nn.Sequential(*layers)


def lenet():
    """The book's LeNet (§7.6), eager twin of `d2l_layers::models::lenet`."""
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.Linear(400, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(),
        nn.Linear(84, 10))


class Residual(nn.Module):
    """The book's §8.6 residual block."""

    def __init__(self, c_in, c_out, use_1x1conv=False, strides=1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1, stride=strides)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.conv3 = nn.Conv2d(c_in, c_out, 1, stride=strides) if use_1x1conv else None
        self.bn1 = nn.BatchNorm2d(c_out)
        self.bn2 = nn.BatchNorm2d(c_out)

    def forward(self, X):
        Y = torch.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        return torch.relu(Y + X)


def resnet18():
    """The book's ResNet-18 (§8.6) on one input channel, 10 classes."""
    layers = [nn.Sequential(nn.Conv2d(1, 64, 7, stride=2, padding=3), nn.BatchNorm2d(64),
                            nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1))]
    c = 64
    for i, (n, c_out) in enumerate([(2, 64), (2, 128), (2, 256), (2, 512)]):
        blk = []
        for j in range(n):
            first = j == 0 and i != 0
            blk.append(Residual(c, c_out, use_1x1conv=first, strides=2 if first else 1))
            c = c_out
        layers.append(nn.Sequential(*blk))
    layers.append(nn.Sequential(nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(512, 10)))
    return nn.Sequential(*layers)


# `<model>-b<batch>-<step>`: input 1×28×28 for LeNet, 1×64×64 for ResNet-18.
CNNS = {
    "lenet-b256-forward": (lenet, 256, 28, "forward"),
    "lenet-b256-sgd": (lenet, 256, 28, "sgd"),
    "resnet18-b8-forward": (resnet18, 8, 64, "forward"),
    "resnet18-b8-sgd": (resnet18, 8, 64, "sgd"),
    # The GPU-sized case of the CUDA rows: the book's batch on its 96×96 images.
    "resnet18-b128-forward": (resnet18, 128, 96, "forward"),
    "resnet18-b128-sgd": (resnet18, 128, 96, "sgd"),
}

# Where the twin's tensors and models live (`--device`).
DEVICE = torch.device("cpu")


def rand(*shape):
    return torch.rand(*shape, device=DEVICE)


def randint(high, shape):
    return torch.randint(0, high, shape, device=DEVICE)


def op_runner(key):
    """One op of `cargo xtask bench ops` (crates/d2l/benches/ops.rs), same shapes."""
    import torch.nn.functional as F
    act = (256, 6, 28, 28)
    if key == "op-sigmoid":
        x = rand(*act)
        return lambda: torch.sigmoid(x)
    if key == "op-exp":
        x = rand(*act)
        return lambda: torch.exp(x)
    if key == "op-add":
        a, b = rand(1024, 1024), rand(1024, 1024)
        return lambda: a + b
    if key == "op-add-strided":
        a, b = rand(1024, 1024), rand(1024, 1024).t()
        return lambda: a + b
    if key == "op-add-bcast":
        x, bias = rand(*act), rand(6).reshape(1, 6, 1, 1)
        return lambda: x + bias
    if key == "op-batchnorm-bwd":
        x = rand(8, 64, 32, 32).requires_grad_()
        bn = torch.nn.BatchNorm2d(64).to(DEVICE).train()

        def batch_norm_step():
            for t in (x, bn.weight, bn.bias):
                t.grad = None
            y = bn(x)
            y.backward(torch.ones_like(y))
        return batch_norm_step
    if key in ("op-conv-lenet", "op-conv-lenet-bwd"):
        x, w, pad = rand(256, 6, 14, 14), rand(16, 6, 5, 5), 0
    elif key in ("op-conv-resnet", "op-conv-resnet-bwd"):
        x, w, pad = rand(8, 64, 16, 16), rand(64, 64, 3, 3), 1
    else:
        x, w, pad = rand(*act), None, 0
    if not key.endswith("-bwd"):
        return lambda: F.conv2d(x, w, padding=pad)
    ops = {
        "op-sigmoid-bwd": lambda: torch.sigmoid(x),
        "op-avgpool-bwd": lambda: F.avg_pool2d(x, 2, 2),
        "op-conv-lenet-bwd": lambda: F.conv2d(x, w, padding=pad),
        "op-conv-resnet-bwd": lambda: F.conv2d(x, w, padding=pad),
    }
    op = ops[key]
    inputs = [t.requires_grad_() for t in (x, w) if t is not None]

    def forward_backward():
        for t in inputs:
            t.grad = None
        y = op()
        y.backward(torch.ones_like(y))
    return forward_backward


def runner(key):
    """A function doing one timed unit of `key`, built once."""
    if key.startswith("op-"):
        return op_runner(key)
    if key in CNNS:
        make, batch, size, step = CNNS[key]
        net = make().to(DEVICE)
        x = rand(batch, 1, size, size)
        if step == "forward":
            net.eval()

            def forward():
                with torch.no_grad():
                    return net(x)[0, 0].item()
            return forward
        CASES[key] = (None, batch, step)
        y = randint(10, (batch,))
        loss_fn = nn.CrossEntropyLoss()
        opt = torch.optim.SGD(net.parameters(), lr=0.01)

        def cnn_step():
            opt.zero_grad()
            loss = loss_fn(net(x), y)
            loss.item()
            loss.backward()
            opt.step()
        return cnn_step
    if key in MATMULS:
        a, b = MATMULS[key]()
        return lambda: torch.matmul(a, b)
    widths, batch, step = CASES[key]
    net = mlp(widths).to(DEVICE)
    x = rand(batch, widths[0])
    if step == "forward":
        def forward():
            with torch.no_grad():
                return net(x)
        return forward
    y = randint(widths[-1], (batch,))
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
    sync = torch.cuda.synchronize if DEVICE.type == "cuda" else (lambda: None)
    for _ in range(max(1, reps // 10)):
        f()
    sync()
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        f()
        sync()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--serve", action="store_true")
    parser.add_argument("--rss", action="store_true")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = parser.parse_args()
    global DEVICE
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("torch.cuda.is_available() is False")
    DEVICE = torch.device(args.device)
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
    where = f" on {torch.cuda.get_device_name()}" if DEVICE.type == "cuda" else ""
    print(f"PyTorch {torch.__version__}{where}", flush=True)
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
