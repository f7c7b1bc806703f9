import threading
import time

from hubs.backend.rebuild import RebuildPool


def test_one_rebuild_per_widget_in_flight_and_the_last_request_wins():
    started = threading.Event()
    release = threading.Event()
    calls, running, peak = [], [], [0]
    lock = threading.Lock()

    def rebuild(widget_id):
        with lock:
            running.append(widget_id)
            peak[0] = max(peak[0], running.count(widget_id))
        calls.append(widget_id)
        started.set()
        release.wait(5)
        with lock:
            running.remove(widget_id)

    pool = RebuildPool(rebuild, workers=4)
    assert pool.submit(7) is True
    assert started.wait(5)
    # Asked three more times while the first runs: folded into one more rebuild.
    assert [pool.submit(7) for _ in range(3)] == [False, False, False]
    assert pool.coalesced == 2
    assert pool.depth == 2
    release.set()
    assert pool.wait_idle(5)
    assert calls == [7, 7]
    assert peak[0] == 1
    pool.shutdown()


def test_workers_are_bounded_and_failures_counted():
    active, peak = [0], [0]
    lock = threading.Lock()

    def rebuild(widget_id):
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1
        if widget_id % 5 == 0:
            raise RuntimeError("service down")

    pool = RebuildPool(rebuild, workers=3)
    for widget_id in range(20):
        pool.submit(widget_id)
    assert pool.wait_idle(10)
    assert peak[0] == 3
    assert pool.failures == 4
    assert pool.depth == 0
    pool.shutdown()
