# Reference values for tests/metrics/test_metrics_{effect_size,spread,outcome}.py.
#
# Run from the repository root:
#   Rscript tests/reference/metrics_effect_size.R
# Writes
#   tests/reference/metrics_effect_size_data.csv  (data, generated here with a fixed seed)
#   tests/reference/metrics_effect_size.json      (reference numbers pinned in the tests)
#
# Produced with R 4.2.2 and psych 2.2.9 (see "versions" in the JSON output).
#
# Which R function gives which number (sign convention everywhere: treat - ctrl, post - pre):
# * psych::cohen.d(df, "grp") with grp = 1 (ctrl), 2 (treat). In psych 2.2.9 the element
#   `hedges.g` is (M2 - M1) / S_p with S_p^2 = ((n1-1) s1^2 + (n2-1) s2^2) / (n1 + n2 - 2), i.e.
#   the usual Cohen's d_s WITHOUT the small-sample correction J; its confidence limits come from
#   psych::cohen.d.ci, which inverts pt(t, df = n1 + n2 - 2, ncp) with uniroot at uniroot's
#   default tolerance (about 1e-4 on the ncp scale). psych's `cohen.d` element divides by
#   (n1 + n2) instead of (n1 + n2 - 2), so it is NOT compared with the toolkit's cohen_d.
# * psych::d.ci(dz, n1 = n) for the paired d_z: t = dz * sqrt(n), df = n - 1.
# * "algebra": the MBESS::conf.limits.nct algorithm written out with base R pt() and uniroot()
#   at tol = 1e-13, for d_s, Hedges' g (exact J with gamma()), Glass's delta (df = n_ref - 1)
#   and d_z. This is what the toolkit's noncentral intervals must match to ~1e-8.
# * t.test(welch and paired), var.test, cor.test(pearson), quantile(type = 7).

suppressPackageStartupMessages({
  library(psych)
  library(jsonlite)
})

set.seed(20240611)
mk <- function(case, group, value, id = seq_along(value)) {
  data.frame(case = case, group = group, id = id, value = round(value, 3))
}
d_ind_a <- rbind(mk("ind_a", "ctrl", rnorm(31, 50, 10)), mk("ind_a", "treat", rnorm(23, 56, 12)))
d_ind_b <- rbind(mk("ind_b", "ctrl", rnorm(6, 0, 1)), mk("ind_b", "treat", rnorm(8, 1.5, 1)))
d_ind_c <- rbind(mk("ind_c", "ctrl", rnorm(45, 0, 1)), mk("ind_c", "treat", rnorm(40, -0.3, 1.2)))
pre <- rnorm(20, 0, 1)
post <- 0.6 * pre + rnorm(20, 0.5, 0.8)
d_pair <- rbind(mk("paired_a", "pre", pre), mk("paired_a", "post", post))
quant_x <- c(1, 2, 4, 7, 11, 16, 22, 29, 37, 46)
# correlated prior / gain for the Fisher-z interval
prior <- rnorm(30)
gain <- -0.4 * prior + rnorm(30, 0, 1)
d_cor <- rbind(mk("cor_a", "prior", prior), mk("cor_a", "gain", gain))

all_data <- rbind(d_ind_a, d_ind_b, d_ind_c, d_pair, d_cor)
out_dir <- "tests/reference"
data_file <- file.path(out_dir, "metrics_effect_size_data.csv")
write.csv(all_data, data_file, row.names = FALSE)
# Re-read so R works on exactly the numbers Python will read.
all_data <- read.csv(data_file)

ncp_limits <- function(t, df, alpha = 0.05) {
  f <- function(p) {
    # pt() with ncp warns "full precision may not have been achieved" far out in the bracket
    # (R's pnt stops at an error bound of 1e-12); the warnings do not concern the root.
    g <- function(ncp) suppressWarnings(pt(t, df, ncp)) - p
    uniroot(g, c(t - 40, t + 40), tol = 1e-13)$root
  }
  c(lower = f(1 - alpha / 2), upper = f(alpha / 2))
}
J <- function(df) gamma(df / 2) / (sqrt(df / 2) * gamma((df - 1) / 2))

