"""Reference learning-rate (and momentum) sequences from PyTorch's schedulers.

Run with a Python that has torch (Debian: `apt-get install -y python3-torch`, then
`/usr/bin/python3 packages/lr-scheduler/scripts/torch_reference.py`). It writes the committed fixture
src/fixtures/torch-schedules.json that src/schedules.test.ts reads. Index 0 is the value right after the scheduler is
constructed, index i the value after the i-th `scheduler.step()`.
"""
import json
import math

import torch

STEPS = 30


def optimizer(kind, lr=0.1):
    p = [torch.nn.Parameter(torch.zeros(1))]
    if kind == "sgd":
        return torch.optim.SGD(p, lr=lr)
    if kind == "momentum":
        return torch.optim.SGD(p, lr=lr, momentum=0.9)
    if kind == "adam":
        return torch.optim.Adam(p, lr=lr)
    raise ValueError(kind)


def run(make_sched, kind="sgd", metrics=None, momentum=False, steps=STEPS):
    opt = optimizer(kind)
    sched = make_sched(opt)
    group = opt.param_groups[0]

    def mom():
        return group["betas"][0] if "betas" in group else group["momentum"]

    lrs, moms = [group["lr"]], [mom()]
    for i in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[i])
        lrs.append(group["lr"])
        moms.append(mom())
    out = {"lr": lrs}
    if momentum:
        out["momentum"] = moms
    return out


S = torch.optim.lr_scheduler
# A controlled metric sequence for ReduceLROnPlateau (also used by the JS test).
PLATEAU_METRICS = [1.0, 0.95, 0.93, 0.92, 0.8, 0.79, 0.85, 0.78, 0.6, 0.61,
                   0.62, 0.59, 0.58, 0.58, 0.3, 0.31, 0.32, 0.33, 0.34, 0.35,
                   0.36, 0.2, 0.21, 0.22, 0.23, 0.24, 0.1, 0.11, 0.12, 0.13]
PLATEAU_MAX = [0.1, 0.5, 0.55, 0.6, 1.2, 1.3, 1.4, 1.5, 2.5, 2.6,
               2.7, 2.8, 2.9, 3.0, 3.1, 4.0, 4.1, 4.2, 4.3, 4.4,
               4.5, 4.6, 4.7, 4.8, 4.9, 4.9, 5.5, 5.6, 5.7, 5.8]

ref = {
    "step": run(lambda o: S.StepLR(o, step_size=3, gamma=0.5)),
    "multiplicative": run(lambda o: S.MultiplicativeLR(o, lr_lambda=lambda e: 0.5 + 0.5 / (e + 1))),
    "exponential": run(lambda o: S.ExponentialLR(o, gamma=0.9)),
    "lambda": run(lambda o: S.LambdaLR(o, lr_lambda=lambda e: 1 / (1 + e))),
    "cosine": run(lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001)),
    "oneCycleCos": run(lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=STEPS), kind="momentum", momentum=True),
    "oneCycleLinearAdam": run(
        lambda o: S.OneCycleLR(o, max_lr=0.01, epochs=6, steps_per_epoch=5, pct_start=0.25,
                               anneal_strategy="linear", div_factor=10, final_div_factor=100,
                               base_momentum=0.8, max_momentum=0.9),
        kind="adam", momentum=True),
    "plateauMin": run(lambda o: S.ReduceLROnPlateau(o, patience=2, threshold=0.1), metrics=PLATEAU_METRICS),
    "plateauMaxAbs": run(
        lambda o: S.ReduceLROnPlateau(o, mode="max", factor=0.5, patience=1, threshold=0.5,
                                      threshold_mode="abs", cooldown=2, min_lr=0.02),
        metrics=PLATEAU_MAX),
}
import os
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src", "fixtures", "torch-schedules.json")
os.makedirs(os.path.dirname(out), exist_ok=True)
with open(out, "w") as f:
    json.dump({"torch": torch.__version__, "steps": STEPS, "plateauMetrics": PLATEAU_METRICS, "plateauMax": PLATEAU_MAX, "reference": ref}, f, indent=1)
    f.write("\n")
print("wrote", out)
