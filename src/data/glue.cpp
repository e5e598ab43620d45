#include "data/glue.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>

#include "util/error.h"
#include "util/file.h"
#include "util/strings.h"

namespace lntune {

namespace {

struct Layout {
  TaskInfo info;
  bool header;
  int a, b;                        // column of text / text_pair (b < 0: single); -1 from the end
  int label;                       // column of the label, negative counts from the end
  std::vector<std::string> names;  // label names in id order; empty: numeric labels
  std::string dev_file;
};

std::string norm_name(std::string n) {
  std::string out;
  for (char c : n) if (c != '-' && c != '_') out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

const std::map<std::string, Layout>& layouts() {
  // Columns and label orders of the official files, as HF's GLUE processors read them.
  static const std::map<std::string, Layout> k = {
      {"cola", {{"cola", 2, {"mcc", "accuracy"}, {"unacceptable", "acceptable"}, false}, false, 3, -100, 1, {}, "dev.tsv"}},
      {"sst2", {{"sst2", 2, {"accuracy"}, {"negative", "positive"}, false}, true, 0, -100, 1, {}, "dev.tsv"}},
      {"mrpc", {{"mrpc", 2, {"f1", "accuracy"}, {"not_equivalent", "equivalent"}, true}, true, 3, 4, 0, {}, "dev.tsv"}},
      {"stsb", {{"stsb", 1, {"pearson", "spearman"}, {}, true}, true, 7, 8, -1, {}, "dev.tsv"}},
      {"qqp", {{"qqp", 2, {"f1", "accuracy"}, {"not_duplicate", "duplicate"}, true}, true, 3, 4, 5, {}, "dev.tsv"}},
      {"mnli", {{"mnli", 3, {"accuracy"}, {"entailment", "neutral", "contradiction"}, true}, true, 8, 9, -1,
                {"entailment", "neutral", "contradiction"}, "dev_matched.tsv"}},
      {"mnlimm", {{"mnli-mm", 3, {"accuracy"}, {"entailment", "neutral", "contradiction"}, true}, true, 8, 9, -1,
                  {"entailment", "neutral", "contradiction"}, "dev_mismatched.tsv"}},
      {"qnli", {{"qnli", 2, {"accuracy"}, {"entailment", "not_entailment"}, true}, true, 1, 2, 3,
                {"entailment", "not_entailment"}, "dev.tsv"}},
      {"rte", {{"rte", 2, {"accuracy"}, {"entailment", "not_entailment"}, true}, true, 1, 2, 3,
               {"entailment", "not_entailment"}, "dev.tsv"}},
      {"wnli", {{"wnli", 2, {"accuracy"}, {"not_entailment", "entailment"}, true}, true, 1, 2, 3, {}, "dev.tsv"}},
  };
  return k;
}

const Layout& layout(const std::string& name) {
  auto it = layouts().find(norm_name(name));
  if (it == layouts().end())
    throw Error("unknown GLUE task '" + name + "' (cola, sst2, mrpc, stsb, qqp, mnli, mnli-mm, qnli, rte, wnli)");
  return it->second;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  size_t s = 0;
  while (true) {
    size_t t = line.find('\t', s);
    out.push_back(line.substr(s, t == std::string::npos ? std::string::npos : t - s));
    if (t == std::string::npos) return out;
    s = t + 1;
  }
}

const std::string& column(const std::vector<std::string>& cols, int i, const std::string& where) {
  int k = i < 0 ? static_cast<int>(cols.size()) + i : i;
  if (k < 0 || k >= static_cast<int>(cols.size()))
    throw Error(where + ": expected at least " + std::to_string(i < 0 ? -i : i + 1) + " tab-separated columns, found " +
                std::to_string(cols.size()));
  return cols[static_cast<size_t>(k)];
}

float parse_label(const std::string& s, const std::vector<std::string>& names, bool regression, const std::string& where) {
  if (!names.empty()) {
    auto it = std::find(names.begin(), names.end(), s);
    if (it == names.end()) throw Error(where + ": unknown label '" + s + "'");
    return static_cast<float>(it - names.begin());
  }
  try {
    size_t used = 0;
    float v = std::stof(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
    if (!regression && (v != static_cast<int>(v) || v < 0)) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw Error(where + ": label '" + s + "' is not a " + (regression ? "number" : "class index"));
  }
}

}  // namespace

TaskInfo glue_task(const std::string& name) { return layout(name).info; }

namespace {

// Columns of the official test.tsv files (a header whose first column is the row id, no label),
// where they differ from train/dev.
struct TestColumns {
  int a, b;
};
TestColumns test_columns(const std::string& task, const Layout& l) {
  if (task == "cola" || task == "sst2") return {1, -100};
  if (task == "qqp") return {1, 2};
  return {l.a, l.b};  // mrpc, stsb, mnli, qnli, rte, wnli: same columns as train/dev
}

std::vector<Example> read_glue_layout(const TaskInfo& task, const std::string& file, bool* labeled) {
  const Layout& l = layout(task.name);
  std::string text = read_file(file);
  if (starts_with(text, "\xEF\xBB\xBF")) text = text.substr(3);  // MRPC ships with a UTF-8 BOM
  auto lines = split_lines(text);
  // A test file: a header that starts with the id column ("index"; QQP's "id") and names no
  // label column. (Dev headers of RTE, QNLI, MNLI and QQP start with the id column too.)
  bool test = false;
  if (labeled != nullptr && !lines.empty()) {
    auto head = split_tabs(std::string(lines[0]));
    test = head[0] == "index" || head[0] == "id";
    for (const auto& c : head) test = test && c != "label" && c != "is_duplicate" && c != "gold_label" && c != "score";
    *labeled = !test;
  }
  const TestColumns tc = test ? test_columns(norm_name(task.name), l) : TestColumns{l.a, l.b};
  std::vector<Example> out;
  size_t line_no = 0;
  for (std::string_view sv : lines) {
    std::string line(sv);
    ++line_no;
    if (((l.header || test) && line_no == 1) || line.empty()) continue;
    std::string where = file + ":" + std::to_string(line_no);
    auto cols = split_tabs(line);
    Example e;
    e.text = column(cols, tc.a, where);
    if (tc.b != -100) e.text_pair = column(cols, tc.b, where);
    if (test) {
      e.label = kNoLabel;
    } else {
      e.label = parse_label(column(cols, l.label, where), l.names, task.num_labels == 1, where);
      if (task.num_labels > 1 && e.label >= static_cast<float>(task.num_labels))
        throw Error(where + ": label " + std::to_string(static_cast<int>(e.label)) + " out of range for " + task.name);
    }
    out.push_back(std::move(e));
  }
  if (out.empty()) fail(file, "", "holds no examples");
  return out;
}

}  // namespace

std::vector<Example> read_glue(const TaskInfo& task, const std::string& dir, const std::string& split) {
  const Layout& l = layout(task.name);
  return read_glue_layout(task, dir + "/" + (split == "train" ? std::string("train.tsv") : split == "dev" ? l.dev_file : split + ".tsv"),
                          nullptr);
}

std::vector<Example> read_glue_file(const TaskInfo& task, const std::string& path, bool& labeled) {
  return read_glue_layout(task, path, &labeled);
}

std::vector<std::vector<std::string>> parse_csv(const std::string& text, const std::string& source) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') { field += '"'; ++i; }
      else if (c == '"') quoted = false;
      else field += c;
      continue;
    }
    any = true;
    if (c == '"' && field.empty()) quoted = true;
    else if (c == ',') { row.push_back(field); field.clear(); }
    else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(field);
      field.clear();
      rows.push_back(std::move(row));
      row.clear();
      any = false;
    } else field += c;
  }
  if (quoted) fail(source, "", "unterminated quoted field");
  if (any) { row.push_back(field); rows.push_back(std::move(row)); }
  return rows;
}

