# Reference values for tests/survey/test_multilevel_threelevel.py.
#
# Run from the repository root (after tests/reference/survey_threelevel.py wrote the data):
#   Rscript tests/reference/survey_threelevel.R > tests/reference/survey_threelevel.txt
# Writes tests/reference/survey_threelevel.csv (one row per model and number) and prints the
# lme4 summaries (committed as survey_threelevel.txt).
#
# Data: tests/reference/survey_threelevel_data.csv, the model's students in 60 classes of 20
# schools measured through the synthetic survey layer (pretest and posttest of reliability
# 0.85, 18 of 20 students sampled per class, 90% response at each wave; rows with a missing
# wave are dropped by lmer, as by toolkit.survey.nested_model). Models, by REML with lme4:
#   null      posttest ~ 1 + (1 | school/class)
#   pretest   posttest ~ pretest + (1 | school/class)
# For each: the variance components (class:school, school, Residual), the fixed effects
# (estimate, std. error), the REML criterion and the numbers of observations and groups.

suppressPackageStartupMessages(library(lme4))

d <- read.csv("tests/reference/survey_threelevel_data.csv")
cat("R", R.version$major, ".", R.version$minor, ", lme4 ", as.character(packageVersion("lme4")),
    "\n\n", sep = "")
rows <- list()
add <- function(model, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(model = model, quantity = quantity, value = value)
}
models <- list(
  null = posttest ~ 1 + (1 | school/class),
  pretest = posttest ~ pretest + (1 | school/class)
)
for (name in names(models)) {
  m <- lmer(models[[name]], data = d, REML = TRUE)
  print(summary(m))
  cat("\n")
  vc <- as.data.frame(VarCorr(m))
  for (i in seq_len(nrow(vc))) add(name, paste0("vcov:", vc$grp[i]), vc$vcov[i])
  cf <- coef(summary(m))
  for (t in rownames(cf)) {
    add(name, paste0("estimate:", t), cf[t, "Estimate"])
    add(name, paste0("std_error:", t), cf[t, "Std. Error"])
  }
  add(name, "reml_criterion", unname(summary(m)$AICtab[["REML"]]))
  add(name, "nobs", nobs(m))
  g <- ngrps(m)
  for (k in names(g)) add(name, paste0("ngroups:", k), unname(g[[k]]))
}
out <- do.call(rbind, rows)
write.csv(out, "tests/reference/survey_threelevel.csv", row.names = FALSE)
print(out, digits = 10)
