"""A small model that runs eagerly and does not script: a None submodule behind a config flag,
a ModuleList indexed in a range loop, a helper using Python's random, and a training-only
augmentation with try/except.

    tsannotate fix examples/config_flags.py
"""

import random

import torch
from torch import nn


class Tagger(nn.Module):
    def __init__(self, dim=8, use_norm=False):
        super().__init__()
        self.use_norm = use_norm
        self.norm = nn.LayerNorm(dim) if use_norm else None
        self.layers = nn.ModuleList([nn.Linear(dim, dim) for _ in range(3)])

    def noise(self):
        return 0.0 * random.random()

    def augment(self, x):
        try:
            return x + 0.1 * torch.randn_like(x)
        except RuntimeError:
            return x

    def forward(self, x):
        if self.training:
            x = self.augment(x)
        if self.use_norm:
            x = self.norm(x)
        for i in range(len(self.layers)):
            x = torch.relu(self.layers[i](x))
        return x + self.noise()


def probe():
    torch.manual_seed(0)
    return Tagger().eval(), [(torch.randn(2, 8),)]
