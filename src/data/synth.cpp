#include "data/synth.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <filesystem>
#include <limits>
#include <sstream>

#include "core/civil_time.h"
#include "core/error.h"
#include "core/line_io.h"
#include "core/progress.h"
#include "core/rng.h"
#include "data/synth_video.h"

namespace spir {

namespace {

// ---------------------------------------------------------------- platforms and their indicators

constexpr int kNumPlatforms = 5;
constexpr int kKuaishou = 1;
constexpr int kBilibili = 4;
const char* const kPlatformNames[kNumPlatforms] = {"douyin", "kuaishou", "xigua", "toutiao", "bilibili"};
const char* const kPlatformCodes[kNumPlatforms] = {"dy", "ks", "xg", "tt", "bl"};
const double kPlatformShare[kNumPlatforms] = {0.55, 0.20, 0.12, 0.09, 0.04};
const char* const kCountFields[6] = {"view_count", "like_count", "share_count",
                                     "collect_count", "comment_count", "fans_count"};

// How a platform reports each of views, likes, shares, collects, comments, fans.
enum Avail : uint8_t { kGiven = 0, kNull = 1, kAbsent = 2 };
const Avail kAvail[kNumPlatforms][6] = {
    {kNull, kGiven, kGiven, kGiven, kGiven, kGiven},    // douyin: no views
    {kGiven, kGiven, kGiven, kGiven, kGiven, kGiven},   // kuaishou: everything
    {kGiven, kGiven, kGiven, kGiven, kGiven, kAbsent},  // xigua: no fans
    {kGiven, kGiven, kGiven, kNull, kGiven, kGiven},    // toutiao: no collects
    {kGiven, kGiven, kGiven, kGiven, kGiven, kGiven},   // bilibili: everything
};

// True alpha (Eq. 1): aligned (kuaishou-equivalent) count = alpha * raw count.
const double kAlpha[kNumPlatforms][5] = {
    {1.0, 0.40, 0.45, 0.35, 0.42},  // douyin (views unused)
    {1.0, 1.0, 1.0, 1.0, 1.0},      // kuaishou (reference)
    {2.5, 2.6, 2.3, 2.7, 2.4},      // xigua
    {2.0, 1.9, 2.2, 1.0, 2.1},      // toutiao (collects unused)
    {3.0, 3.2, 2.8, 3.1, 2.9},      // bilibili
};

// Platform effect on kuaishou-equivalent popularity (log scale) and on the indicator mix.
const double kPlatformEffect[kNumPlatforms] = {0.25, 0.0, -0.15, -0.10, 0.05};
// log(indicator / likes) in kuaishou-equivalent terms, per platform; index 1 (likes) is 0 by definition.
const double kLogRatio[kNumPlatforms][5] = {
    {3.80, 0, -1.57, -1.61, -1.51},  // douyin: shares a little higher
    {3.80, 0, -1.83, -1.61, -1.51},  // kuaishou
    {3.98, 0, -1.83, -1.61, -1.51},  // xigua: more views
    {3.80, 0, -2.05, -1.61, -1.25},  // toutiao: more comments, fewer shares
    {3.80, 0, -1.83, -1.20, -1.33},  // bilibili: more collects and comments
};
const double kRatioSd[5] = {0.45, 0, 0.6, 0.5, 0.55};
const double kFansMu[kNumPlatforms] = {8.9, 8.0, 7.5, 7.7, 7.8};  // log of an ordinary author's fans (raw)
constexpr double kFansSigma = 1.8;

// ---------------------------------------------------------------- dates

const int64_t kFirstPostDay = days_from_civil(2024, 11, 1);
const int64_t kLastPostDay = days_from_civil(2025, 1, 2);
const int64_t kCrawlStartDay = days_from_civil(2024, 11, 25);
const int64_t kTrainLastDay = days_from_civil(2024, 12, 20);
const int64_t kHolidayFirstDay = days_from_civil(2024, 12, 24);
const int64_t kHolidayLastDay = days_from_civil(2025, 1, 1);

// Growth and observation: how much of a video's final popularity is still to come when it is first crawled.
// First crawl delay = min(12, floor(13 u^p)) days after posting: p > 1 puts more first crawls in the first days,
// where the counts settle little of the label (the paper's "<= 3 days" period is the hard one, Figure 8).
constexpr double kDelayPower = 1.6;
constexpr double kTauMin = 1.5, kTauMax = 4.5;  // growth time constant (days) of the first wave
constexpr double kWaveProbability = 0.35;      // share of videos with a second wave
constexpr double kWaveLastStart = 12.0;        // second waves start 2..12 days after posting

// ---------------------------------------------------------------- words

// Common words for titles, descriptions, comments and topic keywords.
const char* const kWordText =
    "生活 日常 今天 明天 朋友 家人 孩子 妈妈 爸爸 老师 学生 学校 工作 公司 老板 同事 城市 农村 家乡 旅行 "
    "美食 火锅 烧烤 奶茶 咖啡 早餐 午饭 晚饭 水果 蔬菜 做饭 厨房 菜谱 减肥 健身 跑步 篮球 足球 游泳 瑜伽 "
    "比赛 冠军 球队 球迷 电影 电视剧 综艺 音乐 歌曲 演唱会 明星 偶像 粉丝 演员 导演 剧情 角色 动漫 游戏 手机 "
    "电脑 科技 数码 汽车 新能源 充电 价格 优惠 购物 快递 直播 带货 主播 视频 拍摄 剪辑 教程 技巧 方法 经验 "
    "分享 推荐 测评 开箱 体验 攻略 故事 回忆 青春 爱情 婚礼 宠物 小猫 小狗 天气 下雪 降温 冬天 春节 元旦 "
    "圣诞 新年 过年 年货 回家 高铁 机场 飞机 酒店 景点 风景 大海 雪山 草原 沙漠 森林 公园 夜景 日出 日落 "
    "月亮 星空 历史 文化 传统 非遗 书法 绘画 摄影 设计 时尚 穿搭 化妆 护肤 发型 美甲 健康 医生 医院 感冒 "
    "流感 睡眠 心情 情绪 压力 焦虑 快乐 幸福 感动 温暖 励志 努力 坚持 梦想 成功 失败 考试 高考 考研 毕业 "
    "求职 面试 工资 房价 租房 装修 家居 收纳 清洁 种花 钓鱼 露营 登山 骑行 自驾 乡村 农民 丰收 养殖 大棚 "
    "果园 市场 经济 政策 新闻 社会 事件 热点 话题 网友 评论 点赞 转发 收藏 关注 官方 发布 宣布 消息 现场 "
    "记者 采访 回应 真相 调查 安全 提醒 注意 警察 消防 救援 志愿者 公益 爱心 帮助 老人 奶奶 爷爷 宝宝 育儿 "
    "亲子 教育 读书 知识 科普 实验 宇宙 航天 火箭 卫星 机器人 人工智能 芯片 手工 模型 积木 魔术 舞蹈 唱歌 "
    "吉他 钢琴 相声 小品 搞笑 段子 挑战 名字 国家 中国 世界 北京 上海 广州 深圳 成都 重庆 杭州 武汉 西安 "
    "南京 长沙 哈尔滨 东北 江南 四川 云南 新疆 西藏 海南 黄河 长江 熊猫 烟花 灯笼 饺子 汤圆 月饼 红包 对联 "
    "庙会 外卖 地铁 公交 堵车 加班 周末 假期 早起 熬夜 晚安 早安 加油 厉害 可爱 漂亮 帅气 好看 好吃 好玩 "
    "有趣 真实 离谱 神奇 意外 惊喜 第一次 最后 终于 原来 居然 竟然 干货 分钟 一天 一年 三年 十年 味道 声音 "
    "颜色 春天 夏天 秋天 早上 晚上 半夜 路上 身边 门口 楼下 小区 邻居 同学 室友 兄弟 姐妹 闺蜜 男友 女友 "
    "老公 老婆 婆婆 宿舍 教室 操场 食堂 超市 菜市场 商场 银行 工厂 车间 工地 办公室 会议 项目 计划 目标";

// Hot words: their presence in a title raises popularity (part of the learnable signal). Kept apart from kWordText.
const char* const kHotText = "震惊 必看 独家 首发 揭秘 爆料 刚刚 突发 名场面 高能 反转 泪目 破防 绝了 炸裂 顶流 官宣 热搜";

const char* const kEmoji[] = {"😂", "👍", "🔥", "❤️", "😭", "🤣", "👏", "🙏", "😍", "[赞]", "[捂脸]", "[呲牙]"};
const char* const kAscii[] = {"666", "hhh", "yyds", "awsl", "OK", "nb", "lol", "2333", "AI", "vlog", "PK", "1+1=2"};
// Rare texts that exercise JSON escaping: quotes, backslashes, control characters.
const char* const kTricky[] = {"\"真的\"", "C:\\视频\\新建", "第一行\n第二行", "tab\there", "引用'单引号'", "a/b\\c"};
const char* const kProvinces[] = {"北京", "上海", "广东", "浙江", "江苏", "四川", "湖北", "湖南", "河南", "河北",
                                  "山东", "山西", "陕西", "福建", "安徽", "江西", "辽宁", "吉林", "黑龙江", "重庆",
                                  "天津", "云南", "贵州", "广西", "海南", "甘肃", "新疆", "内蒙古", "宁夏", "青海"};
const char* const kPunct[] = {"！", "？", "…", "，", "。", "!!", ""};

std::vector<std::string> split_words(const char* text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string w;
  while (in >> w) out.push_back(w);
  return out;
}

template <size_t N>
const char* pick(Rng& rng, const char* const (&arr)[N]) {
  return arr[rng.below(N)];
}

// ---------------------------------------------------------------- scales

struct ScaleSpec {
  int64_t videos;
  int influencers;
  double extra_pieces;     // pieces per influencer = 1 + Poisson(extra_pieces)
  double copy_prob[kNumPlatforms];  // chance that a piece is also posted on a platform (kuaishou always)
};

ScaleSpec scale_spec(const std::string& name) {
  if (name == "tiny") return {400, 40, 0.0, {0.95, 1.0, 0.85, 0.85, 0.85}};
  if (name == "small") return {6000, 80, 0.0, {0.9, 1.0, 0.6, 0.6, 0.6}};
  if (name == "paper") return {117720, 199, 2.0, {0.9, 1.0, 0.6, 0.6, 0.5}};
  throw Error("synth: unknown scale '" + name + "' (expected tiny, small or paper)");
}

// ---------------------------------------------------------------- the latent world

struct Topic {
  std::string keyword;
  double heat = 0;
};

struct Author {
  double fans0 = 0;    // raw fans on 2024-11-01
  double growth = 0;   // per day, log scale
  double fans_std = 0; // standardised log fans within the platform (the popularity input)
};

struct Piece {       // one influencer content posted on several platforms
  int64_t post_time = 0;
  int32_t topic = 0;
  int32_t kuaishou_index = 0;  // platform-local index of the kuaishou copy
  double z = 0;                // log kuaishou-equivalent final likes
  double log_ratio[5] = {0, 0, 0, 0, 0};
  float duration = 0;
  uint8_t hot = 0;
  std::string title;
};

struct VideoSpec {
  int64_t post_time = 0;
  double z = 0;               // log kuaishou-equivalent final likes; -inf for a dead video
  float log_ratio[5] = {0, 0, 0, 0, 0};
  float duration = 0;
  int32_t author = 0;
  int32_t topic = 0;
  int32_t local = 0;          // index of the video on its platform (for its id)
  int32_t piece = -1;         // influencer piece, -1 for an ordinary video
  uint8_t platform = 0;
  uint8_t hot = 0;
};

// A bijection of [0, m) (m a product of small primes, the multiplier a prime that divides none of them).
uint64_t scramble(uint64_t i, uint64_t m, uint64_t offset) {
  const unsigned __int128 x = static_cast<unsigned __int128>(i) * 1000000007ULL + offset;
  return static_cast<uint64_t>(x % m);
}

std::string pad_digits(uint64_t v, int width) {
  std::string s = std::to_string(v);
  if (static_cast<int>(s.size()) < width) s.insert(0, width - s.size(), '0');
  return s;
}

std::string in_base(uint64_t v, int width, const char* digits, uint64_t base) {
  std::string s(width, digits[0]);
  for (int i = width - 1; i >= 0; --i) {
    s[i] = digits[v % base];
    v /= base;
  }
  return s;
}

class World {
 public:
  World(const SynthOptions& opt, const ScaleSpec& sc);
  std::vector<Topic> topics;
  std::vector<Author> authors[kNumPlatforms];
  std::vector<Piece> pieces;
  std::vector<VideoSpec> videos;  // in output order
  std::vector<std::string> words, hot_words;
  uint64_t id_offset = 0;

