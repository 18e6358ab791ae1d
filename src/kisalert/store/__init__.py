"""Where the server's shared state lives: the backlog, definitions, throttle windows,
ids, API keys and login sessions.

`Store` is the interface; `MemoryStore` keeps everything in this process. A
distributed store (scale.md) implements the same interface on Redis.
"""

from kisalert.store.base import Store, StoreError
from kisalert.store.memory import MemoryStore

__all__ = ["MemoryStore", "Store", "StoreError"]
