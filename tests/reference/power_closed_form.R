# Reference power of a two-arm cluster-randomized trial analysed on cluster means (noncentral t),
# over a grid that reaches far into the lower tail of the noncentral t, where scipy's nct.cdf
# returns NaN. Run once from the repository root: Rscript tests/reference/power_closed_form.R
#
# power = P(T > q) + P(T < -q), T ~ t'(J - 2, lambda), q = qt(1 - alpha/2, J - 2),
# lambda = d / sqrt((icc + (1 - icc) / n) * (1 / J_A + 1 / J_B)), J_A = J_B = J / 2.
# R's pt(x, df, ncp) for x < 0 is 1 - pt(-x, df, -ncp) (absolute error about 1e-12), so the lower
# tail is checked in absolute terms. pt with ncp is accurate for ncp <= 37.62 (?pt); beyond, R
# switches to a normal approximation (off by 3e-7 at df = 2), so there the upper tail comes from
# the definition instead, T = (Z + ncp) / W with W = sqrt(V / df), V ~ chi^2_df:
# P(T <= q) = integral of pnorm(q w - ncp) f_W(w) dw, f_W(w) = dchisq(df w^2, df) 2 df w, and the
# lower tail, below pnorm(-37.62) < 1e-309, is 0 in double precision.
lambda_of <- function(d, J, n, icc) d / sqrt((icc + (1 - icc) / n) * (2 / J + 2 / J))
below_by_integral <- function(q, df, lam) {
  lo <- sqrt(qchisq(1e-17, df) / df)
  hi <- sqrt(qchisq(1e-17, df, lower.tail = FALSE) / df)
  integrate(function(w) pnorm(q * w - lam) * dchisq(df * w^2, df) * 2 * df * w, lo, hi,
            rel.tol = 1e-13, abs.tol = 0, subdivisions = 2000L)$value
}
power_of <- function(d, J, n, icc, alpha = 0.05) {
  df <- J - 2
  q <- qt(1 - alpha / 2, df)
  lam <- lambda_of(d, J, n, icc)
  if (lam <= 37.62) {
    upper <- pt(q, df, lam, lower.tail = FALSE)
    lower <- pt(-q, df, lam)
  } else {
    upper <- 1 - below_by_integral(q, df, lam)
    lower <- 0
  }
  c(upper = upper, lower = lower, power = upper + lower, lambda = lam, df = df, q = q)
}
grid <- expand.grid(
  effect = c(0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.8, 1.2, 2, 3, 5),
  clusters = c(4, 6, 8, 10, 12, 16, 20, 30, 40, 60, 100, 200, 400),
  n = c(1, 5, 20, 60),
  icc = c(0, 0.05, 0.2, 0.5),
  alpha = c(0.05, 0.01)
)
res <- suppressWarnings(t(mapply(power_of, grid$effect, grid$clusters, grid$n, grid$icc, grid$alpha)))
out <- cbind(grid, res[, c("lower", "power")])
write.csv(
  data.frame(lapply(out, function(x) sprintf("%.14g", x))),
  "tests/reference/power_closed_form.csv", row.names = FALSE, quote = FALSE
)

# Minimum detectable effects (uniroot on the same power) and the fewest clusters (even J >= 4)
# reaching 80% power, including designs whose answer lies where scipy's lower tail is NaN.
mde <- function(J, n, icc, alpha = 0.05, target = 0.8) {
  uniroot(function(d) suppressWarnings(power_of(d, J, n, icc, alpha)[["power"]]) - target,
          c(1e-9, 50), tol = 1e-13)$root
}
need <- function(d, n, icc, alpha = 0.05, target = 0.8) {
  J <- 4
  while (suppressWarnings(power_of(d, J, n, icc, alpha)[["power"]]) < target) J <- J + 2
  J
}
mde_cases <- list(c(40, 20, 0.2), c(4, 20, 0), c(4, 1, 0), c(6, 60, 0), c(4, 60, 0.05),
                  c(8, 5, 0.5), c(10, 20, 0.2), c(20, 1, 0), c(100, 20, 0.2), c(400, 60, 0.05),
                  c(4, 5, 0.2), c(6, 1, 0))
need_cases <- list(c(2, 20, 0), c(3, 20, 0), c(5, 1, 0), c(1.2, 60, 0.05), c(0.25, 20, 0.2),
                   c(0.5, 5, 0.5), c(2, 5, 0.2), c(0.1, 60, 0.05))
lines <- c(
  sapply(mde_cases, function(x) sprintf(
    '{"kind": "mde", "clusters": %d, "n": %.15g, "icc": %.15g, "mde": %.15g}',
    as.integer(x[1]), x[2], x[3], mde(x[1], x[2], x[3]))),
  sapply(need_cases, function(x) sprintf(
    '{"kind": "clusters", "effect": %.15g, "n": %.15g, "icc": %.15g, "clusters": %d}',
    x[1], x[2], x[3], as.integer(need(x[1], x[2], x[3]))))
)
writeLines(paste0("[\n", paste(lines, collapse = ",\n"), "\n]"), "tests/reference/power_closed_form.json")
