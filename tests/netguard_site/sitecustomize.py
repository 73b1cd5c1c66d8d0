"""Loaded at start-up by every Python subprocess the tests start (conftest puts this folder on PYTHONPATH): when
NETGUARD_LOG is set, tests/netguard.py refuses and records any connection off loopback. netguard is loaded by its
path, so nothing of tests/ lands on the subprocess's sys.path."""
import os

if os.environ.get("NETGUARD_LOG"):
    import importlib.util

    _spec = importlib.util.spec_from_file_location(
        "netguard", os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "netguard.py"))
    _netguard = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_netguard)
    _netguard.install_from_env()
