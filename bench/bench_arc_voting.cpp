// bench-arc-voting: cost of ARC evaluation bookkeeping at ARC-AGI-1 scale, without a model.
// A synthetic test split (puzzles x (1 + augmentations) variants, every 25th puzzle with two test
// inputs) is fed in global-batch order to ArcEvaluator::add_batch (crop, de-augment, hash,
// intern), then the byte form is built, read back and merged as rank 0 would, and voted.
// Predictions: the augmented answer with probability 0.3, else one of five wrong grids.
//   bench-arc-voting [--puzzles 400] [--aug 1000] [--batch 768]
// Prints seconds per phase and the gathered byte count.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "trm/eval/arc_crop.hpp"
#include "trm/eval/arc_evaluator.hpp"

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

trm::Grid random_grid(std::mt19937& rng) {
  std::uniform_int_distribution<int> side(3, 20), colour(0, 9);
  trm::Grid g;
  g.rows = side(rng);
  g.cols = side(rng);
  for (int i = 0; i < g.rows * g.cols; ++i) g.cells.push_back(static_cast<uint8_t>(colour(rng)));
  return g;
}

}  // namespace

int main(int argc, char** argv) {
  int puzzles = 400, aug = 1000, batch = 768;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--puzzles") puzzles = std::atoi(argv[i + 1]);
    else if (a == "--aug") aug = std::atoi(argv[i + 1]);
    else if (a == "--batch") batch = std::atoi(argv[i + 1]);
  }
  std::mt19937 rng(0);
  trm::ArcTestPuzzles test;
  std::vector<std::string> names{"<blank>"};
  struct Row {
    int32_t id;
    const trm::ArcTestPair* pair;
    trm::ArcAugmentation aug;
    std::vector<trm::Grid>* wrong;
  };
  std::vector<Row> rows;
  std::vector<std::vector<trm::Grid>> wrong_grids(static_cast<size_t>(puzzles) * 2);
  for (int p = 0; p < puzzles; ++p) {
    const std::string id = "p" + std::to_string(p);
    auto& pairs = test[id];
    for (int t = 0; t < (p % 25 == 0 ? 2 : 1); ++t) {
      pairs.push_back({random_grid(rng), true, random_grid(rng)});
      for (int w = 0; w < 5; ++w) wrong_grids[p * 2 + t].push_back(random_grid(rng));
    }
  }
  for (int p = 0; p < puzzles; ++p) {
    const std::string id = "p" + std::to_string(p);
    for (int v = 0; v <= aug; ++v) {
      trm::ArcAugmentation a;
      if (v > 0) {
        a.trans_id = static_cast<int>(rng() % 8);
        std::shuffle(a.mapping.begin() + 1, a.mapping.end(), rng);
      }
      names.push_back(v == 0 ? id : trm::augmented_puzzle_name(id, a));
      const auto& pairs = test[id];
      for (size_t t = 0; t < pairs.size(); ++t) {
        rows.push_back({static_cast<int32_t>(names.size() - 1), &pairs[t], a, &wrong_grids[p * 2 + t]});
      }
    }
  }
  std::cout << "rows " << rows.size() << ", identifiers " << names.size() << "\n";

  trm::ArcEvaluator evaluator(names, test);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<int32_t> ids(batch), inputs(static_cast<size_t>(batch) * trm::kArcCanvasCells);
  std::vector<int64_t> preds(inputs.size()), index(batch), canvas(trm::kArcCanvasCells);
  std::vector<float> q(batch);
  double add_seconds = 0;
  for (size_t start = 0; start < rows.size(); start += batch) {
    const int64_t n = static_cast<int64_t>(std::min<size_t>(batch, rows.size() - start));
    for (int64_t i = 0; i < n; ++i) {
      const Row& r = rows[start + i];
      ids[i] = r.id;
      trm::encode_arc_canvas(trm::apply_augmentation(r.pair->input, r.aug), canvas.data());
      std::copy(canvas.begin(), canvas.end(), inputs.begin() + i * trm::kArcCanvasCells);
      const trm::Grid& answer = u(rng) < 0.3 ? r.pair->output : (*r.wrong)[rng() % 5];
      trm::encode_arc_canvas(trm::apply_augmentation(answer, r.aug), preds.data() + i * trm::kArcCanvasCells);
      index[i] = static_cast<int64_t>(start + i);
      q[i] = static_cast<float>(u(rng) * 8 - 4);
    }
    const auto t = Clock::now();
    evaluator.add_batch(n, ids.data(), inputs.data(), preds.data(), q.data(), index.data());
    add_seconds += since(t);
  }
  auto t = Clock::now();
  const std::vector<uint8_t> bytes = evaluator.local_predictions().serialize();
  const double serialize_seconds = since(t);
  t = Clock::now();
  trm::ArcPredictionSet merged;
  merged.merge(trm::ArcPredictionSet::deserialize(bytes, "bench"));
  const double merge_seconds = since(t);
  t = Clock::now();
  const trm::ArcVoteResult vote = trm::vote_arc_predictions(merged, test);
  const double vote_seconds = since(t);
  std::cout << "add_batch " << add_seconds << " s (" << rows.size() / add_seconds << " rows/s)\n"
            << "serialize " << serialize_seconds << " s, " << bytes.size() << " bytes\n"
            << "deserialize+merge " << merge_seconds << " s\n"
            << "vote " << vote_seconds << " s, pass@1 " << vote.pass_at_k[0] << ", pass@2 "
            << vote.pass_at_k[1] << "\n";
  return 0;
}
