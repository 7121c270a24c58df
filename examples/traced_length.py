"""A function that scripts fine and traces wrong: `len(x)` becomes a constant of the trace.

    tsannotate verify examples/traced_length.py --trace
"""

import torch


def positions(x):
    return torch.arange(len(x))


def probe():
    return positions, [(torch.ones(1),)]
