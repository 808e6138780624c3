# Reference values for tests/survey/test_spss_missing.py (SPSS user-defined missing values).
#
# Run from the repository root:
#   Rscript tests/reference/survey_spss_missing.R
# Writes
#   tests/reference/survey_spss_missing.csv   the responses (codes 8 and 9 included)
#   tests/reference/survey_spss_missing.json  the numbers pinned in the test
#
# Packages: haven 2.5.1, psych 2.2.9.
#
# 240 made-up respondents answer six five-point items q1..q6 (1 = strongly disagree ...
# 5 = strongly agree; q2 and q5 are worded negatively) driven by one latent trait. About 6%
# of the answers are 8 = "Don't know" and 3% are 9 = "Refused", and a few are left empty
# (system missing). The file declares 8 and 9 as user-defined missing values, as SPSS users
# do (MISSING VALUES q1 TO q6 (8, 9)).
#
# The .sav file is written with haven::write_sav (labelled_spss with na_values) and read back
# with haven::read_sav(user_na = FALSE), which turns the declared codes into NA, as SPSS does.
# psych then scores the scale: alpha(keys = c("q2", "q5")) and scoreItems (median
# imputation, its default), reversing the keyed items as min + max - x over the items'
# observed range 1..5, i.e. 6 - x. The Python test writes its own .sav from the CSV with
# pyreadstat (missing_ranges) and must reproduce these numbers.

suppressPackageStartupMessages({
  library(haven)
  library(psych)
  library(jsonlite)
})

set.seed(20240611)
n <- 240
items <- paste0("q", 1:6)
keyed <- c(1, -1, 1, 1, -1, 1)
trait <- rnorm(n)
d <- data.frame(id = seq_len(n))
for (j in seq_along(items)) {
  latent <- keyed[j] * trait + rnorm(n, sd = 1)
  x <- as.integer(cut(latent, c(-Inf, -1.3, -0.4, 0.4, 1.3, Inf)))
  u <- runif(n)
  x[u < 0.06] <- 8L
  x[u >= 0.06 & u < 0.09] <- 9L
  x[u >= 0.09 & u < 0.10] <- NA
  d[[items[j]]] <- x
}
write.csv(d, "tests/reference/survey_spss_missing.csv", row.names = FALSE, na = "")

labels <- c("Strongly disagree" = 1, "Disagree" = 2, "Neither" = 3, "Agree" = 4,
            "Strongly agree" = 5, "Don't know" = 8, "Refused" = 9)
sav <- d
for (it in items) sav[[it]] <- labelled_spss(d[[it]], labels = labels, na_values = c(8, 9))
path <- tempfile(fileext = ".sav")
write_sav(sav, path)
r <- read_sav(path, user_na = FALSE)
x <- as.data.frame(lapply(r[items], as.numeric))
stopifnot(max(x, na.rm = TRUE) == 5)

a <- alpha(x, keys = c("q2", "q5"))
keys <- list(scale = c("q1", "-q2", "q3", "q4", "-q5", "q6"))
s <- scoreItems(keys, x)
# the defect this guards against: codes 8 and 9 are NA in the data but still count as answers
# of the labelled range 1..9, so reversal becomes 10 - x
s_wrong <- scoreItems(keys, x, min = 1, max = 9)

out <- list(
  versions = list(R = R.version.string, haven = as.character(packageVersion("haven")),
                  psych = as.character(packageVersion("psych"))),
  n = n,
  n_declared_missing = sum(d[items] >= 8, na.rm = TRUE),
  n_system_missing = sum(is.na(d[items])),
  na_after_read = sum(is.na(x)),
  alpha = list(raw_alpha = a$total$raw_alpha, std_alpha = a$total$std.alpha,
               mean = a$total$mean, sd = a$total$sd,
               item_mean = unname(a$item.stats$mean), item_n = unname(a$item.stats$n)),
  score_items = list(alpha = unname(s$alpha[1, 1]), scores = unname(s$scores[, 1]),
                     mean_score = mean(s$scores[, 1])),
  wrong_mean_abs_diff = mean(abs(s_wrong$scores[, 1] - s$scores[, 1]))
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/survey_spss_missing.json")
print(a$total)
cat("mean |score difference| when reversing as 10 - x:", out$wrong_mean_abs_diff, "\n")
cat("wrote tests/reference/survey_spss_missing.json\n")
