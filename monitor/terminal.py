"""What the command line draws for a person: the progress line of a pass, aligned tables, "did you mean".

Kept apart from the commands (cli.py) and from what they report (report.py) so that both print the same way.
"""
from __future__ import annotations

import asyncio
import shutil
import time
from typing import Callable, Iterable, Mapping, TextIO

from .config import _closest
from .safetext import for_terminal

# A check running longer than this is worth naming on the progress line; the rest come and go too fast to read.
SLOW_AFTER = 1.0
NAMED_IN_FLIGHT = 3
REDRAW_EVERY = 0.5


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the closest of `choices` (the rule sources.yaml's unknown keys follow), or ""."""
    match = _closest(word, set(choices))
    return f" (did you mean {match!r}?)" if match else ""


def print_table(rows: list[tuple], out: TextIO) -> None:
    rows = [tuple(for_terminal(str(v)) for v in row) for row in rows]  # cells may hold page text
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(str(v).ljust(w) for v, w in zip(row, widths)).rstrip(), file=out)


class Progress:
    """The line a pass keeps redrawing on a terminal: sources done, failed, and the slowest of those still in
    flight, which are what the operator is waiting on. `in_flight` maps a source id to the time.monotonic() its
    check began (Checker.in_flight); it is read, never written."""

    def __init__(self, total: int, in_flight: Mapping[str, float], out: TextIO,
                 clock: Callable[[], float] = time.monotonic):
        self.total = total
        self.done = 0
        self.failed = 0
        self.in_flight = in_flight
        self.out = out
        self.clock = clock
        self.drawn = False

    def finished(self, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        self.draw()

    def line(self) -> str:
        now = self.clock()
        slow = sorted((started, sid) for sid, started in self.in_flight.items() if now - started >= SLOW_AFTER)
        text = f"checked {self.done}/{self.total} sources, {self.failed} failed"
        if slow:
            named = ", ".join(f"{sid} {now - started:.0f}s" for started, sid in slow[:NAMED_IN_FLIGHT])
            more = len(slow) - NAMED_IN_FLIGHT
            text += f"; waiting on {named}" + (f" and {more} more" if more > 0 else "")
        return text

    def draw(self) -> None:
        """Redraw in place, cut to the terminal's width: a line that wraps cannot be redrawn with a carriage
        return."""
        width = max(20, shutil.get_terminal_size().columns - 1)
        print("\r" + self.line()[:width] + "\x1b[K", end="", file=self.out, flush=True)
        self.drawn = True

    async def ticking(self) -> None:
        """Redraw every REDRAW_EVERY seconds until cancelled, so the seconds of a slow check keep counting."""
        while True:
            self.draw()
            await asyncio.sleep(REDRAW_EVERY)

    def close(self) -> None:
        if self.drawn:
            print(file=self.out, flush=True)
            self.drawn = False
