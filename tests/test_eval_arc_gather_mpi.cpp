// ARC evaluation under mpiexec -n 2: each rank feeds its slice of padded global batches (rank r
// takes rows [r*B/W, (r+1)*B/W) of each global batch, as the test iterator does), the
// predictions are gathered to rank 0 over the MPI communicator, and the vote must equal the
// single-process vote over all rows: same pass@K, same bit-identical mean q, same
// submission.json text. The data include exact ties whose earliest row sits on rank 1 of the
// first global batch while the competitor sits on rank 0 of the second one.
#include <gtest/gtest.h>

#include <random>

#include "trm/data/json.hpp"
#include "trm/dist/communicator.hpp"
#include "trm/eval/arc_crop.hpp"
#include "trm/eval/arc_evaluator.hpp"
#include "trm/eval/arc_submission.hpp"

namespace trm {
namespace {

class MpiEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { session_ = std::make_unique<MpiSession>(nullptr, nullptr); }
  void TearDown() override { session_.reset(); }

 private:
  std::unique_ptr<MpiSession> session_;
};
const auto* const kMpiEnvironment = ::testing::AddGlobalTestEnvironment(new MpiEnvironment);

Grid random_grid(int rows, int cols, std::mt19937& rng) {
  std::uniform_int_distribution<int> colour(0, 9);
  Grid g;
  g.rows = rows;
  g.cols = cols;
  for (int i = 0; i < rows * cols; ++i) g.cells.push_back(static_cast<uint8_t>(colour(rng)));
  return g;
}

// The whole test split, in dataset order, as every rank can rebuild it from the seed.
struct Split {
  std::vector<std::string> names{"<blank>"};
  ArcTestPuzzles puzzles;
  std::vector<int32_t> ids, inputs;
  std::vector<int64_t> preds;
  std::vector<float> q;

  int64_t rows() const { return static_cast<int64_t>(ids.size()); }

