"""This machine is shared: a rehearsal must never be the reason another process is killed for memory.

Our processes ask the kernel to pick them first if memory runs out (oom_score_adj 1000, inherited by the
children), each heavy stage waits until the memory it needs is free, and a watchdog stops the stage's process
group while MemAvailable is still above a floor, before the kernel has to choose."""

import os
import signal
import threading
import time

from ..peak_rss import proc_mb

FLOOR_MB = 1536


def available_mb() -> float:
    return proc_mb("/proc/meminfo", "MemAvailable")


def volunteer_for_oom_killer() -> None:
    with open("/proc/self/oom_score_adj", "w") as f:
        f.write("1000")


def wait_for_memory(needed_mb: float, what: str, patience_s: float, log=print) -> None:
    """Returns once `needed_mb` (+ the floor) is available; raises after `patience_s` seconds of waiting."""
    deadline = time.monotonic() + patience_s
    while (free := available_mb()) < needed_mb + FLOOR_MB:
        if time.monotonic() > deadline:
            raise MemoryError(f"{what} needs about {needed_mb / 1024:.1f} GiB free; {free / 1024:.1f} GiB is, "
                              f"after waiting {patience_s:.0f} s. Run it when the machine is quieter (or on a larger one).")
        log(f"{what}: waiting for {needed_mb / 1024:.1f} GiB (+{FLOOR_MB / 1024:.1f}) free memory; {free / 1024:.1f} GiB now")
        time.sleep(30)


class Watchdog:
    """Kills the process group `pgid` if MemAvailable falls under the floor while it runs."""

    def __init__(self, pgid: int, log=print):
        self.pgid, self.log, self.tripped = pgid, log, False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.wait(0.5):
            if (free := available_mb()) < FLOOR_MB:
                self.tripped = True
                self.log(f"memory watchdog: {free:.0f} MB available, under {FLOOR_MB} MB: stopping the stage")
                os.killpg(self.pgid, signal.SIGKILL)
                return

    def __enter__(self) -> "Watchdog":
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()
