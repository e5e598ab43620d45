// GLUE readers on the real files in ../shared (row counts of the official release) and on small
// files written here in the official QNLI / MNLI / QQP layouts and every task's test.tsv layout;
// CSV/JSONL readers, labels required or optional.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <tuple>

#include "data/glue.h"
#include "test_paths.h"
#include "util/error.h"
#include "util/file.h"

using namespace lntune;

namespace {
std::string glue(const std::string& t) { return test::shared_dir() + "/data/glue/" + t; }
std::string tmpdir(const std::string& name) {
  std::string d = ::testing::TempDir() + "/glue_" + name;
  std::system(("rm -rf " + d + " && mkdir -p " + d).c_str());
  return d;
}
}  // namespace

TEST(Glue, RealFilesHaveTheOfficialRowCounts) {
  struct Case { const char* task; const char* dir; size_t train, dev; };
  for (auto c : {Case{"cola", "CoLA", 8551, 1043}, Case{"sst2", "SST-2", 67349, 872}, Case{"mrpc", "MRPC", 3668, 408},
                 Case{"stsb", "STS-B", 5749, 1500}, Case{"rte", "RTE", 2490, 277}}) {
    auto t = glue_task(c.task);
    EXPECT_EQ(read_glue(t, glue(c.dir), "train").size(), c.train) << c.task;
    EXPECT_EQ(read_glue(t, glue(c.dir), "dev").size(), c.dev) << c.task;
  }
}

TEST(Glue, FieldsAndLabels) {
  auto rte = read_glue(glue_task("RTE"), glue("RTE"), "dev");
  EXPECT_EQ(rte[0].text_pair, "Christopher Reeve had an accident.");
  EXPECT_EQ(rte[0].label, 1);  // not_entailment
  auto mrpc = read_glue(glue_task("mrpc"), glue("MRPC"), "dev");  // BOM stripped, raw quotes kept
  EXPECT_EQ(mrpc[0].label, 1);
  EXPECT_EQ(mrpc[0].text_pair.rfind("\"The foodservice", 0), 0u);
  auto stsb = read_glue(glue_task("sts-b"), glue("STS-B"), "dev");
  EXPECT_EQ(stsb[0].text, "A man with a hard hat is dancing.");
  EXPECT_FLOAT_EQ(stsb[0].label, 5.0f);
  EXPECT_EQ(glue_task("stsb").num_labels, 1);
  auto cola = read_glue(glue_task("cola"), glue("CoLA"), "dev");
  EXPECT_EQ(cola[0].text, "The sailors rode the breeze clear of the rocks.");
  EXPECT_TRUE(cola[0].text_pair.empty());
  EXPECT_EQ(glue_task("cola").metrics[0], "mcc");
  EXPECT_THROW(glue_task("squad"), Error);
}

TEST(Glue, OfficialLayoutsOfQnliMnliQqp) {
  auto d = tmpdir("layouts");
  write_file_atomic(d + "/train.tsv", "index\tquestion\tsentence\tlabel\n0\tWhat?\tThis.\tentailment\n1\tWho?\tThat.\tnot_entailment\n");
  write_file_atomic(d + "/dev.tsv", "index\tquestion\tsentence\tlabel\n0\tWhy?\tBecause.\tnot_entailment\n");
  auto q = read_glue(glue_task("qnli"), d, "train");
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].text, "What?");
  EXPECT_EQ(q[1].label, 1);
  std::string mh = "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
                   "sentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n";
  write_file_atomic(d + "/dev_matched.tsv", mh + "0\t1\t1n\tgov\t(a)\t(b)\t(A)\t(B)\tThe cat sat.\tA cat.\tneutral\tneutral\n");
  write_file_atomic(d + "/dev_mismatched.tsv", mh + "0\t1\t1c\tfic\t(a)\t(b)\t(A)\t(B)\tIt rains.\tIt is dry.\tcontradiction\tcontradiction\n");
  auto mm = read_glue(glue_task("mnli"), d, "dev");
  EXPECT_EQ(mm[0].text, "The cat sat.");
  EXPECT_EQ(mm[0].label, 1);
  auto mis = read_glue(glue_task("mnli-mm"), d, "dev");
  EXPECT_EQ(mis[0].label, 2);
  write_file_atomic(d + "/dev.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n5\t1\t2\tHow?\tIn what way?\t1\n");
  auto qqp = read_glue(glue_task("qqp"), d, "dev");
  EXPECT_EQ(qqp[0].text_pair, "In what way?");
  EXPECT_EQ(qqp[0].label, 1);
}

