"""The torch side of tsannotate, in a subprocess; `Worker` (client.py) is its CLI-side handle.

Importing this package must not import torch: only `main`, `loader`, `targets`, `jit`,
`signatures` and `compare` do, and they run in the child process.
"""

from tsannotate.worker.client import Worker

__all__ = ["Worker"]
