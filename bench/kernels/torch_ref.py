"""PyTorch reference for bench/kernels/run.mjs and bench/training.mjs (reference only, never a dependency).

Default mode: times one training step (batch 128, Adam, softmax cross-entropy) of the same MLP
(784-256-10) and CNN (conv16-pool-conv32-pool-dense on 28x28x1) as run.mjs and prints one JSON
line: {"mlpMs": ..., "cnnMs": ..., "threads": ..., "torch": ...}.
Usage: python3 torch_ref.py [steps] [warmup]

--training mode (bench/training.mjs): the same two step timings plus one epoch of the MNIST MLP of
examples/mnist-mlp.mjs (784-512-10, dropout 0.4, batch 128, Adam, shuffled) over the 8,000 digits
that training.mjs writes to DIR/x.f32 (float32, 8000x784) and DIR/y.i32 (int32 labels); adds
"mnistEpochMs", "mnistMsPerStep" and "maxRssMB" (this process's peak RSS).
Usage: python3 torch_ref.py --training DIR [steps] [warmup]
"""
import json
import resource
import statistics
import sys
import time

import torch
from torch import nn

training = len(sys.argv) > 1 and sys.argv[1] == "--training"
args = sys.argv[3:] if training else sys.argv[1:]
steps = int(args[0]) if len(args) > 0 else 30
warmup = int(args[1]) if len(args) > 1 else 5
torch.manual_seed(0)
B = 128


def bench(model, x, y):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(warmup):
        step()
    ts = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        ts.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ts)


def mnist_epoch(directory):
    """One shuffled epoch over the 8,000 digits (after an 8-step warm-up); epoch ms, median step ms."""
    import numpy as np

    x = torch.from_numpy(np.fromfile(f"{directory}/x.f32", dtype=np.float32).reshape(-1, 784))
    y = torch.from_numpy(np.fromfile(f"{directory}/y.i32", dtype=np.int32).astype(np.int64))
    model = nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Dropout(0.4), nn.Linear(512, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()

    def epoch(n):
        perm = torch.randperm(n)
        ends = []
        t0 = time.perf_counter()
        for b in range(0, n, B):
            idx = perm[b:b + B]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
            loss.item()
            ends.append(time.perf_counter())
        gaps = [(ends[0] - t0) * 1000] + [(b - a) * 1000 for a, b in zip(ends, ends[1:])]
        return (ends[-1] - t0) * 1000, statistics.median(gaps)

    epoch(8 * B)
    return epoch(x.shape[0])


mlp = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
cnn = nn.Sequential(
    nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(), nn.Linear(7 * 7 * 32, 10),
)
y = torch.randint(0, 10, (B,))
out = {
    "mlpMs": bench(mlp, torch.rand(B, 784), y),
    "cnnMs": bench(cnn, torch.rand(B, 1, 28, 28), y),
    "threads": torch.get_num_threads(),
    "torch": torch.__version__,
}
if training:
    out["mnistEpochMs"], out["mnistMsPerStep"] = mnist_epoch(sys.argv[2])
    out["maxRssMB"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
