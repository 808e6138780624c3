# Reference values for the random-slope tests in tests/survey/test_multilevel.py.
#
# Run from the repository root:
#   Rscript tests/reference/survey_multilevel_hsb.R
# Writes
#   toolkit/datasets/data/mathachieve.csv.gz   nlme::MathAchieve (High School and Beyond:
#                                              7,185 students in 160 schools), unchanged
#   tests/reference/survey_multilevel_hsb.json the numbers pinned in the tests
#
# Packages: lme4 1.1-31, nlme 3.1-162, MASS 7.3-58.2.
#
# Random-slope models fitted by REML with lme4::lmer, once with lme4's default optimiser
# settings (what users get and compare with) and once with BOBYQA run to rhoend = 1e-12 (the
# optimum itself, to show how far the default stops from it):
#   hsb_cses  MathAch ~ cSES + (1 + cSES | School), cSES = SES - school mean of SES
#             (Raudenbush & Bryk 2002, ch. 4)
#   hsb_ses   MathAch ~ SES + (1 + SES | School)
#   nl_rs     MASS::nlschools, lang ~ IQc + (1 + IQc | class), IQc = IQ - mean(IQ)
#             (the model of survey_multilevel.R, here with the tight optimiser too)

suppressPackageStartupMessages({
  library(nlme)
  library(lme4)
  library(MASS)
  library(jsonlite)
})

data(MathAchieve, package = "nlme")
ma <- data.frame(School = as.character(MathAchieve$School),
                 Minority = as.character(MathAchieve$Minority),
                 Sex = as.character(MathAchieve$Sex),
                 SES = MathAchieve$SES, MathAch = MathAchieve$MathAch,
                 MEANSES = MathAchieve$MEANSES)
con <- gzfile("toolkit/datasets/data/mathachieve.csv.gz", "w")
write.csv(ma, con, row.names = FALSE)
close(con)
ma$cSES <- ma$SES - ave(ma$SES, ma$School)

nl <- nlschools
nl$IQc <- nl$IQ - mean(nl$IQ)

tight <- lmerControl(optimizer = "bobyqa", optCtrl = list(rhoend = 1e-12, maxfun = 1e5))
fit_out <- function(m) {
  s <- summary(m)
  cf <- coef(s)
  vc <- as.data.frame(VarCorr(m))
  list(
    fixed = list(term = rownames(cf), estimate = unname(cf[, "Estimate"]),
                 std_error = unname(cf[, "Std. Error"])),
    varcorr = list(var1 = ifelse(is.na(vc$var1), "", vc$var1),
                   var2 = ifelse(is.na(vc$var2), "", vc$var2), vcov = vc$vcov, sdcor = vc$sdcor),
    reml_criterion = REMLcrit(m), nobs = nobs(m), ngroups = unname(ngrps(m))
  )
}
both <- function(formula, data) {
  list(default = fit_out(lmer(formula, data = data, REML = TRUE)),
       tight = fit_out(lmer(formula, data = data, REML = TRUE, control = tight)))
}

out <- list()
out$versions <- list(R = R.version.string, lme4 = as.character(packageVersion("lme4")),
                     nlme = as.character(packageVersion("nlme")))
out$check <- list(n = nrow(ma), n_school = length(unique(ma$School)),
                  colsums = as.list(colSums(ma[, c("SES", "MathAch", "MEANSES")])))
out$hsb_cses <- both(MathAch ~ cSES + (1 + cSES | School), ma)
out$hsb_ses <- both(MathAch ~ SES + (1 + SES | School), ma)
out$nl_rs <- both(lang ~ IQc + (1 + IQc | class), nl)

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/survey_multilevel_hsb.json")
for (k in c("hsb_cses", "hsb_ses", "nl_rs")) {
  cat(k, ": REML criterion default - tight =",
      out[[k]]$default$reml_criterion - out[[k]]$tight$reml_criterion, "; relative vcov",
      signif(out[[k]]$default$varcorr$vcov / out[[k]]$tight$varcorr$vcov - 1, 3), "\n")
}
cat("wrote tests/reference/survey_multilevel_hsb.json\n")