  void add_row(int32_t id, const Grid& input, const Grid& pred, float q_logit) {
    std::vector<int64_t> canvas(kArcCanvasCells);
    ids.push_back(id);
    encode_arc_canvas(input, canvas.data());
    inputs.insert(inputs.end(), canvas.begin(), canvas.end());
    encode_arc_canvas(pred, canvas.data());
    preds.insert(preds.end(), canvas.begin(), canvas.end());
    q.push_back(q_logit);
  }
};

Split make_split() {
  std::mt19937 rng(2024);
  Split s;
  // "tie": rows 5 (answer) and 8 (a wrong grid), one vote each with equal q, identity names.
  const Grid tie_in = random_grid(2, 3, rng), tie_out = random_grid(3, 2, rng);
  const Grid tie_wrong = random_grid(3, 2, rng);
  s.puzzles["tie"] = {{tie_in, true, tie_out}};
  s.names.push_back("tie");
  const int32_t tie_id = 1;
  // Three more puzzles with two test inputs each, predicted under random augmentations by a
  // noisy "model": the answer with probability 0.4, else one of three wrong grids.
  std::vector<std::string> ids = {"b0", "b1", "b2"};
  for (const auto& id : ids) {
    s.puzzles[id] = {{random_grid(4, 5, rng), true, random_grid(3, 3, rng)},
                     {random_grid(5, 2, rng), true, random_grid(2, 4, rng)}};
  }
  std::uniform_real_distribution<float> logit(-4, 4);
  std::uniform_real_distribution<double> u(0, 1);
  std::uniform_int_distribution<int> trans(0, 7);
  std::vector<std::vector<Grid>> wrong(6);
  for (auto& w : wrong) {
    for (int i = 0; i < 3; ++i) w.push_back(random_grid(3, 3, rng));
  }
  for (int row = 0; row < 45; ++row) {
    if (row == 5) {
      s.add_row(tie_id, tie_in, tie_out, 0.5f);
      continue;
    }
    if (row == 8) {
      s.add_row(tie_id, tie_in, tie_wrong, 0.5f);
      continue;
    }
    const size_t p = static_cast<size_t>(row) % ids.size();
    const size_t t = static_cast<size_t>(row / 3) % 2;
    ArcAugmentation aug;
    aug.trans_id = trans(rng);
    std::shuffle(aug.mapping.begin() + 1, aug.mapping.end(), rng);
    s.names.push_back(augmented_puzzle_name(ids[p], aug));
    const ArcTestPair& pair = s.puzzles[ids[p]][t];
    const Grid answer = u(rng) < 0.4 ? pair.output : wrong[p * 2 + t][rng() % 3];
    s.add_row(static_cast<int32_t>(s.names.size() - 1), apply_augmentation(pair.input, aug),
              apply_augmentation(answer, aug), logit(rng));
  }
  return s;
}

// Feeds `evaluator` this rank's rows of every global batch of `global_batch` rows.
void feed_rank_slices(const Split& s, int64_t global_batch, int rank, int world,
                      ArcEvaluator& evaluator) {
  const int64_t local = global_batch / world;
  for (int64_t start = 0; start < s.rows(); start += global_batch) {
    std::vector<int32_t> ids(local, 0), inputs(local * kArcCanvasCells, 0);
    std::vector<int64_t> preds(local * kArcCanvasCells, 0), idx(local, -1);
    std::vector<float> q(local, 0.f);
    for (int64_t i = 0; i < local; ++i) {
      const int64_t row = start + rank * local + i;
      if (row >= s.rows()) break;  // padding: blank identifier
      ids[i] = s.ids[row];
      std::copy_n(s.inputs.begin() + row * kArcCanvasCells, kArcCanvasCells,
                  inputs.begin() + i * kArcCanvasCells);
      std::copy_n(s.preds.begin() + row * kArcCanvasCells, kArcCanvasCells,
                  preds.begin() + i * kArcCanvasCells);
      q[i] = s.q[row];
      idx[i] = row;
    }
    evaluator.add_batch(local, ids.data(), inputs.data(), preds.data(), q.data(), idx.data());
  }
}

TEST(ArcEvalMpi, TwoRanksVoteExactlyLikeOne) {
  auto comm = make_mpi_communicator();
  ASSERT_EQ(comm->world_size(), 2) << "run under mpiexec -n 2";
  const Split split = make_split();

  ArcEvaluator distributed(split.names, split.puzzles);
  feed_rank_slices(split, 8, comm->rank(), comm->world_size(), distributed);
  const auto result = distributed.finish(communicator_gather(*comm));
  if (comm->rank() != 0) {
    EXPECT_FALSE(result.has_value());
    return;
  }
  ASSERT_TRUE(result.has_value());

  ArcEvaluator single(split.names, split.puzzles);
  feed_rank_slices(split, 8, 0, 1, single);
  const auto expected = single.finish(single_process_gather());
  ASSERT_TRUE(expected.has_value());

  EXPECT_EQ(result->num_records, split.rows());
  EXPECT_EQ(result->num_unmatched_records, 0);
  EXPECT_EQ(result->metrics(), expected->metrics());
  const std::string json = to_json(arc_submission_json(*result));
  EXPECT_EQ(json, to_json(arc_submission_json(*expected)));
  validate_arc_submission(parse_json(json, "submission"), split.puzzles);
  ASSERT_EQ(result->puzzles.size(), expected->puzzles.size());
  for (size_t p = 0; p < result->puzzles.size(); ++p) {
    for (size_t t = 0; t < result->puzzles[p].tests.size(); ++t) {
      const auto& a = result->puzzles[p].tests[t];
      const auto& b = expected->puzzles[p].tests[t];
      EXPECT_EQ(a.label_rank, b.label_rank);
      ASSERT_EQ(a.top.size(), b.top.size());
      for (size_t k = 0; k < a.top.size(); ++k) {
        EXPECT_EQ(a.top[k].grid, b.top[k].grid);
        EXPECT_EQ(a.top[k].mean_q, b.top[k].mean_q);
      }
    }
  }
  // The tie goes to row 5 (rank 1 of batch 0) over row 8 (rank 0 of batch 1).
  const auto& tie = result->puzzles.at(3);
  ASSERT_EQ(tie.id, "tie");
  EXPECT_EQ(tie.tests.at(0).label_rank, 0);
  EXPECT_EQ(tie.tests.at(0).top.at(0).grid, split.puzzles.at("tie")[0].output);
  EXPECT_GT(result->pass_at_k.at(0), 0.0);
}

}  // namespace
}  // namespace trm
