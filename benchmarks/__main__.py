"""`make bench`: run every benchmarks/bench_*.py module's main() and print its numbers.

`python -m benchmarks NAME...` runs only the named ones (e.g. `spec`); a module that sets
BY_NAME_ONLY (a comparison, e.g. `sqlite_gate`) runs only when named.
"""

import importlib
import os
import pkgutil
import secrets
import sys
import time

import django


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "callflow.settings")
    # Benchmarks run the service as `make run` does: secrets made for this run alone.
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("TWILIO_AUTH_TOKEN", secrets.token_hex(16))
    django.setup()
    import benchmarks

    names = sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if m.name.startswith("bench_")
    )
    wanted = {f"bench_{a.removeprefix('bench_')}" for a in argv}
    for name in names:
        if wanted and name not in wanted:
            continue
        module = importlib.import_module(f"benchmarks.{name}")
        if not wanted and getattr(module, "BY_NAME_ONLY", False):
            continue
        print(f"\n== {name.removeprefix('bench_')} ==", flush=True)
        started = time.perf_counter()
        module.main()
        print(f"({time.perf_counter() - started:.1f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
