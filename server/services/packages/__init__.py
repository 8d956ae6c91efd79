"""Packages (包裹): what leaves the pack station, with its carrier, tracking number and label."""
