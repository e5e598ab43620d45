// GLUE readers on the real files in ../shared (row counts of the official release) and on small
// files written here in the official QNLI / MNLI / QQP layouts; CSV/JSONL readers.
#include <gtest/gtest.h>

#include <cstdlib>

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
}
