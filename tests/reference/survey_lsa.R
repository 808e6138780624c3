# Reference values for tests/survey/test_lsa.py (replicate weights and plausible values).
#
# Run from the repository root:
#   Rscript tests/reference/survey_lsa.R
# Writes
#   toolkit/datasets/data/pisamaths.csv.gz  mitools::pisamaths (PISA 2012, New Zealand; see
#                                           toolkit/datasets/data/README.md for its licence)
#   tests/reference/survey_hadamard80.csv   the 80 x 80 Hadamard matrix survey::hadamard(79)
#   tests/reference/survey_apiclus1_jk1.csv survey's apiclus1 with its JK1 replicate weights
#   tests/reference/survey_lsa.json         the numbers pinned in the tests
#
# Packages: survey 4.1-1, mitools 2.4, Hmisc 4.8-0 (for intsvy's percentile rule).
#
# Replicate-weight files built here from pisamaths (the same construction is repeated in
# tests/survey/test_lsa.py): schools are sorted by (STRATUM, SCHOOLID) and numbered i = 0..176.
# * PISA-like: variance zone (i %/% 2) %% 80 + 1, unit i %% 2; replicate r multiplies the final
#   weight W_FSTUWT by 1 + 0.5 * H[zone, r] * (+1 for unit 0, -1 for unit 1), H = hadamard(79);
#   svrepdesign(type = "Fay", rho = 0.5, mse = TRUE): variance 0.05 * sum (theta_r - theta)^2.
# * TIMSS-like: JKZONE = (i %/% 2) %% 75 + 1, JKREP = i %% 2, TOTWGT = W_FSTUWT.
#   2015+ convention: 150 replicates (2 w JKREP and 2 w (1 - JKREP) in the zone), scale 0.5,
#   mse = TRUE, sampling variance averaged over the plausible values.
#   Older convention: the first 75 replicates, scale 1, sampling variance from PV1 only.
# Plausible values are combined with mitools::withPV / MIcombine (Rubin's rules).
# Spread: weighted Gini (Lorenz-curve formula) and Hmisc percentile gaps via withReplicates.
# survey's own examples: apiclus1 as.svrepdesign (JK1) and scd with BRR weights.
# Jackknife weights built from strata and clusters: as.svrepdesign(type = "JKn" / "JK1").

suppressPackageStartupMessages({
  library(survey)
  library(mitools)
  library(Hmisc)
  library(jsonlite)
})

data(pisamaths, package = "mitools")
pm <- pisamaths
con <- gzfile("toolkit/datasets/data/pisamaths.csv.gz", "w")
write.csv(pm, con, row.names = FALSE, na = "")
close(con)

sch <- unique(data.frame(STRATUM = as.character(pm$STRATUM),
                         SCHOOLID = as.character(pm$SCHOOLID)))
sch <- sch[order(sch$STRATUM, sch$SCHOOLID, method = "radix"), ]
sch$i <- seq_len(nrow(sch)) - 1
i <- sch$i[match(as.character(pm$SCHOOLID), sch$SCHOOLID)]

H <- hadamard(79)
stopifnot(all(dim(H) == c(80, 80)))
write.csv(H, "tests/reference/survey_hadamard80.csv", row.names = FALSE)

zone <- (i %/% 2) %% 80 + 1
unit <- i %% 2
fac <- 1 + 0.5 * H[zone, ] * ifelse(unit == 0, 1, -1)
repw <- pm$W_FSTUWT * fac
colnames(repw) <- paste0("W_FSTURWT", 1:80)
pisa <- svrepdesign(data = pm, weights = ~W_FSTUWT, repweights = repw, type = "Fay",
                    rho = 0.5, combined.weights = TRUE, mse = TRUE)

pm$JKZONE <- (i %/% 2) %% 75 + 1
pm$JKREP <- i %% 2
w <- pm$W_FSTUWT
rw1 <- sapply(1:75, function(h) ifelse(pm$JKZONE == h, 2 * w * pm$JKREP, w))
rw2 <- sapply(1:75, function(h) ifelse(pm$JKZONE == h, 2 * w * (1 - pm$JKREP), w))
timss <- svrepdesign(data = pm, weights = ~W_FSTUWT, repweights = cbind(rw1, rw2),
                     type = "other", scale = 0.5, rscales = 1, combined.weights = TRUE,
                     mse = TRUE)
