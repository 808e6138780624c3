# Reference values for tests/survey/test_reliability.py.
#
# Run from the repository root:
#   Rscript tests/reference/survey_reliability.R
# Writes tests/reference/survey_reliability.json (numbers pinned in the tests).
#
# Data: psych::bfi (2800 people x 25 six-point Likert items, with missing values). The Python
# tests read the same data (toolkit/datasets/data/bfi.csv.gz); "bfi_check" below lets them verify
# that the two copies are identical (column sums and NA count).
#
# Functions compared (psych 2.2.9, GPArotation 2022.10-2):
# * psych::alpha(x, keys = <reverse-keyed items>)      -> alpha tables per bfi scale
# * psych::alpha(x, check.keys = TRUE)                 -> automatic reversal (first principal
#                                                          component loadings < 0)
# * psych::scoreItems(bfi.keys, bfi[1:25])             -> scale scores (impute = "median",
#                                                          "none") with alphas, G6, av.r ...
# * psych::omega(bfi[1:25], nfactors = 3 / 5)           -> Schmid-Leiman omega_h / omega_t
# * psych::omega(bfi[1:10], nfactors = 2)               -> two-factor case (option = "equal")
# * psych::fa(bfi[1:25], 5, rotate = "varimax")         -> minres loadings (diagnostic)

suppressPackageStartupMessages({
  library(psych)
  library(GPArotation)
  library(jsonlite)
})

items <- bfi[1:25]
keys <- bfi.keys
out <- list()
out$versions <- list(R = R.version.string, psych = as.character(packageVersion("psych")),
                     GPArotation = as.character(packageVersion("GPArotation")))
out$bfi_check <- list(colsums = as.list(colSums(items, na.rm = TRUE)),
                      n_missing = sum(is.na(items)), n = nrow(items))

alpha_out <- function(a) {
  tot <- a$total
  list(
    total = list(raw_alpha = tot$raw_alpha, std_alpha = tot$std.alpha,
                 g6_smc = tot[["G6(smc)"]], average_r = tot$average_r, s_n = tot[["S/N"]],
                 ase = tot$ase, mean = tot$mean, sd = tot$sd, median_r = tot$median_r),
    feldt = list(lower = a$feldt$lower.ci[[1]], upper = a$feldt$upper.ci[[1]]),
    alpha_drop = list(item = rownames(a$alpha.drop),
                      raw_alpha = a$alpha.drop$raw_alpha, std_alpha = a$alpha.drop$std.alpha,
                      g6_smc = a$alpha.drop[["G6(smc)"]], average_r = a$alpha.drop$average_r,
                      s_n = a$alpha.drop[["S/N"]], alpha_se = a$alpha.drop[["alpha se"]],
                      var_r = a$alpha.drop$var.r, med_r = a$alpha.drop$med.r),
    item_stats = list(item = rownames(a$item.stats), n = a$item.stats$n,
                      raw_r = a$item.stats$raw.r, std_r = a$item.stats$std.r,
                      r_cor = a$item.stats$r.cor, r_drop = a$item.stats$r.drop,
                      mean = a$item.stats$mean, sd = a$item.stats$sd),
    response_freq = list(item = rownames(a$response.freq),
                         columns = colnames(a$response.freq),
                         values = unname(as.matrix(a$response.freq))),
    scores_head = head(a$scores, 6),
    scores_mean = mean(a$scores, na.rm = TRUE)
  )
}

out$alpha <- list()
for (scale in names(keys)) {
  k <- keys[[scale]]
  its <- sub("-", "", k)
  rev <- sub("-", "", k[startsWith(k, "-")])
  a <- alpha(items[its], keys = rev, warnings = FALSE)
  out$alpha[[scale]] <- alpha_out(a)
}
# automatic reversal
a <- suppressWarnings(alpha(items[c("A1", "A2", "A3", "A4", "A5")], check.keys = TRUE))
out$alpha_check_keys <- alpha_out(a)
out$alpha_check_keys$keys <- unname(unlist(a$keys))

# scoreItems
score_out <- function(s) {
  list(alpha = as.vector(s$alpha), av_r = as.vector(s$av.r), sn = as.vector(s$sn),
       g6 = as.vector(s$G6), n_items = as.vector(s$n.items), med_r = as.vector(s$med.r),
       ase = as.vector(s$ase), scales = colnames(s$alpha),
       corrected = unname(s$corrected), cor = unname(s$cor),
       item_cor = unname(s$item.cor), item_corrected = unname(s$item.corrected),
       item_names = rownames(s$item.cor),
       scores_head = unname(head(s$scores, 6)),
       scores_mean = unname(colMeans(s$scores, na.rm = TRUE)),
       scores_sd = unname(apply(s$scores, 2, sd, na.rm = TRUE)))
}
out$score_items <- score_out(scoreItems(keys, items))
out$score_items_none <- score_out(scoreItems(keys, items, impute = "none"))
out$score_items_totals <- score_out(scoreItems(keys, items, totals = TRUE))

# minres factor analysis (diagnostic for omega)
f5 <- fa(items, 5, rotate = "varimax", fm = "minres")
out$fa5_varimax <- list(loadings = unname(unclass(f5$loadings)),
                        uniquenesses = unname(f5$uniquenesses))
f1 <- fa(items[1:5], 1, fm = "minres")
out$fa1_agree <- list(loadings = as.vector(f1$loadings), uniquenesses = unname(f1$uniquenesses))

omega_out <- function(o, nf) {
  sl <- o$schmid$sl
  list(omega_h = o$omega_h, omega_tot = o$omega.tot, alpha = o$alpha, g6 = o$G6,
       omega_lim = o$omega.lim, ecv = unname(o$ECV),
       sl = unname(unclass(sl)), sl_cols = colnames(sl), sl_rows = rownames(sl),
       phi = unname(o$schmid$phi), gloading = as.vector(o$schmid$gloading),
       group_total = o$omega.group$total, group_general = o$omega.group$general,
       group_group = o$omega.group$group, key = as.vector(o$key))
}
out$omega3 <- omega_out(omega(items, nfactors = 3, plot = FALSE), 3)
out$omega5 <- omega_out(omega(items, nfactors = 5, plot = FALSE), 5)
out$omega2 <- omega_out(suppressMessages(omega(items[1:10], nfactors = 2, plot = FALSE)), 2)

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/survey_reliability.json")
cat("wrote tests/reference/survey_reliability.json\n")
