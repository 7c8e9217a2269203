"""common/firestore.run_transaction on the real emulator: racing changes all land, or are refused as busy."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import ModuleType

import pytest
from google.api_core.exceptions import Aborted
from google.cloud import firestore

from approvals.emulator.firestore import FirestoreEmulator
from approvals.emulator.functions import FUNCTIONS
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


def test_lasting_contention_is_busy_and_writes_nothing(
    transactions: ModuleType, db: firestore.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every attempt aborted, as a read is when another transaction holds the lock: unavailable (the
    edge answers 503), nothing written."""
    monkeypatch.setattr(transactions, "FIRST_PAUSE_SECONDS", 0.0)
    ref = counter(db)
    mine = transactions.client().document(ref.path)
    attempts = []

    def body(transaction: firestore.Transaction) -> None:
        attempts.append(mine.get(transaction=transaction).get("n"))
        transaction.update(mine, {"n": attempts[-1] + 1})
        raise Aborted("Transaction lock timeout")

    with pytest.raises(transactions.errors.UnavailableError) as raised:
        transactions.run_transaction("votes", body, busy=BUSY)

    assert raised.value.args == (BUSY,)
    assert attempts == [0] * transactions.ATTEMPTS
    assert ref.get().get("n") == 0
