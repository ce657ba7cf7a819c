"""torchdiffeq's side of bench/odenet.py: the ODE-Net of torchdiffeq's examples/odenet_mnist.py
(downsampling stem, ODEfunc of two ConcatConv2d with GroupNorm, pooled head), trained with Adam at
batch 128 on the same digits. Prints one JSON line. Runs in .bench/torch."""

import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from torchdiffeq import odeint, odeint_adjoint

BATCH, FILTERS, WARMUP, STEPS = 128, 64, 3, 10


def norm(dim):
    return nn.GroupNorm(min(32, dim), dim)


class ConcatConv2d(nn.Module):
    def __init__(self, dim_in, dim_out):
        super().__init__()
        self._layer = nn.Conv2d(dim_in + 1, dim_out, kernel_size=3, stride=1, padding=1)

    def forward(self, t, x):
        tt = torch.ones_like(x[:, :1, :, :]) * t
        return self._layer(torch.cat([tt, x], 1))


class ODEfunc(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.norm1, self.relu = norm(dim), nn.ReLU(inplace=True)
        self.conv1, self.norm2 = ConcatConv2d(dim, dim), norm(dim)
        self.conv2, self.norm3 = ConcatConv2d(dim, dim), norm(dim)
        self.nfe = 0

    def forward(self, t, x):
        self.nfe += 1
        out = self.conv1(t, self.relu(self.norm1(x)))
        out = self.conv2(t, self.relu(self.norm2(out)))
        return self.norm3(out)


class ODEBlock(nn.Module):
    def __init__(self, odefunc, adjoint):
        super().__init__()
        self.odefunc, self.solve = odefunc, odeint_adjoint if adjoint else odeint
        self.integration_time = torch.tensor([0, 1]).float()

    def forward(self, x):
        return self.solve(self.odefunc, x, self.integration_time, rtol=1e-3, atol=1e-3)[1]


def model(size, adjoint):
    first = nn.Conv2d(1, FILTERS, 3, 1)
    stem = [first, norm(FILTERS), nn.ReLU(inplace=True), nn.Conv2d(FILTERS, FILTERS, 4, 2, 1), norm(FILTERS),
            nn.ReLU(inplace=True), nn.Conv2d(FILTERS, FILTERS, 4, 2, 1)]
    func = ODEfunc(FILTERS)
    head = [norm(FILTERS), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(FILTERS, 10)]
    return nn.Sequential(*stem, ODEBlock(func, adjoint), *head), func


def run():
    root, size, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    x = np.load(f"{root}/../.bench/odenet_{size}.npy")  # written by bench/odenet.py: the same digits
    labels = np.load(f"{root}/../.bench/odenet_labels.npy")
    torch.manual_seed(0)
    net, func = model(size, mode == "adjoint")
    optimizer = torch.optim.Adam(net.parameters())
    inputs = torch.from_numpy(np.transpose(x, (0, 3, 1, 2)).copy())
    targets = torch.from_numpy(labels)
    forward, backward = [], []
    for step in range(WARMUP + STEPS):
        if step == WARMUP:
            start = time.perf_counter()
        optimizer.zero_grad()
        func.nfe = 0
        loss = nn.functional.cross_entropy(net(inputs), targets)
        forward.append(func.nfe)
        func.nfe = 0
        loss.backward()
        backward.append(func.nfe)
        optimizer.step()
    seconds = time.perf_counter() - start
    print(json.dumps({"throughput": BATCH * STEPS / seconds, "nfe_forward": float(np.mean(forward[WARMUP:])),
                      "nfe_backward": float(np.mean(backward[WARMUP:])) if mode == "adjoint" else float("nan"),
                      "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


run()