std::vector<Example> read_generic(const std::string& path, std::vector<std::string>& labels, bool regression,
                                  bool labels_optional) {
  std::string text = read_file(path);
  std::vector<Example> out;
  // Classification labels read as names (a JSON number as its text); settle_labels() turns them
  // into class indices when every one is an index.
  auto label_of = [&](const nlohmann::json& v, const std::string& where) -> float {
    if (!v.is_number() && !v.is_string()) throw Error(where + ": label must be a number or a string");
    const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
    if (regression) return parse_label(s, {}, true, where);
    auto it = std::find(labels.begin(), labels.end(), s);
    if (it == labels.end()) {
      labels.push_back(s);
      return static_cast<float>(labels.size() - 1);
    }
    return static_cast<float>(it - labels.begin());
  };
  if (ends_with(path, ".jsonl")) {
    size_t line_no = 0;
    for (std::string_view sv : split_lines(text)) {
      std::string line(sv);
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      std::string where = path + ":" + std::to_string(line_no);
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception&) {
        throw Error(where + ": invalid JSON");
      }
      if (!j.is_object() || !j.contains("text") || !j["text"].is_string() || (!j.contains("label") && !labels_optional))
        throw Error(where + ": needs string 'text' and 'label'");
      Example e;
      e.text = j["text"].get<std::string>();
      if (j.contains("text_pair") && j["text_pair"].is_string()) e.text_pair = j["text_pair"].get<std::string>();
      e.label = j.contains("label") ? label_of(j["label"], where + ": label") : kNoLabel;
      out.push_back(std::move(e));
    }
  } else if (ends_with(path, ".csv")) {
    auto rows = parse_csv(text, path);
    if (rows.empty()) fail(path, "", "empty file");
    const auto& h = rows[0];
    auto col = [&](const char* name) {
      auto it = std::find(h.begin(), h.end(), name);
      return it == h.end() ? -1 : static_cast<int>(it - h.begin());
    };
    int ct = col("text"), cp = col("text_pair"), cl = col("label");
    if (ct < 0 || (cl < 0 && !labels_optional)) fail(path, "header", "needs columns 'text' and 'label'");
    for (size_t r = 1; r < rows.size(); ++r) {
      std::string where = path + ":" + std::to_string(r + 1);
      const auto& row = rows[r];
      if (row.size() != h.size()) throw Error(where + ": " + std::to_string(row.size()) + " fields, header has " + std::to_string(h.size()));
      Example e;
      e.text = row[static_cast<size_t>(ct)];
      if (cp >= 0) e.text_pair = row[static_cast<size_t>(cp)];
      e.label = cl >= 0 ? label_of(nlohmann::json(row[static_cast<size_t>(cl)]), where + ": label") : kNoLabel;
      out.push_back(std::move(e));
    }
  } else {
    fail(path, "", "unsupported data file (expected .csv or .jsonl)");
  }
  if (out.empty()) fail(path, "", "holds no examples");
  return out;
}

bool is_class_index(const std::string& s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int64_t settle_labels(std::vector<std::string>& names, const std::vector<std::vector<Example>*>& files) {
  if (!std::all_of(names.begin(), names.end(), is_class_index)) return static_cast<int64_t>(names.size());
  int64_t need = 0;
  for (auto* file : files)
    for (auto& e : *file)
      if (!std::isnan(e.label)) e.label = static_cast<float>(std::stoll(names[static_cast<size_t>(e.label)]));
  for (const auto& n : names) need = std::max<int64_t>(need, std::stoll(n) + 1);
  names.clear();
  return need;
}

}  // namespace lntune
