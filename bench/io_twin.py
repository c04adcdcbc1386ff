"""PyTorch twin of `cargo xtask bench io`: save and load the same ~420 MB state dict
(10 x nn.Linear(4096, 2560), f32) with torch.save/torch.load and safetensors, and the §5.5
round trip (torch.save + fsync, then torch.load + load_state_dict into a fresh net), medians of 3.

Run: python3 bench/io_twin.py  (needs torch and safetensors; prints a markdown table)
"""

import os
import statistics
import tempfile
import time

import torch
from safetensors.torch import load_file, save_file
from torch import nn

torch.set_num_threads(2)
net = nn.Sequential(*[nn.Linear(4096, 2560) for _ in range(10)])
state = {k: v.contiguous() for k, v in net.state_dict().items()}
d = tempfile.mkdtemp()


def timed(f, reps=3, setup=None):
    times = []
    for _ in range(reps):
        arg = setup() if setup else None
        t = time.perf_counter()
        f(arg) if setup else f()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def fresh_net():
    # Built outside the timed region, as the Rust benchmark does.
    return nn.Sequential(*[nn.Linear(4096, 2560) for _ in range(10)])


pt, st = os.path.join(d, "big.pt"), os.path.join(d, "big.safetensors")


def torch_save():
    torch.save(state, pt)
    with open(pt, "rb") as f:
        os.fsync(f.fileno())


def st_save():
    save_file(state, st)
    with open(st, "rb") as f:
        os.fsync(f.fileno())


def torch_load_into(fresh):
    fresh.load_state_dict(torch.load(pt))


def st_load_into(fresh):
    fresh.load_state_dict(load_file(st))


rows = [("torch.save (+fsync)", torch_save, pt), ("safetensors save_file (+fsync)", st_save, st)]
for name, f, path in rows:
    t = timed(f)
    print(f"| PyTorch {torch.__version__} | {name} | {os.path.getsize(path) / t / 1e9:.2f} GB/s ({t * 1e3:.0f} ms) |")
for name, f, path in [("torch.load + load_state_dict", torch_load_into, pt), ("safetensors load_file + load_state_dict", st_load_into, st)]:
    t = timed(f, setup=fresh_net)
    print(f"| PyTorch {torch.__version__} | {name} | {os.path.getsize(path) / t / 1e9:.2f} GB/s ({t * 1e3:.0f} ms) |")


def round_trip(fresh):
    torch_save()
    torch_load_into(fresh)


t = timed(round_trip, setup=fresh_net)
print(f"| PyTorch {torch.__version__} | torch.save (+fsync) → torch.load + load_state_dict round trip | {t * 1e3:.0f} ms |")
