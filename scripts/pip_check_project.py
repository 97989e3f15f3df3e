#!/usr/bin/env python
"""``pip check``, failing only on conflicts inside swarmdesign's own dependency tree.

A machine image may carry unrelated tools (an AWS CLI, say) whose pins an
install of this project upgrades past; those are reported as notes, not
failures, because nothing of this project imports them. A conflict in any
package swarmdesign (with all its extras) needs, directly or not, fails.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name


def closure(root: str) -> set[str]:
    """Names of the installed distributions ``root`` needs, with every extra, transitively."""
    seen: set[str] = set()
    stack = [(canonicalize_name(root), True)]
    while stack:
        name, all_extras = stack.pop()
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and "extra" in str(req.marker) and not all_extras:
                continue
            stack.append((canonicalize_name(req.name), False))
    return seen


def main() -> int:
    ours = closure("swarmdesign")
    proc = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True)
    failures, notes = [], []
    for line in proc.stdout.splitlines():
        match = re.match(r"(\S+) \S+ (?:has requirement|requires) ", line)
        if not match:
            continue
        (failures if canonicalize_name(match.group(1)) in ours else notes).append(line)
    for line in notes:
        print(f"pip check (outside swarmdesign's dependencies, ignored): {line}")
    for line in failures:
        print(f"pip check: {line}", file=sys.stderr)
    if failures:
        return 1
    print(f"pip check: no conflicts among swarmdesign's {len(ours)} installed dependencies")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
