"""moto's server, with every DynamoDB request atomic.

DynamoDB applies each request (a conditional PutItem, an UpdateItem ADD, a
TransactWriteItems of several items) atomically: no other request sees it
half done or interleaves with its condition check. moto's server is
threaded and its DynamoDB backend takes no lock, so two concurrent
conditional writes of the same key can both pass their condition, and the
adapters' contract tests of concurrent reservations then fail for moto's
reasons, not ours (seen in CI: one idempotency key answered with two
messages). One re-entrant lock around every public method of the DynamoDB
backend restores DynamoDB's per-request atomicity; SQS and the other
services stay threaded (SQS long polls must not block the rest).

Usage: python3 moto_atomic.py [moto_server's arguments]
"""

import functools
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.server import main

_LOCK = threading.RLock()


def _atomic(method):
    @functools.wraps(method)
    def wrapper(*args, **kwargs):
        with _LOCK:
            return method(*args, **kwargs)

    return wrapper


for _name, _value in list(vars(DynamoDBBackend).items()):
    if callable(_value) and not _name.startswith("_"):
        setattr(DynamoDBBackend, _name, _atomic(_value))

if __name__ == "__main__":
    main(sys.argv[1:])
