#include "common/http/io_deadline.h"

#include <chrono>
#include <memory>

#include <boost/asio/io_context.hpp>

#include "gtest/gtest.h"

namespace llmesh::http {
namespace {

using Clock = IoDeadline::Clock;
using std::chrono::milliseconds;

// Bounds every run of the context: a test that fails never hangs.
constexpr milliseconds kWait{5000};

class IoDeadlineTest : public testing::Test {
 protected:
  // Runs the context until `done` or kWait passes.
  template <class Done>
  void RunUntil(Done done) {
    const Clock::time_point give_up = Clock::now() + kWait;
    io_.restart();  // a context that ran out of work stays stopped until restarted
    while (!done() && Clock::now() < give_up) io_.run_one_until(give_up);
  }

  boost::asio::io_context io_;
};

TEST_F(IoDeadlineTest, FiresOnceTheDeadlineHasPassed) {
  int fired = 0;
  Clock::time_point fired_at;
  IoDeadline deadline(io_.get_executor(), [&] {
    ++fired;
    fired_at = Clock::now();
  });
  const Clock::time_point when = Clock::now() + milliseconds(20);
  deadline.Set(when);
  RunUntil([&] { return fired > 0; });
  EXPECT_EQ(fired, 1);
  EXPECT_GE(fired_at, when);
  EXPECT_EQ(deadline.deadline(), Clock::time_point::max());
}

TEST_F(IoDeadlineTest, MovingTheDeadlineLaterDefersTheExpiry) {
  int fired = 0;
  Clock::time_point fired_at;
  IoDeadline deadline(io_.get_executor(), [&] {
    ++fired;
    fired_at = Clock::now();
  });
  deadline.Set(Clock::now() + milliseconds(5));
  const Clock::time_point later = Clock::now() + milliseconds(40);
  deadline.Set(later);
  RunUntil([&] { return fired > 0; });
  EXPECT_EQ(fired, 1);
  EXPECT_GE(fired_at, later);
}

TEST_F(IoDeadlineTest, MovingTheDeadlineEarlierFiresAtTheEarlierTime) {
  int fired = 0;
  IoDeadline deadline(io_.get_executor(), [&] { ++fired; });
  deadline.Set(Clock::now() + std::chrono::hours(1));
  deadline.Set(Clock::now() + milliseconds(5));
  RunUntil([&] { return fired > 0; });
  EXPECT_EQ(fired, 1);
}

TEST_F(IoDeadlineTest, AClearedDeadlineNeverFires) {
  int cleared_fired = 0;
  int witness_fired = 0;
  IoDeadline cleared(io_.get_executor(), [&] { ++cleared_fired; });
  IoDeadline witness(io_.get_executor(), [&] { ++witness_fired; });
  cleared.Set(Clock::now() + milliseconds(5));
  cleared.Clear();
  witness.Set(Clock::now() + milliseconds(40));
  RunUntil([&] { return witness_fired > 0; });
  EXPECT_EQ(witness_fired, 1);
  EXPECT_EQ(cleared_fired, 0);
}

TEST_F(IoDeadlineTest, NothingRunsAfterDestructionBeforeTheWaitCompleted) {
  int fired = 0;
  auto deadline = std::make_unique<IoDeadline>(io_.get_executor(), [&] { ++fired; });
  deadline->Set(Clock::now());
  deadline.reset();
  io_.run_for(milliseconds(20));
  EXPECT_EQ(fired, 0);
}

TEST_F(IoDeadlineTest, NothingRunsAfterDestructionEvenWhenTheWaitHadCompleted) {
  int destroyed_fired = 0;
  auto destroyed = std::make_unique<IoDeadline>(io_.get_executor(), [&] { ++destroyed_fired; });
  // Both waits complete in the same pass, earlier expiry first: the witness's callback destroys
  // the other while that one's completion is already queued.
  bool witness_fired = false;
  IoDeadline witness(io_.get_executor(), [&] {
    witness_fired = true;
    destroyed.reset();
  });
  witness.Set(Clock::now() - milliseconds(10));
  destroyed->Set(Clock::now() - milliseconds(5));
  RunUntil([&] { return witness_fired && io_.poll() == 0; });
  EXPECT_TRUE(witness_fired);
  EXPECT_EQ(destroyed_fired, 0);
}

TEST_F(IoDeadlineTest, CanBeSetAgainAfterFiring) {
  int fired = 0;
  IoDeadline deadline(io_.get_executor(), [&] { ++fired; });
  deadline.Set(Clock::now() + milliseconds(5));
  RunUntil([&] { return fired == 1; });
  deadline.Set(Clock::now() + milliseconds(5));
  RunUntil([&] { return fired == 2; });
  EXPECT_EQ(fired, 2);
}

}  // namespace
}  // namespace llmesh::http
