"""Offline runs of the program on Pulumi's mock engine: plans, diffs and diagrams without a cloud."""
