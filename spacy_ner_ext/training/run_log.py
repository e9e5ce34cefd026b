"""Run a command, show its output as it comes, and keep every line, timestamped, in a log.

On a terminal the command gets a pseudo-terminal of its own, so tools that draw progress bars
only on terminals (spaCy's training progress bar, tqdm) still draw them; the log keeps the
finished lines, not every redraw of a bar. Elsewhere (CI, a pipe) plain pipes are used.
"""
import datetime
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import IO, List


def _stamp() -> str:
    return datetime.datetime.now().isoformat(timespec="seconds")


class _LineLog:
    """Takes raw output, writes each complete line to the log with a timestamp. A carriage
    return starts the line again (a progress bar redrawn in place), so only what stayed on the
    screen is kept."""

    def __init__(self, log: IO[str]):
        self.log = log
        self.pending = ""

    def feed(self, text: str) -> None:
        self.pending += text.replace("\r\n", "\n")
        *lines, self.pending = self.pending.split("\n")
        for line in lines:
            line = line.rsplit("\r", 1)[-1]
            if line.strip():
                self.log.write(f"{_stamp()} {line}\n")
        self.log.flush()

    def close(self) -> None:
        if self.pending.rsplit("\r", 1)[-1].strip():
            self.feed("\n")


def run_logged(command: List[str], log_path: Path, echo: IO[str] = None) -> int:
    """Run `command`; its output goes to `echo` (stdout) and, line by line, to `log_path`
    (appended). Returns the exit code."""
    echo = echo or sys.stdout
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a", encoding="utf8") as log:
        shown = " ".join(shlex.quote(part) for part in command).replace("\n", "\\n")
        log.write(f"{_stamp()} $ {shown}\n")
        lines = _LineLog(log)
        if echo.isatty() and sys.platform != "win32":
            code = _run_on_pty(command, echo, lines)
        else:
            code = _run_on_pipe(command, echo, lines)
        lines.close()
    return code


def _run_on_pipe(command: List[str], echo: IO[str], lines: _LineLog) -> int:
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    for line in process.stdout:
        echo.write(line)
        echo.flush()
        lines.feed(line)
    return process.wait()


def _run_on_pty(command: List[str], echo: IO[str], lines: _LineLog) -> int:
    import pty

    master, slave = pty.openpty()
    _copy_window_size(echo, slave)
    process = subprocess.Popen(command, stdout=slave, stderr=slave, stdin=subprocess.DEVNULL, close_fds=True)
    os.close(slave)
    try:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the command closed its end of the terminal
                break
            if not data:
                break
            text = data.decode("utf8", errors="replace")
            echo.write(text)
            echo.flush()
            lines.feed(text)
    finally:
        os.close(master)
    return process.wait()


def _copy_window_size(terminal: IO[str], fd: int) -> None:
    """The command's terminal gets the size of ours (a new one is 0 x 0, where a progress bar
    has no room to draw)."""
    import fcntl
    import struct
    import termios

    try:
        size = fcntl.ioctl(terminal.fileno(), termios.TIOCGWINSZ, b"\0" * 8)
    except (OSError, ValueError):
        size = b"\0" * 8
    rows, cols = struct.unpack("HHHH", size)[:2]
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows or 24, cols or 100, 0, 0))


def log_overrides(config, output: Path) -> dict:
    """Config overrides that put a run's TensorBoard events and JSONL log inside its output
    folder (rather than the loggers' defaults, relative to wherever the command runs)."""
    overrides = {}
    logger = config["training"]["logger"]
    if logger.get("@loggers") == "spacy_ner_ext.TensorBoardLogger.v1":
        overrides["training.logger.log_dir"] = str(output / "tensorboard")
        logger = logger.get("console", {})
        prefix = "training.logger.console"
    else:
        prefix = "training.logger"
    if logger.get("@loggers") == "spacy_ner_ext.JsonlLogger.v1":
        overrides[f"{prefix}.path"] = str(output / "training_log.jsonl")
    return overrides
