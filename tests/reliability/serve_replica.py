"""``dasf serve`` with a fixed subscription name, for replicas that share one subscription.

Usage: ``python serve_replica.py SUBSCRIPTION <dasf serve arguments>``. Equivalent to
``dasf serve --subscription SUBSCRIPTION`` where that option exists.
"""

from __future__ import annotations

import logging
import sys

from dasf_jupyter import cli
from dasf_jupyter.backend import serve

if __name__ == "__main__":
    name = sys.argv[1]
    # "serving topic ... (subscription ...)" tells the test that the consumer is attached
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
    logging.getLogger("dasf_jupyter.backend.serve").setLevel(logging.INFO)
    serve.default_subscription = lambda *args, **kwargs: name
    sys.exit(cli.main(sys.argv[2:]))
