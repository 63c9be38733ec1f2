// The propagation graph's node types (paper Table III) and relations (Table IV).
#pragma once
#include <cstdint>

namespace spir {

// Table III, in its order. A "video" node is one sample (a video's state at a crawl date).
enum class NodeType : int {
  kVideo = 0, kPlatform, kTopic, kTitle, kDescription, kTime, kCtime, kVideoTime, kComment,
  kLikes, kCollects, kViews, kShares, kComments, kFans, kCount
};
constexpr int kNumNodeTypes = static_cast<int>(NodeType::kCount);

// Table IV, in its order. Every relation ends at a video node.
enum class Relation : int {
  kIsPlatformOf = 0, kIsTopicOf, kIsTitleOf, kIsDescriptionOf, kIsPostTimeOf, kIsCurrentTimeOf,
  kIsDurationTimeOf, kIsCommentOf, kIsLikesOf, kIsCollectsOf, kIsViewsOf, kIsSharesOf, kIsCommentsOf,
  kIsFansOf, kHasSameAuthorAs, kHasSameTopicAs, kIsHistoryOf, kCount
};
constexpr int kNumRelations = static_cast<int>(Relation::kCount);

// How a relation is stored: one attribute node per video; one shared head per video (platform, topic); many heads
// per video (comments); or implicitly, as groups sorted by time (DESIGN.md decision 2).
enum class RelationKind { kOneToOne, kSharedHead, kManyToOne, kGroupOrdered };

struct RelationInfo {
  const char* name;         // "is_platform_of"
  NodeType head, tail;
  RelationKind kind;
  const char* description;  // Table IV's description
};

const RelationInfo& relation_info(Relation r);
const char* node_type_name(NodeType t);         // "video", "platform", ...
const char* node_type_format(NodeType t);       // Table III's format column: "MP4", "Text", "Time", "Scalar", ...
inline Relation relation_at(int i) { return static_cast<Relation>(i); }
inline NodeType node_type_at(int i) { return static_cast<NodeType>(i); }

}  // namespace spir
