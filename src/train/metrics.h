// GLUE metrics on predictions (class ids, or scores for regression). Torch-free.
#pragma once
#include <map>
#include <string>
#include <vector>

namespace lntune {

double accuracy(const std::vector<int>& pred, const std::vector<int>& gold);
double f1_binary(const std::vector<int>& pred, const std::vector<int>& gold);  // positive class 1
double matthews_corr(const std::vector<int>& pred, const std::vector<int>& gold);  // K classes (sklearn's formula)
double pearson(const std::vector<double>& x, const std::vector<double>& y);
double spearman(const std::vector<double>& x, const std::vector<double>& y);  // ties get average ranks

// The named metrics ("accuracy", "f1", "mcc", "pearson", "spearman") of one evaluation.
std::map<std::string, double> compute_metrics(const std::vector<std::string>& names, const std::vector<double>& pred,
                                              const std::vector<double>& gold);

}  // namespace lntune
