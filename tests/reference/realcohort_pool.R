# Reference values for tests/realcohort/test_pool.py: weighted estimates of a cohort study
# (toolkit.realcohort.pool.pooled_summary) with JK1 replicate weights over classes, pooled over
# three imputed cohorts by Rubin's rules.
#
# Run from the repository root:
#   Rscript tests/reference/realcohort_pool.R
# Reads tests/reference/realcohort_pool_data.csv (3 cohorts x 8 classes x 5 pupils, two arms
# "std" and "alt", pupil weights w, the class-level SD of scores per arm) and writes
# tests/reference/realcohort_pool.json.
#
# Packages: survey 4.1-1, mitools 2.4 (Debian r-cran-survey, r-cran-mitools).

suppressPackageStartupMessages({
  library(survey)
  library(mitools)
  library(jsonlite)
})

d <- read.csv("tests/reference/realcohort_pool_data.csv")
d$diff <- d$score_alt - d$score_std
fits <- list(mean_alt = list(), diff = list(), effect = list(), sd_alt = list(),
             sd_diff = list())
vars <- fits
wsd <- function(x, w) {
  m <- sum(w * x) / sum(w)
  s1 <- sum(w); s2 <- sum(w^2)
  sqrt(sum(w * (x - m)^2) / s1 * s1^2 / (s1^2 - s2))
}
for (m in sort(unique(d$cohort))) {
  one <- d[d$cohort == m, ]
  des <- as.svrepdesign(svydesign(ids = ~class, weights = ~w, data = one), type = "JK1",
                        mse = TRUE)
  a <- svymean(~score_alt, des)
  b <- svymean(~diff, des)
  e <- withReplicates(des, function(w, data) {
    (sum(w * data$diff) / sum(w)) / wsd(data$score_std, w)
  })
  # class level: one row per class, weighted by the sum of its pupils' weights
  cl <- aggregate(cbind(w) ~ class, data = one, FUN = sum)
  cl <- merge(cl, unique(one[, c("class", "sd_std", "sd_alt")]), by = "class")
  cl$sd_diff <- cl$sd_alt - cl$sd_std
  cdes <- as.svrepdesign(svydesign(ids = ~class, weights = ~w, data = cl), type = "JK1",
                         mse = TRUE)
  s <- svymean(~sd_alt, cdes)
  sdd <- svymean(~sd_diff, cdes)
  for (nm in c("mean_alt", "diff", "effect", "sd_alt", "sd_diff")) {
    est <- switch(nm, mean_alt = a, diff = b, effect = e, sd_alt = s, sd_diff = sdd)
    fits[[nm]][[length(fits[[nm]]) + 1]] <- coef(est)
    vars[[nm]][[length(vars[[nm]]) + 1]] <- as.matrix(vcov(est))
  }
}
out <- list()
for (nm in names(fits)) {
  r <- MIcombine(fits[[nm]], vars[[nm]])
  se <- sqrt(diag(r$variance))
  q <- qt(0.975, r$df)
  out[[nm]] <- list(estimate = unname(coef(r)), se = unname(se), df = unname(r$df),
                    missinfo = unname(r$missinfo),
                    ci_low = unname(coef(r) - q * se), ci_high = unname(coef(r) + q * se))
}
out$versions <- list(survey = as.character(packageVersion("survey")),
                     mitools = as.character(packageVersion("mitools")))
write_json(out, "tests/reference/realcohort_pool.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
