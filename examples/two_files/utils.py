"""Helpers in another file: one called with a float, one that calls Python's random."""

import random

import torch


def jitter(x, amount):
    return x + amount * random.random()


def norm(x, eps=1e-5):
    return x / (x.norm() + eps)
