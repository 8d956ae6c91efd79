"""Waves (波次) and what they become: the lifecycle of waves, pick tasks and pick lines (the only
writer of their status columns), the picks themselves (confirm, short), the put wall's slots,
progress for the wall screens, and planning with its batching and routes."""