  std::string video_id(int p, int32_t local) const;
  std::string some_words(Rng& rng, int n) const;
  std::string make_title(int topic, int hot, Rng& rng) const;

 private:
  int64_t draw_post_time(Rng& rng) const;
  float draw_duration(Rng& rng) const;
  double popularity(Rng& rng, int p, const Author& a, int topic, double duration, int hot, int64_t post_time) const;
  int32_t draw_topic(Rng& rng, int64_t post_time) const;
  void draw_ratios(Rng& rng, int p, float* out) const;
  Categorical post_day_;
  std::vector<Categorical> topic_pick_;  // per post day: topics trend and fade
};

std::string World::video_id(int p, int32_t local) const {
  const uint64_t i = static_cast<uint64_t>(local);
  switch (p) {
    case 0: return "74" + pad_digits(scramble(i, 100000000000000000ULL, id_offset), 17);
    case 1: {
      const uint64_t m = 4738381338321616896ULL;  // 36^12
      return "3x" + in_base(scramble(i, m, id_offset % m), 12, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
    }
    case 2: return "7" + pad_digits(scramble(i, 1000000000000000000ULL, id_offset), 18);
    case 3: return "73" + pad_digits(scramble(i, 100000000000000000ULL, id_offset), 17);
    default: {
      const uint64_t m = 13537086546263552ULL;  // 62^9
      return "BV1" + in_base(scramble(i, m, id_offset % m), 9,
                             "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 62);
    }
  }
}

std::string World::some_words(Rng& rng, int n) const {
  std::string s;
  for (int k = 0; k < n; ++k) s += words[rng.below(words.size())];
  return s;
}

// A title of common words, sometimes with the topic keyword, hot words and hashtags.
std::string World::make_title(int topic, int hot, Rng& rng) const {
  std::string t;
  const std::string& kw = topics[topic].keyword;
  if (hot > 0) t += "【" + hot_words[rng.below(hot_words.size())] + "】";
  if (rng.bernoulli(0.45)) t += kw;
  t += some_words(rng, 2 + static_cast<int>(rng.below(4)));
  if (hot > 1) t += hot_words[rng.below(hot_words.size())];
  t += pick(rng, kPunct);
  if (rng.bernoulli(0.3)) t += " #" + kw;
  if (rng.bernoulli(0.15)) t += " #" + some_words(rng, 1);
  return t;
}

int64_t World::draw_post_time(Rng& rng) const {
  const int64_t day = kFirstPostDay + static_cast<int64_t>(post_day_.sample(rng));
  // Time of day: fewer posts at night, peaks at noon and in the evening.
  static const double kHourW[24] = {0.6, 0.35, 0.2, 0.15, 0.15, 0.2, 0.4, 0.7, 0.9, 1.0, 1.0, 1.2,
                                    1.4, 1.2, 1.0, 1.0, 1.1, 1.3, 1.6, 1.8, 1.9, 1.8, 1.5, 1.0};
  static const Categorical kHours(std::vector<double>(kHourW, kHourW + 24));
  const int64_t hour = static_cast<int64_t>(kHours.sample(rng));
  return day * kSecondsPerDay + hour * 3600 + static_cast<int64_t>(rng.below(3600));
}

float World::draw_duration(Rng& rng) const {
  // Mixture: a main peak near 7 s, a second peak near 38 s, and a long tail up to 300 s.
  double d;
  const double u = rng.uniform();
  if (u < 0.50) d = rng.lognormal(std::log(7.0), 0.35);
  else if (u < 0.68) d = rng.normal(38.0, 2.5);
  else d = rng.lognormal(std::log(45.0), 0.95);
  d = std::round(std::clamp(d, 1.0, 300.0));
  return static_cast<float>(d);
}

int32_t World::draw_topic(Rng& rng, int64_t post_time) const {
  const int64_t d = std::clamp<int64_t>(day_of(post_time), kFirstPostDay, kLastPostDay) - kFirstPostDay;
  return static_cast<int32_t>(topic_pick_[static_cast<size_t>(d)].sample(rng));
}

double World::popularity(Rng& rng, int p, const Author& a, int topic, double duration, int hot,
                         int64_t post_time) const {
  // Log kuaishou-equivalent final likes: log-linear in observable things plus substantial noise.
  double z = 3.85 + 0.45 * topics[topic].heat + 0.55 * a.fans_std + 0.5 * hot - 0.12 * std::log(duration / 15.0) +
             kPlatformEffect[p] + rng.normal(0, 1.15);
  const int64_t day = day_of(post_time);
  if (day >= kHolidayFirstDay && day <= kHolidayLastDay) z += 0.15;  // the year-end holidays
  if (rng.bernoulli(0.2)) z += rng.exponential(1.0 / 1.6);  // some videos go viral
  return z;
}

void World::draw_ratios(Rng& rng, int p, float* out) const {
  for (int i = 0; i < 5; ++i) out[i] = static_cast<float>(i == 1 ? 0.0 : rng.normal(kLogRatio[p][i], kRatioSd[i]));
}

World::World(const SynthOptions& opt, const ScaleSpec& sc) {
  Rng rng(opt.seed * 0x9E3779B97F4A7C15ULL + 0x5350495253594E54ULL);  // "SPIRSYNT"
  id_offset = rng.next_u64() % 1000000000000000ULL;
  words = split_words(kWordText);
  hot_words = split_words(kHotText);

  // Post days: a thin tail before crawling began, most posts during it, fewer in the last (test) days.
  {
    std::vector<double> w;
    for (int64_t d = kFirstPostDay; d <= kLastPostDay; ++d) {
      double x = 1.0;
      if (d < kCrawlStartDay - 14) x = 0.15;
      else if (d < kCrawlStartDay) x = 0.6;
      else if (d > kTrainLastDay) x = 0.62;
      w.push_back(x);
    }
    post_day_ = Categorical(w);
  }

  // 535 topics: keywords of two or three common words, Zipf-like popularity, a latent heat tied to it, and a
  // trend over time (each topic peaks on some day and fades), so train and test topics differ somewhat.
  {
    const int kTopics = 535;
    std::vector<double> zipf, peak, width;
    std::vector<std::string> seen;
    for (int r = 0; r < kTopics; ++r) {
      std::string kw;
      do {
        const int n = rng.bernoulli(0.25) ? 3 : 2;
        kw.clear();
        for (int k = 0; k < n; ++k) kw += words[rng.below(words.size())];
      } while (std::find(seen.begin(), seen.end(), kw) != seen.end());
      seen.push_back(kw);
      Topic t;
      t.keyword = kw;
      const double rank_score = std::log(kTopics / (r + 1.0)) - 5.3;  // mean about 0 over ranks
      t.heat = 0.45 * rank_score + 0.85 * rng.normal();
      topics.push_back(std::move(t));
      zipf.push_back(1.0 / std::pow(r + 2.0, 1.05));
      peak.push_back(rng.uniform(static_cast<double>(kFirstPostDay), static_cast<double>(kLastPostDay)));
      width.push_back(rng.uniform(5.0, 20.0));
    }
    for (int64_t d = kFirstPostDay; d <= kLastPostDay; ++d) {
      std::vector<double> tw(kTopics);
      for (int r = 0; r < kTopics; ++r) {
        const double x = (static_cast<double>(d) - peak[r]) / width[r];
        tw[r] = zipf[r] * (0.25 + std::exp(-0.5 * x * x));
      }
      topic_pick_.emplace_back(tw);
    }
  }

  // Influencers: each has an author on every platform and posts pieces copied across platforms.
  std::vector<int32_t> platform_count(kNumPlatforms, 0);
  std::vector<VideoSpec> infl_videos;
  for (int f = 0; f < sc.influencers; ++f) {
    const double fans_std = rng.normal(3.2, 0.5);
    int32_t author_index[kNumPlatforms];
    for (int p = 0; p < kNumPlatforms; ++p) {
      Author a;
      a.fans_std = fans_std + rng.normal(0, 0.2);
      a.fans0 = std::exp(kFansMu[p] + kFansSigma * a.fans_std);
      a.growth = rng.uniform(0.0005, 0.004);
      author_index[p] = static_cast<int32_t>(authors[p].size());
      authors[p].push_back(a);
    }
    const int64_t n_pieces = 1 + rng.poisson(sc.extra_pieces);
    for (int64_t k = 0; k < n_pieces; ++k) {
      Piece pc;
      pc.post_time = draw_post_time(rng);
      pc.topic = draw_topic(rng, pc.post_time);
      pc.duration = draw_duration(rng);
      pc.hot = rng.bernoulli(0.3) ? 1 : 0;
      pc.title = make_title(pc.topic, pc.hot, rng);
      pc.z = popularity(rng, kKuaishou, authors[kKuaishou][author_index[kKuaishou]], pc.topic, pc.duration, pc.hot,
                        pc.post_time);
      float ratios[5];
      draw_ratios(rng, kKuaishou, ratios);
      for (int i = 0; i < 5; ++i) pc.log_ratio[i] = ratios[i];
      const int32_t piece_index = static_cast<int32_t>(pieces.size());
      for (int p = 0; p < kNumPlatforms; ++p) {
        if (p != kKuaishou && !rng.bernoulli(sc.copy_prob[p])) continue;
        VideoSpec v;
        v.platform = static_cast<uint8_t>(p);
        v.piece = piece_index;
        v.author = author_index[p];
        v.topic = pc.topic;
        v.duration = pc.duration;
        v.hot = pc.hot;
        v.local = platform_count[p]++;
        if (p == kKuaishou) {
          pc.kuaishou_index = v.local;
          v.post_time = pc.post_time;
          v.z = pc.z;
        } else {
          v.post_time = pc.post_time + static_cast<int64_t>(rng.uniform(-4.0, 4.0) * 3600);
          v.z = pc.z + rng.normal(0, 0.15);  // similar underlying popularity, modest noise
        }
        // The same content has the same (kuaishou-equivalent) indicator mix up to small noise, so that Eq. 1
        // recovers alpha from the pairs.
        for (int i = 0; i < 5; ++i)
          v.log_ratio[i] = i == 1 ? 0.f : static_cast<float>(pc.log_ratio[i] + rng.normal(0, 0.06));
        infl_videos.push_back(v);
      }
      pieces.push_back(std::move(pc));
    }
  }

  // Ordinary videos: fill each platform up to its share of the total.
  std::vector<int64_t> ordinary(kNumPlatforms, 0);
  int64_t sum = static_cast<int64_t>(infl_videos.size());
  for (int p = 1; p < kNumPlatforms; ++p) {
    ordinary[p] = std::max<int64_t>(0, std::llround(kPlatformShare[p] * sc.videos) - platform_count[p]);
    sum += ordinary[p];
  }
  ordinary[0] = sc.videos - sum;
  if (ordinary[0] < 0) throw Error("synth: scale too small for its influencers");

  videos = std::move(infl_videos);
  videos.reserve(sc.videos);
  for (int p = 0; p < kNumPlatforms; ++p) {
    // Author pool: about one author per three videos; videos per author long-tailed.
    const int64_t n_authors = std::max<int64_t>(1, ordinary[p] / 3);
    const int32_t first = static_cast<int32_t>(authors[p].size());
    std::vector<double> aw;
    for (int64_t a = 0; a < n_authors; ++a) {
      Author au;
      au.fans_std = rng.normal();
      au.fans0 = std::exp(kFansMu[p] + kFansSigma * au.fans_std);
      au.growth = rng.uniform(0.0, 0.003);
      authors[p].push_back(au);
      aw.push_back(1.0 / std::pow(a + 1.0, 0.65));
    }
    const Categorical author_pick(aw);
    for (int64_t k = 0; k < ordinary[p]; ++k) {
      VideoSpec v;
      v.platform = static_cast<uint8_t>(p);
      v.author = first + static_cast<int32_t>(author_pick.sample(rng));
      v.post_time = draw_post_time(rng);
      v.topic = draw_topic(rng, v.post_time);
      v.duration = draw_duration(rng);
      const double u = rng.uniform();
      v.hot = u < 0.03 ? 2 : (u < 0.15 ? 1 : 0);
      v.local = platform_count[p]++;
      v.z = rng.bernoulli(0.004) ? -std::numeric_limits<double>::infinity()  // a dead video: nothing ever
                                 : popularity(rng, p, authors[p][v.author], v.topic, v.duration, v.hot, v.post_time);
      draw_ratios(rng, p, v.log_ratio);
      videos.push_back(v);
    }
  }

  // Output order: shuffled (a crawl file is not sorted).
  for (size_t i = videos.size(); i > 1; --i) std::swap(videos[i - 1], videos[rng.below(i)]);
}

// ---------------------------------------------------------------- JSON writing

void put_escaped(std::string& out, std::string_view s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          static const char kHex[] = "0123456789abcdef";
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void put_int(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

void put_key(std::string& out, const char* key) {
  out += '"';
  out += key;
  out += "\":";
}

void put_field(std::string& out, const char* key, std::string_view value) {
  put_key(out, key);
  put_escaped(out, value);
  out += ',';
}

// ---------------------------------------------------------------- one video

struct VideoStats {
  int64_t comments = 0, frames = 0, glitches = 0;
};

class VideoWriter {
 public:
  explicit VideoWriter(const World& w) : w_(w) {}
  // Writes the JSON line of video v (without newline) into out; a non-empty video_path is written after url.
  void write(const VideoSpec& v, Rng& rng, std::string& out, VideoStats& st, const std::string& video_path);

 private:
  std::string words(Rng& rng, int n) { return w_.some_words(rng, n); }
  std::string comment_text(const VideoSpec& v, Rng& rng);
  const World& w_;
  std::vector<int64_t> days_, comment_times_;
};

std::string VideoWriter::comment_text(const VideoSpec& v, Rng& rng) {
  std::string s;
  if (rng.bernoulli(0.25)) s += w_.topics[v.topic].keyword;
  s += words(rng, 1 + static_cast<int>(rng.below(7)));
  if (rng.bernoulli(0.1)) s += pick(rng, kAscii);
  if (rng.bernoulli(0.3)) s += pick(rng, kPunct);
  if (rng.bernoulli(0.15)) s += pick(rng, kEmoji);
  if (rng.bernoulli(0.01)) s += pick(rng, kTricky);
  return s;
}

void VideoWriter::write(const VideoSpec& v, Rng& rng, std::string& out, VideoStats& st,
                        const std::string& video_path) {
  const int p = v.platform;
  const int64_t post_day = day_of(v.post_time);
  const double post_days = static_cast<double>(v.post_time) / kSecondsPerDay;

  // Crawl dates: found some days after posting (never before crawling began), then daily until two weeks
  // have passed, then one or two more; daily frames go missing now and then; a few videos stop early.
  days_.clear();
  const int delay = std::min(12, static_cast<int>(13.0 * std::pow(rng.uniform(), kDelayPower)));
  const int64_t start = std::max(post_day + delay, kCrawlStartDay);
  const bool stops_early = rng.bernoulli(0.03) && start <= post_day + 13;
  if (stops_early) {
    const int64_t stop = start + static_cast<int64_t>(rng.below(static_cast<uint64_t>(post_day + 14 - start)));
    for (int64_t d = start; d <= stop; ++d)
      if (d == start || !rng.bernoulli(0.1)) days_.push_back(d);
  } else {
    for (int64_t d = start; d <= post_day + 13; ++d)
      if (d == start || !rng.bernoulli(0.1)) days_.push_back(d);
    int64_t label = std::max(start, post_day + 14);
    if (label != start && rng.bernoulli(0.1)) ++label;
    days_.push_back(label);
    int64_t d = label;
    const int extra = 1 + static_cast<int>(rng.below(2));
    for (int k = 0; k < extra; ++k) {
      d += rng.bernoulli(0.3) ? 2 : 1;
      days_.push_back(d);
    }
  }

  // Final raw counts and growth time constants per indicator.
  const double tau = rng.uniform(kTauMin, kTauMax);
  static const double kTauScale[5] = {0.8, 1.0, 0.9, 1.0, 1.15};
  double final_raw[5], taus[5];
  for (int i = 0; i < 5; ++i) {
    const double k_equiv = std::isinf(v.z) ? 0.0 : std::exp(v.z + v.log_ratio[i]);
    final_raw[i] = k_equiv / kAlpha[p][i];
    taus[i] = tau * kTauScale[i] * rng.uniform(0.85, 1.15);
  }
  const Author& author = w_.authors[p][v.author];
  // A second wave for some videos (pushed again by the platform, re-shared): part of the final counts arrives
  // only days later, so early counts do not settle the label. The total stays set by the popularity z.
  const bool wave = rng.bernoulli(kWaveProbability);
  const double wave_share = wave ? rng.uniform(0.3, 0.75) : 0.0;
  const double wave_start = rng.uniform(2.0, kWaveLastStart), wave_tau = rng.uniform(0.8, 2.0);

  const size_t nf = days_.size();
  const bool glitch = nf >= 3 && rng.bernoulli(0.003);
  const size_t glitch_at = glitch ? 1 + static_cast<size_t>(rng.below(nf - 2)) : nf;

  out.clear();
  out += '{';
  put_field(out, "video_id", w_.video_id(p, v.local));
  put_field(out, "platform", kPlatformNames[p]);
  put_field(out, "topic", w_.topics[v.topic].keyword);
  const std::string t = v.piece >= 0 ? w_.pieces[v.piece].title : w_.make_title(v.topic, v.hot, rng);
  put_field(out, "title", t);
  std::string desc;
  const double ud = rng.uniform();
  if (ud < 0.25) desc = "";
  else if (ud < 0.6) desc = t + words(rng, 2 + static_cast<int>(rng.below(6)));
  else desc = words(rng, 3 + static_cast<int>(rng.below(8))) + " #" + words(rng, 1) + " #" + words(rng, 1);
  if (rng.bernoulli(0.005)) desc += pick(rng, kTricky);
  put_field(out, "desc", desc);
  put_field(out, "content", rng.bernoulli(0.8) ? std::string() : words(rng, 5 + static_cast<int>(rng.below(20))));
  char uid[32];
  std::snprintf(uid, sizeof uid, "u_%s_%06d", kPlatformCodes[p], v.author);
  put_field(out, "user_id", uid);
  put_field(out, "nickname", "用户" + pad_digits(scramble(static_cast<uint64_t>(v.author) * 5 + p, 10000000ULL, 4321), 7));
  put_key(out, "duration");
  put_int(out, static_cast<int64_t>(v.duration));
  out += ',';
  put_field(out, "post_create_time", format_datetime(v.post_time));
  std::string url;
  const std::string id = w_.video_id(p, v.local);
  switch (p) {
    case 0: url = "https://www.douyin.com/video/" + id; break;
    case 1: url = "https://www.kuaishou.com/short-video/" + id; break;
    case 2: url = "https://www.ixigua.com/" + id; break;
    case 3: url = "https://www.toutiao.com/video/" + id + "/"; break;
    default: url = "https://www.bilibili.com/video/" + id; break;
  }
  put_field(out, "url", url);
  if (!video_path.empty()) put_field(out, "video_path", video_path);

  // time_frames: cumulative counts final * (1 - exp(-t / tau)) with small noise, kept non-decreasing.
  put_key(out, "time_frames");
  out += '{';
  int64_t prev[6] = {0, 0, 0, 0, 0, 0};
  int64_t last_comment_count = 0;
  for (size_t f = 0; f < nf; ++f) {
    const int64_t d = days_[f];
    const double t_days = std::max(0.02, static_cast<double>(d) + rng.uniform(0.25, 0.95) - post_days);
    int64_t c[6];
    for (int i = 0; i < 5; ++i) {
      double g = (1 - wave_share) * -std::expm1(-t_days / taus[i]);
      if (t_days > wave_start) g += wave_share * -std::expm1(-(t_days - wave_start) / wave_tau);
      const double x = final_raw[i] * g * std::exp(rng.normal(0, 0.03));
      c[i] = std::max(prev[i], static_cast<int64_t>(std::llround(x)));
    }
    const double fans = author.fans0 * std::exp(author.growth * static_cast<double>(d - kFirstPostDay)) +
                        0.02 * static_cast<double>(c[1]);
    c[5] = std::max(prev[5], static_cast<int64_t>(std::llround(fans)));
    for (int i = 0; i < 6; ++i) prev[i] = c[i];
    last_comment_count = c[4];
    const bool zero = f == glitch_at;
    if (f) out += ',';
    put_escaped(out, format_date(d));
    out += ":{";
    bool first = true;
    for (int i = 0; i < 6; ++i) {
      if (kAvail[p][i] == kAbsent) continue;
      if (!first) out += ',';
      first = false;
      put_key(out, kCountFields[i]);
      if (kAvail[p][i] == kNull) out += "null";
      else put_int(out, zero ? 0 : c[i]);
    }
    out += '}';
  }
  out += '}';
  st.frames += static_cast<int64_t>(nf);
  st.glitches += glitch ? 1 : 0;

  // Comments: more for more-discussed videos (capped), early in the video's life, none after the last crawl date.
  const double lambda = std::min(60.0, 0.5 + 1.17 * std::sqrt(static_cast<double>(last_comment_count)));
  const int64_t n_comments = std::min<int64_t>({60, last_comment_count, rng.poisson(lambda)});
  if (n_comments > 0) {
    const double horizon = static_cast<double>((days_.back() + 1) * kSecondsPerDay - 1 - v.post_time);
    const double tau_s = taus[4] * kSecondsPerDay;
    const double mass = -std::expm1(-horizon / tau_s);
    comment_times_.clear();
    for (int64_t k = 0; k < n_comments; ++k) {
      const double u = rng.uniform() * mass;
      const double dt = std::min(horizon, -tau_s * std::log1p(-u));
      comment_times_.push_back(v.post_time + 1 + static_cast<int64_t>(dt));
    }
    std::sort(comment_times_.begin(), comment_times_.end());
    out += ",\"comments\":[";
    for (int64_t k = 0; k < n_comments; ++k) {
      if (k) out += ',';
      out += '{';
      put_field(out, "comment_content", comment_text(v, rng));
      put_field(out, "comment_time", format_datetime(comment_times_[k]));
      put_field(out, "comment_user_id", "c_" + pad_digits(rng.below(100000000), 8));
      put_field(out, "comment_nickname",
                rng.bernoulli(0.6) ? "用户" + pad_digits(rng.below(10000000), 7) : words(rng, 2));
      put_key(out, "ip_address");
      put_escaped(out, pick(rng, kProvinces));
      out += '}';
    }
    out += ']';
    st.comments += n_comments;
  } else {
    out += ",\"comments\":[]";
  }

  if (v.piece >= 0 && p != kKuaishou && p != kBilibili) {
    out += ",\"cross_post_of\":{\"platform\":\"kuaishou\",\"video_id\":";
    put_escaped(out, w_.video_id(kKuaishou, w_.pieces[v.piece].kuaishou_index));
    out += '}';
  }
  out += '}';
}

// ---------------------------------------------------------------- video files

// Rng streams of the video files, far from the per-line streams (0 … videos − 1) and the corruption stream.
constexpr uint64_t kVideoPickStream = 0x5649444500000000ULL;   // per video: whether it gets a file
constexpr uint64_t kVideoLookStream = 0x564C4F4F00000000ULL;   // per ordinary video or influencer piece: its look
constexpr uint64_t kTopicHueStream = 0x5648554500000000ULL;    // per topic: its typical hue

// The look of a video's file. Copies of an influencer piece share the piece's look (the same content). The latent
// quality q (standardised popularity z) nudges brightness, saturation and motion up; the topic sets a typical hue.
SyntheticVideoLook video_look(const World& w, const VideoSpec& v, size_t index, const Rng& base) {
  const bool piece = v.piece >= 0;
  Rng r = base.split(piece ? kVideoLookStream + (1ULL << 31) + static_cast<uint64_t>(v.piece)
                           : kVideoLookStream + index);
  const double z = piece ? w.pieces[v.piece].z : v.z;
  const double q = std::isinf(z) ? -2.5 : std::clamp((z - 4.2) / 1.6, -2.5, 2.5);
  SyntheticVideoLook look;
  const bool portrait = r.bernoulli(0.6);
  look.width = portrait ? 64 : 96;
  look.height = portrait ? 96 : 64;
  look.fps = 8.0 + 2.0 * static_cast<double>(r.below(3));
  look.duration_s = 2.0 + 2.0 * std::log(std::max(1.0f, v.duration)) / std::log(300.0);
  const double topic_hue = base.split(kTopicHueStream + static_cast<uint64_t>(v.topic)).uniform();
  const double hue = topic_hue + r.normal(0, 0.08);
  look.hue = hue - std::floor(hue);
  look.brightness = std::clamp(0.5 + 0.08 * q + r.normal(0, 0.12), 0.12, 0.92);
  look.saturation = std::clamp(0.45 + 0.08 * q + r.normal(0, 0.15), 0.05, 0.95);
  look.motion = std::clamp(0.3 + 0.12 * q + r.normal(0, 0.15), 0.0, 1.2);
  look.texture = r.uniform(0.0, 0.6);
  look.seed = r.next_u64();
  return look;
}

// The folder of the video files: the output path without ".gz" and its extension, plus ".videos".
std::filesystem::path video_folder(const std::string& out) {
  std::filesystem::path p(out);
  if (p.extension() == ".gz") p.replace_extension();
  p.replace_extension();
  p += ".videos";
  return p;
}

// ---------------------------------------------------------------- corruption

const char* const kRequired[] = {"video_id", "platform", "topic", "user_id", "post_create_time", "time_frames"};
const char* const kNotJson[] = {"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
                                "ERROR: request timed out after 30 s", "抓取失败，请稍后重试",
                                "video_id=7440 platform=douyin status=blocked"};
const char* const kBadCount[] = {"N/A", "--", "暂无", "unknown"};

// Returns the malformed variant of a well-formed line and names its kind. recent holds earlier well-formed lines.
std::string corrupt_line(const std::string& good, const std::deque<std::string>& recent, Rng& rng,
                         std::string& kind) {
  int k = static_cast<int>(rng.below(9));
  if (k == 8 && recent.empty()) k = 0;
  switch (k) {
    case 0: {
      kind = "truncated";
      size_t cut = good.size() / 4 + rng.below(good.size() / 2);
      while (cut > 1 && (static_cast<unsigned char>(good[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
      return good.substr(0, cut);
    }
    case 1: kind = "not_json"; return pick(rng, kNotJson);
    case 7: kind = "json_array"; return "[" + good + "]";
    default: break;
  }
  auto j = nlohmann::ordered_json::parse(k == 8 ? recent[rng.below(recent.size())] : good);
  switch (k) {
    case 2: {
      const char* field = pick(rng, kRequired);
      kind = std::string("missing_") + field;
      j.erase(field);
      break;
    }
    case 3: kind = "bad_date"; j["post_create_time"] = "2024-13-45 99:00:00"; break;
    case 4:
    case 5: {
      // A count of one frame made negative or a non-numeric string.
      kind = k == 4 ? "negative_count" : "string_count";
      auto& frames = j["time_frames"];
      auto it = frames.begin();
      std::advance(it, static_cast<long>(rng.below(frames.size())));
      std::vector<std::string> keys;
      for (auto c = it.value().begin(); c != it.value().end(); ++c)
        if (!c.value().is_null()) keys.push_back(c.key());
      auto& cell = it.value()[keys[rng.below(keys.size())]];
      if (k == 4) cell = -1 - static_cast<int64_t>(rng.below(1000));
      else cell = pick(rng, kBadCount);
      break;
    }
    case 6: kind = "empty_time_frames"; j["time_frames"] = nlohmann::ordered_json::object(); break;
    case 8: {
      kind = "conflicting_duplicate";
      const auto t = parse_datetime(j["post_create_time"].get<std::string>());
      const int64_t shift = (1 + static_cast<int64_t>(rng.below(72))) * 3600 + static_cast<int64_t>(rng.below(3600));
      j["post_create_time"] = format_datetime(*t + shift);
      break;
    }
    default: break;
  }
  return j.dump();
}

}  // namespace

std::vector<std::string> synth_platforms() { return {kPlatformNames, kPlatformNames + kNumPlatforms}; }

double synth_true_alpha(const std::string& platform, int indicator) {
  if (indicator < 0 || indicator >= 5) throw Error("synth_true_alpha: indicator must be 0..4");
  for (int p = 0; p < kNumPlatforms; ++p) {
    if (platform != kPlatformNames[p]) continue;
    if (kAvail[p][indicator] != kGiven) return std::numeric_limits<double>::quiet_NaN();
    return kAlpha[p][indicator];
  }
  throw Error("synth_true_alpha: unknown platform '" + platform + "'");
}

nlohmann::json SynthSummary::to_json() const {
  nlohmann::json j;
  j["scale"] = scale;
  j["seed"] = seed;
  j["videos"] = videos;
  j["lines"] = lines;
  j["comments"] = comments;
  j["frames"] = frames;
  j["corrupted_lines"] = corrupted_lines;
  j["cross_posts"] = cross_posts;
  j["glitch_frames"] = glitch_frames;
  j["video_files"] = video_files;
  j["per_platform"] = per_platform;
  j["corrupt_kinds"] = corrupt_kinds;
  return j;
}

SynthSummary write_synthetic_crawl(const SynthOptions& opt) {
  const ScaleSpec sc = scale_spec(opt.scale);
  if (!(opt.corrupt >= 0.0 && opt.corrupt <= 1.0)) throw Error("synth: corrupt must be a fraction in [0, 1]");
  if (opt.out.empty()) throw Error("synth: no output path");
  if (!(opt.video_fraction >= 0.0 && opt.video_fraction <= 1.0))
    throw Error("synth: video fraction must be in [0, 1]");

  const World world(opt, sc);
  Rng base(opt.seed ^ 0xA5A5F00DCAFEBEEFULL);
  Rng corrupt_rng = base.split(0xC0FFEE);
  SynthSummary s;
  s.scale = opt.scale;
  s.seed = opt.seed;
  for (const char* p : kPlatformNames) s.per_platform[p] = 0;

  AtomicWriter writer(opt.out);
  VideoWriter vw(world);
  std::string line;
  std::deque<std::string> recent;  // a few earlier well-formed lines, for conflicting duplicates
  const bool with_videos = opt.video_fraction > 0;
  const std::filesystem::path folder = with_videos ? video_folder(opt.out) : std::filesystem::path();
  if (with_videos) {
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    if (ec) throw Error("synth: cannot create " + folder.string() + ": " + ec.message());
  }
  std::string video_path;
  const bool show = sc.videos >= 50000;
  Progress progress("synth", static_cast<int64_t>(world.videos.size()), "videos");
  for (size_t i = 0; i < world.videos.size(); ++i) {
    const VideoSpec& v = world.videos[i];
    Rng rng = base.split(i);
    VideoStats st;
    video_path.clear();
    if (with_videos && base.split(kVideoPickStream + i).uniform() < opt.video_fraction) {
      const std::string file =
          std::string(kPlatformNames[v.platform]) + "_" + world.video_id(v.platform, v.local) + ".mp4";
      std::string err;
      if (!write_synthetic_mp4((folder / file).string(), video_look(world, v, i, base), &err))
        throw Error("synth: " + err);
      video_path = folder.filename().string() + "/" + file;
      ++s.video_files;
    }
    vw.write(v, rng, line, st, video_path);
    if (opt.corrupt > 0 && corrupt_rng.bernoulli(opt.corrupt)) {
      std::string kind;
      writer.line(corrupt_line(line, recent, corrupt_rng, kind));
      ++s.corrupt_kinds[kind];
      ++s.corrupted_lines;
    } else {
      writer.line(line);
      ++s.videos;
      ++s.per_platform[kPlatformNames[v.platform]];
      s.comments += st.comments;
      s.frames += st.frames;
      s.glitch_frames += st.glitches;
      if (v.piece >= 0 && v.platform != kKuaishou) ++s.cross_posts;
      if (opt.corrupt > 0) {
        recent.push_back(line);
        if (recent.size() > 32) recent.pop_front();
      }
    }
    ++s.lines;
    if (show) progress.update(static_cast<int64_t>(i + 1));
  }
  writer.commit();
  if (show) progress.finish(s.lines);
  return s;
}

}  // namespace spir
