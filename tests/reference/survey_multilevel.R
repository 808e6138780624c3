# Reference values for tests/survey/test_multilevel.py.
#
# Run from the repository root:
#   Rscript tests/reference/survey_multilevel.R
# Writes tests/reference/survey_multilevel.json.
#
# Data: MASS::nlschools (2287 Dutch grade-8 pupils in 133 classes; Snijders & Bosker 1999).
# The Python tests read the same data (toolkit/datasets/data/nlschools.csv.gz); "check" lets them verify
# that the copies agree. Models, all fitted by REML with lme4::lmer (lme4 1.1-31):
#   null      lang ~ 1 + (1 | class)
#   ri        lang ~ IQ + SES + COMB + (1 | class)
#   rs        lang ~ IQc + (1 + IQc | class)      with IQc = IQ - mean(IQ)
# For each: fixed effects (Estimate, Std. Error, t value), VarCorr (variance, SD, correlation),
# REML criterion at convergence, number of observations and groups. The ICC of the null model
# is tau00 / (tau00 + sigma2) and the design effect 1 + (mean cluster size - 1) * ICC.

suppressPackageStartupMessages({
  library(MASS)
  library(lme4)
  library(jsonlite)
})

d <- nlschools
d$IQc <- d$IQ - mean(d$IQ)
d$COMB <- as.numeric(as.character(d$COMB))

fit_out <- function(m) {
  s <- summary(m)
  cf <- coef(s)
  vc <- as.data.frame(VarCorr(m))
  list(
    fixed = list(term = rownames(cf), estimate = unname(cf[, "Estimate"]),
                 std_error = unname(cf[, "Std. Error"]), t_value = unname(cf[, "t value"])),
    varcorr = list(grp = vc$grp, var1 = ifelse(is.na(vc$var1), "", vc$var1),
                   var2 = ifelse(is.na(vc$var2), "", vc$var2), vcov = vc$vcov, sdcor = vc$sdcor),
    reml_criterion = unname(s$AICtab[["REML"]]),
    loglik = as.numeric(logLik(m)),
    nobs = nobs(m), ngroups = unname(ngrps(m))
  )
}

out <- list()
out$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")))
out$check <- list(n = nrow(d), n_class = length(unique(d$class)),
                  colsums = as.list(colSums(nlschools[, c("lang", "IQ", "GS", "SES")])))

m0 <- lmer(lang ~ 1 + (1 | class), data = d, REML = TRUE)
out$null <- fit_out(m0)
vc <- as.data.frame(VarCorr(m0))
icc <- vc$vcov[1] / sum(vc$vcov)
mbar <- nrow(d) / length(unique(d$class))
out$null$icc <- icc
out$null$design_effect <- 1 + (mbar - 1) * icc

m1 <- lmer(lang ~ IQ + SES + COMB + (1 | class), data = d, REML = TRUE)
out$ri <- fit_out(m1)

m2 <- lmer(lang ~ IQc + (1 + IQc | class), data = d, REML = TRUE)
out$rs <- fit_out(m2)

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/survey_multilevel.json")
print(summary(m2))
cat("wrote tests/reference/survey_multilevel.json\n")