timss_old <- svrepdesign(data = pm, weights = ~W_FSTUWT, repweights = rw1, type = "other",
                         scale = 1, rscales = 1, combined.weights = TRUE, mse = TRUE)

pvs <- MATH ~ PV1MATH + PV2MATH + PV3MATH + PV4MATH + PV5MATH
combine <- function(res) {
  m <- MIcombine(res)
  list(estimate = unname(coef(m)), se = unname(sqrt(diag(vcov(m)))),
       names = names(coef(m)), df = unname(m$df), missinfo = unname(m$missinfo),
       per_pv = lapply(res, function(r) unname(coef(r))),
       per_pv_var = lapply(res, function(r) unname(diag(as.matrix(vcov(r))))))
}
wsd <- function(x, w) {
  m <- sum(w * x) / sum(w)
  sqrt(sum(w * (x - m)^2) / sum(w))
}
wcor <- function(x, y, w) {
  ok <- complete.cases(x, y)
  cov.wt(cbind(x[ok], y[ok]), wt = w[ok], cor = TRUE)$cor[1, 2]
}
probs <- c(0.1, 0.5, 0.9)
# weighted Gini from the Lorenz curve (trapezoids): 1 - sum p_i (L_{i-1} + L_i)
wgini <- function(x, w) {
  o <- order(x)
  x <- x[o]
  w <- w[o]
  p <- w / sum(w)
  L <- cumsum(w * x) / sum(w * x)
  1 - sum(p * (c(0, L[-length(L)]) + L))
}

results_for <- function(des) {
  o <- list()
  o$mean <- combine(withPV(pvs, des, quote(svymean(~MATH, data)), rewrite = TRUE))
  o$mean_by_gender <- combine(withPV(pvs, des,
    quote(svyby(~MATH, ~ST04Q01, data, svymean)), rewrite = TRUE))
  o$sd <- combine(withPV(pvs, des, quote(withReplicates(data,
    function(w, data) wsd(data$MATH, w))), rewrite = TRUE))
  o$quantile_math <- combine(withPV(pvs, des, quote(withReplicates(data,
    function(w, data) sapply(probs, function(p) survey:::qrule_math(data$MATH, w, p)))),
    rewrite = TRUE))
  o$quantile_hmisc <- combine(withPV(pvs, des, quote(withReplicates(data,
    function(w, data) unname(wtd.quantile(data$MATH, w, probs)))), rewrite = TRUE))
  o$spread <- combine(withPV(pvs, des, quote(withReplicates(data,
    function(w, data) {
      q <- wtd.quantile(data$MATH, w, c(0.1, 0.25, 0.75, 0.9))
      c(wgini(data$MATH, w), unname(q[4] - q[1]), unname(q[3] - q[2]))
    })), rewrite = TRUE))
  o$cor_matheff <- combine(withPV(pvs, des, quote(withReplicates(data,
    function(w, data) wcor(data$MATHEFF, data$MATH, w))), rewrite = TRUE))
  o$regression <- combine(withPV(pvs, des,
    quote(svyglm(MATH ~ ST04Q01 + MATHEFF, data)), rewrite = TRUE))
  pc <- svymean(~ABGMATH, des, na.rm = TRUE)
  o$percent <- list(estimate = unname(coef(pc)), se = unname(SE(pc)), names = names(coef(pc)))
  pg <- svyby(~ABGMATH, ~ST04Q01, des, svymean, na.rm = TRUE)
  o$percent_by_gender <- list(estimate = unname(as.matrix(coef(pg))), se = unname(SE(pg)),
                              names = names(coef(pg)))
  me <- svymean(~MATHEFF, des, na.rm = TRUE)
  o$mean_matheff <- list(estimate = unname(coef(me)), se = unname(SE(me)))
  ce <- withReplicates(des, function(w, data) wcor(data$MATHEFF, data$OPENPS, w))
  o$cor_matheff_openps <- list(estimate = unname(coef(ce)), se = unname(SE(ce)))
  o
}

out <- list()
out$versions <- list(R = R.version.string, survey = as.character(packageVersion("survey")),
                     mitools = as.character(packageVersion("mitools")),
                     Hmisc = as.character(packageVersion("Hmisc")))
