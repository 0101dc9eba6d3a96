"""Fleets: one mesh as many small stacks, deployed layer by layer (docs/fleet.md)."""

__all__: list[str] = []
