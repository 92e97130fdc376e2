"""Reference values for @luzts/losses' tests, computed with PyTorch (offline, not run by the tests).

Run with a Python that has torch (Debian: `apt-get install python3-torch`, then `/usr/bin/python3`):

    /usr/bin/python3 packages/losses/scripts/torch_reference.py

The inputs below are copied verbatim into src/*.test.ts; the printed values are pasted there.
Values recorded with torch 1.13 (float64 computation, printed with 7 significant digits).
"""
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

# Logits (4, 3) and class targets.
X = torch.tensor([[1.0, -0.5, 2.0], [0.3, 0.8, -1.2], [-2.0, 1.5, 0.5], [0.0, 0.2, -0.1]])
T = torch.tensor([2, 0, 1, 1])
T_IGN = torch.tensor([2, -100, 1, 0])
W = torch.tensor([0.2, 1.0, 3.0])
P = torch.tensor([[0.1, 0.2, 0.7], [1.0, 0.0, 0.0], [0.25, 0.5, 0.25], [0.0, 0.6, 0.4]])

# K-dimensional input (2, 3, 2) and targets (2, 2).
XK = torch.tensor([[[0.5, -1.0], [1.2, 0.1], [-0.3, 0.7]], [[2.0, 0.0], [-1.0, 0.4], [0.6, -0.8]]])
TK = torch.tensor([[2, 0], [1, 1]])

# Binary logits / targets (3, 2), pos_weight per column.
XB = torch.tensor([[0.5, -1.5], [2.0, 0.1], [-0.7, 3.0]])
YB = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.3]])
PW = torch.tensor([2.0, 0.5])

# Regression.
XR = torch.tensor([[0.5, -1.5], [2.0, 0.1], [-0.7, 3.0]])
YR = torch.tensor([[1.0, 0.0], [0.5, 1.0], [-1.0, 2.5]])

# luz's test_losses.R: input (7, 4), t1 = class 0 (R's 1), t2 = class 3 (R's 4).
XM = torch.tensor([
    [0.2, -1.1, 0.7, 1.5], [-0.4, 0.9, 0.0, -2.0], [1.3, 0.3, -0.6, 0.8], [-1.7, 0.4, 1.1, 0.2],
    [0.6, 0.6, -0.9, -0.3], [2.2, -0.8, 0.5, 1.0], [-0.1, 1.9, -1.4, 0.4],
])
T1 = torch.zeros(7, dtype=torch.long)
T2 = torch.full((7,), 3, dtype=torch.long)


def r(t):
    return [round(v, 7) for v in t.flatten().tolist()] if t.dim() else round(t.item(), 7)


out = {
    'ce_mean': r(F.cross_entropy(X, T)),
    'ce_sum': r(F.cross_entropy(X, T, reduction='sum')),
    'ce_none': r(F.cross_entropy(X, T, reduction='none')),
    'ce_weight_mean': r(F.cross_entropy(X, T, weight=W)),
    'ce_weight_none': r(F.cross_entropy(X, T, weight=W, reduction='none')),
    'ce_ignore_mean': r(F.cross_entropy(X, T_IGN)),
    'ce_ignore_none': r(F.cross_entropy(X, T_IGN, reduction='none')),
    'ce_weight_ignore_mean': r(F.cross_entropy(X, T_IGN, weight=W)),
    'ce_smooth_mean': r(F.cross_entropy(X, T, label_smoothing=0.1)),
    'ce_smooth_none': r(F.cross_entropy(X, T, label_smoothing=0.1, reduction='none')),
    'ce_all_mean': r(F.cross_entropy(X, T_IGN, weight=W, label_smoothing=0.2)),
    'ce_all_sum': r(F.cross_entropy(X, T_IGN, weight=W, label_smoothing=0.2, reduction='sum')),
    'ce_all_none': r(F.cross_entropy(X, T_IGN, weight=W, label_smoothing=0.2, reduction='none')),
    'ce_prob_mean': r(F.cross_entropy(X, P)),
    'ce_prob_none': r(F.cross_entropy(X, P, reduction='none')),
    'ce_prob_weight_smooth_mean': r(F.cross_entropy(X, P, weight=W, label_smoothing=0.1)),
    'ce_kdim_mean': r(F.cross_entropy(XK, TK)),
    'ce_kdim_none': r(F.cross_entropy(XK, TK, reduction='none')),
    'ce_kdim_weight_mean': r(F.cross_entropy(XK, TK, weight=W)),
    'nll_mean': r(F.nll_loss(F.log_softmax(X, 1), T)),
    'nll_weight_ignore_mean': r(F.nll_loss(F.log_softmax(X, 1), T_IGN, weight=W)),
    'nll_weight_ignore_sum': r(F.nll_loss(F.log_softmax(X, 1), T_IGN, weight=W, reduction='sum')),
    'nll_weight_ignore_none': r(F.nll_loss(F.log_softmax(X, 1), T_IGN, weight=W, reduction='none')),
    'nll_raw_mean': r(F.nll_loss(X, T)),
    'bce_mean': r(F.binary_cross_entropy_with_logits(XB, YB)),
    'bce_none': r(F.binary_cross_entropy_with_logits(XB, YB, reduction='none')),
    'bce_pw_mean': r(F.binary_cross_entropy_with_logits(XB, YB, pos_weight=PW)),
    'bce_pw_sum': r(F.binary_cross_entropy_with_logits(XB, YB, pos_weight=PW, reduction='sum')),
    'mse_mean': r(F.mse_loss(XR, YR)),
    'mse_sum': r(F.mse_loss(XR, YR, reduction='sum')),
    'l1_mean': r(F.l1_loss(XR, YR)),
    'l1_none': r(F.l1_loss(XR, YR, reduction='none')),
    'mixup_l1': r(F.cross_entropy(XM, T1, reduction='none')),
    'mixup_l2': r(F.cross_entropy(XM, T2, reduction='none')),
    # Our convention: weight on the ORIGINAL target y1: mean(w*l1 + (1-w)*l2) with w = 0.9.
    'mixup_w09': r(torch.mean(torch.lerp(F.cross_entropy(XM, T2, reduction='none'), F.cross_entropy(XM, T1, reduction='none'), 0.9))),
    # luz's convention (torch_lerp(l1, l2, w)): weight on y2.
    'mixup_luz_w09': r(torch.mean(torch.lerp(F.cross_entropy(XM, T1, reduction='none'), F.cross_entropy(XM, T2, reduction='none'), 0.9))),
    'mixup_w1_equals_ce_t1': r(F.cross_entropy(XM, T1)),
}
for k, v in out.items():
    print(f'{k}: {v}')
