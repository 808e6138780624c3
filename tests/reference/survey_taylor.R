# Reference values for tests/survey/test_taylor.py: Taylor-linearised means and jackknife
# designs with a finite population correction.
#
# Run from the repository root:
#   Rscript tests/reference/survey_taylor.R
# Writes
#   tests/reference/survey_apiclus1.csv   survey's apiclus1 (one-stage cluster sample of 15
#                                         school districts out of 757; fpc = 757)
#   tests/reference/survey_apistrat.csv   survey's apistrat (stratified by school type,
#                                         fpc = number of schools of that type)
#   tests/reference/survey_taylor.json    the numbers pinned in the tests
#
# Packages: survey 4.1-1, mitools 2.4. The api data are the California Academic Performance
# Index extracts shipped with the survey package (GPL-2 | GPL-3; California Department of
# Education public data).
#
# svymean on svydesign objects uses the linearisation (Taylor series) variance: with
# z_i = w_i (y_i - ybar) / sum(w) inside the domain and 0 outside, PSU totals t_hj and
# stratum means tbar_h, V = sum_h (1 - f_h) n_h / (n_h - 1) sum_j (t_hj - tbar_h)^2.
# as.svrepdesign turns the same designs into JK1 / JKn replicate designs whose scale (JK1) or
# rscales (JKn) include the factor (1 - f_h).

suppressPackageStartupMessages({
  library(survey)
  library(mitools)
  library(jsonlite)
})

data(api)
keep <- c("dnum", "snum", "stype", "api00", "api99", "enroll", "acs.46", "pw", "fpc")
write.csv(apiclus1[, keep], "tests/reference/survey_apiclus1.csv", row.names = FALSE, na = "")
write.csv(apistrat[, keep], "tests/reference/survey_apistrat.csv", row.names = FALSE, na = "")

stat <- function(s) list(estimate = unname(coef(s)), se = unname(SE(s)))
by_stat <- function(b, by) list(group = as.character(b[[by]]), estimate = unname(coef(b)),
                                se = unname(SE(b)))

out <- list()
out$versions <- list(R = R.version.string, survey = as.character(packageVersion("survey")),
                     mitools = as.character(packageVersion("mitools")))

# one-stage cluster sample with fpc: Taylor and JK1
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
dclus1_nofpc <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1)
out$clus1 <- list(
  fpc = unique(apiclus1$fpc),
  taylor = stat(svymean(~api00, dclus1)),
  taylor_nofpc = stat(svymean(~api00, dclus1_nofpc)),
  taylor_by = by_stat(svyby(~api00, ~stype, dclus1, svymean), "stype"),
  taylor_na = stat(svymean(~acs.46, dclus1, na.rm = TRUE)),
  ci = unname(confint(svymean(~api00, dclus1))),
  jk1 = stat(svymean(~api00, as.svrepdesign(dclus1, type = "JK1", mse = TRUE))),
  jk1_nomse = stat(svymean(~api00, as.svrepdesign(dclus1, type = "JK1", mse = FALSE))),
  jk1_nofpc = stat(svymean(~api00, as.svrepdesign(dclus1_nofpc, type = "JK1", mse = TRUE))),
  jk1_scale = as.svrepdesign(dclus1, type = "JK1")$scale
)

# stratified element sample with fpc: Taylor and JKn (each school its own PSU)
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = apistrat, fpc = ~fpc)
dstrat_psu <- svydesign(id = ~snum, strata = ~stype, weights = ~pw, data = apistrat,
                        fpc = ~fpc)
jkn <- as.svrepdesign(dstrat_psu, type = "JKn", mse = TRUE)
out$strat <- list(
  taylor = stat(svymean(~api00, dstrat)),
  taylor_by = by_stat(svyby(~api00, ~stype, dstrat, svymean), "stype"),
  taylor_na = stat(svymean(~acs.46, dstrat, na.rm = TRUE)),
  jkn = stat(svymean(~api00, jkn)),
  jkn_rscales = unname(jkn$rscales)
)

# plausible values in a cluster design: pisamaths, schools in (collapsed) strata, no fpc
data(pisamaths, package = "mitools")
pm <- pisamaths
pm$STRATUM2 <- substr(as.character(pm$STRATUM), 1, 5)
dp <- svydesign(ids = ~SCHOOLID, strata = ~STRATUM2, weights = ~W_FSTUWT, data = pm)
pvs <- MATH ~ PV1MATH + PV2MATH + PV3MATH + PV4MATH + PV5MATH
mi <- MIcombine(withPV(pvs, dp, quote(svymean(~MATH, data)), rewrite = TRUE))
mib <- MIcombine(withPV(pvs, dp, quote(svyby(~MATH, ~ST04Q01, data, svymean)), rewrite = TRUE))
out$pisa <- list(mean = list(estimate = unname(coef(mi)), se = unname(sqrt(diag(vcov(mi))))),
                 by_gender = list(estimate = unname(coef(mib)),
                                  se = unname(sqrt(diag(vcov(mib))))))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/survey_taylor.json")
print(svymean(~api00, dclus1))
print(svymean(~api00, as.svrepdesign(dclus1_nofpc, type = "JK1", mse = TRUE)))
cat("wrote tests/reference/survey_taylor.json\n")
