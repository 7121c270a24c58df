"""The loop's work on a thread while the worker scripts (loop._Ahead): the first pass's mypy
step while the worker starts, the next pass's while it scripts a pass's fixes, and the texts'
indexes. The outcome is the serial loop's, exactly; the thread never outlives `Loop.run`.

Real worker, real torch.jit.script. Only the worker's readiness is dressed up (`Cold`), so the
loop takes each run for one that includes the worker's start, as the CLI's first run does.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tsannotate import static
from tsannotate.loop import Loop, Options
from tsannotate.records import Outcome, ScriptReport, ScriptRequest
from tsannotate.worker import Worker

CASES = Path(__file__).resolve().parent.parent / "fixtures" / "cases"


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    with Worker(timeout=60) as w:
        yield w


class Cold:
    """The worker, saying each time that its next reply includes its start."""

    ready = False

    def __init__(self, worker: Worker) -> None:
        self.worker = worker

    def script(self, request: ScriptRequest) -> ScriptReport:
        return self.worker.script(request)


class Serial(Loop):
    """The loop as it was: every mypy step on the main thread, after the reply it needs."""

    def script(self, texts: dict[str, str], shadowed: bool = True, static: bool = False) -> ScriptReport:
        return super().script(texts, shadowed, static=False)


class Eager(Loop):
    """Every pass's mypy step run ahead, whatever it costs: the speculation at its widest."""

    def speculate(self, report: ScriptReport, passes: int) -> bool:
        return self.options.static and passes + 1 < self.options.max_passes


def _timeless(outcome: Outcome) -> Outcome:
    return replace(outcome, seconds=0.0, passes=tuple(replace(p, seconds=0.0) for p in outcome.passes))


def _run(kind: type[Loop], worker: Worker, case: str, tmp_path: Path, no_probe: bool = False) -> tuple[Outcome, Loop]:
    path = tmp_path / "model.py"
    shutil.copyfile(CASES / case / "input.py", path)
    loop = kind(str(path), Cold(worker), Options(no_probe=no_probe))
    return loop.run(path.read_text()), loop


def _ahead_alive() -> bool:
    return any(t.name == "tsannotate-ahead" and t.is_alive() for t in threading.enumerate())


@pytest.fixture
def mypy_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of the thread each mypy step ran on."""
    names: list[str] = []
    infer = static.infer

    def recording(*args: object, **kwargs: object) -> static.StaticResult:
        names.append(threading.current_thread().name)
        return infer(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(static, "infer", recording)
    return names


@pytest.mark.parametrize(("case", "no_probe"), [
    ("bool_flag_param", False),  # one pass
    ("optional_arg_from_caller", False),  # two passes, a mypy step in each
    ("static_dict_key_from_helper", True),  # no probe: a mypy step after the pass too
])
def test_the_outcome_is_the_serial_loops(worker: Worker, tmp_path: Path, mypy_threads: list[str],
                                         case: str, no_probe: bool) -> None:
    serial, serial_loop = _run(Serial, worker, case, tmp_path, no_probe)
    assert set(mypy_threads) == {"MainThread"}
    for kind in (Loop, Eager):
        mypy_threads.clear()
        ahead, ahead_loop = _run(kind, worker, case, tmp_path, no_probe)
        assert _timeless(ahead) == _timeless(serial)
        assert ahead_loop.static_learned == serial_loop.static_learned
        assert len(ahead_loop.static_seconds) == len(serial_loop.static_seconds)
        assert mypy_threads[0] == "tsannotate-ahead"  # the first pass's, while the worker scripted
        assert not _ahead_alive()
    assert "tsannotate-ahead" in mypy_threads[1:] or len(serial_loop.static_seconds) == 1


def test_a_mypy_step_nobody_needs_is_joined_before_run_returns(worker: Worker, tmp_path: Path,
                                                               mypy_threads: list[str]) -> None:
    outcome, loop = _run(Loop, worker, "already_scriptable", tmp_path)
    assert outcome.scripts and not outcome.passes
    assert mypy_threads == ["tsannotate-ahead"] and loop.static_seconds == []  # ran, result unused
    assert not _ahead_alive()


def test_a_worker_already_running_gets_no_mypy_step_ahead(worker: Worker, tmp_path: Path,
                                                          mypy_threads: list[str]) -> None:
    """Its reply comes before mypy's would: running mypy ahead only costs, when the model scripts."""
    path = tmp_path / "model.py"
    shutil.copyfile(CASES / "bool_flag_param" / "input.py", path)
    worker.start()
    Loop(str(path), worker, Options()).run(path.read_text())
    assert mypy_threads == ["MainThread"]


def _failing(exc: BaseException) -> Callable[..., object]:
    def fail(*args: object, **kwargs: object) -> object:
        raise exc
    return fail


def test_mypy_failing_on_the_thread_is_the_same_note(worker: Worker, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(static, "_infer", _failing(RuntimeError("boom")))
    serial, _ = _run(Serial, worker, "bool_flag_param", tmp_path)
    ahead, _ = _run(Loop, worker, "bool_flag_param", tmp_path)
    assert "mypy could not analyse the file (RuntimeError: boom)" in serial.notes
    assert _timeless(ahead) == _timeless(serial)
    assert not _ahead_alive()


class Stop(BaseException):
    """Not an Exception: the mypy step lets it through, on either thread."""


def test_what_the_mypy_step_raises_on_the_thread_is_raised_where_the_serial_step_raises_it(
        worker: Worker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(static, "infer", _failing(Stop("out")))
    for kind in (Serial, Loop):
        with pytest.raises(Stop, match="out"):
            _run(kind, worker, "bool_flag_param", tmp_path)
        assert not _ahead_alive()


def test_fix_apply_verifies_while_a_mypy_step_nobody_needs_ends(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The pass's fixes script, so the next pass's mypy step (run ahead) is not needed: fix
    --apply sends the verify without waiting for it, and joins it before moving on."""
    from tsannotate import batch

    verifying = threading.Event()
    order: list[str] = []
    infer, verify = static.infer, Worker.verify

    def second_waits_for_verify(*args: object, **kwargs: object) -> static.StaticResult:
        if order:  # the first pass's mypy step is needed: it runs as it always does
            verifying.wait(60)
            order.append("mypy ends" if verifying.is_set() else "mypy gave up waiting")
        order.append("mypy")
        return infer(*args, **kwargs)  # type: ignore[arg-type]

    def verify_spy(self: Worker, request: object) -> object:
        order.append("verify")
        verifying.set()
        return verify(self, request)  # type: ignore[arg-type]

    monkeypatch.setattr(static, "infer", second_waits_for_verify)
    monkeypatch.setattr(batch, "Loop", Eager)  # the next pass's mypy step always runs ahead
    monkeypatch.setattr(batch.Worker, "verify", verify_spy)
    path = tmp_path / "model.py"
    shutil.copyfile(CASES / "bool_flag_param" / "input.py", path)
    results, codes = batch.fix_all([path], False, lambda _: Options(), apply=True, text=False)
    assert order == ["mypy", "verify", "mypy ends", "mypy"]
    assert not _ahead_alive()
    [(outcome, written)] = results
    assert written and outcome.scripts and len(outcome.passes) == 1 and codes == [0]
    assert path.read_text() == (CASES / "bool_flag_param" / "expected.py").read_text()
