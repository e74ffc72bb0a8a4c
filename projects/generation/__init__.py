"""A generation task's life: its state machine (lifecycle) and the worker jobs that move it."""