// read_glue_file tells the official test.tsv layout (id column first, no label column) from
// train/dev files, whose headers may start with the id column too, and reads each test layout's
// text columns (headers as in the GLUE release).
TEST(Glue, TestLayoutsOfEveryTask) {
  auto d = tmpdir("test_layouts");
  struct Case {
    std::string task, file, text, pair;
  };
  const std::vector<Case> cases = {
      {"cola", "index\tsentence\n0\tBill sang.\n", "Bill sang.", ""},
      {"sst2", "index\tsentence\n0\tuneasy mishmash\n", "uneasy mishmash", ""},
      {"mrpc", "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n0\t1\t2\tA said.\tB said.\n", "A said.", "B said."},
      {"stsb", "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\n"
               "0\tnews\tf\t2012\t1\tnone\tnone\tA girl sings.\tA girl is singing.\n", "A girl sings.", "A girl is singing."},
      {"qqp", "id\tquestion1\tquestion2\n0\tHow?\tWhy?\n", "How?", "Why?"},
      {"mnli", "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\tsentence1_parse\t"
               "sentence2_parse\tsentence1\tsentence2\n0\t1\t1n\tgov\t(a)\t(b)\t(A)\t(B)\tThe cat sat.\tA cat.\n",
       "The cat sat.", "A cat."},
      {"qnli", "index\tquestion\tsentence\n0\tWhat?\tThis.\n", "What?", "This."},
      {"rte", "index\tsentence1\tsentence2\n0\tIt rains.\tIt is wet.\n", "It rains.", "It is wet."},
      {"wnli", "index\tsentence1\tsentence2\n0\tHe left.\tSomeone left.\n", "He left.", "Someone left."},
  };
  for (const auto& c : cases) {
    write_file_atomic(d + "/" + c.task + ".tsv", c.file);
    bool labeled = true;
    auto ex = read_glue_file(glue_task(c.task), d + "/" + c.task + ".tsv", labeled);
    EXPECT_FALSE(labeled) << c.task;
    ASSERT_EQ(ex.size(), 1u) << c.task;
    EXPECT_EQ(ex[0].text, c.text) << c.task;
    EXPECT_EQ(ex[0].text_pair, c.pair) << c.task;
    EXPECT_TRUE(std::isnan(ex[0].label)) << c.task;
  }
  // Dev files whose header starts with the id column are still dev files.
  write_file_atomic(d + "/qqp_dev.tsv", "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n5\t1\t2\tHow?\tIn what way?\t1\n");
  write_file_atomic(d + "/rte_dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tnot_entailment\n");
  for (auto [task, file, label] : {std::tuple<std::string, std::string, float>{"qqp", "qqp_dev.tsv", 1.0f}, {"rte", "rte_dev.tsv", 1.0f}}) {
    bool labeled = false;
    auto ex = read_glue_file(glue_task(task), d + "/" + file, labeled);
    EXPECT_TRUE(labeled) << task;
    EXPECT_EQ(ex[0].label, label) << task;
  }
  // The real dev files read as they do through read_glue.
  bool labeled = false;
  auto a = read_glue_file(glue_task("cola"), glue("CoLA/dev.tsv"), labeled);
  auto b = read_glue(glue_task("cola"), glue("CoLA"), "dev");
  EXPECT_TRUE(labeled);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a[5].text, b[5].text);
  EXPECT_EQ(a[5].label, b[5].label);
}

TEST(Glue, BadRowsNameFileAndLine) {
  auto d = tmpdir("bad");
  write_file_atomic(d + "/dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\tonly two\tcolumns\n");
  try {
    read_glue(glue_task("rte"), d, "dev");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(d + "/dev.tsv:3"), std::string::npos) << e.what();
  }
  write_file_atomic(d + "/dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tmaybe\n");
  EXPECT_THROW(read_glue(glue_task("rte"), d, "dev"), Error);
  EXPECT_THROW(read_glue(glue_task("rte"), d + "/missing", "dev"), Error);
}

