// Eq. 1 alignment: closed form vs brute force, robust estimator, pair finding and the latest-common-date rule.
#include <gtest/gtest.h>

#include <cmath>

#include "core/civil_time.h"
#include "core/rng.h"
#include "data/alignment.h"

using namespace spir;

// The closed form of Eq. 1 minimises the objective: no α on a fine grid (or a golden-section search) does better.
TEST(Alignment, ClosedFormMatchesBruteForce) {
  Rng rng(3);
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<CountPair> pairs;
    const double true_alpha = rng.uniform(0.1, 5);
    for (int i = 0; i < 30; ++i) {
      const double x = std::floor(rng.lognormal(4, 1.5));
      pairs.push_back({std::floor(true_alpha * x * rng.lognormal(0, 0.3)), x});
    }
    const double a = alpha_eq1(pairs);
    double lo = 0, hi = 20;
    for (int it = 0; it < 200; ++it) {  // golden-section search on the convex objective
      const double m1 = lo + (hi - lo) * 0.382, m2 = lo + (hi - lo) * 0.618;
      if (eq1_objective(pairs, m1) < eq1_objective(pairs, m2)) hi = m2;
      else lo = m1;
    }
    EXPECT_NEAR(a, 0.5 * (lo + hi), 1e-6 * std::max(1.0, a));
    for (double g = 0.01; g < 20; g += 0.01) EXPECT_LE(eq1_objective(pairs, a), eq1_objective(pairs, g) + 1e-12);
  }
}

// Hand-computed Eq. 1: pairs (K, X) = (9, 3), (99, 50): α = (9·3/100 + 99·50/10000) / (9/100 + 2500/10000).
TEST(Alignment, ClosedFormHandComputed) {
  const std::vector<CountPair> pairs = {{9, 3}, {99, 50}};
  EXPECT_NEAR(alpha_eq1(pairs), (0.27 + 0.495) / (0.09 + 0.25), 1e-12);
}

// The median of log-ratios ignores one wild pair that drags Eq. 1 (DESIGN.md: Eq. 1 is fragile).
TEST(Alignment, MedianLogRatioIsRobust) {
  std::vector<CountPair> pairs;
  for (int i = 1; i <= 9; ++i) pairs.push_back({2.0 * 100 * i, 100.0 * i});  // α = 2
  EXPECT_NEAR(alpha_median_log_ratio(pairs), 2.0, 1e-9);
  pairs.push_back({1, 100000});  // tiny reference count, huge other count
  EXPECT_NEAR(alpha_median_log_ratio(pairs), 2.0, 1e-9);
  EXPECT_LT(alpha_eq1(pairs), 0.5);  // Eq. 1 is dragged towards 0 by the one pair
  EXPECT_GT(top_weight_share(pairs, 1), 0.99);  // the diagnostic shows one pair decides α
  pairs.pop_back();
  EXPECT_NEAR(top_weight_share(pairs, 9), 1.0, 1e-12);
  EXPECT_LT(top_weight_share(pairs, 1), 0.2);
}

namespace {
Video make_video(const std::string& platform, const std::string& id, const std::string& title, int64_t post_day,
                 std::vector<std::pair<int64_t, int64_t>> day_likes) {
  Video v;
  v.platform = platform;
  v.video_id = id;
  v.title = title;
  v.post_time = post_day * kSecondsPerDay + 3600;
  for (auto [d, likes] : day_likes) {
    Frame f;
    f.day = d;
    f.counts[kLikes] = likes;
    v.frames.push_back(f);
  }
  return v;
}
}  // namespace

// Pairs compare counts on the latest crawl date both videos have (not each one's last frame), skip glitches and
// pairs with a trivial count.
TEST(Alignment, PairsUseLatestCommonDate) {
  VideoSet set;
  set.videos.push_back(make_video("kuaishou", "k1", "t", 100, {{101, 10}, {103, 50}, {105, 70}}));
  set.videos.push_back(make_video("douyin", "d1", "t", 100, {{102, 20}, {103, 100}, {104, 140}}));
  set.videos[1].cross_platform = "kuaishou";
  set.videos[1].cross_video_id = "k1";
  auto pairs = cross_post_pairs(set, "kuaishou");
  ASSERT_EQ(pairs["douyin"].size(), 1u);
  auto cp = count_pairs(set, pairs["douyin"], kLikes, 10);
  ASSERT_EQ(cp.size(), 1u);
  EXPECT_EQ(cp[0].ref, 50);
  EXPECT_EQ(cp[0].other, 100);
  set.videos[0].frames[1].glitch = true;  // day 103 unusable → no common usable date left
  EXPECT_TRUE(count_pairs(set, pairs["douyin"], kLikes, 10).empty());
  set.videos[0].frames[1].glitch = false;
  EXPECT_TRUE(count_pairs(set, pairs["douyin"], kLikes, 60).empty());  // 50 < min count
}

