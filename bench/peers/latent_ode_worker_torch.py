"""torchdiffeq's side of bench/latent_ode.py: the latent ODE of torchdiffeq's examples/latent_ode.py
(RecognitionRNN over the reversed observations, 25 hidden; LatentODEfunc 4 -> 20 -> 20 -> 4 with ELU;
Decoder 4 -> 20 -> 2 with ReLU; ``odeint`` at its defaults: dopri5, rtol 1e-7, atol 1e-9), trained
with Adam at 1e-2 on the example's loss (Gaussian log-likelihood at noise std 0.3 plus the analytic
KL, summed per series, averaged over the batch) on the batch that bench/latent_ode.py wrote.
Prints one JSON line. Runs in .bench/torch.

Usage: latent_ode_worker_torch.py BATCH_NPZ ITERATIONS WARMUP [THREADS]   (THREADS 0: torch's default)
"""

import json
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from torchdiffeq import odeint

LATENT, NHIDDEN, RNN_NHIDDEN, OBS_DIM, NOISE_STD, LR = 4, 20, 25, 2, 0.3, 0.01


class LatentODEfunc(nn.Module):
    def __init__(self, latent_dim=4, nhidden=20):
        super().__init__()
        self.elu = nn.ELU(inplace=True)
        self.fc1, self.fc2, self.fc3 = (nn.Linear(latent_dim, nhidden), nn.Linear(nhidden, nhidden),
                                        nn.Linear(nhidden, latent_dim))
        self.nfe = 0

    def forward(self, t, x):
        self.nfe += 1
        return self.fc3(self.elu(self.fc2(self.elu(self.fc1(x)))))


class RecognitionRNN(nn.Module):
    def __init__(self, latent_dim=4, obs_dim=2, nhidden=25, nbatch=1):
        super().__init__()
        self.nhidden, self.nbatch = nhidden, nbatch
        self.i2h = nn.Linear(obs_dim + nhidden, nhidden)
        self.h2o = nn.Linear(nhidden, latent_dim * 2)

    def forward(self, x, h):
        h = torch.tanh(self.i2h(torch.cat((x, h), dim=1)))
        return self.h2o(h), h

    def initHidden(self):  # noqa: N802 (the example's name)
        return torch.zeros(self.nbatch, self.nhidden)


class Decoder(nn.Module):
    def __init__(self, latent_dim=4, obs_dim=2, nhidden=20):
        super().__init__()
        self.relu = nn.ReLU(inplace=True)
        self.fc1, self.fc2 = nn.Linear(latent_dim, nhidden), nn.Linear(nhidden, obs_dim)

    def forward(self, z):
        return self.fc2(self.relu(self.fc1(z)))


def log_normal_pdf(x, mean, logvar):
    const = torch.log(torch.from_numpy(np.array([2.0 * np.pi])).float())
    return -0.5 * (const + logvar + (x - mean) ** 2.0 / torch.exp(logvar))


def normal_kl(mu1, lv1, mu2, lv2):
    v1, v2 = torch.exp(lv1), torch.exp(lv2)
    return lv2 / 2.0 - lv1 / 2.0 + ((v1 + (mu1 - mu2) ** 2.0) / (2.0 * v2)) - 0.5


def run():
    path, iterations, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    if threads:
        torch.set_num_threads(threads)
    data = np.load(path)
    samp_trajs = torch.from_numpy(data["values"])  # (B, T, 2): the noisy observed points
    samp_ts = torch.from_numpy(data["times"])  # (T,): the times every series shares
    torch.manual_seed(0)
    func = LatentODEfunc(LATENT, NHIDDEN)
    rec = RecognitionRNN(LATENT, OBS_DIM, RNN_NHIDDEN, samp_trajs.shape[0])
    dec = Decoder(LATENT, OBS_DIM, NHIDDEN)
    optimizer = torch.optim.Adam(list(func.parameters()) + list(dec.parameters()) + list(rec.parameters()), lr=LR)
    nfe, losses = [], []
    for step in range(warmup + iterations):
        if step == warmup:
            start = time.perf_counter()
        optimizer.zero_grad()
        h = rec.initHidden()
        for t in reversed(range(samp_trajs.size(1))):
            out, h = rec.forward(samp_trajs[:, t, :], h)
        qz0_mean, qz0_logvar = out[:, :LATENT], out[:, LATENT:]
        z0 = torch.randn(qz0_mean.size()) * torch.exp(0.5 * qz0_logvar) + qz0_mean
        func.nfe = 0
        pred_x = dec(odeint(func, z0, samp_ts).permute(1, 0, 2))
        nfe.append(func.nfe)
        noise_logvar = 2.0 * torch.log(torch.zeros(pred_x.size()) + NOISE_STD)
        logpx = log_normal_pdf(samp_trajs, pred_x, noise_logvar).sum(-1).sum(-1)
        analytic_kl = normal_kl(qz0_mean, qz0_logvar, torch.zeros(z0.size()), torch.zeros(z0.size())).sum(-1)
        loss = torch.mean(-logpx + analytic_kl, dim=0)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    seconds = time.perf_counter() - start
    values = samp_trajs.shape[1] * samp_trajs.shape[2]
    print(json.dumps({"its": iterations / seconds, "nfe": float(np.mean(nfe[warmup:])), "solves": 1.0,
                      "loss": losses[-1] / values, "peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "threads": torch.get_num_threads()}))


run()