independent <- function(case) {
  d <- all_data[all_data$case == case, ]
  x <- d$value[d$group == "treat"]
  y <- d$value[d$group == "ctrl"]
  n1 <- length(x)
  n2 <- length(y)
  df <- n1 + n2 - 2
  sp <- sqrt(((n1 - 1) * var(x) + (n2 - 1) * var(y)) / df)
  ds <- (mean(x) - mean(y)) / sp
  k <- sqrt(1 / n1 + 1 / n2)
  lim <- ncp_limits(ds / k, df) * k
  glass <- (mean(x) - mean(y)) / sd(y)
  glim <- ncp_limits(glass / k, n2 - 1) * k
  psy <- cohen.d(data.frame(value = d$value, grp = ifelse(d$group == "ctrl", 1, 2)), "grp")
  w <- t.test(x, y, var.equal = FALSE)
  v <- var.test(x, y)
  list(
    n_x = n1, n_y = n2, mean_x = mean(x), mean_y = mean(y), sd_x = sd(x), sd_y = sd(y),
    cohen_d = ds, cohen_d_ci = unname(lim),
    hedges_j = J(df), hedges_g = J(df) * ds, hedges_g_ci = unname(J(df) * lim),
    glass_delta = glass, glass_delta_ci = unname(glim),
    psych_hedges_g_row = unname(psy$hedges.g[1, ]),  # lower, effect, upper
    psych_cohen_d_row = unname(psy$cohen.d[1, ]),    # N-denominator d (not compared)
    welch_t = unname(w$statistic), welch_df = unname(w$parameter), welch_p = w$p.value,
    welch_ci = as.numeric(w$conf.int),
    var_ratio = unname(v$estimate), var_ratio_ci = as.numeric(v$conf.int), var_p = v$p.value
  )
}

paired <- function(case) {
  d <- all_data[all_data$case == case, ]
  x <- d$value[d$group == "post"][order(d$id[d$group == "post"])]
  y <- d$value[d$group == "pre"][order(d$id[d$group == "pre"])]
  diff <- x - y
  n <- length(diff)
  dz <- mean(diff) / sd(diff)
  lim <- ncp_limits(dz * sqrt(n), n - 1) / sqrt(n)
  tt <- t.test(x, y, paired = TRUE)
  list(
    n = n, mean_diff = mean(diff), sd_diff = sd(diff), d_z = dz, d_z_ci = unname(lim),
    psych_d_ci_row = unname(d.ci(dz, n1 = n)[1, ]),
    d_av = mean(diff) / ((sd(x) + sd(y)) / 2), r_xy = cor(x, y),
    paired_t = unname(tt$statistic), paired_df = unname(tt$parameter), paired_p = tt$p.value,
    paired_ci = as.numeric(tt$conf.int)
  )
}

correlation <- function(case) {
  d <- all_data[all_data$case == case, ]
  pr <- d$value[d$group == "prior"][order(d$id[d$group == "prior"])]
  g <- d$value[d$group == "gain"][order(d$id[d$group == "gain"])]
  ct <- cor.test(g, pr, method = "pearson")
  cs <- suppressWarnings(cor.test(g, pr, method = "spearman"))
  list(
    n = length(pr), pearson_r = unname(ct$estimate), pearson_ci = as.numeric(ct$conf.int),
    pearson_p = ct$p.value, spearman_rho = unname(cs$estimate), spearman_p = cs$p.value
  )
}

result <- list(
  versions = list(R = R.version.string, psych = as.character(packageVersion("psych"))),
  seed = 20240611,
  ind_a = independent("ind_a"),
  ind_b = independent("ind_b"),
  ind_c = independent("ind_c"),
  paired_a = paired("paired_a"),
  cor_a = correlation("cor_a"),
  quantile_type7 = list(
    x = quant_x,
    probs = c(0.10, 0.25, 0.75, 0.90),
    values = unname(quantile(quant_x, c(0.10, 0.25, 0.75, 0.90), type = 7))
  )
)
writeLines(
  toJSON(result, auto_unbox = TRUE, digits = NA, pretty = TRUE),
  file.path(out_dir, "metrics_effect_size.json")
)
