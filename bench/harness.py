"""`bench/run` as a module, for the scripts beside it that reuse its parts (seeding, fixture, server, tokens,
oha): `from harness import harness; run = harness()`."""
import importlib.machinery
import importlib.util
import os

BENCH = os.path.dirname(os.path.abspath(__file__))


def harness():
    """bench/run as a module."""
    loader = importlib.machinery.SourceFileLoader("bench_run", os.path.join(BENCH, "run"))
    spec = importlib.util.spec_from_loader("bench_run", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
