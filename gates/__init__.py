"""Static quality gates (installed as swarmgit.gates): one analyzer per gate, one interface."""