// Cross-post links are followed through a chain (bilibili → douyin → kuaishou) and in either direction.
TEST(Alignment, CrossPostChains) {
  VideoSet set;
  set.videos.push_back(make_video("kuaishou", "k1", "a", 100, {{101, 10}}));
  set.videos.push_back(make_video("douyin", "d1", "a", 100, {{101, 10}}));
  set.videos.push_back(make_video("bilibili", "b1", "a", 100, {{101, 10}}));
  set.videos[1].cross_platform = "kuaishou";
  set.videos[1].cross_video_id = "k1";
  set.videos[2].cross_platform = "douyin";
  set.videos[2].cross_video_id = "d1";
  auto pairs = cross_post_pairs(set, "kuaishou");
  ASSERT_EQ(pairs["douyin"].size(), 1u);
  ASSERT_EQ(pairs["bilibili"].size(), 1u);
  EXPECT_EQ(pairs["bilibili"][0].ref, 0u);
  EXPECT_EQ(pairs["bilibili"][0].other, 2u);
}

// Automatic matching: same normalised title (punctuation, case, spaces ignored) within the window, unique both ways.
TEST(Alignment, TitleMatching) {
  EXPECT_EQ(normalise_title("Hello, World！ 你好。"), "helloworld你好");
  VideoSet set;
  set.videos.push_back(make_video("kuaishou", "k1", "今天的天气真好 #晴天", 100, {{101, 10}}));
  set.videos.push_back(make_video("bilibili", "b1", "今天的天气真好#晴天！", 100, {{101, 10}}));
  set.videos.push_back(make_video("kuaishou", "k2", "另一个完全不同的标题", 100, {{101, 10}}));
  set.videos.push_back(make_video("bilibili", "b2", "另一个完全不同的标题", 110, {{111, 10}}));  // 10 days apart
  set.videos.push_back(make_video("kuaishou", "k3", "短", 100, {{101, 10}}));
  set.videos.push_back(make_video("bilibili", "b3", "短", 100, {{101, 10}}));  // too short to trust
  AlignOptions opt;
  auto pairs = title_match_pairs(set, "bilibili", opt);
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].ref, 0u);
  EXPECT_EQ(pairs[0].other, 1u);
  set.videos.push_back(make_video("kuaishou", "k4", "今天的天气真好 #晴天", 100, {{101, 10}}));  // now ambiguous
  EXPECT_TRUE(title_match_pairs(set, "bilibili", opt).empty());
}

// estimate_alphas recovers known scales from cross-posted pairs and falls back to 1 (source "default") with too few.
TEST(Alignment, EstimateRecoversKnownScale) {
  VideoSet set;
  Rng rng(11);
  for (int i = 0; i < 40; ++i) {
    const int64_t k = 20 + static_cast<int64_t>(rng.lognormal(5, 1));
    set.videos.push_back(make_video("kuaishou", "k" + std::to_string(i), "x", 100, {{110, k}}));
    set.videos.push_back(make_video("douyin", "d" + std::to_string(i), "y", 100, {{110, static_cast<int64_t>(k / 0.4)}}));
    set.videos.back().cross_platform = "kuaishou";
    set.videos.back().cross_video_id = "k" + std::to_string(i);
  }
  set.videos.push_back(make_video("xigua", "x0", "z", 100, {{110, 100}}));
  AlignOptions opt;
  const AlphaTable t = estimate_alphas(set, opt);
  EXPECT_NEAR(t.alpha("douyin", kLikes), 0.4, 0.01);
  EXPECT_EQ(t.alpha("xigua", kLikes), 1.0);
  EXPECT_EQ(t.alpha("kuaishou", kLikes), 1.0);
  EXPECT_EQ(t.alpha("douyin", kViews), 1.0);  // no views in the data at all
  const AlphaTable back = AlphaTable::from_json(t.to_json());
  EXPECT_EQ(back.alpha("douyin", kLikes), t.alpha("douyin", kLikes));
}
