"""Ctrl-C during training: the first stops the run between steps (and it is checkpointed, so
it resumes exactly); a second, inside a step, stops at once and nothing is saved."""

from __future__ import annotations

import signal
import threading


class StoppedMidStep(KeyboardInterrupt):
    """A second Ctrl-C, raised inside a step: the models may be half updated."""


class StepBoundaryInterrupt:
    """While a step runs, the first Ctrl-C only sets `requested`, so the run stops (and is
    checkpointed) between steps and resumes exactly; a second Ctrl-C interrupts at once."""

    def __init__(self):
        self.requested = False

    def _handler(self, signum, frame):
        if self.requested:
            raise StoppedMidStep
        self.requested = True

    def __enter__(self):
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False
