import torch
from torch import nn

import utils


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(4, 4)
        self.history = []

    def forward(self, x, train_noise=False):
        y = utils.norm(self.lin(x))
        if train_noise:
            y = utils.jitter(y, 0.1)
        return y


def probe():
    return Net(), [(torch.ones(2, 4),)]
