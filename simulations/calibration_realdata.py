"""Compute the real-data rows of toolkit/calibration/data/targets.csv (nlschools, STAR, egsingle).

    ./run.sh python simulations/calibration_realdata.py     # about a minute

Prints the values and their bootstrap standard errors (300 resamples, seed 20261201); the
output is kept in simulations/calibration-realdata-output.txt and copied into the targets file
(tests/calibration/test_targets.py recomputes the point values).
"""

from toolkit.calibration.realdata import egsingle_gains, nlschools_icc, star_class_size_effect

SEED = 20_261_201
B = 300

nl = nlschools_icc(bootstrap=B, seed=SEED)
print(f"nlschools: {nl['n_pupils']:.0f} pupils in {nl['n_classes']:.0f} classes")
print(f"  icc             {nl['icc']:.4f}  SE {nl['se_icc']:.4f}  (class bootstrap, {B})")
cond, se = nl["conditional_icc"], nl["se_conditional_icc"]
print(f"  conditional icc {cond:.4f}  SE {se:.4f}  (given IQ)")
star = star_class_size_effect(bootstrap=B, seed=SEED)
print(
    f"STAR kindergarten: {star['n_pupils']:.0f} pupils in {star['n_schools']:.0f} schools "
    "(small vs regular)"
)
print(
    f"  percentile points {star['percentile_points']:.3f}  SE {star['se_percentile_points']:.3f}"
    f"  (school bootstrap, {B})"
)
print(f"  effect in SD      {star['effect_sd']:.4f}  SE {star['se_effect_sd']:.4f}")
eg = egsingle_gains(bootstrap=B, seed=SEED)
print(f"egsingle grade 4 to 5: {eg['n_pupils']:.0f} pupils in {eg['n_schools']:.0f} schools")
print(f"  SD of gains / SD of prior  {eg['sd_ratio']:.4f}  SE {eg['se_sd_ratio']:.4f}")
print(f"  corr(gain, prior)          {eg['correlation']:.4f}  SE {eg['se_correlation']:.4f}")
