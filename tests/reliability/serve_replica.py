"""``dasf serve`` that logs when its consumer socket is attached (for replica tests).

Usage: ``python serve_replica.py <dasf serve arguments>``. With another replica already
answering discovery on the topic, the line "serving topic ... (subscription ...)" is how a
test knows that this replica takes part.
"""

from __future__ import annotations

import logging
import sys

from dasf_jupyter import cli

if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(name)s %(levelname)s %(message)s")
    logging.getLogger("dasf_jupyter.backend.serve").setLevel(logging.INFO)
    sys.exit(cli.main(sys.argv[1:]))