TEST(Generic, CsvAndJsonl) {
  auto rows = parse_csv("text,label\n\"a, \"\"quoted\"\" one\",pos\r\nplain,neg\n", "x.csv");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1][0], "a, \"quoted\" one");
  auto d = tmpdir("generic");
  write_file_atomic(d + "/t.csv", "text,text_pair,label\nx,y,pos\nz,w,neg\nq,r,pos\n");
  std::vector<std::string> labels;
  auto ex = read_generic(d + "/t.csv", labels, false);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(labels, (std::vector<std::string>{"pos", "neg"}));
  EXPECT_EQ(ex[1].label, 1);
  EXPECT_EQ(ex[0].text_pair, "y");
  write_file_atomic(d + "/t.jsonl", "{\"text\": \"a\", \"label\": 0.5}\n\n{\"text\": \"b\", \"text_pair\": \"c\", \"label\": 2}\n");
  labels.clear();
  auto js = read_generic(d + "/t.jsonl", labels, true);
  ASSERT_EQ(js.size(), 2u);
  EXPECT_FLOAT_EQ(js[0].label, 0.5f);
  write_file_atomic(d + "/bad.jsonl", "{\"text\": \"a\"}\n");
  EXPECT_THROW(read_generic(d + "/bad.jsonl", labels, false), Error);
  EXPECT_THROW(parse_csv("\"open", "x.csv"), Error);
  // Files to predict on may leave the label out (each row, or the column): kNoLabel.
  auto unl = read_generic(d + "/bad.jsonl", labels, false, /*labels_optional=*/true);
  ASSERT_EQ(unl.size(), 1u);
  EXPECT_TRUE(std::isnan(unl[0].label));
  write_file_atomic(d + "/nolabel.csv", "text,text_pair\nx,y\n");
  EXPECT_THROW(read_generic(d + "/nolabel.csv", labels, false), Error);
  auto unc = read_generic(d + "/nolabel.csv", labels, false, true);
  ASSERT_EQ(unc.size(), 1u);
  EXPECT_EQ(unc[0].text_pair, "y");
  EXPECT_TRUE(std::isnan(unc[0].label));
}

// Class indices or names, decided over all of a task's files, as HF's run_glue does by the label
// column's type: a file of "1"/"0" trains classes 1 and 0 (not "first seen" = 0).
TEST(Generic, LabelsAreIndicesOnlyWhenEveryOneIsAnIndex) {
  auto d = tmpdir("generic_labels");
  auto read = [&](const std::string& name, const std::string& body, std::vector<std::string>& names) {
    write_file_atomic(d + "/" + name, body);
    return read_generic(d + "/" + name, names, false, /*labels_optional=*/true);
  };
  std::vector<std::string> names;
  auto train = read("a.csv", "text,label\nx,1\ny,0\nz,2\n", names);
  auto dev = read("a.jsonl", "{\"text\": \"u\", \"label\": 2}\n{\"text\": \"v\"}\n", names);
  EXPECT_EQ(names, (std::vector<std::string>{"1", "0", "2"}));  // as read: names numbered 0, 1, 2
  EXPECT_EQ(settle_labels(names, {&train, &dev}), 3);
  EXPECT_TRUE(names.empty());
  EXPECT_EQ(train[0].label, 1);
  EXPECT_EQ(train[1].label, 0);
  EXPECT_EQ(train[2].label, 2);
  EXPECT_EQ(dev[0].label, 2);
  EXPECT_TRUE(std::isnan(dev[1].label));  // unlabeled stays unlabeled
  // Indices need classes up to the largest.
  names.clear();
  auto sparse = read("b.csv", "text,label\nx,7\ny,0\n", names);
  EXPECT_EQ(settle_labels(names, {&sparse}), 8);
  EXPECT_EQ(sparse[0].label, 7);
  // One label that is no index makes them all names, numbered in order of first appearance:
  // "x" among 0/1 was class 0 (as "0" was) before.
  names.clear();
  auto typo = read("c.csv", "text,label\nx,0\ny,1\nz,x\n", names);
  EXPECT_EQ(settle_labels(names, {&typo}), 3);
  EXPECT_EQ(names, (std::vector<std::string>{"0", "1", "x"}));
  EXPECT_EQ(typo[2].label, 2);
  names.clear();
  auto sign = read("d.csv", "text,label\nx,-1\ny,1\nz,-1\n", names);
  EXPECT_EQ(settle_labels(names, {&sign}), 2);
  EXPECT_EQ(names, (std::vector<std::string>{"-1", "1"}));
  EXPECT_EQ(sign[2].label, 0);
  EXPECT_TRUE(is_class_index("12"));
  for (const char* s : {"", "-1", "1.0", "1e3", " 1", "1234567890"}) EXPECT_FALSE(is_class_index(s)) << s;
}
