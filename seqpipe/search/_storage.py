"""Where a search keeps its trials: a journal file, an SQLite file, a database URL or an
Optuna storage, and the URL Optuna's tools open it with."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy.exc

_JOURNAL_SUFFIXES = (".log", ".journal")


def _storage(storage: Any, owner: str) -> Any:
    if storage is None or isinstance(storage, optuna.storages.BaseStorage):
        return storage
    if isinstance(storage, (str, os.PathLike)):
        url = _storage_url(storage)
        if "://" in url:
            return _rdb_storage(url)
        return optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(url))
    raise TypeError(f"The 'storage' parameter of {owner} must be None, a path, a database "
                    f"URL or an Optuna storage. Got {storage!r} instead.")


def _storage_url(storage: Any) -> str | None:
    """What Optuna's tools open the trials with: a database URL (a bare path becomes
    ``sqlite:///<absolute path>``), a journal file's absolute path, an RDBStorage's URL;
    None in memory or for other storage objects."""
    if isinstance(storage, optuna.storages.RDBStorage):
        return storage.url
    if not isinstance(storage, (str, os.PathLike)):
        return None
    text = os.fspath(storage)
    if "://" in text:
        return text
    path = Path(text).expanduser().resolve()
    return str(path) if path.suffix in _JOURNAL_SUFFIXES else f"sqlite:///{path}"


def _rdb_storage(url: str, attempts: int = 5) -> Any:
    """Optuna's ``RDBStorage(url)``. Processes opening the same new database at once
    race to create its schema (the loser's insert of the schema version fails): the
    loser tries again, and then finds the schema made."""
    for attempt in range(1, attempts + 1):
        try:
            return optuna.storages.RDBStorage(url)
        except (sqlalchemy.exc.IntegrityError, sqlalchemy.exc.OperationalError):
            if attempt == attempts:
                raise
            time.sleep(0.1 * attempt)
