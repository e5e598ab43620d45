#include <gtest/gtest.h>

#include "config/json_schema.h"
#include "config/run_config.h"
#include "util/error.h"
#include "util/file.h"

using namespace lntune;

namespace {
nlohmann::json base() {
  return nlohmann::json::parse(R"({"model": {"path": "m"}, "task": {"name": "rte", "data_dir": "d"},
                                  "method": {"name": "ln", "terms": "bias"}, "train": {"lr": 0.001}})");
}
std::string error_of(nlohmann::json j, std::vector<std::string> sets = {}) {
  try {
    resolve_run_config(std::move(j), sets, "run.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST(RunConfig, DefaultsOverridesAndOpenMethod) {
  auto c = resolve_run_config(base(), {"train.epochs=5", "output_dir=runs/x", "model.norm.type=dyt"}, "run.json");
  EXPECT_EQ(c["train"]["epochs"], 5);
  EXPECT_EQ(c["train"]["batch_size"], 16);  // default kept
  EXPECT_DOUBLE_EQ(c["train"]["lr"].get<double>(), 0.001);
  EXPECT_EQ(c["output_dir"], "runs/x");
  EXPECT_EQ(c["model"]["norm"]["type"], "dyt");
  EXPECT_EQ(resolve_run_config(base(), {}, "run.json")["model"]["norm"]["type"], "auto");  // the checkpoint's
  EXPECT_EQ(resolve_run_config(base(), {}, "run.json")["model"]["norm"]["dyt_init"], "constant");
  EXPECT_EQ(c["method"]["terms"], "bias");  // method options pass through to the registry
}

TEST(RunConfig, UnknownKeysAndWrongTypesNameTheKey) {
  auto j = base();
  j["train"]["learning_rate"] = 1;
  EXPECT_EQ(error_of(j), "run.json: train.learning_rate: unknown key");
  j = base();
  j["train"]["epochs"] = "3";
  EXPECT_EQ(error_of(j), "run.json: train.epochs: has the wrong type: expected number, got string");
  EXPECT_EQ(error_of(base(), {"train.epochs=1.5"}), "run.json: train.epochs: must be an integer, got 1.5");
  EXPECT_EQ(error_of(base(), {"task.name="}), "run.json: task.name: missing");
  EXPECT_EQ(error_of(base(), {"output_dir="}), "run.json: output_dir: missing");  // was ": cannot create the output directory"
  EXPECT_EQ(error_of(base(), {"train.warmup_ratio=1"}), "run.json: train.warmup_ratio: must be in [0, 1)");
  // 0 is "off" / "all" for these; a negative value is a typo, not a setting.
  for (const char* k : {"max_steps", "eval_every", "log_every", "stop_after_steps", "weight_decay", "max_grad_norm"}) {
    EXPECT_EQ(error_of(base(), {std::string("train.") + k + "=-1"}), std::string("run.json: train.") + k + ": must be >= 0");
    EXPECT_EQ(error_of(base(), {std::string("train.") + k + "=0"}), "") << k;
  }
  EXPECT_EQ(error_of(base(), {"task.max_train_examples=-5"}), "run.json: task.max_train_examples: must be >= 0 (0: all)");
  EXPECT_EQ(error_of(base(), {"task.max_eval_examples=-1"}), "run.json: task.max_eval_examples: must be >= 0 (0: all)");
  EXPECT_EQ(error_of(base(), {"nonsense"}), "run.json: nonsense: --set needs key.path=value");
  EXPECT_EQ(error_of(base(), {"model.size=3"}), "run.json: model.size: unknown key");
  EXPECT_EQ(error_of(base(), {"model.dropout=1.5"}),
            "run.json: model.dropout: must be in [0, 1), or -1 to keep the checkpoint's");
  EXPECT_EQ(error_of(base(), {"model.dropout_impl=cudnn"}), "run.json: model.dropout_impl: 'cudnn' is not one of fused, torch");
  EXPECT_EQ(error_of(base(), {"model.dropout_impl=torch"}), "");
  EXPECT_EQ(error_of(base(), {"train.shuffle=1"}), "run.json: train.shuffle: has the wrong type: expected boolean, got number");
  // null is no value for a key with a default (it reached get<double>() as a JSON library error).
  EXPECT_EQ(error_of(base(), {"train.lr=null"}), "run.json: train.lr: has the wrong type: expected number, got null");
  EXPECT_EQ(error_of(base(), {"model.norm.impl=null"}), "run.json: model.norm.impl: has the wrong type: expected string, got null");
  EXPECT_EQ(error_of(base(), {"train.device=\"gpu\""}), "run.json: train.device: 'gpu' is not one of auto, cpu, cuda");
  EXPECT_EQ(error_of(base(), {"train.dist_backend=mpi"}), "run.json: train.dist_backend: 'mpi' is not one of auto, gloo, nccl");
  EXPECT_EQ(error_of(base(), {"model.norm.type=rmsnorm"}), "run.json: model.norm.type: 'rmsnorm' is not one of auto, layernorm, dyt");
  EXPECT_EQ(error_of(base(), {"model.attention=flash"}), "run.json: model.attention: 'flash' is not one of auto, eager, sdpa");
  EXPECT_EQ(resolve_run_config(base(), {}, "run.json")["model"]["attention"], "auto");
  EXPECT_EQ(error_of(base(), {"train.adamw_impl=apex"}), "run.json: train.adamw_impl: 'apex' is not one of fused, torch");
  EXPECT_EQ(resolve_run_config(base(), {}, "run.json")["train"]["adamw_impl"], "fused");
  // CUDA graphs replay one whole step with the fused optimizer's on-device scalars.
  EXPECT_EQ(resolve_run_config(base(), {}, "run.json")["train"]["cuda_graphs"], "auto");
  EXPECT_EQ(resolve_run_config(base(), {"train.cuda_graphs=false"}, "run.json")["train"]["cuda_graphs"], false);
  EXPECT_EQ(error_of(base(), {"train.cuda_graphs=1"}), "run.json: train.cuda_graphs: must be true, false or \"auto\", got 1");
  EXPECT_NO_THROW(resolve_run_config(base(), {"train.cuda_graphs=auto", "train.grad_accum=2", "train.device=cpu"}, "run.json"));
  EXPECT_EQ(error_of(base(), {"train.cuda_graphs=true", "train.grad_accum=2"}),
            "run.json: train.cuda_graphs: needs train.grad_accum 1");
  EXPECT_EQ(error_of(base(), {"train.cuda_graphs=true", "train.adamw_impl=torch"}),
            "run.json: train.cuda_graphs: needs train.adamw_impl fused");
  EXPECT_EQ(error_of(base(), {"train.cuda_graphs=true", "train.device=cpu"}),
            "run.json: train.cuda_graphs: needs a CUDA device, not train.device cpu");
  EXPECT_EQ(error_of(base(), {"train.cuda_graphs=yes"}).rfind("run.json: train.cuda_graphs:", 0), 0u);
  EXPECT_NO_THROW(resolve_run_config(base(), {"train.cuda_graphs=true", "train.device=cuda"}, "run.json"));
  // Decoding (generation tasks): HF generate's settings, early_stopping false, true or "never".
  const auto dec = resolve_run_config(base(), {"task.num_beams=5", "task.early_stopping=never"}, "run.json")["task"];
  EXPECT_EQ(dec["num_beams"], 5);
  EXPECT_EQ(dec["early_stopping"], "never");
  EXPECT_EQ(resolve_run_config(base(), {}, "run.json")["task"]["early_stopping"], false);
  EXPECT_EQ(resolve_run_config(base(), {"task.early_stopping=true"}, "run.json")["task"]["early_stopping"], true);
  EXPECT_EQ(error_of(base(), {"task.early_stopping=soon"}), "run.json: task.early_stopping: must be true, false or \"never\", got \"soon\"");
  EXPECT_EQ(error_of(base(), {"task.num_beams=0"}), "run.json: task.num_beams: must be at least 1");
  EXPECT_EQ(error_of(base(), {"task.no_repeat_ngram_size=-1"}), "run.json: task.no_repeat_ngram_size: must be 0 (off) or positive");
  EXPECT_EQ(error_of(base(), {"task.max_new_tokens=0"}), "run.json: task.max_new_tokens: must be positive");
  EXPECT_EQ(error_of(base(), {"task.length_penalty=\"long\""}),
            "run.json: task.length_penalty: has the wrong type: expected number, got string");
  EXPECT_EQ(error_of(base(), {"model.norm.impl=apex"}), "run.json: model.norm.impl: 'apex' is not one of torch, fused");
  EXPECT_EQ(error_of(base(), {"model.norm.dyt_init=warm"}),
            "run.json: model.norm.dyt_init: 'warm' is not one of constant, calibrated");
}

// The README lists every key with its default: that block must be what the code uses.
TEST(RunConfig, ReadmeDefaultsAreTheCodes) {
  const std::string readme = read_file(std::string(LNTUNE_SOURCE_DIR) + "/README.md");
  const size_t at = readme.find("Defaults (every key):");
  ASSERT_NE(at, std::string::npos);
  const size_t open = readme.find("```json", at), close = readme.find("```", open + 7);
  ASSERT_NE(close, std::string::npos);
  EXPECT_EQ(nlohmann::json::parse(readme.substr(open + 7, close - open - 7)), run_config_defaults());
}

// "auto" replays steps as CUDA graphs exactly where a replay can stand for the step; true and
// false are themselves (true where it cannot be is the trainer's error).
TEST(RunConfig, CudaGraphsAutoIsOnWhereAReplayCanStandForTheStep) {
  auto train = [](std::vector<std::string> sets) { return resolve_run_config(base(), sets, "run.json")["train"]; };
  const auto def = train({});
  EXPECT_TRUE(cuda_graphs_wanted(def, /*cuda=*/true, /*data_parallel=*/false, /*graphs_built=*/true));
  EXPECT_FALSE(cuda_graphs_wanted(def, false, false, true));  // the CPU
  EXPECT_FALSE(cuda_graphs_wanted(def, true, true, true));    // several processes: the all-reduce is not captured
  EXPECT_FALSE(cuda_graphs_wanted(def, true, false, false));  // LibTorch without CUDA graphs
  EXPECT_FALSE(cuda_graphs_wanted(train({"train.grad_accum=2"}), true, false, true));
  EXPECT_FALSE(cuda_graphs_wanted(train({"train.adamw_impl=torch"}), true, false, true));
  EXPECT_FALSE(cuda_graphs_wanted(train({"train.cuda_graphs=false"}), true, false, true));
  EXPECT_TRUE(cuda_graphs_wanted(train({"train.cuda_graphs=true"}), false, false, false));
}

// What --resume reports when a run continues under other settings (trainer.cpp).
TEST(RunConfig, DifferencesNameEveryChangedLeaf) {
  auto a = resolve_run_config(base(), {}, "run.json");
  EXPECT_TRUE(json_differences(a, a).empty());
  auto b = resolve_run_config(base(), {"train.lr=0.5", "method={\"name\": \"lora\", \"r\": 4}"}, "run.json");
  EXPECT_EQ(json_differences(a, b), (std::vector<std::string>{R"x(method.name: "ln" -> "lora")x", R"x(method.terms: "bias" -> "(none)")x",
                                                              R"x(method.r: "(none)" -> 4)x", "train.lr: 0.001 -> 0.5"}));
  EXPECT_EQ(json_differences(nlohmann::json{{"x", {1, 2}}}, nlohmann::json{{"x", {1, 3}}}),
            (std::vector<std::string>{"x: [1,2] -> [1,3]"}));  // arrays as a whole
}
