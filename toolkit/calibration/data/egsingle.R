# Export mlmRev::egsingle (R package mlmRev 1.0-8, GPL >= 2) for the gains check of
# toolkit/calibration/data/targets.csv: yearly mathematics scores (IRT scale) of 1,721 pupils in 60
# Chicago public elementary schools, grades 1 to 6 (Bryk & Raudenbush 2002, ch. 8).
#
#   Rscript toolkit/calibration/data/egsingle.R      # writes toolkit/calibration/data/egsingle.csv.gz
suppressMessages(library(mlmRev))
data(egsingle)
d <- egsingle[, c("schoolid", "childid", "grade", "year", "math")]
d$schoolid <- as.character(d$schoolid)
d$childid <- as.character(d$childid)
con <- gzfile("toolkit/calibration/data/egsingle.csv.gz", "w")
write.csv(d, con, row.names = FALSE)
close(con)
cat(sprintf("mlmRev %s: %d rows\n", packageVersion("mlmRev"), nrow(d)))
