# Reference values for noncentral_t_ci with a large sample (n = 2,800), where scipy's nct.cdf
# returns NaN far in the tail. Run once with: Rscript tests/reference/metrics_nct_large.R
# Same algorithm as MBESS::conf.limits.nct: solve pt(t, df, ncp) = 1 - a/2 and a/2 for ncp.
limits <- function(t, df, level = 0.95) {
  a <- 1 - level
  f <- function(p) uniroot(function(ncp) pt(t, df, ncp) - p, c(t - 20, t + 20), tol = 1e-13)$root
  c(f(1 - a / 2), f(a / 2))
}
cases <- list(c(4.93, 2798), c(-7.5, 2798), c(12.0, 5000), c(0.3, 2798))
out <- lapply(cases, function(x) {
  l <- limits(x[1], x[2])
  sprintf('{"t": %.10g, "dof": %.10g, "ncp_low": %.15g, "ncp_high": %.15g}', x[1], x[2], l[1], l[2])
})
writeLines(paste0("[", paste(out, collapse = ",\n"), "]"), "tests/reference/metrics_nct_large.json")
