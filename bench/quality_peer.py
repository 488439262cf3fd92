#!/usr/bin/python3
"""The Python peer of Caliper's agreement statistics in bench/quality_bench.sh.

    /usr/bin/python3 bench/quality_peer.py DIR RATERS [REPEAT]

Reads DIR/ratings.u8 (items x RATERS category codes, row-major, 0 = missing, written by
caliper_bench_quality) and times, best of REPEAT:
  - Fleiss' kappa with statsmodels (statsmodels.stats.inter_rater): the counts table built two
    ways, with statsmodels' own aggregate_raters and with one vectorised numpy pass, then
    fleiss_kappa(table, method="fleiss");
  - Krippendorff's alpha (nominal): Debian has no Krippendorff package, so this is a
    straightforward vectorised numpy implementation of Krippendorff (2011)'s coincidence matrix,
    written for this benchmark.
Prints human-readable lines and "RESULT <name> <value>" lines. Debian: python3-numpy,
python3-statsmodels (use /usr/bin/python3).
"""
import sys
import time

import numpy as np
from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa


def best(repeat, f):
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = f()
        times.append(time.perf_counter() - start)
    return min(times), value


def counts_table(codes, n_categories):
    """items x categories counts of codes 1..n_categories (0, missing, is not counted)."""
    return np.stack([(codes == c).sum(axis=1) for c in range(1, n_categories + 1)], axis=1)


def krippendorff_alpha_nominal(codes, n_categories):
    """Krippendorff (2011): o_ck = sum_u n_uc (n_uk - [c = k]) / (m_u - 1) over units with
    m_u >= 2 values; alpha = 1 - D_o / D_e with the nominal difference [c != k]."""
    counts = counts_table(codes, n_categories).astype(np.float64)
    m = counts.sum(axis=1)
    keep = m >= 2
    counts, m = counts[keep], m[keep]
    weighted = counts / (m - 1)[:, None]
    o = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    n_c = o.sum(axis=1)
    n = n_c.sum()
    delta = 1.0 - np.eye(n_categories)
    d_o = (o * delta).sum() / n
    d_e = (np.outer(n_c, n_c) * delta).sum() / (n * (n - 1))
    return 1.0 - d_o / d_e


def main():
    directory, raters = sys.argv[1], int(sys.argv[2])
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    codes = np.fromfile(f"{directory}/ratings.u8", dtype=np.uint8).reshape(-1, raters)
    q = int(codes.max())
    print(f"python   numpy {np.__version__}, statsmodels "
          f"{__import__('statsmodels').__version__}, {codes.shape[0]} items x {raters} raters")

    alpha_s, alpha = best(repeat, lambda: krippendorff_alpha_nominal(codes, q))
    agg_s, (agg_table, _) = best(1, lambda: aggregate_raters(codes))
    counts_s, table = best(repeat, lambda: counts_table(codes, q))
    assert (table == agg_table[:, -q:]).all()
    kappa_s, kappa = best(repeat, lambda: fleiss_kappa(table, method="fleiss"))
    print(f"python   Krippendorff alpha (nominal, numpy) = {alpha:.10f}  {alpha_s:.4f} s")
    print(f"python   Fleiss kappa (statsmodels)          = {kappa:.10f}  "
          f"{counts_s + kappa_s:.4f} s (numpy counts {counts_s:.4f} s + fleiss_kappa "
          f"{kappa_s:.4f} s); with statsmodels' aggregate_raters: {agg_s + kappa_s:.4f} s")
    for name, value in [("python_alpha", alpha), ("python_alpha_s", alpha_s),
                        ("python_fleiss", kappa), ("python_fleiss_s", counts_s + kappa_s),
                        ("python_fleiss_table_s", kappa_s),
                        ("python_fleiss_aggregate_s", agg_s + kappa_s)]:
        print(f"RESULT {name} {value:.9g}")


if __name__ == "__main__":
    main()
