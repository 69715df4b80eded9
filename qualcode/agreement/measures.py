"""Intercoder agreement: percent agreement, Cohen's kappa, Fleiss' kappa and Krippendorff's alpha.

The unit is one segment x one code: each coder either applied the code to the segment or did not.
Only segments every compared coder has *seen* are units: a coder has seen a segment when they
coded it (with any code) or when they marked its transcript as done (``mark_done``). Segments
seen by only some of the coders are left out and counted in the report.

All four statistics are ratios of sums over units of a few per-unit quantities (how many coders
chose each value, how many coder pairs agree, the two-coder confusion cell). A bootstrap resample
of segments is then just a weighted sum, so 1000 resamples over thousands of segments cost a few
matrix products. The statistics are implemented here with numpy; the tests check them against
scikit-learn's ``cohen_kappa_score``, the ``krippendorff`` package and a plain Fleiss' kappa.

The overall (multi-label) figure pools every segment x code decision into one binary variable,
resampling whole segments (all their codes together) for the confidence interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from ..errors import NotFoundError, QualcodeError, close_matches, unknown
from .units import Units, check_coders, collect_units, mark_done  # noqa: F401  (they lived here; numpy-free in .units)

STATISTICS = ("percent", "cohen", "fleiss", "alpha")
LABELS = {"percent": "% agreement", "cohen": "Cohen's kappa", "fleiss": "Fleiss' kappa",
          "alpha": "Krippendorff's alpha"}
DEFAULT_SEED = 7
DEFAULT_RESAMPLES = 1000
MIN_POSITIVES = 10

# Landis & Koch (1977) for kappas; Krippendorff (2004) for alpha.
KAPPA_BANDS = ((0.0, "poor"), (0.20, "slight"), (0.40, "fair"), (0.60, "moderate"), (0.80, "substantial"),
               (math.inf, "almost perfect"))


def landis_koch(value: float | None) -> str:
    """Landis & Koch's words for a kappa: poor (<0), slight, fair, moderate, substantial, almost perfect."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if value < 0:
        return "poor"
    for upper, word in KAPPA_BANDS[1:]:
        if value <= upper + 1e-12:
            return word
    return "almost perfect"  # pragma: no cover


def krippendorff_band(value: float | None) -> str:
    """Krippendorff's guideline: >= 0.800 reliable, >= 0.667 tentative conclusions only, else unreliable."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if value >= 0.800:
        return "reliable"
    if value >= 0.667:
        return "tentative"
    return "unreliable"


def band(stat: str, value: float | None) -> str:
    if stat == "alpha":
        return krippendorff_band(value)
    if stat in ("cohen", "fleiss"):
        return landis_koch(value)
    return ""


# ----------------------------------------------------------------- the engine
class _Layout:
    """Positions of the per-unit sums in a feature vector for K categories."""

    def __init__(self, k: int):
        self.k = k
        self.pairs, self.agree, self.a_diag, self.f_units, self.f_agree, self.c_units = range(6)
        self.a_cat = slice(6, 6 + k)
        self.f_cat = slice(6 + k, 6 + 2 * k)
        self.conf = slice(6 + 2 * k, 6 + 2 * k + k * k)
        self.size = 6 + 2 * k + k * k


def _unit_features(counts: np.ndarray, m: int, conf_index: np.ndarray | None) -> np.ndarray:
    """Per-unit sums. ``counts`` (..., K): how many coders chose each value; ``conf_index`` (...):
    a*K + b for two coders' values a, b, or -1 when either is missing."""
    k = counts.shape[-1]
    lay = _Layout(k)
    counts = counts.astype(np.float64)
    nu = counts.sum(-1)
    f = np.zeros(counts.shape[:-1] + (lay.size,))
    agree = (counts * (counts - 1)).sum(-1)
    pairable = nu >= 2
    f[..., lay.pairs] = nu * (nu - 1)
    f[..., lay.agree] = agree
    f[..., lay.a_diag] = np.where(pairable, agree / np.where(pairable, nu - 1, 1), 0.0)
    f[..., lay.a_cat] = counts * pairable[..., None]
    complete = nu == m
    f[..., lay.f_units] = complete
    f[..., lay.f_agree] = agree * complete
    f[..., lay.f_cat] = counts * complete[..., None]
    if conf_index is not None:
        present = conf_index >= 0
        f[..., lay.c_units] = present
        onehot = np.zeros(conf_index.shape + (k * k,))
        np.put_along_axis(onehot, np.where(present, conf_index, 0)[..., None], present[..., None].astype(float),
                          axis=-1)
        f[..., lay.conf] = onehot
    return f


