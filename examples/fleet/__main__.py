"""The ready program (the repository's `__main__.py`) for this project's stacks.

Every fleet stack (`fleet.trust`, `fleet.cluster-east`...) runs it: with `meshlib:fleetStack` set
it builds that stack's part of the mesh (docs/fleet.md); the base stack `fleet` alone would be
the whole mesh in one stack.
"""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parents[2] / "__main__.py"), run_name="__main__")
