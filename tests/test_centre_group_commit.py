"""Group commit (the served centre's writes): work from many threads shares one COMMIT, each piece in its own
savepoint — a refusal undoes only its own writes — and nobody hears back before the COMMIT holding their work."""

from __future__ import annotations

import threading

import pytest

from centre.errors import Refused
from centre.group_commit import GroupCommit
from centre.store import traffic
from centre.store.engine import Store
from centre.store.migrate import migrate


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "c.db")
    migrate(s.db())
    yield s
    s.close()


def _claim(msgid: str, refuse: bool = False, gate: threading.Event | None = None):
    def work(db):
        if gate is not None:
            gate.wait(10)
        traffic.claim(db, msgid=msgid, infno="2207", fixmedins_code="H41010000001", at="2026-12-01 10:00:00")
        if refuse:
            raise Refused("insufficient_balance", "no", "余额不足")
        return msgid
    return work


def test_waiting_work_shares_one_commit_and_a_refusal_undoes_only_its_own(store, monkeypatch):
    sizes: list[int] = []
    original = GroupCommit._commit

    def counted(db, batch):
        sizes.append(len(batch))
        original(db, batch)
    monkeypatch.setattr(GroupCommit, "_commit", staticmethod(counted))
    group = GroupCommit(store)
    gate = threading.Event()
    results: dict[str, object] = {}

    def call(name: str, work) -> None:
        try:
            results[name] = group.run(work)
        except Refused as exc:
            results[name] = exc.code

    first = threading.Thread(target=call, args=("m0", _claim("m0", gate=gate)))
    first.start()
    while not sizes:                                   # the writer is inside the first batch, held by the gate
        threading.Event().wait(0.01)
    others = [threading.Thread(target=call, args=(f"m{i}", _claim(f"m{i}", refuse=(i == 3)))) for i in range(1, 8)]
    for t in others:
        t.start()
    while group._queue.qsize() < 7:                    # all seven wait for the next COMMIT
        threading.Event().wait(0.01)
    assert results == {}                               # nobody is answered before their COMMIT
    gate.set()
    for t in [first, *others]:
        t.join(10)
    assert sizes == [1, 7]                             # two COMMITs for eight pieces of work
    assert results == {**{f"m{i}": f"m{i}" for i in range(8) if i != 3}, "m3": "insufficient_balance"}
    kept = {r[0] for r in store.db().all("SELECT msgid FROM messages")}
    assert kept == {f"m{i}" for i in range(8)} - {"m3"}    # the refused one's write was undone, nobody else's


def test_a_failed_commit_fails_every_piece_of_its_group(store, monkeypatch):
    group = GroupCommit(store)

    def breaks_the_transaction(db):
        db.execute("ROLLBACK")                         # the transaction is gone: its COMMIT will fail
        return "done"
    with pytest.raises(Exception):
        group.run(breaks_the_transaction)
    assert group.run(_claim("after")) == "after"       # the writer carries on with the next group
