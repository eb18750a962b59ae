"""The runtime: the ``Engine`` facade and the parts it wires (the state machine, the
planner, the firing of due timers, the rules over all of an owner's applications), the
dry run and the workers that share a store."""
