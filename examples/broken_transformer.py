"""A tiny transformer encoder, written the way most people write their first one.

It runs fine in eager mode:

    model, inputs = probe()
    out, stats = model(*inputs[0])

but ``torch.jit.script(model)`` fails: nothing here is unscriptable, the compiler
just needs a few type annotations.  Fix it with

    tsannotate fix examples/broken_transformer.py           # review the diff
    tsannotate fix examples/broken_transformer.py --apply   # write it
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def soft_cap(scores, cap, temperature):
    # squash attention logits smoothly into (-cap, cap), then apply a temperature
    return cap * torch.tanh(scores / (cap * temperature))


class MultiHeadAttention(nn.Module):
    def __init__(self, dim, heads, cap=30.0, temperature=1.0):
        super().__init__()
        assert dim % heads == 0, "dim must be divisible by heads"
        self.heads = heads
        self.head_dim = dim // heads
        self.cap = cap
        self.temperature = temperature
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.o = nn.Linear(dim, dim)
        self.cache = None  # (keys, values) of the last call, for incremental decoding

    def forward(self, x, mask=None, use_cache=False):
        b, t, d = x.shape
        q = self.q(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        k = self.k(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        v = self.v(x).view(b, t, self.heads, self.head_dim).transpose(1, 2)
        if use_cache:
            self.cache = (k.detach(), v.detach())

        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        scores = soft_cap(scores, self.cap, self.temperature)
        if mask is not None:
            # mask: (batch, seq), True for tokens that may be attended to
            scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
        attn = F.softmax(scores, dim=-1)
        out = (attn @ v).transpose(1, 2).reshape(b, t, d)
        return self.o(out), attn


class EncoderLayer(nn.Module):
    def __init__(self, dim, heads, ff_mult=4, dropout=0.1, pre_norm=True):
        super().__init__()
        self.pre_norm = pre_norm
        self.attn = MultiHeadAttention(dim, heads)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(
            nn.Linear(dim, ff_mult * dim),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(ff_mult * dim, dim),
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask=None, use_cache=False):
        if self.pre_norm:
            h, attn = self.attn(self.norm1(x), mask, use_cache)
            x = x + self.drop(h)
            x = x + self.drop(self.ff(self.norm2(x)))
        else:
            h, attn = self.attn(x, mask, use_cache)
            x = self.norm1(x + self.drop(h))
            x = self.norm2(x + self.drop(self.ff(x)))
        return x, attn


class TinyEncoder(nn.Module):
    """Token embedding + a stack of encoder layers; also reports attention entropy per layer."""

    def __init__(self, vocab=100, dim=32, heads=4, depth=2, max_len=64, pre_norm=True):
        super().__init__()
        self.embed = nn.Embedding(vocab, dim)
        self.pos = nn.Parameter(torch.zeros(1, max_len, dim))
        self.layers = nn.ModuleList(
            [EncoderLayer(dim, heads, pre_norm=pre_norm) for _ in range(depth)]
        )
        self.norm = nn.LayerNorm(dim)

    def forward(self, tokens, mask=None, use_cache=False):
        x = self.embed(tokens) + self.pos[:, : tokens.size(1)]
        stats = []
        for layer in self.layers:
            x, attn = layer(x, mask, use_cache)
            entropy = -(attn * torch.log(attn + 1e-9)).sum(dim=-1).mean()
            stats.append(float(entropy))
        return self.norm(x), stats


def probe():
    torch.manual_seed(0)
    model = TinyEncoder().eval()
    tokens = torch.randint(0, 100, (2, 7))
    mask = torch.ones(2, 7, dtype=torch.bool)
    mask[1, 5:] = False
    return model, [(tokens, mask), (tokens,), (tokens, mask, True)]
