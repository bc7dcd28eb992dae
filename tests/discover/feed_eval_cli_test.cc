// `tokki feed-eval` end to end: simulate and write CSVs, then evaluate the written files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "app/commands.h"

namespace tokki::app {
namespace {

std::vector<std::string> RunCli(std::vector<std::string> args) {
  CLI::App app("tokki");
  AddFeedEvalCommand(app);
  std::vector<const char*> argv = {"tokki"};
  for (const auto& a : args) argv.push_back(a.c_str());
  testing::internal::CaptureStdout();
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (...) {
    testing::internal::GetCapturedStdout();
    throw;
  }
  std::istringstream out(testing::internal::GetCapturedStdout());
  std::vector<std::string> lines;
  for (std::string line; std::getline(out, line);) {
    // Drop the timing fields, which differ from run to run.
    lines.push_back(line.substr(0, line.find(",\"page_p50_us\"")));
  }
  return lines;
}

TEST(FeedEvalCli, SimulatedCsvGivesTheSameFiguresAsTheInMemoryPopulation) {
  const auto dir = std::filesystem::temp_directory_path();
  const std::string rows =
      (dir / ("tokki_fe_rows_" + std::to_string(::getpid()) + ".csv")).string();
  const std::string items =
      (dir / ("tokki_fe_items_" + std::to_string(::getpid()) + ".csv")).string();
  const auto simulated = RunCli({"feed-eval", "--simulate-users", "150", "--simulate-cards", "200",
                                 "--write-interactions", rows, "--write-items", items,
                                 "--max-users", "40", "--seed", "4"});
  ASSERT_EQ(simulated.size(), 3u);
  EXPECT_NE(simulated[0].find("\"policy\":\"tokki\""), std::string::npos);
  EXPECT_NE(simulated[1].find("\"policy\":\"popularity\""), std::string::npos);
  EXPECT_NE(simulated[2].find("\"policy\":\"random\""), std::string::npos);
  EXPECT_NE(simulated[0].find("\"users_evaluated\":40"), std::string::npos);
  const auto replayed = RunCli(
      {"feed-eval", "--interactions", rows, "--items", items, "--max-users", "40", "--seed", "4"});
  EXPECT_EQ(replayed, simulated);
  // Only some policies, random split, other threshold: still one line per policy.
  const auto two = RunCli({"feed-eval", "--interactions", rows, "--policies", "popularity,random",
                           "--split", "random", "--like-threshold", "5", "--deck-size", "10"});
  ASSERT_EQ(two.size(), 2u);
  EXPECT_NE(two[0].find("\"deck_size\":10"), std::string::npos);
  EXPECT_NE(two[0].find("\"split\":\"random\""), std::string::npos);
  EXPECT_THROW(RunCli({"feed-eval", "--interactions", rows, "--split", "sideways"}),
               CLI::ValidationError);
  std::remove(rows.c_str());
  std::remove(items.c_str());
}

}  // namespace
}  // namespace tokki::app
