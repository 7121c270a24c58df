"""The worker process: import torch once, then answer ScriptRequests until the pipe closes.

Started by `tsannotate.worker.client.Worker` as `python -m tsannotate.worker REQ_FD REP_FD`.
Its stdout and stderr belong to user code and go to the client's log file; requests
and replies travel over the two pipe descriptors. Whatever goes wrong inside a
request becomes a ScriptReport: the process only dies if user code kills it.
"""

from __future__ import annotations

import faulthandler
import gc
import os
import sys
import threading
import time
import traceback
import warnings
from dataclasses import replace
from typing import Any

from tsannotate.records import (
    LoadError,
    LoadFailure,
    ScriptReport,
    ScriptRequest,
    VerifyReport,
    VerifyRequest,
)
from tsannotate.worker import class_lines, overloads, protocol


def main(argv: list[str]) -> int:
    request_fd, reply_fd = int(argv[0]), int(argv[1])
    faulthandler.enable()  # a segfault leaves a Python traceback in the log
    _exit_with_parent()
    _quiet_torch()
    import torch

    _one_thread(torch)
    class_lines.install()
    overloads.install()
    _settle_heap()
    protocol.send(reply_fd, ("ready", os.getpid(), str(torch.__version__)))
    while True:
        try:
            request = protocol.receive(request_fd)
        except protocol.ChannelClosed:
            return 0
        reply = handle(request)
        try:
            protocol.send(reply_fd, reply)
        except protocol.ChannelClosed:
            return 0
        except Exception as exc:  # something unpicklable slipped into the report
            protocol.send(reply_fd, _internal_error(exc, reply.seconds))


def handle(request: object) -> ScriptReport | VerifyReport:
    """Load, find targets, script (or verify: see verify.py); never raises."""
    import torch

    from tsannotate.worker import executor

    if isinstance(request, VerifyRequest):
        from tsannotate.worker.verify import handle_verify

        with executor.plain():
            return handle_verify(request)
    began = time.perf_counter()
    cwd, grad = os.getcwd(), torch.is_grad_enabled()
    try:
        if not isinstance(request, ScriptRequest):
            raise TypeError(f"expected a ScriptRequest, got {type(request).__name__}")
        with executor.plain():
            report = _handle(request)
    except (Exception, SystemExit) as exc:
        report = _internal_error(exc, 0.0)
    finally:
        torch.set_grad_enabled(grad)
        try:
            os.chdir(cwd)
        except OSError:
            pass
    return replace(report, seconds=time.perf_counter() - began)


def _handle(request: ScriptRequest) -> ScriptReport:
    from tsannotate.worker import kept
    from tsannotate.worker.jit import script_targets
    from tsannotate.worker.errors import LoadFailed
    from tsannotate.worker.loader import loading
    from tsannotate.worker.targets import Found, find_targets

    kept.begin(request)
    try:
        with loading(request) as (loaded, restore):
            found = Found()
            probed = None
            if loaded.import_script_error is None:
                found = find_targets(loaded, request, restore)
                probed = kept.probed(loaded)
            results = script_targets(loaded, found.targets)
    except LoadFailed as exc:
        return ScriptReport(load_error=exc.error)
    kept.remember(request, loaded, restore, found, results.eager, results.twins,
                  bool(results.targets) and all(t.scripted for t in results.targets), probed)
    return ScriptReport(
        targets=tuple(results.targets),
        diagnostics=tuple(results.diagnostics),
        signatures=tuple(results.signatures),
        observations=results.observations,
        notes=tuple(found.notes + results.notes),
    )


def _internal_error(exc: BaseException, seconds: float) -> ScriptReport:
    return ScriptReport(
        load_error=LoadError(
            LoadFailure.CRASH,
            f"internal error in the tsannotate worker: {type(exc).__name__}: {exc}"
            .splitlines()[0][:300] + " — this is a tsannotate bug; please report it with the details",
            "".join(traceback.format_exception(exc)).rstrip("\n"),
        ),
        seconds=seconds,
    )


def _quiet_torch() -> None:
    warnings.filterwarnings("ignore", message=r"Failed to initialize NumPy", category=UserWarning)
    warnings.filterwarnings("ignore", message=r"`torch\.jit\.", category=DeprecationWarning)


def _one_thread(torch: Any) -> None:
    """One intra-op thread, unless the user's environment says how many.

    A probe's models and inputs are small: a second OpenMP thread buys nothing on them
    (scripting and verifying the 1500-line bench model take as long with one), while on a
    busy machine (the CLI beside the worker, on 2 cores) its spin-waits slow every call down
    several times: fix --apply on that model took 8.1 s with two threads, 5.3 s with one.
    """
    if not any(os.environ.get(name) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")):
        torch.set_num_threads(1)


def _settle_heap() -> None:
    """Keep torch's ~160,000 long-lived objects out of the garbage collector's full passes.

    Everything imported so far lives as long as the worker. Left in the collector's oldest
    generation, each full collection walks them all again: about 80 ms, once or twice per
    script request of a large model. Frozen, a full collection walks only what requests
    made. Each request's own objects (its module, its models) are made after this and stay
    collectable.
    """
    from tsannotate.worker import jit, kept, loader, targets, verify  # noqa: F401  (imported for good)

    gc.freeze()  # no collection first: after these imports it would free ~20 objects for 0.07 s


def _exit_with_parent() -> None:
    """If the CLI dies while user code spins, don't linger as an orphan."""
    parent = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="tsannotate-parent-watch", daemon=True).start()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
