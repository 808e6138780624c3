# Reference values for tests/power/test_models.py: random-intercept models with one residual
# variance per group (nlme's varIdent), against toolkit.power.models.
#
# Run from the repository root:
#   Rscript tests/reference/power_varident.R
# Writes tests/reference/power_varident.json.
#
# Data:
#   nlschools  MASS::nlschools (2287 Dutch grade-8 pupils in 133 classes), with COMB
#              (multi-grade class) as the group whose residual variance may differ.
#   trial      tests/reference/power_trial_data.csv: a simulated cluster-randomized trial
#              (30 classes, individualized vs personalized, pretest and posttest with
#              reliability 0.85, 18 students sampled per class, 10% nonresponse per wave),
#              made by toolkit.synthetic.synthetic_survey; rows with a missing value dropped.
# Models (nlme 3.1-162), each by REML and by ML:
#   homo    lme(y ~ group + x, random = ~ 1 | cluster)
#   hetero  lme(y ~ group + x, random = ~ 1 | cluster, weights = varIdent(form = ~ 1 | group))
# For each: fixed effects (Value, Std.Error, DF, t-value, p-value), the random-intercept
# variance, the residual variance of each group, the log-likelihood; and the likelihood-ratio
# test of hetero against homo (anova), statistic and p-value.

suppressPackageStartupMessages({
  library(MASS)
  library(nlme)
  library(jsonlite)
})

fit_out <- function(m, groups) {
  tt <- summary(m)$tTable
  sig <- m$sigma
  ratios <- rep(1, length(groups))
  names(ratios) <- groups
  if (!is.null(m$modelStruct$varStruct)) {
    r <- coef(m$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
    ratios[names(r)] <- r
  }
  list(
    fixed = data.frame(term = rownames(tt), estimate = tt[, "Value"],
                       std_error = tt[, "Std.Error"], df = tt[, "DF"],
                       t_value = tt[, "t-value"], p_value = tt[, "p-value"],
                       row.names = NULL),
    tau2 = as.numeric(getVarCov(m))[1],
    sigma2 = as.list((sig * ratios)^2),
    loglik = as.numeric(logLik(m))
  )
}

run <- function(d, formula, cluster, group) {
  d[[group]] <- factor(d[[group]])
  groups <- levels(d[[group]])
  rnd <- as.formula(paste("~ 1 |", cluster))
  wts <- varIdent(form = as.formula(paste("~ 1 |", group)))
  out <- list()
  for (method in c("REML", "ML")) {
    ctrl <- lmeControl(maxIter = 200, msMaxIter = 200, tolerance = 1e-10, msTol = 1e-12)
    homo <- lme(formula, random = rnd, data = d, method = method, control = ctrl)
    hetero <- lme(formula, random = rnd, weights = wts, data = d, method = method,
                  control = ctrl)
    a <- anova(homo, hetero)
    out[[method]] <- list(homo = fit_out(homo, groups), hetero = fit_out(hetero, groups),
                          lr = a$L.Ratio[2], lr_p = a$`p-value`[2])
  }
  out
}

nl <- nlschools
nl$COMB <- as.character(nl$COMB)
trial <- na.omit(read.csv("tests/reference/power_trial_data.csv"))
res <- list(
  versions = list(R = R.version.string, nlme = as.character(packageVersion("nlme"))),
  nlschools = run(nl, lang ~ COMB + IQ, "class", "COMB"),
  trial = run(trial, posttest ~ arm + pretest, "class", "arm"),
  trial_n = nrow(trial)
)
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/power_varident.json")
