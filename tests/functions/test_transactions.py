"""common/firestore.run_transaction on the real emulator: racing changes all land, or answer 503."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import pytest
from google.cloud import firestore

from emulator.firestore import FirestoreEmulator
from emulator.functions import FUNCTIONS
from tests.functions.conftest import DATABASE
from tests.support import PROJECT

BUSY = "the request is being changed right now; try again"


@pytest.fixture
def transactions(
    firestore_emulator: FirestoreEmulator, monkeypatch: pytest.MonkeyPatch
) -> Iterator[ModuleType]:
    """common.firestore with common/ importable and a client on the emulator, as in a deployed function."""
    monkeypatch.syspath_prepend(str(FUNCTIONS))
    monkeypatch.setenv("FIRESTORE_EMULATOR_HOST", firestore_emulator.host)
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", PROJECT)
    monkeypatch.setenv("APPROVALS_DATABASE", DATABASE)
    import common.firestore

    common.firestore.client.cache_clear()
    yield common.firestore
    common.firestore.client.cache_clear()


def counter(db: firestore.Client) -> firestore.DocumentReference:
    ref = db.collection("counters").document("votes")
    ref.set({"n": 0})
    return ref


def test_racing_changes_all_land(transactions: ModuleType, db: firestore.Client) -> None:
    """Six racers on one document: each is retried until it lands, none is refused as busy."""
    ref = transactions.client().document(counter(db).path)

    def increment(_: int) -> int:
        def body(transaction: firestore.Transaction) -> int:
            n = ref.get(transaction=transaction).get("n")
            transaction.update(ref, {"n": n + 1})
            return n + 1

        return transactions.run_transaction("votes", body, busy=BUSY)

    with ThreadPoolExecutor(6) as pool:
        seen = list(pool.map(increment, range(6)))

    assert sorted(seen) == list(range(1, 7))
    assert db.document(ref.path).get().get("n") == 6


def test_a_change_that_loses_to_another_writer_is_busy_and_writes_nothing(
    transactions: ModuleType, db: firestore.Client
) -> None:
    ref = counter(db)
    mine = transactions.client().document(ref.path)

    def body(transaction: firestore.Transaction) -> None:
        n = mine.get(transaction=transaction).get("n")
        # Another writer touches the document this transaction holds: the emulator aborts it.
        ref.update({"n": firestore.Increment(10)})
        transaction.update(mine, {"n": n + 1})

    with pytest.raises(transactions.HttpError) as raised:
        transactions.run_transaction("votes", body, busy=BUSY)

    assert (raised.value.status, raised.value.args) == (503, (BUSY,))
    assert ref.get().get("n") == 0
