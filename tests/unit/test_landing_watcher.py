"""scripts/local/landing.py: the landing folder's poller hands a file over once it is complete
(the same size and time on two scans), once, and again only when it is rewritten; it skips
temporary files, retries a 5xx on the next scan, remembers across restarts, and moves nothing."""

import os

from scripts.local.landing import FINALIZED, LandingWatcher


class Recorder:
    """Stands in for the function: answers ``status`` and keeps what it was sent."""

    def __init__(self, status=200):
        self.status, self.events = status, []

    def __call__(self, event):
        self.events.append(event)
        return self.status

    @property
    def names(self):
        return [event.data["name"] for event in self.events]


def test_complete_files_are_handed_over_once(tmp_path):
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "a.csv").write_text("order_id\n1\n")
    (tmp_path / "orders" / ".a.csv.swp").write_text("partial")
    (tmp_path / "loose.csv").write_text("not under a table folder")
    function = Recorder()
    watcher = LandingWatcher(tmp_path, function)
    assert watcher.scan() == {}  # seen once: maybe still being written
    assert watcher.scan() == {"orders/a.csv": 200}
    assert watcher.scan() == {}
    [event] = function.events
    assert event["type"] == FINALIZED
    assert event.data["name"] == "orders/a.csv"
    assert event.data["size"] == str(len("order_id\n1\n"))
    # A restarted watcher remembers; the file is where the user put it.
    again = LandingWatcher(tmp_path, function)
    again.scan(), again.scan()
    assert function.names == ["orders/a.csv"]
    assert (tmp_path / "orders" / "a.csv").read_text() == "order_id\n1\n"


def test_a_growing_file_waits_and_a_rewritten_one_is_handed_over_again(tmp_path):
    path = tmp_path / "users" / "2025" / "u.csv"
    path.parent.mkdir(parents=True)
    path.write_text("id\n")
    function = Recorder()
    watcher = LandingWatcher(tmp_path, function)
    watcher.scan()
    with path.open("a") as growing:
        growing.write("1\n")
    assert watcher.scan() == {}  # it changed since the last scan
    assert watcher.once(settle_seconds=0) == {"users/2025/u.csv": 200}
    path.write_text("id\n2\n")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    watcher.scan()
    assert watcher.scan() == {"users/2025/u.csv": 200}
    assert len({event["id"] for event in function.events}) == 2  # two generations


def test_a_failed_delivery_is_tried_again(tmp_path):
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "a.csv").write_text("x")
    function = Recorder(status=503)
    watcher = LandingWatcher(tmp_path, function)
    assert watcher.once(settle_seconds=0) == {"orders/a.csv": 503}
    function.status = 200
    assert watcher.scan() == {"orders/a.csv": 200}
    assert watcher.scan() == {}


def test_no_folder_no_files(tmp_path):
    assert LandingWatcher(tmp_path / "absent", Recorder()).scan() == {}
