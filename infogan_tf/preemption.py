"""Graceful stop on SIGTERM / SIGINT, even while a multi-step `tf.function` call is running.

A Python signal handler only runs when the main thread returns to the interpreter, which a
training call of many steps does not do for seconds or minutes. So the signal also wakes a watcher
thread (through `signal.set_wakeup_fd`, written by the C-level handler at once), and that thread
sets a `tf.Variable` the graph loop reads before every step: the loop ends after the step in flight,
the caller saves a checkpoint and returns. A second signal of the same kind is not caught: it gets
the default action (termination), for a user who wants out now; checkpoints are written atomically,
so that loses nothing either.
"""

from __future__ import annotations

import signal
import socket
import threading

import tensorflow as tf

SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopOnSignals:
    """Context manager: while active, SIGTERM and SIGINT set `flag` (a bool tf.Variable) to True.

    `received` names the first signal caught (e.g. "SIGTERM"), or is None.
    """

    def __init__(self, flag: tf.Variable, signals=SIGNALS):
        self.flag = flag
        self.signals = tuple(signals)
        self.received: str | None = None
        self._previous: dict = {}
        self._active = False

    def __enter__(self) -> StopOnSignals:
        if threading.current_thread() is not threading.main_thread():
            return self  # signal handlers can only be installed from the main thread
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {number: signal.signal(number, self._handle) for number in self.signals}
        self._thread = threading.Thread(target=self._watch, name="stop-on-signals", daemon=True)
        self._thread.start()
        self._active = True
        return self

    def _handle(self, number, frame) -> None:
        del frame
        self._note(number)
        # The next one of the same kind terminates as if we had never been here.
        signal.signal(number, signal.SIG_DFL)

    def _note(self, number: int) -> None:
        if self.received is None:
            self.received = signal.Signals(number).name
        self.flag.assign(True)

    def _watch(self) -> None:
        while True:
            try:
                data = self._reader.recv(64)
            except OSError:
                return
            if not data:  # closed by __exit__
                return
            for number in data:
                if number in self.signals:
                    self._note(number)

    def __exit__(self, *exc_info) -> None:
        if not self._active:
            return
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._writer.close()
        self._reader.shutdown(socket.SHUT_RDWR)
        self._thread.join(timeout=5)
        self._reader.close()
        self._active = False
