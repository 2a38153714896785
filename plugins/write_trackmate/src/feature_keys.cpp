#include "feature_keys.hpp"

namespace write_trackmate {

std::vector<std::string> unique_feature_keys(const std::vector<std::string>& columns,
                                             const std::set<std::string>& reserved) {
    std::vector<std::string> keys;
    std::set<std::string> taken = reserved;
    for (const std::string& column : columns) {
        std::string key;
        for (const char c : column) {
            const auto u = static_cast<unsigned char>(c);
            if (u >= 'a' && u <= 'z') key += static_cast<char>(u - 'a' + 'A');
            else if ((u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u == '_') key += c;
            else key += '_'; // also each byte of a non-ASCII character
        }
        if (key.empty() || (key[0] >= '0' && key[0] <= '9') || key.rfind("XML", 0) == 0 || reserved.count(key))
            key = "SPOTFLOW_" + key;
        std::string unique = key;
        for (int n = 2; taken.count(unique); ++n) unique = key + "_" + std::to_string(n);
        taken.insert(unique);
        keys.push_back(unique);
    }
    return keys;
}

} // namespace write_trackmate