out$check <- list(n = nrow(pm), n_schools = nrow(sch), sum_w = sum(pm$W_FSTUWT),
                  sum_pv1 = sum(pm$PV1MATH))
out$pisa <- results_for(pisa)
out$timss <- results_for(timss)

# older TIMSS/PIRLS: sampling variance from PV1 only, 75 replicates, variance sum (no 1/2)
ests <- sapply(1:5, function(m) coef(svymean(as.formula(paste0("~PV", m, "MATH")), timss_old)))
u1 <- as.numeric(vcov(svymean(~PV1MATH, timss_old)))
b <- var(ests)
out$timss_old_mean <- list(estimate = mean(ests), se = sqrt(u1 + (1 + 1 / 5) * b),
                           sampling_var = u1, imputation_var = b)

# survey's own examples
data(api)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
rclus1 <- as.svrepdesign(dclus1)
api_rw <- weights(rclus1, "analysis")
colnames(api_rw) <- paste0("repw", seq_len(ncol(api_rw)))
write.csv(cbind(apiclus1[, c("dnum", "stype", "api00", "api99", "enroll", "pw")], api_rw),
          "tests/reference/survey_apiclus1_jk1.csv", row.names = FALSE)
m1 <- svymean(~api00, rclus1)
b1 <- svyby(~api00, ~stype, rclus1, svymean)
rclus1_mse <- rclus1
rclus1_mse$mse <- TRUE
m1m <- svymean(~api00, rclus1_mse)
out$apiclus1 <- list(type = rclus1$type, scale = rclus1$scale, rscales = rclus1$rscales,
                     mse = rclus1$mse,
                     mean = unname(coef(m1)), se = unname(SE(m1)),
                     mean_mse = unname(coef(m1m)), se_mse = unname(SE(m1m)),
                     by_stype = list(stype = as.character(b1$stype), mean = unname(coef(b1)),
                                     se = unname(SE(b1))))

data(scd)
repweights <- 2 * cbind(c(1, 0, 1, 0, 1, 0), c(1, 0, 0, 1, 0, 1), c(0, 1, 1, 0, 0, 1),
                        c(0, 1, 0, 1, 1, 0))
scdrep <- svrepdesign(data = scd, type = "BRR", repweights = repweights,
                      combined.weights = FALSE)
sm <- svymean(~alive + arrests, scdrep)
out$scd <- list(data = scd, repweights = repweights, scale = scdrep$scale,
                rscales = scdrep$rscales, mse = scdrep$mse,
                mean = unname(coef(sm)), se = unname(SE(sm)))

# jackknife replicate weights built from the design (pisamaths: schools in strata; apiclus1)
# stratum NZL0102 has a single school: collapse the explicit strata to NZL01 / NZL02
pm2 <- pisamaths
pm2$STRATUM2 <- substr(as.character(pm2$STRATUM), 1, 5)
dp <- svydesign(ids = ~SCHOOLID, strata = ~STRATUM2, weights = ~W_FSTUWT, data = pm2)
jkn <- as.svrepdesign(dp, type = "JKn", mse = TRUE)
out$jkn <- combine(withPV(pvs, jkn, quote(svymean(~MATH, data)), rewrite = TRUE))
jkn_nomse <- as.svrepdesign(dp, type = "JKn", mse = FALSE)
sj <- svymean(~PV1MATH, jkn_nomse)
out$jkn_pv1_nomse <- list(estimate = unname(coef(sj)), se = unname(SE(sj)))
jk1 <- as.svrepdesign(svydesign(ids = ~dnum, weights = ~pw, data = apiclus1), type = "JK1",
                      mse = TRUE)
sa <- svymean(~api00, jk1)
out$apiclus1_jk1_built <- list(estimate = unname(coef(sa)), se = unname(SE(sa)))

# Rubin's rules on made-up numbers
mi <- MIcombine(results = list(1.0, 1.5, 1.2, 0.9, 1.4),
                variances = list(0.04, 0.05, 0.045, 0.05, 0.04))
out$micombine <- list(estimate = unname(coef(mi)), se = unname(sqrt(diag(vcov(mi)))),
                      df = unname(mi$df), missinfo = unname(mi$missinfo))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/survey_lsa.json")
cat("wrote tests/reference/survey_lsa.json\n")