def _stats(sums: np.ndarray, m: int, k: int) -> dict[str, np.ndarray]:
    """The four statistics from summed features (last axis); undefined values are NaN."""
    lay = _Layout(k)
    s = np.asarray(sums, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        percent = s[..., lay.agree] / s[..., lay.pairs]
        # Krippendorff's alpha, nominal, from the coincidence matrix's diagonal and margins.
        n_c = s[..., lay.a_cat]
        n = n_c.sum(-1)
        d_o = n - s[..., lay.a_diag]
        d_e = n * n - (n_c * n_c).sum(-1)
        alpha = np.where(d_e > 0, 1.0 - (n - 1) * d_o / np.where(d_e > 0, d_e, 1), np.nan)
        # Fleiss' kappa on units every coder rated.
        nf = s[..., lay.f_units]
        p_bar = s[..., lay.f_agree] / (nf * m * (m - 1))
        p_j = s[..., lay.f_cat] / (nf * m)[..., None]
        p_e = (p_j * p_j).sum(-1)
        fleiss = np.where(1 - p_e > 1e-12, (p_bar - p_e) / np.where(1 - p_e > 1e-12, 1 - p_e, 1), np.nan)
        # Cohen's kappa (two coders).
        if m == 2:
            t = s[..., lay.conf].reshape(s.shape[:-1] + (k, k))
            nc = s[..., lay.c_units]
            p_o = np.trace(t, axis1=-2, axis2=-1) / nc
            p_ec = (t.sum(-1) * t.sum(-2)).sum(-1) / (nc * nc)
            cohen = np.where(1 - p_ec > 1e-12, (p_o - p_ec) / np.where(1 - p_ec > 1e-12, 1 - p_ec, 1), np.nan)
        else:
            cohen = np.full(np.shape(percent), np.nan)
    return {"percent": percent, "cohen": cohen, "fleiss": fleiss, "alpha": alpha}


def _bootstrap_sums(features: np.ndarray, n_boot: int, seed: int, chunk: int = 250,
                    budget_bytes: int = 48 * 2**20, counts: np.ndarray | None = None):
    """Yield summed features for bootstrap resamples of the units (first axis), ``chunk`` at a time.

    With ``counts``, ``features`` holds one row per distinct unit pattern and ``counts[j]`` units
    have the features of row j. A resample of the n units then only matters through how often it
    draws each pattern, and those numbers follow a multinomial distribution with the patterns'
    shares of the units as probabilities; drawing them directly gives exactly the bootstrap
    distribution of the unit resamples while costing resamples x patterns instead of resamples x
    units (drawing units grew slower than linearly on large projects, from cache misses alone).

    A chunk holds a few (resamples x rows) arrays of 8-byte numbers, so the chunk shrinks as the
    number of rows grows to stay within ``budget_bytes``: memory stays flat on large projects.
    Resamples are drawn one after another from the same generator whatever the chunk size, so a
    seed gives the same intervals."""
    rows = features.shape[0]
    rng = np.random.default_rng(seed)
    flat = features.reshape(rows, -1)
    if counts is not None:
        n = int(counts.sum())
        shares = counts / n

        def weights(b: int) -> np.ndarray:      # how often each pattern is drawn, per resample
            return rng.multinomial(n, shares, size=b)
    else:
        def weights(b: int) -> np.ndarray:      # how often each unit is drawn, per resample
            idx = rng.integers(0, rows, size=(b, rows))
            return np.bincount((idx + rows * np.arange(b)[:, None]).ravel(), minlength=b * rows).reshape(b, rows)
    chunk = max(1, min(chunk, budget_bytes // max(1, 3 * 8 * rows)))
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        yield (weights(b).astype(np.float64) @ flat).reshape((b,) + features.shape[1:])
        done += b


@dataclass
class Estimate:
    """A statistic with its bootstrap confidence interval (NaN where undefined)."""

    value: float
    low: float = float("nan")
    high: float = float("nan")

    def to_dict(self) -> dict:
        """{"value", "low", "high"} with None for undefined values (JSON has no NaN)."""
        return {k: (float(v) if np.isfinite(v) else None)
                for k, v in (("value", self.value), ("low", self.low), ("high", self.high))}

    def text(self, digits: int = 2) -> str:
        if not np.isfinite(self.value):
            return "n/a"
        s = f"{self.value:.{digits}f}"
        if np.isfinite(self.low) and np.isfinite(self.high):
            s += f" [{self.low:.{digits}f}, {self.high:.{digits}f}]"
        return s


def _distinct_rows(features: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``features`` (patterns, F) and how many units each stands for."""
    rows, inverse = np.unique(features, axis=0, return_inverse=True)
    merged = np.bincount(inverse.reshape(-1), weights=counts, minlength=rows.shape[0])
    return rows, np.rint(merged).astype(np.int64)


def _estimates(features: np.ndarray, m: int, k: int, n_boot: int, seed: int,
               confidence: float = 0.95, counts: np.ndarray | None = None
               ) -> dict[str, list[Estimate]] | dict[str, Estimate]:
    """Point estimates and percentile CIs. ``features`` is (units, F) or (units, G, F) for G variables;
    with ``counts`` it is one row per distinct unit pattern, standing for ``counts[j]`` units (see
    :func:`_bootstrap_sums`).

    With ``counts`` and G variables, each variable is bootstrapped on its own: its statistics depend
    on its own features only, so their bootstrap distribution is the same whether the units are
    resampled for all variables at once or for this one, and one variable's features have only a
    handful of distinct rows (the coders' yes/no combinations) where all variables together have
    tens of thousands on a large project."""
    if counts is not None and features.ndim == 3:
        per = []
        for i in range(features.shape[1]):
            rows, units = _distinct_rows(features[:, i, :], counts)
            per.append(_estimates(rows, m, k, n_boot, seed, confidence, counts=units))
        return {s: [p[s] for p in per] for s in STATISTICS}
    if counts is None:
        point = _stats(features.sum(0), m, k)
        n_units = features.shape[0]
    else:
        point = _stats(np.tensordot(counts.astype(np.float64), features, axes=(0, 0)), m, k)
        n_units = int(counts.sum())
    if n_boot <= 0 or n_units < 2:
        lows = highs = {s: np.full(np.shape(point[s]), np.nan) for s in STATISTICS}
    else:
        draws = {s: [] for s in STATISTICS}
        for sums in _bootstrap_sums(features, n_boot, seed, counts=counts):
            st = _stats(sums, m, k)
            for s in STATISTICS:
                draws[s].append(st[s])
        q = (1 - confidence) / 2 * 100
        lows, highs = {}, {}
        for s in STATISTICS:
            d = np.concatenate(draws[s], axis=0)
            ok = np.isfinite(d)
            enough = ok.mean(0) >= 0.5  # CI only when most resamples give a value
            with np.errstate(all="ignore"):
                d_nan = np.where(ok, d, np.nan)
                lo = np.nanpercentile(np.where(enough, d_nan, 0.0), q, axis=0) if d.size else np.nan
                hi = np.nanpercentile(np.where(enough, d_nan, 0.0), 100 - q, axis=0) if d.size else np.nan
            lows[s] = np.where(enough, lo, np.nan)
            highs[s] = np.where(enough, hi, np.nan)
    if features.ndim == 2:
        return {s: Estimate(float(point[s]), float(lows[s]), float(highs[s])) for s in STATISTICS}
    g = features.shape[1]
    return {s: [Estimate(float(point[s][i]), float(lows[s][i]), float(highs[s][i])) for i in range(g)]
            for s in STATISTICS}


def _encode(data) -> tuple[np.ndarray, list]:
    """Coders x units labels (None or NaN = missing) -> integer matrix (-1 = missing) and the categories."""
    rows = [list(r) for r in data]
    if len(rows) < 2:
        raise QualcodeError("agreement needs at least two coders.")
    n = len(rows[0])
    if any(len(r) != n for r in rows):
        raise QualcodeError("every coder needs a value (or a missing value) for every unit.")

    def missing(v) -> bool:
        return v is None or (isinstance(v, float) and math.isnan(v))

    cats = sorted({v for r in rows for v in r if not missing(v)}, key=lambda v: (str(type(v)), v))
    index = {v: i for i, v in enumerate(cats)}
    out = np.array([[-1 if missing(v) else index[v] for v in r] for r in rows], dtype=np.int64).reshape(len(rows), n)
    return out, cats


def _features_from_codes(codes: np.ndarray, k: int) -> np.ndarray:
    m, n = codes.shape
    counts = np.zeros((n, max(k, 1)))
    for row in codes:
        ok = row >= 0
        np.add.at(counts, (np.nonzero(ok)[0], row[ok]), 1)
    conf = None
    if m == 2:
        a, b = codes
        conf = np.where((a >= 0) & (b >= 0), a * max(k, 1) + b, -1)
    return _unit_features(counts, m, conf)


def agreement_stats(data, *, n_boot: int = 0, seed: int = DEFAULT_SEED,
                    confidence: float = 0.95) -> dict[str, Estimate]:
    """All four statistics for one nominal variable.

    ``data`` is coders x units (like the ``krippendorff`` package's reliability data); None or NaN
    marks a missing value. Percent agreement is the share of agreeing coder pairs among all pairs
    within units; Fleiss' kappa uses only units every coder rated; Cohen's kappa (two coders only)
    uses units both rated; Krippendorff's alpha uses every unit with at least two values."""
    codes, cats = _encode(data)
    feats = _features_from_codes(codes, len(cats))
    return _estimates(feats, codes.shape[0], max(len(cats), 1), n_boot, seed, confidence)


def cohen_kappa(a: Sequence, b: Sequence) -> float:
    """Cohen's kappa of two coders over the units both rated."""
    return agreement_stats([a, b])["cohen"].value


def fleiss_kappa(data) -> float:
    """Fleiss' kappa over the units every coder rated (coders x units)."""
    return agreement_stats(data)["fleiss"].value


def krippendorff_alpha(data) -> float:
    """Krippendorff's alpha, nominal, missing values allowed (coders x units)."""
    return agreement_stats(data)["alpha"].value


def percent_agreement(data) -> float:
    """Share of agreeing coder pairs among all coder pairs within units (missing values skipped)."""
    return agreement_stats(data)["percent"].value


# ------------------------------------------------------------ project level
@dataclass
class CodeResult:
    code: str
    name: str
    n_segments: int
    positives: int                         # segments where at least one coder applied the code
    per_coder: dict[str, int]              # segments each coder applied it to
    stats: dict[str, Estimate]
    warning: str = ""


@dataclass
class AgreementReport:
    coders: list[str]
    groups: list[str] | None
    units: Units
    codes: list[CodeResult]
    overall: CodeResult
    n_boot: int
    seed: int
    min_positives: int
    exclusive: list["SetResult"] = field(default_factory=list)

    @property
    def n_segments(self) -> int:
        return len(self.units.segment_ids)

    def header(self) -> list[str]:
        h = ["code", "segments", "positives", "% agreement"]
        if len(self.coders) == 2:
            h.append("Cohen's kappa [95% CI]")
        h += ["Fleiss' kappa [95% CI]", "Krippendorff's alpha [95% CI]"]
        return h

    def table(self) -> list[list[str]]:
        rows = []
        for r in [*self.codes, self.overall]:
            row = [r.code, str(r.n_segments), str(r.positives), _pct(r.stats["percent"])]
            for s in (["cohen"] if len(self.coders) == 2 else []) + ["fleiss", "alpha"]:
                e = r.stats[s]
                row.append(e.text() + ("" if not np.isfinite(e.value) else f" {band(s, e.value)}"))
            rows.append(row)
        return rows

    def notes(self) -> list[str]:
        u = self.units
        where = f" in {', '.join(self.groups)}" if self.groups else ""
        lines = [f"Agreement between {', '.join(self.coders)} on {self.n_segments} segments{where}."]
        if u.n_left_out:
            per = ", ".join(f"{c} {n}" for c, n in u.left_out_by_coder.items() if n)
            lines.append(f"{u.n_left_out} segments left out: not seen by every coder (not coded, transcript not "
                         f"marked done; missing per coder: {per}). Mark finished transcripts with "
                         "'qualcode agreement done'.")
        lines.append("Unit: one segment x one code, applied or not by each coder. 'positives' = segments where "
                     "at least one coder applied the code.")
        lines.append(f"95% confidence intervals: bootstrap over segments, {self.n_boot} resamples, seed {self.seed}.")
        lines.append("Overall: every segment x code decision pooled into one applied/not-applied variable "
                     "(resampling whole segments); kappa and alpha correct for the many codes nobody applied.")
        lines.append("Bands: kappa after Landis & Koch (slight .00-.20, fair -.40, moderate -.60, substantial -.80, "
                     "almost perfect above); alpha after Krippendorff (reliable >= .800, tentative >= .667).")
        lines.extend(f"Warning: {r.code}: {r.warning}" for r in self.codes if r.warning)
        return lines

    def lines(self) -> list[str]:
        return self.notes()

    def exclusive_header(self) -> list[str]:
        h = ["exclusive set", "codes", "units", "% agreement"]
        if len(self.coders) == 2:
            h.append("Cohen's kappa [95% CI]")
        return h + ["Fleiss' kappa [95% CI]", "Krippendorff's alpha [95% CI]", "double-coded"]

    def exclusive_table(self) -> list[list[str]]:
        rows = []
        for r in self.exclusive:
            row = [r.key, ", ".join(r.codes), str(r.n_units), _pct(r.stats["percent"])]
            for s in (["cohen"] if len(self.coders) == 2 else []) + ["fleiss", "alpha"]:
                e = r.stats[s]
                row.append(e.text(3) + ("" if not np.isfinite(e.value) else f" {band(s, e.value)}"))
            rows.append(row + [str(len(r.double_coded))])
        return rows

    def exclusive_notes(self, limit: int | None = 20) -> list[str]:
        """Notes on the exclusive sets and one line per double-coded segment (at most ``limit``)."""
        if not self.exclusive:
            return []
        lines = [f"Exclusive sets: one categorical variable per set; a coder's value on a segment is the one code "
                 f"of the set they applied, '{NONE}' when they applied none of them. Units: segments every coder "
                 "has seen where at least one coder applied a code of the set."]
        for r in self.exclusive:
            for d in r.double_coded:
                lines.append(f"Coding error: {r.key}: segment #{d['segment_id']} ({d['key']}, {d['source']}) has "
                             f"{', '.join(d['codes'])} from {d['coder']}; the codes of an exclusive set exclude each "
                             "other. That coder's value counts as missing there.")
        n_double = sum(len(r.double_coded) for r in self.exclusive)
        if limit is not None and n_double > limit:
            lines = lines[:1 + limit] + [f"... and {n_double - limit} more coding errors (--out and --json list "
                                         "them all; so does 'qualcode review')."]
        return lines

    def to_dict(self) -> dict:
        """The report as plain data for ``--json`` (see docs/json.md); undefined numbers are None."""
        def code_row(r: CodeResult) -> dict:
            return {"code": r.code, "name": r.name, "segments": r.n_segments, "positives": r.positives,
                    "per_coder": dict(r.per_coder), **{s: r.stats[s].to_dict() for s in STATISTICS},
                    "warning": r.warning or None}

        u = self.units
        return {
            "coders": list(self.coders), "groups": self.groups, "n_segments": self.n_segments,
            "n_left_out": u.n_left_out, "left_out_by_coder": dict(u.left_out_by_coder),
            "resamples": self.n_boot, "seed": self.seed, "confidence": 0.95, "min_positives": self.min_positives,
            "codes": [code_row(r) for r in self.codes],
            "overall": code_row(self.overall),
            "exclusive_sets": [r.to_dict() for r in self.exclusive],
        }


def _pct(e: Estimate) -> str:
    if not np.isfinite(e.value):
        return "n/a"
    s = f"{100 * e.value:.1f}%"
    if np.isfinite(e.low):
        s += f" [{100 * e.low:.1f}, {100 * e.high:.1f}]"
    return s


def compute_agreement(store, coders: Iterable[str] | None = None, *, codes: Iterable[str] | None = None,
                      groups: Iterable[str] | None = None, include_moderator: bool = False,
                      n_boot: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED,
                      min_positives: int = MIN_POSITIVES, exclusive: Iterable[str] | None = None) -> AgreementReport:
    """Per-code and overall agreement between coders on the segments they all saw, and one categorical
    figure per exclusive set among the compared codes (sets flagged in the codebook, plus the themes or
    parent codes named in ``exclusive``)."""
    chosen = check_coders(store, coders)
    asked = exclusive_sets(store, exclusive or [], flagged=False)   # checked before the work
    units = collect_units(store, chosen, groups=groups, include_moderator=include_moderator)
    all_codes = {c["key"]: c for c in store.codes()}
    if codes is not None:
        keys = []
        for k in codes:
            if k not in all_codes:
                raise unknown("code", k, list(all_codes))
            keys.append(k)
    else:
        used = {k for per in units.applied.values() for ks in per.values() for k in ks}
        keys = [k for k in all_codes if k in used]
        if not keys:
            raise QualcodeError(f"coders {', '.join(chosen)} applied no codes to the segments they share.")
    col = {k: i for i, k in enumerate(keys)}
    pos = {s: i for i, s in enumerate(units.segment_ids)}
    m, n, g = len(chosen), len(units.segment_ids), len(keys)
    x = np.zeros((m, n, g), dtype=np.int8)
    for ci, c in enumerate(chosen):
        for sid, ks in units.applied[c].items():
            if sid in pos:
                for k in ks:
                    if k in col:
                        x[ci, pos[sid], col[k]] = 1
    # Segments with the same decisions by every coder on every code share their features: work on
    # the distinct patterns (a few thousand) instead of segments x codes (millions on big projects).
    patterns, inverse = np.unique(x.transpose(1, 0, 2).reshape(n, m * g), axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    xu = patterns.reshape(-1, m, g).transpose(1, 0, 2).astype(np.int64)   # (m, patterns, g)
    counts = np.stack([m - xu.sum(0), xu.sum(0)], axis=-1)          # (patterns, g, 2)
    conf = xu[0] * 2 + xu[1] if m == 2 else None
    feats = _unit_features(counts, m, conf)                         # (patterns, g, F)
    units_per_pattern = np.bincount(inverse, minlength=feats.shape[0])
    per_code = _estimates(feats, m, 2, n_boot, seed, counts=units_per_pattern)
    pooled, pooled_units = _distinct_rows(feats.sum(1), units_per_pattern)
    overall_est = _estimates(pooled, m, 2, n_boot, seed, counts=pooled_units)
    positives = (x.max(0) > 0).sum(0)
    per_coder = x.sum(1)
    results = []
    for i, k in enumerate(keys):
        warn = ""
        if positives[i] < min_positives:
            warn = (f"only {positives[i]} of {n} segments have this code from any coder; with fewer than "
                    f"{min_positives} the figures say little.")
        results.append(CodeResult(k, all_codes[k]["name"], n, int(positives[i]),
                                  {c: int(per_coder[ci, i]) for ci, c in enumerate(chosen)},
                                  {s: per_code[s][i] for s in STATISTICS}, warn))
    overall = CodeResult("(overall, pooled)", "all codes pooled", n, int((x.max(0).max(1) > 0).sum()),
                         {c: int((x[ci].max(1) > 0).sum()) for ci, c in enumerate(chosen)}, overall_est)
    sets = [x for x in exclusive_sets(store) if set(x.fold) & set(keys) and len(x.codes) >= 2]
    sets += [x for x in asked if (x.kind, x.key) not in {(y.kind, y.key) for y in sets}]
    set_results = [set_agreement(store, units, x, n_boot=n_boot, seed=seed) for x in sets]
    return AgreementReport(chosen, list(groups) if groups is not None else None, units, results, overall,
                           n_boot, seed, min_positives, set_results)


# ------------------------------------------------------------ exclusive sets
NONE = "(none)"


@dataclass
class ExclusiveSet:
    """Mutually exclusive codes: a theme's top-level codes or a parent code's sub-codes."""

    key: str                      # the theme's or parent code's id
    kind: str                     # 'theme' or 'code'
    name: str
    codes: list[str]              # the categories, in codebook order
    fold: dict[str, str]          # every code of the set and its sub-codes -> the category it counts as


def exclusive_sets(store, names: Iterable[str] = (), *, flagged: bool = True) -> list[ExclusiveSet]:
    """The exclusive sets flagged in the codebook (with ``flagged``) and those named in ``names`` (a theme
    id or name, or the id of a code with sub-codes). A sub-code counts as the set's code it sits under."""
    codes = store.codes()
    themes = store.themes()
    by_key = {c["key"]: c for c in codes}
    children: dict[str | None, list[str]] = {}
    for c in codes:
        children.setdefault(c["parent"], []).append(c["key"])

    def under(key: str) -> list[str]:
        out, todo = [], list(children.get(key, []))
        while todo:
            k = todo.pop(0)
            if k not in out and k != key:
                out.append(k)
                todo.extend(children.get(k, []))
        return out

    def make(kind: str, key: str, name: str, members: list[str]) -> ExclusiveSet:
        fold = {m: m for m in members}
        for m in members:
            for d in under(m):
                fold.setdefault(d, m)
        return ExclusiveSet(key, kind, name, members, fold)

    def of_theme(t: dict) -> ExclusiveSet:
        members = [c["key"] for c in codes if c["theme_id"] == t["id"]
                   and (c["parent"] is None or by_key[c["parent"]]["theme_id"] != t["id"])]
        return make("theme", t["key"], t["name"], members)

    def of_code(c: dict) -> ExclusiveSet:
        return make("code", c["key"], c["name"], list(children.get(c["key"], [])))

    out: list[ExclusiveSet] = []
    if flagged:
        out += [of_theme(t) for t in themes if t["exclusive"]]
        out += [of_code(c) for c in codes if c["exclusive"]]
    for name in names:
        name = name.strip()
        theme = next((t for t in themes if t["key"] == name), None) or next(
            (t for t in themes if t["name"].lower() == name.lower()), None)
        if theme is not None:
            x = of_theme(theme)
        elif name in by_key and children.get(name):
            x = of_code(by_key[name])
        else:
            parents = [k for k in children if k is not None]
            if name in by_key:
                raise QualcodeError(
                    f"code '{name}' has no sub-codes, so it cannot be an exclusive set; name its theme "
                    f"({by_key[name]['theme'] or 'none'}) or a code with sub-codes ({', '.join(parents) or 'none'}).")
            hint = close_matches(name, [t["key"] for t in themes] + parents)
            raise NotFoundError(
                f"no theme or parent code '{name}' to treat as an exclusive set.{hint} An exclusive set is a theme "
                f"(themes: {', '.join(t['key'] for t in themes) or 'none'}) or a code with sub-codes "
                f"({', '.join(parents) or 'none in this codebook'}).")
        check_set_size(x)
        if (x.kind, x.key) not in {(y.kind, y.key) for y in out}:
            out.append(x)
    return out


def check_set_size(x: ExclusiveSet) -> None:
    """Refuse a set of fewer than two codes (a flagged set can shrink later: review warns about it)."""
    if len(x.codes) < 2:
        raise QualcodeError(
            f"{x.kind} '{x.key}' has {len(x.codes)} {'code' if x.kind == 'theme' else 'sub-code'}"
            f"{'' if len(x.codes) == 1 else 's'}; an exclusive set needs at least two mutually exclusive codes.")


def set_values(applied: dict[int, set[str]] | dict[int, list[str]], segment_id: int, xset: ExclusiveSet
               ) -> list[str]:
    """The set's categories a coder gave a segment (sub-codes folded into their category), in set order."""
    got = {xset.fold[k] for k in applied.get(segment_id, ()) if k in xset.fold}
    return [c for c in xset.codes if c in got]


@dataclass
class SetResult:
    key: str
    kind: str
    name: str
    codes: list[str]
    n_units: int                       # segments where at least one coder applied a code of the set
    stats: dict[str, Estimate]
    double_coded: list[dict]           # segment_id, key, source, coder, codes

    def to_dict(self) -> dict:
        return {"theme": self.key, "kind": self.kind, "name": self.name, "codes": list(self.codes),
                "n_units": self.n_units, **{s: self.stats[s].to_dict() for s in STATISTICS},
                "double_coded": [dict(d) for d in self.double_coded]}


def set_agreement(store, units: Units, xset: ExclusiveSet, *, n_boot: int = DEFAULT_RESAMPLES,
                  seed: int = DEFAULT_SEED) -> SetResult:
    """Categorical agreement on one exclusive set over the units every coder has seen.

    A coder's value on a unit is the one category of the set they applied, :data:`NONE` when they applied
    none. Units where no coder applied any code of the set are left out (the set does not apply there). Two
    or more categories from one coder on one unit is a coding error: listed, and that value is missing."""
    coders = units.coders
    data: list[list] = [[] for _ in coders]
    double: list[tuple[int, str, list[str]]] = []
    for sid in units.segment_ids:
        vals = [set_values(units.applied[c], sid, xset) for c in coders]
        if not any(vals):
            continue
        for i, (c, v) in enumerate(zip(coders, vals)):
            if len(v) > 1:
                double.append((sid, c, v))
            data[i].append(v[0] if len(v) == 1 else (NONE if not v else None))
    n_units = len(data[0])
    if n_units == 0:
        stats = {s: Estimate(float("nan")) for s in STATISTICS}
    else:
        codes, cats = _encode(data)
        feats = _features_from_codes(codes, len(cats))
        rows, counts = _distinct_rows(feats, np.ones(feats.shape[0]))
        stats = _estimates(rows, len(coders), max(len(cats), 1), n_boot, seed, counts=counts)
    info = {s["id"]: s for s in store.segments(ids=sorted({d[0] for d in double}))} if double else {}
    listed = [{"segment_id": sid, "key": info[sid]["key"], "source": info[sid]["source"], "coder": c, "codes": v}
              for sid, c, v in double]
    return SetResult(xset.key, xset.kind, xset.name, list(xset.codes), n_units, stats, listed)


def nominal_agreement(store, coders: Sequence[str], codes: Sequence[str], *,
                      segment_ids: Iterable[int] | None = None, n_boot: int = 0,
                      seed: int = DEFAULT_SEED) -> tuple[dict[str, Estimate], int]:
    """Agreement on one nominal variable whose values are mutually exclusive codes (e.g. a therapist's
    behaviour: question, reflection, input, other). A coder's value on a segment is the one code among
    ``codes`` they applied; none (or several) counts as missing. Returns the statistics and the number of
    segments with at least two values."""
    chosen = check_coders(store, coders)
    wanted = set(codes)
    applied: dict[str, dict[int, list[str]]] = {c: {} for c in chosen}
    for sid, key, coder in store.coder_codings(chosen):
        if key in wanted:
            applied[coder].setdefault(sid, []).append(key)
    ids = sorted(set(segment_ids) if segment_ids is not None else {s for a in applied.values() for s in a})
    data = [[(v[0] if len(v) == 1 else None) if (v := applied[c].get(s)) else None for s in ids] for c in chosen]
    n_units = sum(1 for j in range(len(ids)) if sum(row[j] is not None for row in data) >= 2)
    if n_units == 0:
        raise QualcodeError(f"coders {', '.join(chosen)} have no segments in common for codes {', '.join(codes)}.")
    return agreement_stats(data, n_boot=n_boot, seed=seed), n_units
