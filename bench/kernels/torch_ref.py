"""PyTorch reference for bench/kernels/run.mjs (reference only, never a dependency).

Times one training step (batch 128, Adam, softmax cross-entropy) of the same MLP
(784-256-10) and CNN (conv16-pool-conv32-pool-dense on 28x28x1) as run.mjs and prints
one JSON line: {"mlpMs": ..., "cnnMs": ..., "threads": ..., "torch": ...}.
Usage: python3 torch_ref.py [steps] [warmup]
"""
import json
import statistics
import sys
import time

import torch
from torch import nn

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 30
warmup = int(sys.argv[2]) if len(sys.argv) > 2 else 5
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
print(json.dumps(out))
