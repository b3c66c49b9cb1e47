"""The largest resident memory of this process during a stretch of work, sampled (the kernel keeps only the
peak since the process started, which cannot tell the export's graphs apart)."""

import threading
import time

SAMPLE_SECONDS = 0.1


def proc_mb(path: str, field: str) -> float:
    """A `Field:  N kB` line of a /proc file, in MB."""
    with open(path) as lines:
        for line in lines:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} in {path}")


def resident_mb() -> float:
    return proc_mb("/proc/self/status", "VmRSS")


class PeakRss:
    def __init__(self):
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, resident_mb())
            time.sleep(SAMPLE_SECONDS)

    def __enter__(self) -> "PeakRss":
        self.peak_mb = resident_mb()
        self._thread.start()
        return self

    def __exit__(self, *_) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_mb = max(self.peak_mb, resident_mb())
