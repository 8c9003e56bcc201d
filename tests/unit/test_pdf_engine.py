"""The PDF engine tells the builder's memory ceiling from other failures, however the failure surfaced."""

from __future__ import annotations

from report.writers import pdf_engine


def _raised(exc: BaseException, *, cause: BaseException | None = None, context: BaseException | None = None):
    """The exception as Python leaves it after `raise exc from cause` inside an `except` of context."""
    exc.__cause__ = cause
    exc.__context__ = context
    return exc


def test_a_memory_error_anywhere_in_the_chain_is_exhaustion(monkeypatch):
    monkeypatch.setattr(pdf_engine, "_limit_bytes", 0)  # the peak is not consulted
    assert pdf_engine._exhausted(MemoryError())
    assert pdf_engine._exhausted(_raised(RuntimeError("layout"), cause=MemoryError()))
    inner = _raised(ValueError("fragment"), context=MemoryError())
    assert pdf_engine._exhausted(_raised(SystemError("error return without exception set"), context=inner))


def test_a_failure_without_a_limit_or_a_memory_error_is_not_exhaustion(monkeypatch):
    monkeypatch.setattr(pdf_engine, "_limit_bytes", 0)
    assert not pdf_engine._exhausted(SystemError("error return without exception set"))
    assert not pdf_engine._exhausted(_raised(KeyError("x"), context=ValueError("y")))


def test_a_chain_that_loops_ends(monkeypatch):
    monkeypatch.setattr(pdf_engine, "_limit_bytes", 0)
    first, second = ValueError("a"), ValueError("b")
    first.__context__, second.__context__ = second, first
    assert not pdf_engine._exhausted(first)


def test_the_peak_near_the_limit_is_exhaustion_and_far_below_it_is_not(monkeypatch):
    """A SystemError (CPython's word for a C allocation that failed without saying so) is the ceiling's doing
    only when this process came within a tenth of the limit."""
    peak = pdf_engine._peak_address_space()
    assert peak > 10 * 1024 * 1024, peak  # Linux: VmPeak of a Python with the package imported
    failure = SystemError("error return without exception set")
    monkeypatch.setattr(pdf_engine, "_limit_bytes", int(peak * 1.05))
    assert pdf_engine._exhausted(failure)
    monkeypatch.setattr(pdf_engine, "_limit_bytes", peak * 10)
    assert not pdf_engine._exhausted(failure)
