# SPDX-License-Identifier: Apache-2.0
"""killscan.py: kills a running `vigil scan` with SIGKILL after it has committed progress.

A kill timed by the clock alone is flaky: on a fast machine the scan is over before the signal,
on a slow one it has not written anything yet. Here the store is watched instead: the scan is
killed once it has committed a checkpoint past `after` (the largest file offset recorded before
it started), plus a small pause so that some kills land in the middle of the next transaction.
"""
import signal
import sqlite3
import subprocess
import time


def committed_offset(db):
    """The largest input offset the store at db has committed (0 when none or unreadable)."""
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=0.05)
    except sqlite3.Error:
        return 0
    try:
        row = con.execute('SELECT max("offset") FROM files').fetchone()
        return row[0] or 0
    except sqlite3.Error:
        return 0
    finally:
        con.close()


def kill_after_checkpoint(cmd, db, pause=0.0, timeout=600):
    """Starts cmd (a scan writing to db) and SIGKILLs it once a new checkpoint is committed and
    `pause` seconds have passed. Returns True when it was killed, False when it finished first."""
    before = committed_offset(db)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if committed_offset(db) > before:
                if pause:
                    time.sleep(pause)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait(timeout=timeout)
                    return True
                break
            time.sleep(0.002)
        proc.wait(timeout=max(1, deadline - time.monotonic()))
        return False
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
