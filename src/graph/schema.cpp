#include "graph/schema.h"

namespace spir {

const RelationInfo& relation_info(Relation r) {
  using N = NodeType;
  using K = RelationKind;
  static const RelationInfo kInfo[kNumRelations] = {
      {"is_platform_of", N::kPlatform, N::kVideo, K::kSharedHead, "The platform of a short-video"},
      {"is_topic_of", N::kTopic, N::kVideo, K::kSharedHead, "The topic of a short-video"},
      {"is_title_of", N::kTitle, N::kVideo, K::kOneToOne, "The title of a short-video"},
      {"is_description_of", N::kDescription, N::kVideo, K::kOneToOne, "The description of a short-video"},
      {"is_post_time_of", N::kTime, N::kVideo, K::kOneToOne, "The post time of a short-video"},
      {"is_current_time_of", N::kCtime, N::kVideo, K::kOneToOne, "The current time of a short-video sample"},
      {"is_duration_time_of", N::kVideoTime, N::kVideo, K::kOneToOne, "The duration time of a short-video"},
      {"is_comment_of", N::kComment, N::kVideo, K::kManyToOne, "A comment of a short-video sample"},
      {"is_likes_of", N::kLikes, N::kVideo, K::kOneToOne, "The like number of a short-video sample"},
      {"is_collects_of", N::kCollects, N::kVideo, K::kOneToOne, "The collection number of a short-video sample"},
      {"is_views_of", N::kViews, N::kVideo, K::kOneToOne, "The play/view number of a short-video sample"},
      {"is_shares_of", N::kShares, N::kVideo, K::kOneToOne, "The share number of a short-video sample"},
      {"is_comments_of", N::kComments, N::kVideo, K::kOneToOne, "The comment number of a short-video sample"},
      {"is_fans_of", N::kFans, N::kVideo, K::kOneToOne, "The fans number of the poster of a short-video sample"},
      {"has_same_author_as", N::kVideo, N::kVideo, K::kGroupOrdered, "The head (earlier) has the same author as the tail (later)"},
      {"has_same_topic_as", N::kVideo, N::kVideo, K::kGroupOrdered, "The head (earlier) has the same topic as the tail (later)"},
      {"is_history_of", N::kVideo, N::kVideo, K::kGroupOrdered, "The head is an earlier state of the same video as the tail"},
  };
  return kInfo[static_cast<int>(r)];
}

const char* node_type_name(NodeType t) {
  static const char* kNames[kNumNodeTypes] = {"video", "platform", "topic", "title", "description",
                                              "time", "ctime", "video_time", "comment", "likes",
                                              "collects", "views", "shares", "comments", "fans"};
  return kNames[static_cast<int>(t)];
}

const char* node_type_format(NodeType t) {
  static const char* kFormats[kNumNodeTypes] = {"MP4", "Text", "Text", "Text", "Text", "Time", "Time", "Scalar",
                                                "Text+Time", "Scalar", "Scalar", "Scalar", "Scalar", "Scalar", "Scalar"};
  return kFormats[static_cast<int>(t)];
}

}  // namespace spir
