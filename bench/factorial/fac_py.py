"""n! with math.factorial, then str(): the reference for ours(managed).

Usage: fac_py.py n. Prints "factorial <seconds>" as soon as the factorial is done (so a caller that stops us
during str() still learns that part), then "<n> <digits> <total seconds>".
Python before 3.12 converts a huge int to text in quadratic time; the caller bounds us with a timeout.
"""
import math
import sys
import time


def main() -> None:
    n = int(sys.argv[1])
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    start = time.perf_counter()
    value = math.factorial(n)
    print(f"factorial {time.perf_counter() - start:.6f}", flush=True)
    text = str(value)
    print(f"{n} {len(text)} {time.perf_counter() - start:.6f}", flush=True)


if __name__ == "__main__":
    main()
