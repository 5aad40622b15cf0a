// trm-report end to end: a tiny real run (trm-convert, trm-dist with three evaluations,
// trm-eval --save-outputs), its page written by trm-report and rendered in headless Chromium: the
// screenshot exists and is not blank, and the page ran its inline scripts without an error and
// logged nothing to the console. Also: nothing to report exits 1 without a page, a bad flag 2.
// Skips only when chromium is not installed (tools/setup_debian.sh installs it).
// TRM_REPORT_SCREENSHOT=FILE keeps a copy of the screenshot.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "png_image.hpp"

namespace fs = std::filesystem;

namespace {

const std::string kBin = std::string(TRM_BINARY_DIR) + "/bin";

int shell(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class ReportRender : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        (fs::temp_directory_path() / ("trm_report_render_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(ReportRender, TinyRunPageRendersInHeadlessChromium) {
  if (shell("command -v chromium > /dev/null 2>&1") != 0)
    GTEST_SKIP() << "chromium is not installed (bash tools/setup_debian.sh installs it)";
  const std::string log = dir_ + "/steps.log";
  ASSERT_EQ(shell(kBin +
                  "/trm-convert sudoku --generate 48 --size 4 --blanks 6 --test 12 --seed 1 "
                  "--quiet --output " +
                  dir_ + "/data > " + log + " 2>&1"),
            0)
      << read_text(log);
  std::ofstream(dir_ + "/tiny.toml")
      << "data_paths = [\"" << dir_ << "/data\"]\ncheckpoint_path = \"" << dir_ << "/run\"\n"
      << "global_batch_size = 8\nepochs = 3\neval_interval = 1\nlog_interval = 2\n"
         "lr_warmup_steps = 2\nthreads = 1\ndevice = \"cpu\"\n[arch]\nhidden_size = 16\n"
         "num_heads = 2\nexpansion = 2.0\nH_cycles = 1\nL_cycles = 1\nL_layers = 1\n"
         "halt_max_steps = 2\npuzzle_emb_ndim = 0\nforward_dtype = \"float32\"\n";
  ASSERT_EQ(shell(kBin + "/trm-dist --config " + dir_ + "/tiny.toml >> " + log + " 2>&1"), 0)
      << read_text(log);
  ASSERT_EQ(
      shell(kBin + "/trm-eval --checkpoint " + dir_ + "/run --save-outputs >> " + log + " 2>&1"), 0)
      << read_text(log);
  const std::string out = dir_ + "/report.out";
  ASSERT_EQ(shell(kBin + "/trm-report " + dir_ + "/run > " + out + " 2>&1"), 0) << read_text(out);
  const std::string page = dir_ + "/run/report.html";
  EXPECT_NE(read_text(out).find("report: " + page), std::string::npos) << read_text(out);
  const std::string html = read_text(page);
  EXPECT_NE(html.find("<h2>Predictions</h2>"), std::string::npos);
  EXPECT_NE(html.find("sudoku puzzles exactly right"), std::string::npos);
  EXPECT_EQ(html.find("http:"), std::string::npos);
  EXPECT_EQ(html.find("https:"), std::string::npos);

  const std::string chromium =
      "chromium --headless --no-sandbox --disable-gpu --hide-scrollbars "
      "--user-data-dir=" +
      dir_ + "/profile --enable-logging=stderr --v=0 ";
  const std::string png = dir_ + "/shot.png", shot_log = dir_ + "/shot.log";
  ASSERT_EQ(shell("timeout 120 " + chromium + "--window-size=1280,2000 --screenshot=" + png +
                  " file://" + page + " > " + shot_log + " 2>&1"),
            0)
      << read_text(shot_log);
  if (const char* keep = std::getenv("TRM_REPORT_SCREENSHOT"))
    fs::copy_file(png, keep, fs::copy_options::overwrite_existing);
  trm::test::PngImage img;
  std::string error;
  ASSERT_TRUE(trm::test::read_png(png, img, error)) << error;
  EXPECT_EQ(img.width, 1280);
  EXPECT_EQ(img.height, 2000);
  // Not blank: the grey levels vary (a white or single-colour page has variance ~0), and a good
  // share of the pixels is not background.
  double sum = 0, sum_sq = 0;
  int64_t ink = 0;
  const int64_t n = int64_t(img.width) * img.height;
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* p = &img.pixels[size_t(i) * img.channels];
    const double grey = img.channels >= 3 ? (p[0] + p[1] + p[2]) / 3.0 : p[0];
    sum += grey;
    sum_sq += grey * grey;
    ink += grey < 200;
  }
  const double mean = sum / n, variance = sum_sq / n - mean * mean;
  EXPECT_GT(variance, 100.0) << "mean grey " << mean;
  EXPECT_GT(ink, n / 100) << "fewer than 1% dark pixels";

  const std::string dom = dir_ + "/dom.html", dom_log = dir_ + "/dom.log";
  ASSERT_EQ(shell("timeout 120 " + chromium + "--dump-dom file://" + page + " > " + dom + " 2> " +
                  dom_log),
            0)
      << read_text(dom_log);
  const std::string rendered = read_text(dom);
  EXPECT_NE(rendered.find("data-report-rendered=\"ok\""), std::string::npos)
      << "the page's last inline script did not run\n"
      << read_text(dom_log);
  EXPECT_EQ(rendered.find("data-report-error=\""), std::string::npos) << rendered.substr(0, 400);
  for (const std::string& l : {shot_log, dom_log}) {
    const std::string text = read_text(l);
    EXPECT_EQ(text.find("Uncaught"), std::string::npos) << text;
    EXPECT_EQ(text.find(":CONSOLE"), std::string::npos) << text;
  }
}

TEST_F(ReportRender, NothingToReportExitsOneWithoutAPageAndBadFlagsTwo) {
  fs::create_directories(dir_ + "/empty");
  const std::string out = dir_ + "/out.log";
  EXPECT_EQ(shell(kBin + "/trm-report " + dir_ + "/empty > " + out + " 2>&1"), 1) << read_text(out);
  EXPECT_NE(read_text(out).find("nothing to report"), std::string::npos) << read_text(out);
  EXPECT_FALSE(fs::exists(dir_ + "/empty/report.html"));
  EXPECT_EQ(shell(kBin + "/trm-report --no-such-flag " + dir_ + " > " + out + " 2>&1"), 2);
  EXPECT_EQ(shell(kBin + "/trm-report > " + out + " 2>&1"), 2);
}

}  // namespace
