"""The entry point of a trial's own process: ``python -m seqpipe.search._child``.

Reads from stdin the parent's ``sys.path`` (pickled), then ``(function, args)``
(cloudpickled), writes :data:`STARTED` (the parent's timeout starts then), calls
``function(*args)`` and writes ``("ok", result)`` or ``("error", text)``, pickled,
to the standard output it was started with. Anything
the function prints (Keras' progress bars, TensorFlow's logs) goes to stderr instead,
so it cannot corrupt the answer.
"""

from __future__ import annotations

import os
import pickle
import sys
import traceback

#: The byte the child writes once it has its task, before running it.
STARTED = b"S"


def main() -> None:
    """Run the function sent on stdin; answer on the original stdout."""
    answer = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # fd 1 (C libraries too) now writes to stderr
    sys.stdout = sys.stderr
    sys.path[:0] = [path for path in pickle.load(sys.stdin.buffer) if path not in sys.path]
    started = False
    try:
        function, args = pickle.load(sys.stdin.buffer)
        answer.write(STARTED)
        answer.flush()
        started = True
        outcome = ("ok", function(*args))
    except BaseException as error:  # reported to the parent, which records it
        outcome = ("error", f"{type(error).__name__}: {error}\n{traceback.format_exc()}")
    import cloudpickle

    if not started:
        answer.write(STARTED)
    answer.write(cloudpickle.dumps(outcome))
    answer.close()


if __name__ == "__main__":
    main()
